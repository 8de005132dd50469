"""The root URL conf as a demo deployment mounts it (HERON_FAKE_PROVIDERS on): every route production has,
plus the fake providers' and the customer simulator's. config/urls.py is executed again into this module,
so the real one stays as the test settings built it."""

import importlib.util

from django.test import override_settings

_spec = importlib.util.find_spec("config.urls")
_urls = importlib.util.module_from_spec(_spec)
with override_settings(HERON_FAKE_PROVIDERS=True):
    _spec.loader.exec_module(_urls)

urlpatterns = _urls.urlpatterns
