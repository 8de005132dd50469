"""The test run's settings: production's (config/settings.py) with secrets made for this run, since
Heron refuses its development ones outside DEBUG. They go into the environment, so the server and
worker processes tests start (tests/support/servers.py) share them."""

import os
import secrets

from cryptography.fernet import Fernet
from django.core.management.utils import get_random_secret_key

os.environ.setdefault("SECRET_KEY", get_random_secret_key())
os.environ.setdefault("FIELD_ENCRYPTION_KEY", Fernet.generate_key().decode())
os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", "heron-test:" + secrets.token_urlsafe(32))

from config.settings import *  # noqa: E402, F403
