"""anymail's webhook URLs (`/anymail/<esp>/...`), each view refusing what it cannot read with a 400
(inbound.py: RefusingUnreadablePayloads) instead of anymail's 500."""

from __future__ import annotations

from anymail import urls as anymail_urls
from django.urls import URLPattern

from channels_adapters.email.inbound import RefusingUnreadablePayloads

app_name = anymail_urls.app_name


def _refusing_unreadable_payloads(pattern: URLPattern) -> URLPattern:
    view = pattern.callback
    view_class = type(view.view_class.__name__, (RefusingUnreadablePayloads, view.view_class), {})
    return URLPattern(pattern.pattern, view_class.as_view(**view.view_initkwargs), pattern.default_args, pattern.name)


urlpatterns = [_refusing_unreadable_payloads(pattern) for pattern in anymail_urls.urlpatterns]
