"""HERON_WORKER_NICE: a Celery worker yields the CPU to the ASGI processes however it was started,
and so does the database work it asks for (config/celery.py)."""

import os
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app
from tests.support.servers import CeleryWorker


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def autogroup(pid: int) -> str:
    return Path(f"/proc/{pid}/autogroup").read_text().strip()


needs_autogroups = pytest.mark.skipif(not Path("/proc/self/autogroup").exists(),
                                      reason="this kernel has no autogroups")


@needs_autogroups
def test_a_worker_leading_its_own_session_lowers_the_session_too(db):
    worker = CeleryWorker(own_session=True, HERON_WORKER_NICE="19")
    try:
        assert os.getsid(worker.proc.pid) == worker.proc.pid
        assert niceness(worker.proc.pid) == 19
        assert autogroup(worker.proc.pid).endswith(" nice 19")
        assert os.sched_getscheduler(worker.proc.pid) == os.SCHED_IDLE  # the lowest niceness: the idle class too
    finally:
        worker.stop()


@needs_autogroups
def test_a_worker_sharing_a_session_lowers_only_itself(db):
    ours = autogroup(os.getpid())
    worker = CeleryWorker(HERON_WORKER_NICE="19")
    try:
        assert niceness(worker.proc.pid) == 19
        assert autogroup(worker.proc.pid) == ours  # the session it shares with us, left as it was
        assert autogroup(os.getpid()) == ours
    finally:
        worker.stop()


def test_without_the_setting_a_worker_keeps_the_niceness_it_was_started_with(db):
    worker = CeleryWorker(own_session=True)
    try:
        assert niceness(worker.proc.pid) == niceness(os.getpid())
        assert os.sched_getscheduler(worker.proc.pid) == os.sched_getscheduler(0)
    finally:
        worker.stop()


def backend_that_ran(application_name: str, table: str, timeout: float = 20) -> int:
    """The pid of a backend of the named client that has run a query on `table`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction otherwise sees its first reading
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND query LIKE %s",
                [application_name, f"%{table}%"],
            )
            row = cursor.fetchone()
        if row:
            return row[0]
        time.sleep(0.1)
    raise AssertionError(f"no backend of {application_name} ran a query on {table}")


@needs_autogroups
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backends")
@pytest.mark.parametrize(("setting", "expected", "policy"), [("19", 19, os.SCHED_IDLE), ("0", 0, os.SCHED_OTHER)])
def test_the_database_backend_serving_a_worker_runs_at_the_worker_s_niceness(db, setting, expected, policy):
    name = f"heron-test-worker-{uuid.uuid4().hex[:8]}"
    worker = CeleryWorker(own_session=True, HERON_WORKER_NICE=setting, PGAPPNAME=name)  # libpq names its connections
    try:
        app.send_task("inbox.tasks.process_stale_raw_events")
        pid = backend_that_ran(name, "inbox_rawinboundevent")
        if os.geteuid() != 0 and Path(f"/proc/{pid}").stat().st_uid != os.getuid():
            pytest.skip("the database runs as another user: a worker may not change its backends")
        assert niceness(pid) == expected
        assert autogroup(pid).endswith(f" nice {expected}")
        assert os.sched_getscheduler(pid) == policy
    finally:
        worker.stop()
