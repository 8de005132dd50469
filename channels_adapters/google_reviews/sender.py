"""Replying to a review: `PUT {base}/v4/{accounts/a/locations/l}/reviews/{reviewId}/reply` `{"comment"}`.

PUT creates or replaces the owner's reply, so a retried send is harmless (idempotent by nature);
a second agent reply to the same review replaces the first on Google.
"""

from __future__ import annotations

from urllib.parse import quote

from channels_adapters import google_common
from channels_adapters.base import OutboundMessage, PermanentSendError, SendResult

MAX_COMMENT = 4096


def send(message: OutboundMessage) -> SendResult:
    if not message.text.strip():
        raise PermanentSendError("A review reply needs text.")
    if len(message.text) > MAX_COMMENT:
        raise PermanentSendError(f"Google allows review replies of at most {MAX_COMMENT} characters.",
                                 code="INVALID_ARGUMENT")
    session = google_common.authorized_session(message.inbox_credentials, [google_common.SCOPE_BUSINESS_MANAGE])
    url = (f"{google_common.business_profile_api()}/v4/{message.inbox_address}"
           f"/reviews/{quote(message.to, safe='')}/reply")
    response = google_common.call(session, "PUT", url, json={"comment": message.text})
    google_common.raise_for_status(response, "Replying to the review")
    return SendResult(external_id=f"heron-{message.message_id}", provider_status="replied", status="sent")
