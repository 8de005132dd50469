"""Errors as JSON with a message a person can act on; never a 500 for bad input."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from inbox import selectors
from inbox.services.contacts import IdentityTaken
from inbox.services.identities import InvalidIdentity
from inbox.services.outbound import CannotSend


class StillInUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "still_in_use"


def exception_handler(exc, context):
    if isinstance(exc, IdentityTaken):
        exc = exceptions.ValidationError({"detail": _identity_taken(exc, context["request"].user)})
    elif isinstance(exc, (CannotSend, InvalidIdentity)):
        exc = exceptions.ValidationError({"detail": str(exc)})
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError({"detail": exc.messages})
    elif isinstance(exc, ProtectedError):  # deleting what history points at (an inbox with conversations)
        exc = StillInUse(_still_in_use(exc))
    return drf_exception_handler(exc, context)


def _identity_taken(exc: IdentityTaken, user) -> str:
    """Names the other contact only to a reader who may see it."""
    if selectors.visible_contacts(user).filter(pk=exc.identity.contact_id).exists():
        return exc.naming_the_contact()
    return str(exc)


def _still_in_use(exc: ProtectedError) -> str:
    kinds = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
    return f"It cannot be deleted: {' and '.join(kinds)} still refer to it, and their history would be lost."
