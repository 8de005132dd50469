"""Signed, expiring links to attachments, for those who cannot send our session cookie.

- Providers that fetch media themselves (Twilio MMS) get links to reply attachments.
- An email's HTML is shown in a sandboxed iframe (an opaque origin), whose image requests carry no
  SameSite cookie; its inline (`cid:`) images get links too, for the few image types we render.

The link carries a signature of the attachment id, so it cannot be guessed or altered, and stops
working after `PUBLIC_MEDIA_MAX_AGE`. Everything else about attachments stays behind login.
"""

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.http import FileResponse, Http404
from django.urls import reverse

from inbox.models import Attachment, Direction

SALT = "heron.public-media"

# Shown in the browser; anything else (SVG, HTML, PDF...) is downloaded, never rendered on our origin.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def _signed_path(attachment: Attachment) -> str:
    token = signing.TimestampSigner(salt=SALT).sign(str(attachment.pk))
    # The name is only for the person or provider saving the file; a "/" would not fit the route.
    return reverse("public-media", args=[token, (attachment.filename or "file").replace("/", "_")])


def public_media_url(attachment: Attachment) -> str:
    return settings.PUBLIC_BASE_URL + _signed_path(attachment)


def inline_image_url(attachment: Attachment) -> str | None:
    """A cookie-less link for an image a customer's email shows inline; None for anything else.

    Relative, so the browser loads it from the origin it already uses.
    """
    message = attachment.message
    if (attachment.state != Attachment.State.READY or not attachment.file
            or attachment.content_type not in INLINE_IMAGE_TYPES
            or message.channel != "email" or message.direction != Direction.IN):
        return None
    return _signed_path(attachment)


def serve_public_media(request, token: str, filename: str):
    try:
        attachment_id = signing.TimestampSigner(salt=SALT).unsign(token, max_age=settings.PUBLIC_MEDIA_MAX_AGE)
    except signing.BadSignature:
        raise Http404("This link is invalid or has expired.") from None
    attachment = Attachment.objects.filter(
        Q(message__direction=Direction.OUT) | Q(content_type__in=INLINE_IMAGE_TYPES, message__channel="email"),
        pk=attachment_id,
    ).first()
    if attachment is None or not attachment.file:
        raise Http404
    response = FileResponse(attachment.file.open("rb"),
                            content_type=attachment.content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    # Even a file that slips past the type check cannot run script on our origin.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
