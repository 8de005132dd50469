"""Celery beat for the embedded default (`make run`): no Redis, so no beat and no worker.

A daemon thread runs every entry of the Celery beat schedule inline at its interval, so periodic
work (waking snoozed conversations, pollers) happens in the single demo process too.
"""

import logging
import threading
import time

log = logging.getLogger("heron.scheduler")


def start_embedded_scheduler() -> threading.Thread:
    from config.celery import app

    schedule = [(name, entry["task"], float(entry["schedule"])) for name, entry in app.conf.beat_schedule.items()]

    def loop() -> None:
        app.loader.import_default_modules()  # autodiscovered task modules, as a worker would
        next_run = {name: time.monotonic() + interval for name, _, interval in schedule}
        while True:
            time.sleep(1)
            now = time.monotonic()
            for name, task, interval in schedule:
                if now >= next_run[name]:
                    next_run[name] = now + interval
                    try:
                        app.tasks[task].apply()
                    except Exception:  # noqa: BLE001 - a failing periodic task must not stop the others
                        log.exception("periodic task %s failed", name)

    thread = threading.Thread(target=loop, name="heron-embedded-scheduler", daemon=True)
    thread.start()
    return thread
