"""PostgreSQL restarting and Redis going away while webhooks arrive, on real processes: uvicorn, a
Celery worker, websockets. Nothing accepted is lost or recorded twice."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from inbox.models import Event, Message
from tests.conftest import post_simulator_webhook
from tests.support.servers import CeleryWorker, Server
from tests.support.services import require_throwaway_services, restart_postgres
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("transactional_db")


class Webhooks:
    """Customer messages posted on a schedule, each on a thread of its own (one the database keeps
    waiting holds up no other), alternating between targets (`(server, inbox)` pairs); remembers
    which were accepted, and when."""

    def __init__(self, targets, per_second: float):
        self.targets = targets
        self.interval = 1 / per_second
        self.accepted: dict[str, float] = {}  # external id → when its answer came
        self.refused = 0
        self.stopping = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=32)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            self.pool.submit(self._post, n, *self.targets[n % len(self.targets)])
            n += 1
            self.stopping.wait(self.interval)

    def _post(self, n: int, server, inbox) -> None:
        external_id = f"out-{n}"
        try:
            response = post_simulator_webhook(server.url, "/webhooks/simulator/inbound/", {
                "inbox": inbox.address, "from": f"customer-{n % 7}", "text": f"message {n}", "id": external_id})
        except httpx.HTTPError:  # not accepted: the provider would send it again
            response = None
        if response is not None and response.status_code == 204:
            self.accepted[external_id] = time.monotonic()
        else:
            self.refused += 1

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        self.pool.shutdown(wait=True)


def test_webhooks_accepted_around_a_postgres_restart_are_recorded_once_within_seconds(inbox):
    require_throwaway_services()
    server = Server(CELERY_TASK_ALWAYS_EAGER="0")
    worker = CeleryWorker(HERON_DB_POOL_TIMEOUT="1")
    try:
        webhooks = Webhooks([(server, inbox)], per_second=20)
        time.sleep(2)  # every connection the processes hold has been used and pooled by now
        # Tasks queue up meanwhile, as behind a busy worker, and the worker meets the database away.
        os.kill(worker.proc.pid, signal.SIGSTOP)
        time.sleep(1)
        restart_postgres(seconds_down=3, while_down=lambda: os.kill(worker.proc.pid, signal.SIGCONT))
        back = time.monotonic()
        time.sleep(3)
        webhooks.stop()

        def recorded() -> int:
            return Message.objects.filter(inbox=inbox, external_id__in=webhooks.accepted).count()

        wait_for(lambda: recorded() == len(webhooks.accepted), timeout=back + 10 - time.monotonic())
        assert recorded() == len(webhooks.accepted), (
            f"{len(webhooks.accepted) - recorded()} of {len(webhooks.accepted)} accepted webhooks not recorded "
            f"10 s after the restart")
        accepted_after = sum(1 for at in webhooks.accepted.values() if at > back)
        assert len(webhooks.accepted) - accepted_after > 20 and accepted_after > 20, webhooks.accepted
        messages = Message.objects.filter(inbox=inbox)
        assert sorted(messages.values_list("external_id", flat=True)) == sorted(webhooks.accepted)
        created = Counter(Event.objects.filter(type="message.created").values_list("data__message__id", flat=True))
        assert set(created) == set(messages.values_list("id", flat=True))
        assert set(created.values()) == {1}
    finally:
        worker.stop()
        server.stop()
