"""Heron settings: everything comes from the environment, with defaults that run on one laptop.

Unset `DATABASE_URL` → SQLite under var/; unset `REDIS_URL` → in-memory channel layer and tasks
run inline. Production sets both (see README, "Production").
"""

import os
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HERON_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
# Values from the source so `make run` needs no setup; outside DEBUG, Heron refuses to start with them
# (config/checks.py). An empty variable counts as unset.
DEVELOPMENT_SECRETS = {
    "SECRET_KEY": "heron-insecure-development-key-change-me",
    "ANYMAIL_WEBHOOK_SECRET": "heron:heron-dev-webhook-secret",
}
SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRETS["SECRET_KEY"]
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL).rstrip("/")
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]
# Fernet keys for inbox credentials, comma-separated, newest first (inbox/credential_keys.py); under
# DEBUG only, one derived from SECRET_KEY when unset.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by Heron itself
    "anymail",
    "axes",
    "channels",
    "inbox",
    "search",
    "channels_adapters.apps.SimulatorConfig",
    "channels_adapters.apps.EmailConfig",
    "channels_adapters.apps.TwilioSmsConfig",
    "channels_adapters.apps.TwilioVoiceConfig",
    "channels_adapters.apps.GoogleBusinessConfig",
    "channels_adapters.apps.GoogleReviewsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.refuse_nul_in_query_string",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

# Sign-in throttling (django-axes): this many failed sign-ins for one email from one address lock that
# pair out for the cool-off time (429, "Retry-After"); a successful sign-in starts the count again.
# `python manage.py axes_reset_username EMAIL` unlocks an account sooner.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("HERON_SIGN_IN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("HERON_SIGN_IN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "inbox.api.views.sign_in_locked_out"
AXES_CLIENT_IP_CALLABLE = "config.proxies.client_ip"  # X-Forwarded-For only from HERON_TRUSTED_PROXIES

# Browser security (docs/security.md). Behind a TLS-terminating proxy, PUBLIC_BASE_URL is https and
# the proxy, listed in HERON_TRUSTED_PROXIES, sets X-Forwarded-For and X-Forwarded-Proto.
_HTTPS = PUBLIC_BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("HERON_HSTS_SECONDS", str(365 * 24 * 3600) if _HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HERON_HSTS_INCLUDE_SUBDOMAINS", False)
# Proxies (IPs or CIDRs) whose X-Forwarded-* headers count (config/proxies.py); none: the peer is the client.
HERON_TRUSTED_PROXIES = [
    ip_network(p.strip(), strict=False) for p in os.environ.get("HERON_TRUSTED_PROXIES", "").split(",") if p.strip()
]
if HERON_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    # A nonce for the inline style of a page Heron does not write (Swagger UI's).
    "style-src": [CSP.SELF, CSP.NONCE],
    # An email's formatting: its style attributes, which the sanitizer reduced to safe properties
    # (inbox/services/ingest.py) and which cannot run script, inside the sandboxed email iframe.
    "style-src-attr": [CSP.UNSAFE_INLINE],
    # An email's remote images, once an agent asks for them (they are sanitized away until then);
    # blob: for the composer's previews of attached images.
    "img-src": [CSP.SELF, "data:", "blob:", "https:", "http:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

ROOT_URLCONF = "config.urls"
# Providers POST to exact URLs; a redirect would break their signatures.
APPEND_SLASH = False

FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [FRONTEND_DIST, BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'heron.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
        conn_health_checks=True,  # a persistent connection (no pool) is checked before each request reuses it
    )
}
# One test database per pytest process, so parallel runs on one server never collide.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("HERON_TEST_DATABASE", f"test_heron_{os.getpid()}")}
    # A connection pool per process: connecting costs more than a whole webhook's queries, and the
    # pool's max bounds how many connections one ASGI process can open under a burst.
    if env_bool("HERON_DB_POOL", True):
        from psycopg_pool import ConnectionPool

        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": int(os.environ.get("HERON_DB_POOL_MIN", "2")),
            "max_size": int(os.environ.get("HERON_DB_POOL_MAX", "20")),
            "timeout": float(os.environ.get("HERON_DB_POOL_TIMEOUT", "10")),
            # A connection is checked each time it leaves the pool: after PostgreSQL restarts, a
            # request or task gets a new one instead of failing on "the connection is closed".
            "check": ConnectionPool.check_connection,
        }
    # Server-side parameters, and statements prepared once one has run HERON_DB_PREPARE_THRESHOLD
    # times on a (pooled) connection: the inbox list's plan costs more to make than to run (about
    # 4 of its 5.5 ms). Django leaves preparing off unless asked, for external poolers: set it to
    # `off` behind PgBouncer in transaction mode older than 1.21.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["server_side_binding"] = env_bool("HERON_DB_SERVER_SIDE_BINDING", True)
    _prepare = os.environ.get("HERON_DB_PREPARE_THRESHOLD", "5").strip().lower()
    _options["prepare_threshold"] = None if _prepare in {"", "off", "none"} else int(_prepare)
else:
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL or env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = False
# Without Redis there is no beat either: the ASGI process runs the beat schedule itself.
EMBEDDED_SCHEDULER = env_bool("HERON_EMBEDDED_SCHEDULER", not REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the whole connection pool around every task of a prefork worker, so
# each task paid two new PostgreSQL connections. Recycle it only every 1000 tasks; in between,
# config/celery.py hands the connection back to the pool after each task.
CELERY_DB_REUSE_MAX = 1000

# Checked wherever a password is set: create_agent (the command, seed_demo), the admin's forms.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_ROOT = FRONTEND_DIST if FRONTEND_DIST.exists() else None
WHITENOISE_INDEX_FILE = False
MEDIA_URL = "/media/"
# How long a reply attachment's public link works (providers fetch MMS media within minutes).
PUBLIC_MEDIA_MAX_AGE = int(os.environ.get("HERON_PUBLIC_MEDIA_MAX_AGE", str(24 * 3600)))
# Limits on files agents attach to replies.
REPLY_ATTACHMENT_MAX_FILES = 5
REPLY_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "inbox.api.authentication.HeronTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's three, with JSON read under Heron's rule (config/json_input.py).
    "DEFAULT_PARSER_CLASSES": [
        "inbox.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "inbox.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "inbox.api.pagination.NewestFirst",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Heron API",
    "DESCRIPTION": "Omnichannel support inbox: contacts, conversations, messages, timeline, events.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's static files, never a CDN; no online validator badge.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "ConversationStatusEnum": "inbox.models.conversations.Status",
        "DeliveryStatusEnum": "inbox.models.messages.DeliveryStatus",
        "IdentityKindEnum": "inbox.models.contacts.IdentityKind",
        "MessageKindEnum": "inbox.models.messages.MessageKind",
    },
}

# Which adapter serves a channel, the way EMAIL_BACKEND picks a mail backend.
CHANNEL_ADAPTERS = {
    "simulator": "channels_adapters.simulator.adapter.SimulatorAdapter",
    "email": "channels_adapters.email.adapter.EmailAdapter",
    "sms": "channels_adapters.twilio_sms.adapter.TwilioSmsAdapter",
    "voice": "channels_adapters.twilio_voice.adapter.TwilioVoiceAdapter",
    "google_business": "channels_adapters.google_business.adapter.GoogleBusinessAdapter",
    "google_reviews": "channels_adapters.google_reviews.adapter.GoogleReviewsAdapter",
}

HERON = {
    # A resolved conversation reopens when the customer writes again within this window.
    "REOPEN_WINDOW_HOURS": int(os.environ.get("HERON_REOPEN_WINDOW_HOURS", "168")),
    "SEND_MAX_RETRIES": int(os.environ.get("HERON_SEND_MAX_RETRIES", "5")),
    "SEND_RETRY_BACKOFF_SECONDS": float(os.environ.get("HERON_SEND_RETRY_BACKOFF_SECONDS", "2")),
    # How long a send waits for the provider's answer (Twilio, Google) before it is unconfirmed.
    "PROVIDER_TIMEOUT_SECONDS": float(os.environ.get("HERON_PROVIDER_TIMEOUT_SECONDS", "15")),
    # A send still in flight this long after it started is taken for interrupted (its worker died)
    # and reconciled with the provider; keep it well above the provider timeout (docs/sending.md).
    "SEND_LEASE_SECONDS": float(os.environ.get("HERON_SEND_LEASE_SECONDS", "60")),
    # Provider webhooks skip the browser middleware and run on a few long-lived threads
    # (config/webhook_fast_path.py); 0 sends them through Django's handler like every other request.
    "WEBHOOK_FAST_PATH": env_bool("HERON_WEBHOOK_FAST_PATH", True),
    "WEBHOOK_THREADS": int(os.environ.get("HERON_WEBHOOK_THREADS", "4")),
    # How long a process keeps an inbox it found for a webhook (inbox/inbox_cache.py); 0: never.
    "INBOX_CACHE_SECONDS": float(os.environ.get("HERON_INBOX_CACHE_SECONDS", "10")),
    # A process hands stored webhooks to workers at most once per interval, all that arrived
    # meanwhile in one task (inbox/services/handoff.py): under load, fewer broker messages and
    # cheaper recording for at most this much latency; none after a quiet spell.
    "HANDOFF_INTERVAL_MS": float(os.environ.get("HERON_HANDOFF_INTERVAL_MS", "15")),
}

# Full-text search (docs/search.md): words are indexed as written and stemmed in this language (a
# PostgreSQL text search configuration: english, french, german, ...; `simple` for none). After a
# change, `manage.py rebuild_search_index`.
HERON_SEARCH_LANGUAGE = os.environ.get("HERON_SEARCH_LANGUAGE", "english")

ANYMAIL = {"WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET") or DEVELOPMENT_SECRETS["ANYMAIL_WEBHOOK_SECRET"]}
# Email (docs/email.md). Outbound: an inbox's own SMTP settings win; else MAILERS["default"] (SMTP or an ESP).
for _name in ("MAILGUN_WEBHOOK_SIGNING_KEY", "POSTMARK_SERVER_TOKEN", "MAILGUN_API_KEY", "SENDGRID_API_KEY",
              "BREVO_API_KEY", "RESEND_API_KEY", "SPARKPOST_API_KEY", "MANDRILL_WEBHOOK_KEY"):
    if os.environ.get(_name):
        ANYMAIL[_name] = os.environ[_name]
_email_host = os.environ.get("EMAIL_HOST", "")
# Django 6.1 mailers. Under DEBUG with no EMAIL_HOST, mail is printed (or run an aiosmtpd sink: docs/email.md).
_email_backend = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG and not _email_host
    else "channels_adapters.email.smtp.EmailBackend",  # Django's, telling a lost answer from a refusal
)
_smtp_options = {
    "host": _email_host or "127.0.0.1",
    "port": int(os.environ.get("EMAIL_PORT", "587" if _email_host else "25")),
    "username": os.environ.get("EMAIL_HOST_USER", ""),
    "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
    "use_tls": env_bool("EMAIL_USE_TLS", False),
    "use_ssl": env_bool("EMAIL_USE_SSL", False),
    "timeout": int(os.environ.get("EMAIL_TIMEOUT", "30")),
}
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": _smtp_options if _email_backend.endswith("smtp.EmailBackend") else {},
    }
}
# ESPs post whole emails (attachments included, base64) to the anymail webhooks: Django's 2.5 MB default is too small.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(50 * 1024 * 1024)))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Heron <support@heron.local>")
HERON_EMAIL = {
    "MAX_ATTACHMENT_BYTES": int(os.environ.get("HERON_EMAIL_MAX_ATTACHMENT_BYTES", str(20 * 1024 * 1024))),
    "MAX_TOTAL_ATTACHMENT_BYTES": int(os.environ.get("HERON_EMAIL_MAX_TOTAL_BYTES", str(40 * 1024 * 1024))),
    "REPLY_LANGUAGES": ("en", "de", "fr", "es", "nl", "it"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"heron": {"level": os.environ.get("HERON_LOG_LEVEL", "INFO")}},
}

# `manage.py simulate <channel>`: module with add_arguments(parser) and run(options).
CHANNEL_SIMULATORS = {
    "simulator": "channels_adapters.simulator.simulate",
    "email": "channels_adapters.email.simulate",
    "sms": "channels_adapters.twilio_sms.simulate",
    "voice": "channels_adapters.twilio_voice.simulate",
    "google": "channels_adapters.google_business.simulate",
}
SIMULATOR_DELIVERY_CALLBACKS = env_bool("SIMULATOR_DELIVERY_CALLBACKS", True)

# Local fake providers (a Twilio REST API under /simulator/twilio/) so `make run` works offline.
HERON_FAKE_PROVIDERS = env_bool("HERON_FAKE_PROVIDERS", DEBUG)
# Where twilio-python sends REST calls; unset → https://api.twilio.com (tests point it at a fake).
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "").rstrip("/") or (
    PUBLIC_BASE_URL + "/simulator/twilio" if HERON_FAKE_PROVIDERS else ""
)
# Google APIs (docs/google.md); unset → Google's own hosts. Tests point them at a local fake.
GOOGLE_BUSINESS_MESSAGES_API_BASE_URL = os.environ.get("GOOGLE_BUSINESS_MESSAGES_API_BASE_URL", "").rstrip("/") or (
    PUBLIC_BASE_URL + "/simulator/google" if HERON_FAKE_PROVIDERS else ""
)
GOOGLE_BUSINESS_PROFILE_API_BASE_URL = os.environ.get("GOOGLE_BUSINESS_PROFILE_API_BASE_URL", "").rstrip("/")
GOOGLE_REVIEWS_PAGE_SIZE = int(os.environ.get("GOOGLE_REVIEWS_PAGE_SIZE", "50"))
