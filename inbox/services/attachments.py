"""Provider-held files (MMS media, recordings) fetched in the background with the inbox's credentials."""

from django.core.files.base import ContentFile
from django.db import transaction

from channels_adapters.base import PermanentSendError, TransientSendError
from inbox.adapters import get_adapter
from inbox.models import Attachment
from inbox.services.events import record_message_event

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ALLOWED_CONTENT_PREFIXES = ("image/", "audio/", "video/", "text/", "application/pdf", "application/vcard",
                            "text/vcard", "application/zip", "application/octet-stream")

MIME_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "application/pdf": ".pdf",
                   "audio/mpeg": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav", "video/mp4": ".mp4"}


class AttachmentRejected(ValueError):
    pass


def download_attachment(attachment_id: int) -> Attachment:
    """Fetch and store one pending attachment. Raises TransientSendError to be retried."""
    attachment = Attachment.objects.select_related("message__inbox").get(pk=attachment_id)
    if attachment.state == Attachment.State.READY:
        return attachment
    message = attachment.message
    attachment.download_attempts += 1
    try:
        content, content_type = get_adapter(message.channel).fetch_media(
            attachment.source_url, message.inbox.credentials
        )
        content_type = (content_type or attachment.content_type or "application/octet-stream").split(";")[0].strip()
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise AttachmentRejected(f"File is {len(content)} bytes; the limit is {MAX_ATTACHMENT_BYTES}")
        if not content_type.startswith(ALLOWED_CONTENT_PREFIXES):
            raise AttachmentRejected(f"Content type {content_type} is not accepted")
    except TransientSendError as exc:
        attachment.error = str(exc)[:500]
        attachment.save(update_fields=["download_attempts", "error"])
        raise
    except (AttachmentRejected, PermanentSendError) as exc:
        return mark_download_failed(attachment, str(exc))

    with transaction.atomic():
        name = attachment.filename + MIME_EXTENSIONS.get(content_type, "")
        attachment.file.save(name, ContentFile(content), save=False)
        attachment.filename = name
        attachment.content_type = content_type
        attachment.size = len(content)
        attachment.state = Attachment.State.READY
        attachment.error = ""
        attachment.save()
        record_message_event("message.updated", message)
    return attachment


def mark_download_failed(attachment: Attachment, reason: str) -> Attachment:
    with transaction.atomic():
        attachment.state = Attachment.State.FAILED
        attachment.error = reason[:500]
        attachment.save()
        record_message_event("message.updated", attachment.message)
    return attachment
