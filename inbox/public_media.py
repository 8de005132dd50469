"""Public, signed, expiring links to reply attachments, for providers that fetch media (Twilio MMS).

The link carries a signature of the attachment id, so it cannot be guessed or altered, and stops
working after `PUBLIC_MEDIA_MAX_AGE`. Everything else about attachments stays behind login.
"""

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404
from django.urls import reverse

from inbox.models import Attachment

SALT = "heron.public-media"


def public_media_url(attachment: Attachment) -> str:
    token = signing.TimestampSigner(salt=SALT).sign(str(attachment.pk))
    return settings.PUBLIC_BASE_URL + reverse("public-media", args=[token, attachment.filename or "file"])


def serve_public_media(request, token: str, filename: str):
    try:
        attachment_id = signing.TimestampSigner(salt=SALT).unsign(token, max_age=settings.PUBLIC_MEDIA_MAX_AGE)
    except signing.BadSignature:
        raise Http404("This link is invalid or has expired.") from None
    attachment = Attachment.objects.filter(pk=attachment_id, message__direction="out").first()
    if attachment is None or not attachment.file:
        raise Http404
    return FileResponse(attachment.file.open("rb"), content_type=attachment.content_type or "application/octet-stream")
