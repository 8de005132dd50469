"""Real processes for tests: uvicorn serving Heron, and a Celery worker, on the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database pytest-django created, so child processes share it."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def child_env(**overrides: str) -> dict[str, str]:
    """Production's settings module with this process's secrets (tests/settings.py), on its database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=test_database_url(),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEY=settings.FIELD_ENCRYPTION_KEY,
        ANYMAIL_WEBHOOK_SECRET=settings.ANYMAIL["WEBHOOK_SECRET"],
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


class Process:
    def __init__(self, args: list[str], env: dict[str, str], name: str, *, own_session: bool = False):
        self.name = name
        self.log_path = Path(settings.VAR_DIR) / f"test-{name}-{os.getpid()}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=own_session)

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost machine does: the process runs no more of its code."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is not None:
            self.log.close()
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


class Server(Process):
    """uvicorn running config.asgi on a free port, like production does."""

    def __init__(self, **env_overrides: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = child_env(**{"PUBLIC_BASE_URL": self.url, "ALLOWED_HOSTS": "127.0.0.1,localhost", **env_overrides})
        super().__init__(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-proxy-headers"],
            env, f"server-{self.port}",
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.output()}")

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/inbox/"


class CeleryWorker(Process):
    """`own_session`: started as a service manager starts one, leading a session of its own.
    `beat`: the worker runs the periodic tasks too (`celery worker --beat`)."""

    def __init__(self, *, own_session: bool = False, beat: bool = False, **env_overrides: str):
        args = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
                "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if beat:
            # Celery's in-memory scheduler: the default keeps its schedule in a shelve file, which Python
            # 3.13's sqlite-backed dbm refused under load ("locking protocol") and the test waited in vain.
            args += ["--beat", "--scheduler", "celery.beat:Scheduler"]
        super().__init__(
            args, child_env(CELERY_TASK_ALWAYS_EAGER="0", **env_overrides), "celery", own_session=own_session,
        )
        deadline = time.monotonic() + 30
        while "ready." not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start:\n{self.output()}")
            time.sleep(0.2)
