"""Polling a location's reviews into Heron (Business Profile API v4 has no webhook Heron relies on).

`GET {GOOGLE_BUSINESS_PROFILE_API_BASE_URL}/v4/{accounts/a/locations/l}/reviews?orderBy=updateTime desc`,
paged, newest first, stopping at the first review older than `inbox.settings["reviews_cursor"]`
(the newest `updateTime` seen by the last successful poll). Each review becomes an inbound message
through `record_inbound`:

- sender: identity kind `google_review`, value = the reviewId, display name = the reviewer's name.
  Google exposes no stable reviewer id, and names are not unique, so each review is its own
  identity (and a reply knows which review it answers); agents merge contacts when they know better.
- external id: the reviewId for the first version Heron sees. An edited review (new `updateTime`
  with a different comment or rating) is stored as a new message `"{reviewId}@{updateTime}"` with
  `metadata.edited = true`, so the timeline shows both versions. Same text and rating → nothing new
  (Google may move `updateTime` for other reasons, e.g. when the owner replies).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from channels_adapters import google_common, poll_command
from channels_adapters.base import InboundMessage, PermanentSendError, SenderIdentity, TransientSendError
from channels_adapters.common import without_nul
from inbox.models import Direction, Inbox, Message
from inbox.services.ingest import record_inbound

log = logging.getLogger("heron.google_reviews")

CHANNEL = "google_reviews"
IDENTITY_KIND = "google_review"
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
MAX_PAGES = 1000


@dataclass
class PollResult(poll_command.PollResult):
    listed: int = 0
    unchanged: int = 0


def page_size() -> int:
    return int(getattr(settings, "GOOGLE_REVIEWS_PAGE_SIZE", 50))


def poll_all() -> dict[int, PollResult]:
    return {inbox_id: poll_inbox(inbox_id)
            for inbox_id in Inbox.objects.filter(channel=CHANNEL).order_by("id").values_list("id", flat=True)}


def poll_inbox(inbox_id: int) -> PollResult:
    result = PollResult()
    inbox = Inbox.objects.get(pk=inbox_id, channel=CHANNEL)
    cursor_text = str(inbox.settings.get("reviews_cursor") or "")
    cursor = google_common.parse_time(cursor_text)
    try:
        reviews = _list_new_reviews(inbox, cursor)
    except (TransientSendError, PermanentSendError) as exc:
        result.error = str(exc)
        log.warning("polling reviews of inbox %s failed: %s", inbox_id, exc)
        return result
    newest_text, newest = cursor_text, cursor
    for review in reversed(reviews):  # oldest first, so the timeline reads in order
        result.listed += 1
        try:
            outcome = ingest_review(inbox, review)
        except ValueError as exc:
            result.failed += 1
            log.warning("skipping a malformed review in inbox %s: %s", inbox_id, exc)
            continue
        if outcome:
            result.stored += 1
        else:
            result.unchanged += 1
        updated = google_common.parse_time(review.get("updateTime"))
        if updated and (newest is None or updated > newest):
            newest, newest_text = updated, review["updateTime"]
    _save_cursor(inbox_id, newest_text)
    return result


def _list_new_reviews(inbox: Inbox, cursor) -> list[dict]:
    """Newest first, down to (and including) reviews updated at the cursor; dedupe drops repeats."""
    session = google_common.authorized_session(inbox.credentials, [google_common.SCOPE_BUSINESS_MANAGE])
    url = f"{google_common.business_profile_api()}/v4/{inbox.address}/reviews"
    collected: list[dict] = []
    page_token = ""
    for _ in range(MAX_PAGES):
        params = {"pageSize": page_size(), "orderBy": "updateTime desc"}
        if page_token:
            params["pageToken"] = page_token
        response = google_common.call(session, "GET", url, params=params)
        google_common.raise_for_status(response, "Listing reviews")
        try:
            data = without_nul(response.json())  # PostgreSQL stores no NUL character
        except ValueError as exc:
            raise TransientSendError("Google answered the review list with something that is not JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("reviews") or [], list):
            raise TransientSendError("Google answered the review list in an unexpected shape")
        reviews = data.get("reviews") or []
        for review in reviews:
            if not isinstance(review, dict):
                continue
            updated = google_common.parse_time(review.get("updateTime"))
            if cursor is not None and updated is not None and updated < cursor:
                return collected
            collected.append(review)
        page_token = data.get("nextPageToken") or ""
        if not page_token or not isinstance(page_token, str):
            return collected
    return collected


def _save_cursor(inbox_id: int, cursor: str) -> None:
    with transaction.atomic():
        inbox = Inbox.objects.select_for_update().get(pk=inbox_id)
        inbox.settings = {**inbox.settings, "reviews_cursor": cursor, "reviews_polled_at": timezone.now().isoformat()}
        inbox.save(update_fields=["settings"])


def _str(review: dict, key: str, limit: int = 255) -> str:
    value = review.get(key) or ""
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be a string")
    return value[:limit]


def review_message(inbox: Inbox, review: dict, *, edited: bool) -> InboundMessage:
    review_id = _str(review, "reviewId") or _str(review, "name", 500).rstrip("/").rsplit("/", 1)[-1]
    if not review_id:
        raise ValueError("review has neither reviewId nor name")
    reviewer = review.get("reviewer") if isinstance(review.get("reviewer"), dict) else {}
    display_name = "" if reviewer.get("isAnonymous") is True else _str(reviewer, "displayName", 200)
    stars = STARS.get(_str(review, "starRating", 32), 0)
    update_time = _str(review, "updateTime", 64) or _str(review, "createTime", 64)
    comment = _str(review, "comment", 100_000)
    metadata = {
        "star_rating": stars,
        "review_id": review_id,
        "review_name": _str(review, "name", 500) or f"{inbox.address}/reviews/{review_id}",
        "update_time": update_time,
        "edited": edited,
    }
    return InboundMessage(
        channel=CHANNEL, inbox_id=inbox.pk,
        sender=SenderIdentity(kind=IDENTITY_KIND, value=review_id, display_name=display_name or "Google reviewer"),
        external_id=f"{review_id}@{update_time}" if edited else review_id,
        text=comment or f"Rated {stars}/5 with no comment",
        metadata=metadata, sent_at=google_common.parse_time(update_time),
    )


def ingest_review(inbox: Inbox, review: dict) -> bool:
    """Store a review (or its new version); False when Heron already has this version."""
    message = review_message(inbox, review, edited=False)
    review_id = message.metadata["review_id"]
    latest = (
        Message.objects.filter(inbox=inbox, direction=Direction.IN, metadata__review_id=review_id)
        .order_by("-created_at", "-id").first()
    )
    if latest is not None:
        if latest.metadata.get("update_time") == message.metadata["update_time"]:
            return False
        if latest.text == message.text and latest.metadata.get("star_rating") == message.metadata["star_rating"]:
            return False
        message = review_message(inbox, review, edited=True)
    return record_inbound(message).created
