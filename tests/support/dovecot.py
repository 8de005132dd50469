"""A real IMAP server for tests: Debian's dovecot-imapd on loopback, serving a Maildir from a temp dir."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from tests.support.servers import free_port

DOVECOT_CANDIDATES = ("/usr/sbin/dovecot", "/usr/bin/dovecot")
USER = "support"
PASSWORD = "secret"

CONFIG = """\
base_dir = {dir}/run
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {dir}/dovecot.log
mail_location = maildir:{dir}/mail/%u
mail_uid = {user}
mail_gid = {group}
first_valid_uid = 1
first_valid_gid = 0
default_login_user = {user}
default_internal_user = {user}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def dovecot_binary() -> str:
    for candidate in DOVECOT_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("dovecot")
    if found:
        return found
    raise RuntimeError(
        "dovecot is not installed, so the IMAP tests cannot run a real IMAP server. "
        "Install it with `apt-get install dovecot-imapd` (make test does this via scripts/ensure-system-deps.sh)."
    )


def _mail_user() -> tuple[str, str]:
    """Root runs the mail processes as `vmail` (created if missing); anyone else as themselves."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        import grp

        return entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name
    try:
        pwd.getpwnam("vmail")
    except KeyError:
        subprocess.run(["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", "vmail"], check=True)
    return "vmail", "vmail"


class Dovecot:
    def __init__(self):
        self.binary = dovecot_binary()
        # Not under pytest's tmp dir: that is 0700 root, and the mail processes run as another user.
        self.dir = Path(tempfile.mkdtemp(prefix="heron-dovecot-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.user, self.group = _mail_user()
        (self.dir / "run").mkdir(parents=True)
        self.maildir.mkdir(parents=True)
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir()
        self.conf = self.dir / "dovecot.conf"
        self.conf.write_text(CONFIG.format(dir=self.dir, user=self.user, group=self.group, password=PASSWORD,
                                           port=self.port))
        self._chown()
        self.start()

    @property
    def maildir(self) -> Path:
        return self.dir / "mail" / USER

    def _chown(self) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", f"{self.user}:{self.group}", str(self.dir / "mail")], check=True)

    def start(self) -> None:
        # dovecot daemonizes: its children inherit our stdio, so never pipe it (we would wait forever).
        with open(self.dir / "start.log", "ab") as out:
            result = subprocess.run([self.binary, "-c", str(self.conf)], stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=out, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"dovecot failed to start:\n{(self.dir / 'start.log').read_text()}\n{self.log()}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not listen on {self.port}:\n{self.log()}")

    def stop(self) -> None:
        pid_file = self.dir / "run" / "master.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().strip())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        pid_file.unlink(missing_ok=True)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def deliver(self, raw: bytes) -> Path:
        """Drop a message into the Maildir, as an MDA would: it appears as new, unseen mail."""
        name = f"{time.time_ns()}.{uuid.uuid4().hex}.heron-test"
        tmp = self.maildir / "tmp" / name
        tmp.write_bytes(raw)
        target = self.maildir / "new" / name
        tmp.rename(target)
        self._chown()
        return target

    def reset_uids(self) -> None:
        """Throw away dovecot's UID list and indexes: the mailbox gets a new UIDVALIDITY (a server migration)."""
        self.stop()
        for path in self.maildir.glob("dovecot*"):
            path.unlink()
        time.sleep(1.1)  # UIDVALIDITY is time-based
        self.start()

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def imap_settings(self) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "security": "none", "username": USER, "folder": "INBOX"}


class FlakyProxy:
    """A TCP proxy that drops the first `drop` connections on accept (a network blip), then relays."""

    def __init__(self, target_port: int, drop: int = 1):
        self.target_port = target_port
        self.drop = drop
        self.accepted = 0
        self.port = free_port()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            if self.accepted <= self.drop:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
