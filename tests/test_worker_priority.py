"""HERON_WORKER_NICE: a Celery worker yields the CPU to the ASGI processes however it was started
(config/celery.py, lower_cpu_priority)."""

import os
from pathlib import Path

import pytest

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
    finally:
        worker.stop()
