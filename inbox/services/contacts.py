"""Contacts and identities: one person, however many numbers and addresses they write from."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from inbox import plain_writes
from inbox.inbound_reads import identity_with_contact
from inbox.models import Contact, ContactMerge, Conversation, Identity, IdentityKind, Message
from inbox.services.events import record_contact_event
from inbox.services.identities import format_phone, normalize_identity
from inbox.services.labels import labels_named


def placeholder_name(kind: str, value: str) -> str:
    """What to call a customer who gave no name: their number or address, as a person writes it.
    A real name (an email's display name) replaces it later."""
    if kind == IdentityKind.PHONE:
        return format_phone(value)
    if kind == IdentityKind.EMAIL:
        return value
    return ""


def resolve_contact(kind: str, raw_value: str, display_name: str = "", *, lock: bool = False) -> tuple[Identity, bool]:
    """Find the identity (and so the contact) for an address, creating both if new; says whether
    it created them.

    Safe under concurrency: the unique (kind, value) constraint decides who creates it.
    With `lock`, the contact row is locked (FOR UPDATE) for the caller's transaction, in the
    same query.
    """
    value = normalize_identity(kind, raw_value)
    identity = identity_with_contact(kind, value, lock=lock)
    if identity:
        contact = identity.contact
        if display_name and contact.name in ("", placeholder_name(kind, value)):
            contact.name = display_name
            contact.save(update_fields=["name", "updated_at"])
        return identity, False
    contact = Contact(name=display_name or placeholder_name(kind, value))
    identity = Identity(kind=kind, value=value, display_name=display_name)
    if plain_writes.insert_unless_taken(identity, contact, link="contact", unique_on=("kind", "value")):
        return identity, True  # every new customer's first message writes these two
    return identity_with_contact(kind, value, lock=lock), False  # created meanwhile by another transaction, now committed


class IdentityTaken(ValueError):
    """The address already belongs to another contact: merge the two instead.

    Its text names nobody; `naming_the_contact()` is for a reader who may see that contact."""

    def __init__(self, identity: Identity):
        super().__init__(
            f"{identity.value} already belongs to another contact; an admin can merge the two contacts."
        )
        self.identity = identity

    def naming_the_contact(self) -> str:
        contact = self.identity.contact
        return (
            f"{self.identity.value} already belongs to contact #{contact.pk}"
            f"{f' ({contact.name})' if contact.name else ''}; merge the two contacts instead."
        )


def add_identity(contact: Contact, kind: str, raw_value: str) -> Identity:
    """Attach an address to a contact (e.g. an agent learns the customer's email)."""
    value = normalize_identity(kind, raw_value)
    existing = Identity.objects.select_related("contact").filter(kind=kind, value=value).first()
    if existing:
        raise IdentityTaken(existing)
    try:
        with transaction.atomic():
            identity = Identity.objects.create(contact=contact, kind=kind, value=value)
            record_contact_event("contact.updated", contact)
    except IntegrityError:
        raise IdentityTaken(Identity.objects.select_related("contact").get(kind=kind, value=value)) from None
    return identity


def remove_identity(identity: Identity) -> None:
    contact = identity.contact
    with transaction.atomic():
        identity.delete()
        record_contact_event("contact.updated", contact)


def create_contact(name: str, identities: list[tuple[str, str]]) -> Contact:
    """A contact an agent adds by hand, e.g. to message a customer first."""
    with transaction.atomic():
        contact = Contact.objects.create(name=name)
        for kind, value in identities:
            add_identity(contact, kind, value)
    return contact


def update_contact(contact: Contact, *, name: str | None = None, labels: list[str] | None = None) -> Contact:
    """An agent's edit of the name and/or the labels (the whole new set; unknown names are created).

    The row is locked so two agents editing labels at once apply one after the other instead of
    interleaving their adds and removes; a `contact.updated` event is written only if something changed.
    """
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        changed = False
        if name is not None and name != contact.name:
            contact.name = name
            changed = True
        if labels is not None:
            wanted = labels_named(labels)
            if wanted != set(contact.labels.all()):
                contact.labels.set(wanted)
                changed = True
        if changed:
            contact.save(update_fields=["name", "updated_at"])
            record_contact_event("contact.updated", contact)
    return contact


def set_opt_out(identity: Identity, opted_out: bool) -> bool:
    """Record a consent change; returns whether anything changed."""
    if identity.opted_out == opted_out:
        return False
    identity.opted_out = opted_out
    identity.opted_out_at = timezone.now() if opted_out else None
    identity.save(update_fields=["opted_out", "opted_out_at"])
    record_contact_event("contact.updated", identity.contact)
    return True


def merge_contacts(into: Contact, other: Contact) -> ContactMerge:
    """Move `other`'s identities, conversations and messages onto `into`, remembering what moved."""
    if into.pk == other.pk:
        raise ValueError("A contact cannot be merged into itself.")
    with transaction.atomic():
        identity_ids = list(other.identities.values_list("id", flat=True))
        conversation_ids = list(other.conversations.values_list("id", flat=True))
        message_ids = list(Message.objects.filter(contact=other).values_list("id", flat=True))
        Identity.objects.filter(id__in=identity_ids).update(contact=into)
        Conversation.objects.filter(id__in=conversation_ids).update(contact=into)
        Message.objects.filter(id__in=message_ids).update(contact=into)
        # A label of either record describes the one person: `into` gets the ones it lacked.
        label_ids = list(other.labels.exclude(pk__in=into.labels.values("pk")).values_list("id", flat=True))
        into.labels.add(*label_ids)
        if not into.name and other.name:
            into.name = other.name
            into.save(update_fields=["name", "updated_at"])
        merge = ContactMerge.objects.create(
            into=into,
            merged_contact=other,
            identity_ids=identity_ids,
            conversation_ids=conversation_ids,
            message_ids=message_ids,
            label_ids=label_ids,
        )
        record_contact_event("contact.merged", into, merged_contact_id=other.pk, merge_id=merge.pk)
    return merge


def unmerge_contacts(merge: ContactMerge) -> Contact:
    """Undo a merge: what moved goes back to the contact it came from."""
    if merge.undone_at:
        raise ValueError("This merge was already undone.")
    with transaction.atomic():
        other = merge.merged_contact
        Identity.objects.filter(id__in=merge.identity_ids).update(contact=other)
        Conversation.objects.filter(id__in=merge.conversation_ids).update(contact=other)
        Message.objects.filter(id__in=merge.message_ids).update(contact=other)
        merge.into.labels.remove(*merge.label_ids)
        merge.undone_at = timezone.now()
        merge.save(update_fields=["undone_at"])
        record_contact_event("contact.updated", merge.into)
        record_contact_event("contact.updated", other)
    return other
