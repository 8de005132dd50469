"""Taking the throwaway PostgreSQL and Redis away and back (scripts/test-services.sh), for outage tests."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connections

from tests.support.servers import ROOT
from tests.support.waiting import wait_for

SCRIPT = ROOT / "scripts" / "test-services.sh"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def require_throwaway_services() -> None:
    """Skip unless the database and Redis of this run are the script's throwaway ones: only those
    may be stopped."""
    status = _run("status")
    redis_port = urlsplit(os.environ.get("REDIS_URL", "")).port
    ours = (status.returncode == 0
            and str(settings.DATABASES["default"].get("PORT")) == os.environ.get("HERON_PG_PORT", "55432")
            and str(redis_port) == os.environ.get("HERON_REDIS_PORT", "56379"))
    if not ours:
        pytest.skip("needs the throwaway PostgreSQL and Redis of scripts/test-services.sh")


def restart_postgres(seconds_down: float, while_down: Callable[[], None] = lambda: None) -> None:
    """Stop PostgreSQL (every session ends), call `while_down`, start it again `seconds_down`
    after it stopped; then this thread's connections and pools, closed under them, are dropped so
    that the tests that follow connect anew, whatever the pool's settings."""
    database = settings.DATABASES["default"]
    address = (database["HOST"], int(database["PORT"]))
    restart = subprocess.Popen(["bash", str(SCRIPT), "restart-postgres", str(seconds_down)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: not _answers(address), timeout=30), "PostgreSQL did not stop"
        while_down()
        output, _ = restart.communicate(timeout=120)
        assert restart.returncode == 0, output
    finally:
        if restart.poll() is None:
            restart.kill()
        for connection in connections.all():
            connection.close()
            if hasattr(connection, "close_pool"):  # PostgreSQL's
                connection.close_pool()


def _answers(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=0.5).close()
    except OSError:
        return False
    return True


def stop_redis() -> None:
    result = _run("stop-redis")
    assert result.returncode == 0, result.stderr


def start_redis() -> None:
    result = _run("start")
    assert result.returncode == 0, result.stderr
