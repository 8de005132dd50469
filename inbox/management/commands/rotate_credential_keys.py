"""`manage.py rotate_credential_keys`: every stored inbox credential re-encrypted with the first
(newest) key of FIELD_ENCRYPTION_KEY, after which the keys behind it can be dropped (docs/deploy.md)."""

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inbox.credential_keys import credential_fernet
from inbox.models import Inbox


class Command(BaseCommand):
    help = "Re-encrypt every inbox's credentials with the first (newest) key of FIELD_ENCRYPTION_KEY."

    def handle(self, *args, **options) -> None:
        fernet = credential_fernet()
        rewritten, unreadable = 0, []
        with transaction.atomic():
            for inbox in Inbox.objects.select_for_update().exclude(encrypted_credentials=b"").order_by("pk"):
                try:
                    token = fernet.rotate(bytes(inbox.encrypted_credentials))
                except InvalidToken:
                    unreadable.append(f"{inbox} (id {inbox.pk})")
                    continue
                Inbox.objects.filter(pk=inbox.pk).update(encrypted_credentials=token)
                rewritten += 1
        self.stdout.write(f"Re-encrypted the credentials of {rewritten} inbox(es) with the newest key.")
        if unreadable:
            raise CommandError("Not readable with any key of FIELD_ENCRYPTION_KEY, left as they were: "
                               + ", ".join(unreadable))
