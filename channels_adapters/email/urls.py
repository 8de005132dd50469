"""anymail's webhook URLs (`/anymail/<esp>/...`), each view refusing what it cannot read with a 400
(inbound.py: RefusingUnreadablePayloads) instead of anymail's 500, and answering 404 while its ESP is
not configured (NotFoundUnlessConfigured)."""

from __future__ import annotations

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailConfigurationError
from django.http import Http404
from django.urls import URLPattern

from channels_adapters.email.inbound import RefusingUnreadablePayloads

app_name = anymail_urls.app_name


class NotFoundUnlessConfigured:
    """An ESP whose settings anymail finds missing (a Mailgun webhook without MAILGUN_WEBHOOK_SIGNING_KEY,
    Mandrill without MANDRILL_WEBHOOK_KEY, Amazon SES without boto3) is not there: a 404, where anymail
    answers every request with a 500 (AnymailConfigurationError). anymail reads them when it builds the
    view, or (Mandrill) when it validates a request: at each request, so a changed setting applies at once.
    What anymail calls a configuration error once it reads the payload (a tracking event posted to the
    inbound URL) is the payload's: RefusingUnreadablePayloads answers it."""

    def __init__(self, **kwargs):
        try:
            super().__init__(**kwargs)
        except AnymailConfigurationError:
            raise Http404("This ESP's webhooks are not configured.") from None

    def run_validators(self, request):
        try:
            super().run_validators(request)
        except AnymailConfigurationError:
            raise Http404("This ESP's webhooks are not configured.") from None


def _mounted(pattern: URLPattern) -> URLPattern:
    view = pattern.callback
    view_class = type(view.view_class.__name__,
                      (NotFoundUnlessConfigured, RefusingUnreadablePayloads, view.view_class), {})
    return URLPattern(pattern.pattern, view_class.as_view(**view.view_initkwargs), pattern.default_args, pattern.name)


urlpatterns = [_mounted(pattern) for pattern in anymail_urls.urlpatterns]
