"""Keeping what providers sent, verbatim, before acting on it; processing it now or on a worker;
and replaying what failed.

A webhook whose answer does not depend on the outcome is *deferred*: its endpoint's cheap `check`
runs first (parsing, so a malformed body still gets its 4xx, and is kept failed), the raw event is
stored, the provider answered, and a Celery task records it (a few at a time: inbox/services/handoff.py). The provider waits for one INSERT
instead of the whole ingest, and a burst queues up on workers instead of timing out the provider.
Events whose task never ran (broker down, worker lost) are picked up again by
`process_stale_events`, so nothing stored is left unprocessed.
"""

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import redis
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from inbox.inbound_reads import raw_events_with_inbox
from inbox.models import RawInboundEvent
from inbox.realtime.publish import frames_held
from inbox.services.handoff import BatchedHandoff, process_handoff

log = logging.getLogger("heron.raw")

# A pending event older than this has lost its task: the sweeper processes it.
STALE_AFTER = timedelta(minutes=2)

# A worker's batch publishes its events' frames together, each held at most this long: fewer
# PUBLISHes, for a little latency only when webhooks arrive faster than one worker records them.
FRAMES_HELD_SECONDS = 0.02

# What processing an event writes back to its row.
OUTCOME_FIELDS = ["result", "error", "attempts", "processed_at"]


@dataclass(frozen=True)
class Processor:
    process: Callable[[RawInboundEvent], str]
    # Validates the stored body without touching the database (raises ValueError); set only for
    # endpoints whose processing may be deferred to a worker.
    check: Callable[[RawInboundEvent], object] | None = None


# endpoint name → how to process its stored events. Process-wide, filled once as the adapters are
# imported (their AppConfig.ready), never reset.
_processors: dict[str, Processor] = {}


def register_processor(
    endpoint: str, process: Callable[[RawInboundEvent], str], *,
    check: Callable[[RawInboundEvent], object] | None = None,
) -> None:
    """An adapter says how to (re)process the raw events of one of its webhooks.

    Passing `check` makes the endpoint deferred: the webhook is answered once the body passes it.
    """
    _processors[endpoint] = Processor(process, check)


def is_deferred(endpoint: str) -> bool:
    processor = _processors.get(endpoint)
    return processor is not None and processor.check is not None


class BadPayload(ValueError):
    """A signed request whose content makes no sense (missing field, bad number): answer 4xx."""


def process_raw_event(raw: RawInboundEvent) -> Exception | None:
    """Run the endpoint's processor and record the outcome on the row; returns the error, if any.

    A `ValueError` (BadPayload, InvalidIdentity) is the sender's fault; anything else is ours,
    and the row stays "failed" for `replay_raw_events` once the cause is fixed.
    """
    error = _run_processor(raw)
    raw.save(update_fields=OUTCOME_FIELDS)
    return error


def _run_processor(raw: RawInboundEvent) -> Exception | None:
    """Runs the endpoint's processor; the outcome is set on `raw`, not saved."""
    processor = _processors.get(raw.endpoint)
    error: Exception | None = None
    if processor is None:
        error = LookupError(f"No processor for endpoint {raw.endpoint!r}")
    else:
        try:
            raw.result = processor.process(raw)
        except Exception as exc:  # noqa: BLE001 - stored for replay, never lost
            error = exc
            if not isinstance(exc, ValueError):
                log.exception("processing raw event %s failed", raw.pk)
    set_outcome(raw, error)
    return error


def check_before_keeping(raw: RawInboundEvent) -> ValueError | None:
    """Run a deferred endpoint's check on an unsaved event; a body it refuses is marked failed, to be
    kept so (the sender's fault)."""
    processor = _processors.get(raw.endpoint)
    try:
        if processor is not None and processor.check is not None:
            processor.check(raw)
    except ValueError as exc:
        set_outcome(raw, exc)
        return exc
    return None


def defer_raw_event(raw: RawInboundEvent) -> None:
    """Hand a stored, checked event to a worker (batched: inbox/services/handoff.py). With tasks
    running inline (no Redis), process it now."""
    from inbox.tasks import process_raw_events_task

    if process_raw_events_task.app.conf.task_always_eager:
        process_raw_event(raw)
    else:
        process_handoff(_start_handoff).submit(raw.pk)


def _start_handoff() -> BatchedHandoff:
    from inbox.tasks import process_raw_events_task

    return BatchedHandoff(
        lambda ids: process_raw_events_task.delay(ids), _process_in_this_process,
        interval_seconds=settings.HERON["HANDOFF_INTERVAL_MS"] / 1000,
        workers_behind=workers_behind_check(process_raw_events_task.app),
    )


def workers_behind_check(app) -> Callable[[], bool]:
    """A check of whether messages wait in the task queue that no worker has taken yet (for the
    handoff). Celery on Redis keeps them in a list named after the queue (a task sent with a
    priority goes to another list, which this does not see: such a batch is only sent sooner).
    Another broker: never."""
    broker_url = app.conf.broker_url or ""
    if not broker_url.startswith(("redis://", "rediss://")):
        return lambda: False
    client = redis.Redis.from_url(broker_url, socket_timeout=1, socket_connect_timeout=1)
    queue = app.conf.task_default_queue
    return lambda: client.llen(queue) > 0


def _process_in_this_process(raw_event_ids: list[int]) -> None:
    """The broker is unreachable: the handoff thread records the events itself."""
    try:
        process_queued_events(raw_event_ids)
    finally:
        close_old_connections()


def set_outcome(raw: RawInboundEvent, error: Exception | None) -> None:
    """What processing (or checking) `raw` came to, set on it, not saved."""
    raw.attempts += 1
    raw.processed_at = timezone.now()
    if error is not None:
        raw.result = RawInboundEvent.Result.FAILED
        raw.error = f"{type(error).__name__}: {error}"
    else:
        raw.error = ""


def process_queued_events(raw_event_ids: list[int], *, is_retry: bool = False) -> list[int]:
    """The worker's side of deferred events, in the order they arrived; returns the ids that failed
    for a reason of ours (to retry). One handled meanwhile (by the sweeper, or a replay) is left
    alone; a retry takes the events its own earlier attempt marked failed."""
    wanted = [RawInboundEvent.Result.PENDING]
    if is_retry:
        wanted.append(RawInboundEvent.Result.FAILED)
    done, failed = [], []
    try:
        with frames_held(FRAMES_HELD_SECONDS):
            for raw in raw_events_with_inbox(raw_event_ids, wanted):
                error = _run_processor(raw)
                done.append(raw)
                if error is not None and not isinstance(error, ValueError):
                    failed.append(raw.pk)
    finally:
        _save_outcomes(done)
    return failed


def _save_outcomes(events: list[RawInboundEvent]) -> None:
    """One UPDATE per distinct outcome (a batch is almost always all "processed"), rather than one per
    event; plain SQL, as the ORM's UPDATE costs more to build than a small batch takes to record.
    Should the worker die before it, the events are still pending: the sweeper runs them again and
    finds their messages already stored."""
    by_outcome: dict[tuple[str, str], list[int]] = {}
    for raw in events:
        by_outcome.setdefault((raw.result, raw.error), []).append(raw.pk)
    with connection.cursor() as cursor:
        for (result, error), ids in by_outcome.items():
            cursor.execute(
                f'UPDATE "{RawInboundEvent._meta.db_table}" SET "result" = %s, "error" = %s, '
                f'"attempts" = "attempts" + 1, "processed_at" = %s WHERE "id" IN ({", ".join(["%s"] * len(ids))})',
                [result, error, connection.ops.adapt_datetimefield_value(timezone.now()), *ids],
            )


def process_stale_events(limit: int = 1000) -> int:
    """Pending events whose task never ran: processing is idempotent, so a late task does no harm."""
    return len(_process_each(RawInboundEvent.Result.PENDING, limit, received_at__lt=timezone.now() - STALE_AFTER))


def replay_failed_events(limit: int = 1000) -> dict[str, int]:
    return dict(Counter(_process_each(RawInboundEvent.Result.FAILED, limit)))


def _process_each(result: str, limit: int, **where) -> list[str]:
    """Each outcome of the (at most `limit`) events with this result, oldest first, read as the worker reads them."""
    ids = list(RawInboundEvent.objects.filter(result=result, **where).order_by("id").values_list("id", flat=True)[:limit])
    outcomes = []
    for raw in raw_events_with_inbox(ids, [result]):
        process_raw_event(raw)
        outcomes.append(raw.result)
    return outcomes
