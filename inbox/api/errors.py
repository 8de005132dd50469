"""Errors as JSON with a message a person can act on; never a 500 for bad input."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from inbox.services.contacts import IdentityTaken
from inbox.services.identities import InvalidIdentity
from inbox.services.outbound import CannotSend


def exception_handler(exc, context):
    if isinstance(exc, (CannotSend, InvalidIdentity, IdentityTaken)):
        exc = exceptions.ValidationError({"detail": str(exc)})
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError({"detail": exc.messages})
    return drf_exception_handler(exc, context)
