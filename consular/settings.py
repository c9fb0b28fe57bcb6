"""Settings for consular, read from the environment (see .env.example).

With nothing set the project runs for development: a SQLite file, DEBUG on, an embedded
filesystem broker and console channels. `DJANGO_ENV=production` turns every safety on and
refuses to start without the secrets and services a real deployment needs.
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from kombu import Queue

# Lets admin and DRF generics be subscripted at run time, as the type checker expects.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}."
    )
PRODUCTION = DJANGO_ENV == "production"


def required_in_production(name: str, development_default: str) -> str:
    """Read a setting that has a safe default for development and none in production."""
    if PRODUCTION:
        value = env.str(name, default="")
        if not value:
            raise ImproperlyConfigured(
                f"{name} must be set when DJANGO_ENV=production (see .env.example)."
            )
        return value
    return env.str(name, default=development_default)


SECRET_KEY = required_in_production(
    "SECRET_KEY", "development-only-secret-key-never-use-in-production-0123456789"
)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)


def _derived_development_key(purpose: str) -> str:
    """A key drawn from SECRET_KEY, so development runs with nothing set; never in production."""
    digest = hashlib.sha256(f"consular:{purpose}:{SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# Personal data at rest (core.crypto): Fernet keys, comma-separated. The first encrypts, every
# one decrypts: to rotate, put a new key first, run `manage.py rotate_encryption_keys`, then
# drop the old one.
FIELD_ENCRYPTION_KEYS = [
    key.strip()
    for key in required_in_production("FIELD_ENCRYPTION_KEYS", "").split(",")
    if key.strip()
] or [_derived_development_key("field-encryption")]
# Keys of the keyed hashes that find a citizen by email or phone, rotated the same way.
FIELD_HASH_KEYS = [
    key.strip() for key in required_in_production("FIELD_HASH_KEYS", "").split(",") if key.strip()
] or [_derived_development_key("field-hash")]
ALLOWED_HOSTS = required_in_production("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies stand in front of the site and append to X-Forwarded-For. 0 trusts
# none of it: client addresses (audit trail, lockout, rate limits) are then the TCP peer's.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# The public address of the site: the base of every link in an email or SMS, of the CAP
# message's web page and of the Atom feed's links. Unset (or empty), it is the address
# `make run` serves on, whose PORT reaches web, worker and beat as CONSULAR_PORT.
SITE_URL = (
    env.str("SITE_URL", default="") or f"http://127.0.0.1:{env.int('CONSULAR_PORT', default=8000)}"
).rstrip("/")

INSTALLED_APPS = [
    # Django's admin, with a second factor required on every page (TOTP, django-otp).
    "accounts.admin_apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "core",
    "accounts",
    "regions",
    "registrations",
    "advisories",
    "notifications",
    "cases",
    "departures",
    "peers",
    "console",
    # htmx served from our static files, and `request.htmx` for the staff pages' fragments.
    "django_htmx",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # A NUL in the URL would reach PostgreSQL as a 500: refused as a bad request.
    "core.http.RejectNullCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A public page the stack served before, answered again from this process's copy while
    # no publication has changed it: what follows would cost more than the rest of it.
    "core.public_cache.PublicPageMiddleware",
    "core.http.HtmlGZipMiddleware",  # pages compressed; see core/public_cache.py
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # No cache keeps an API answer that may name a person (all but anonymous reads).
    "core.api.ApiCacheControlMiddleware",
    # Tells whether the session has passed the second factor (`request.user.is_verified()`).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Staff pages show times in the post's zone (accounts.Post.time_zone).
    "accounts.middleware.StaffTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a lockout into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "consular.urls"
WSGI_APPLICATION = "consular.wsgi.application"
ASGI_APPLICATION = "consular.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite for development, PostgreSQL (DATABASE_URL=postgres://...) in production.
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default="" if PRODUCTION else f"sqlite:///{VAR_DIR / 'consular.sqlite3'}",
    )
}
if PRODUCTION and not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must be set when DJANGO_ENV=production.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # Web, worker and beat share the file: WAL and immediate transactions avoid "database is
    # locked" when they write at the same time.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://consular")}
# Public pages and feeds (core.public_cache): kept in the cache per publication, so a new one is
# served at once; PUBLIC_CACHE_SECONDS bounds how long what no publication changes (a post's
# address, a country's name) may lag. Browsers and a CDN in front may keep a page
# PUBLIC_CACHE_MAX_AGE seconds: the longest a reader may see the previous version.
PUBLIC_CACHE_SECONDS = env.int("PUBLIC_CACHE_SECONDS", default=600)
PUBLIC_CACHE_MAX_AGE = env.int("PUBLIC_CACHE_MAX_AGE", default=60)
# How many of those pages (per language, format and encoding) each web process keeps a copy
# of, checked against the publication's stamp on every request: about 40 KB each at most.
PUBLIC_CACHE_LOCAL_ENTRIES = env.int("PUBLIC_CACHE_LOCAL_ENTRIES", default=256)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in lockout: after LOGIN_FAILURE_LIMIT failures for one username from one address, that
# pair waits LOGIN_LOCKOUT_MINUTES. Locking the pair, not the username alone, means someone
# guessing from elsewhere cannot lock a real officer out of their account.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.http.client_address"
# The audit trail records sign-ins and failures; axes keeps only what it needs to count.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Authenticator apps show this name next to the staff member's code.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="consular")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["consular.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Email: console in development; SMTP (EMAIL_URL=smtp://user:pass@host:587/?tls=True) in
# production.
# Without EMAIL_URL, development keeps every email in the database, shown at /outbox/.
_email_url = required_in_production("EMAIL_URL", "")
_email = (
    env.email_url_config(_email_url)
    if _email_url
    else {"EMAIL_BACKEND": "notifications.outbox.EmailBackend"}
)
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {
            key: value
            for key, value in {
                "host": _email.get("EMAIL_HOST"),
                "port": _email.get("EMAIL_PORT"),
                "username": _email.get("EMAIL_HOST_USER"),
                "password": _email.get("EMAIL_HOST_PASSWORD"),
                "use_tls": _email.get("EMAIL_USE_TLS"),
                "use_ssl": _email.get("EMAIL_USE_SSL"),
                "timeout": env.int("EMAIL_TIMEOUT", default=30),
            }.items()
            if value not in (None, "")
        }
        if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
        else {},
    }
}
# SMS: the one provider texts go through and whose webhooks are believed (a class under
# core/sms/backends/). Kept at /outbox/ in development. In production set a provider (see
# .env.example); without one, SMS sends fail loudly and /healthz reports the channel as not
# configured.
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="core.sms.backends.unconfigured.SmsBackend"
    if PRODUCTION
    else "notifications.outbox.SmsBackend",
)
# Generic JSON-over-HTTP SMS provider (core.sms.backends.http.SmsBackend).
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=10.0)
# Shared secret that signs the HTTP provider's receipts and inbound messages (HMAC-SHA256).
SMS_HTTP_WEBHOOK_SECRET = env.str("SMS_HTTP_WEBHOOK_SECRET", default="")
# Twilio (core.sms.backends.twilio.SmsBackend).
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_STATUS_CALLBACK_URL = env.str("TWILIO_STATUS_CALLBACK_URL", default="")
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com")

# Alerts. Rates are messages per second per channel, shared by every worker.
ALERT_RATE_LIMITS = {
    "email": env.int("ALERT_RATE_EMAIL", default=200),
    "sms": env.int("ALERT_RATE_SMS", default=50),
}
# Trips starting within this many days are alerted too.
ALERT_LOOKAHEAD_DAYS = env.int("ALERT_LOOKAHEAD_DAYS", default=7)
# Deliveries per send task, and attempts before a transient failure becomes final.
ALERT_CHUNK_SIZE = env.int("ALERT_CHUNK_SIZE", default=500)
ALERT_MAX_ATTEMPTS = env.int("ALERT_MAX_ATTEMPTS", default=6)
# Backoff before retry n: a random wait between half and all of base * 2^(n-1), capped.
ALERT_RETRY_BASE_SECONDS = env.int("ALERT_RETRY_BASE_SECONDS", default=30)
ALERT_RETRY_MAX_SECONDS = env.int("ALERT_RETRY_MAX_SECONDS", default=1800)
# Seconds a worker holds claimed deliveries before the sweeper may take them back.
ALERT_LEASE_SECONDS = env.int("ALERT_LEASE_SECONDS", default=600)
# An alert still waiting for its fan-out this long after creation is fanned out by the sweeper.
ALERT_FAN_OUT_GRACE_SECONDS = env.int("ALERT_FAN_OUT_GRACE_SECONDS", default=60)

# Domain events (core.events): the relay dispatches, every EVENT_RELAY_SECONDS, the events
# their publishing process did not dispatch within EVENT_RELAY_GRACE_SECONDS of the commit (it
# died) and failed ones due for a retry (backoff from EVENT_RELAY_SECONDS, doubling, at most an
# hour). A process dispatching an event holds it EVENT_LEASE_SECONDS before the relay may take
# it back. Dispatched events are deleted after EVENT_RETENTION_DAYS.
EVENT_RELAY_SECONDS = env.int("EVENT_RELAY_SECONDS", default=10)
EVENT_RELAY_GRACE_SECONDS = env.int("EVENT_RELAY_GRACE_SECONDS", default=5)
EVENT_LEASE_SECONDS = env.int("EVENT_LEASE_SECONDS", default=60)
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=30)

# Email provider receipts (delivered, bounced, complaints) arrive on anymail's tracking
# webhook at /api/v1/webhooks/email/<provider>/tracking/, served only for the anymail backend
# in use and protected by HTTP basic auth with this "user:password"; a provider's own API key
# goes in ANYMAIL (see django-anymail's docs).
ANYMAIL = {"WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="")}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="consular@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: an embedded filesystem broker by default so nothing needs installing; RabbitMQ
# (amqp://) or Redis (redis://) in production.
BROKER_FOLDER = VAR_DIR / "broker"
CELERY_BROKER_URL = required_in_production("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for folder in ("queue", "control"):
        (BROKER_FOLDER / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_FOLDER / "queue"),
        "data_folder_out": str(BROKER_FOLDER / "queue"),
        "control_folder": str(BROKER_FOLDER / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = env.int("CELERY_BROKER_CONNECTION_MAX_RETRIES", default=100)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# Tasks are idempotent, so a message is acknowledged only once its work is done and is
# redelivered if the worker dies mid-task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=270)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Sends are split by channel so a slow provider never holds up the other one.
CELERY_TASK_QUEUES = [Queue(name, durable=True) for name in ("default", "email", "sms")]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
# Domain events a crash or a failing handler left undispatched (see EVENT_RELAY_SECONDS).
CELERY_BEAT_SCHEDULE["core-events-relay"] = {
    "task": "core.tasks.relay_events",
    "schedule": float(EVENT_RELAY_SECONDS),
}
# Advisories approved for a later time are published by this task once their time has come.
CELERY_BEAT_SCHEDULE["publish-due-advisories"] = {
    "task": "advisories.publish_due_advisories",
    "schedule": 60.0,
}
# Alerts: recover rows a lost message or a dead worker left behind, and run due retries.
CELERY_BEAT_SCHEDULE["notifications-sweep"] = {
    "task": "notifications.tasks.sweep_deliveries",
    "schedule": env.float("ALERT_SWEEP_SECONDS", default=15.0),
}
# Safety checks: reminders, emergency contacts and deadlines.
CELERY_BEAT_SCHEDULE["cases-safety-checks"] = {
    "task": "cases.tasks.tick_safety_checks",
    "schedule": 60.0,
}
# Assisted departure: unanswered seat offers past their deadline give their seats back.
CELERY_BEAT_SCHEDULE["departures-expire-offers"] = {
    "task": "departures.tasks.expire_seat_offers",
    "schedule": 60.0,
}
# Registrations: verification emails whose kick was lost (registrations/verification_emails.py).
CELERY_BEAT_SCHEDULE["registrations-verification-emails"] = {
    "task": "registrations.tasks.send_due_verification_emails",
    "schedule": env.float("VERIFICATION_EMAIL_SWEEP_SECONDS", default=30.0),
}
# Registrations: retention and the residents' yearly confirmation, daily.
CELERY_BEAT_SCHEDULE["registrations-retention"] = {
    "task": "registrations.tasks.apply_retention",
    "schedule": 24 * 3600,
}
CELERY_BEAT_SCHEDULE["registrations-yearly-confirmation"] = {
    "task": "registrations.tasks.request_yearly_confirmations",
    "schedule": 24 * 3600,
}
# Partner governments' advice (peers/): each source is off until its URL is set, so nothing
# reaches the network unless an operator chooses so (README, "Partner advisories"). Only the
# beat task fetches, every PEER_FETCH_SECONDS; a failing source waits longer each time, up to
# PEER_BACKOFF_MAX_SECONDS, and shows as stale (staff page, /healthz) once its last attempt
# failed or it has not succeeded for PEER_STALE_SECONDS.
PEER_SOURCES: dict[str, dict[str, str]] = {
    "us": {"class": "peers.sources.us.UnitedStates", "url": env.str("PEER_US_URL", default="")},
    "uk": {"class": "peers.sources.uk.UnitedKingdom", "url": env.str("PEER_UK_URL", default="")},
    "canada": {
        "class": "peers.sources.canada.Canada",
        "url": env.str("PEER_CANADA_URL", default=""),
    },
}
# Links to partner governments' advice on our public advisory pages, off by default: a JSON
# list of [name, URL pattern] with {iso2} or {slug} (advisories/templatetags/partner_links.py).
ADVISORY_PARTNER_LINKS: list[tuple[str, str]] = [
    (str(name), str(pattern)) for name, pattern in env.json("ADVISORY_PARTNER_LINKS", default=[])
]
PEER_FETCH_SECONDS = env.int("PEER_FETCH_SECONDS", default=3600)
PEER_TIMEOUT_SECONDS = env.float("PEER_TIMEOUT_SECONDS", default=20.0)
PEER_MAX_BYTES = env.int("PEER_MAX_BYTES", default=10 * 1024 * 1024)
PEER_STALE_SECONDS = env.int("PEER_STALE_SECONDS", default=6 * 3600)
PEER_BACKOFF_MAX_SECONDS = env.int("PEER_BACKOFF_MAX_SECONDS", default=6 * 3600)
# The UK has a page per country: a fetch reads at most this many, and comes back after
# PEER_MORE_SECONDS for the rest (the first fetch has some 225).
PEER_UK_PAGES_PER_FETCH = env.int("PEER_UK_PAGES_PER_FETCH", default=50)
PEER_MORE_SECONDS = env.int("PEER_MORE_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["peers-fetch"] = {
    "task": "peers.fetch_partner_advice",
    # Each source keeps its own pace (next attempt, backoff); this only looks for one due.
    "schedule": 300.0,
}
# Cases: how long a new case may wait for its first contact, by priority (the queue shows
# the time left and says "overdue" past it).
CASE_CONTACT_SLA_MINUTES = {
    4: env.int("CASE_SLA_URGENT_MINUTES", default=60),
    3: env.int("CASE_SLA_HIGH_MINUTES", default=4 * 60),
    2: env.int("CASE_SLA_NORMAL_MINUTES", default=24 * 60),
    1: env.int("CASE_SLA_LOW_MINUTES", default=72 * 60),
}
# Days a trip (or a residence left) is kept after its end; a citizen with no presence left goes.
RETENTION_TRIP_DAYS = env.int("RETENTION_TRIP_DAYS", default=30)
# Residents are asked to confirm their details every this many days...
RETENTION_CONFIRM_EVERY_DAYS = env.int("RETENTION_CONFIRM_EVERY_DAYS", default=365)
# ...and removed this many days after being asked without confirming.
RETENTION_CONFIRMATION_GRACE_DAYS = env.int("RETENTION_CONFIRMATION_GRACE_DAYS", default=60)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        # A staff session counts for the API only once its second factor is verified.
        "accounts.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
    # Every throttle counts per client address as core.http.client_address reads it; NUM_PROXIES
    # says the same to any DRF code that reads the address itself.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "registration": env.str("THROTTLE_REGISTRATION", default="20/hour"),
        # The whole API, per address, for callers without a staff account.
        "anon": env.str("THROTTLE_ANON", default="300/minute"),
        # Provider callbacks, per client address (receipts arrive in bursts after an alert).
        "webhook": env.str("THROTTLE_WEBHOOK", default="6000/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "consular API",
    "DESCRIPTION": "Register nationals abroad, publish travel advisories and alert the people "
    "present in the regions whose risk level changes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No call to the public validator service: the docs page talks to this site only.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Presence.kind and Alert.kind are both "kind": name the enums apart in the schema.
    "ENUM_NAME_OVERRIDES": {
        "PresenceKindEnum": "registrations.models.Presence.Kind",
        "AlertKindEnum": "notifications.models.Alert.Kind",
        "AlertStateEnum": "notifications.models.Alert.State",
        "AdvisoryStatusEnum": "advisories.models.Advisory.Status",
        "DeliveryStatusEnum": "notifications.models.Delivery.Status",
        "SafetyCheckStatusEnum": "cases.models.SafetyCheck.Status",
        "SafetyResponseStatusEnum": "cases.models.SafetyResponse.Status",
        "CaseStatusEnum": "cases.models.Case.Status",
        "CaseKindEnum": "cases.models.Case.Kind",
        "CaseEventKindEnum": "cases.models.CaseEvent.Kind",
        "DepartureOperationStatusEnum": "departures.models.DepartureOperation.Status",
        "DepartureOptionKindEnum": "departures.models.DepartureOption.Kind",
        "DeparturePriorityEnum": "departures.models.PriorityGroup",
        "SeatOfferStateEnum": "departures.models.Offer.State",
        "TravelDocumentTypeEnum": "departures.models.Traveller.DocumentType",
        "BoardingStateEnum": "departures.models.Boarding.State",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Only this site's own files run; an inline script or style runs only with the nonce the
# response carries (`{% csp_nonce_attr %}` or `nonce="{{ csp_nonce }}"` in templates).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    # Swagger UI's stylesheet draws its icons as data: URIs.
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
