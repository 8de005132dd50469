"""Labels are free-form slugs shared by conversations and contacts: naming a new one creates it."""

from collections.abc import Iterable

from inbox.models import Label


def labels_named(names: Iterable[str]) -> set[Label]:
    """The labels with these names, creating the missing ones (agents label as they go, like tags)."""
    return {Label.objects.get_or_create(name=name)[0] for name in names}
