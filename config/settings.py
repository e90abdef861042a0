"""Settings, read from the environment through one django-environ object (see README)."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import env

BASE_DIR = Path(__file__).resolve().parent.parent

# A local `.env` file (never committed) may hold development values; real environment wins.
if (BASE_DIR / ".env").is_file() and env.bool("DJANGO_READ_DOT_ENV", default=True):
    env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY: set it (at least 50 random characters) when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production-0123456789"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS and cookies: safe by default in production (DEBUG off); the development server runs over plain
# HTTP, so with DEBUG on they default off. Each can be overridden from the environment.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# The admin reads the CSRF token from its forms, never from the cookie: scripts need not see it.
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured("SECURE_HSTS_SECONDS: must not be negative.")
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The reverse proxies (addresses or networks) whose X-Forwarded-For is believed; from anyone else the header is
# ignored. Login lockouts and the API's throttles read the client's address one way (core/client_address.py).
TRUSTED_PROXIES = env.networks("TRUSTED_PROXIES", default=[])
for _network in TRUSTED_PROXIES:
    if _network.prefixlen == 0:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_network} would trust every address; name the proxies.")
if env.bool("SECURE_PROXY_SSL_HEADER", default=False) and not TRUSTED_PROXIES:
    # Otherwise every client appears with the proxy's address, and five wrong passwords from anyone lock
    # the real user out.
    raise ImproperlyConfigured("TRUSTED_PROXIES: set it to the proxy's addresses when SECURE_PROXY_SSL_HEADER is on.")

# Content-Security-Policy (django-csp): scripts only from our own static files (the admin and the API
# docs have no inline scripts); inline styles are allowed because the admin and Swagger UI set some.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# The OpenAPI schema and its docs page: for logged-in staff only, unless this is turned on.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)

INSTALLED_APPS = [
    "config.apps.PrivacyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "pgtrigger",
    "core",
    "residency",
    "dsar",
    "recordings",
]

MIDDLEWARE = [
    # First, so that it marks every answer, those of the middleware below (413, lockouts, redirects) too.
    "config.middleware.NoStoreMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# Console logins: django-axes counts failures per username and address and locks that pair out after
# AXES_FAILURE_LIMIT failures for AXES_COOLOFF_MINUTES (locking by username alone would let anyone lock
# the DPO out). Lockouts are listed in the console under Axes; deleting an attempt lifts it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_address"
if AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("AXES_FAILURE_LIMIT: must be at least 1.")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several server threads or processes at once: readers never wait for the writer (WAL), a transaction
    # takes the write lock when it begins (IMMEDIATE: no deadlock when a reader turns writer) and a writer
    # waits up to SQLITE_BUSY_TIMEOUT seconds for it instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
        }
    )
# On PostgreSQL the application runs as a login that owns no table (core/database_logins.py): `migrate`, run
# with the owner's DATABASE_URL and this naming the runtime login, grants it all it needs but rewriting audit
# and history rows; the application, serving with DATABASE_URL logging in as it, scrubs through the owner's
# function. Empty: the application's login owns the tables (development; `check --deploy` warns).
DATABASE_RUNTIME_ROLE = env.str("DATABASE_RUNTIME_ROLE", default="")
if DATABASE_RUNTIME_ROLE:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_RUNTIME_ROLE: only with a PostgreSQL DATABASE_URL.")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", DATABASE_RUNTIME_ROLE):
        raise ImproperlyConfigured(
            f"DATABASE_RUNTIME_ROLE: {DATABASE_RUNTIME_ROLE!r} is not a role name (lowercase letters, digits, underscores)."
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The languages a data subject is written to in (emails, access report, archive): the privacy center's.
# The console itself stays in English.
LANGUAGES = [("en", "English"), ("sv", "Svenska"), ("fr", "Français")]
# Compiled catalogs are committed beside their .po files, so a checkout runs without GNU gettext.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")

# Emails carry identity codes and download links: in production they go to a mail server, never to the
# console or a file (where they end up in logs and on disk), to memory or nowhere.
if not DEBUG and not env.str("EMAIL_URL", default=""):
    raise ImproperlyConfigured("EMAIL_URL: set it to the mail server (smtp+tls://USER:PASSWORD@HOST:587) when DEBUG is off.")
_email = env.email_url("EMAIL_URL", default="consolemail://")
_UNSENT_MAIL = {
    "django.core.mail.backends.console.EmailBackend": "prints every email",
    "django.core.mail.backends.filebased.EmailBackend": "writes every email to a file",
    "django.core.mail.backends.locmem.EmailBackend": "keeps every email in memory",
    "django.core.mail.backends.dummy.EmailBackend": "drops every email",
}
if not DEBUG and _email["EMAIL_BACKEND"] in _UNSENT_MAIL:
    raise ImproperlyConfigured(
        f"EMAIL_URL: {env.str('EMAIL_URL').split('://', 1)[0]}:// {_UNSENT_MAIL[_email['EMAIL_BACKEND']]} instead of "
        "sending it; use smtp://, smtp+tls:// or smtp+ssl:// when DEBUG is off."
    )
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="privacy-ops@localhost")
# Where digests and notices for the privacy team go.
PRIVACY_TEAM_EMAILS = env.list("PRIVACY_TEAM_EMAILS", default=["privacy-team@localhost"])
# Absolute base URL used in emailed links (download links, request pages): required in production, where
# a default would point every emailed link at the wrong host. In development it follows the port the
# development server runs on (`make run PORT=8080`: scripts/serve.py passes PORT to every process it starts).
PORT = env.int("PORT", default=8000)
if not 1 <= PORT <= 65535:
    raise ImproperlyConfigured(f"PORT: {PORT} is not a TCP port (1 to 65535).")
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{PORT}" if DEBUG else "").rstrip("/")
if not SITE_URL:
    raise ImproperlyConfigured("SITE_URL: set it to the console's public address (https://…) when DEBUG is off.")

# Data subject requests: the identity code's lifetime and attempts, and the portability archives' link
# lifetime and where the archives are kept (outside MEDIA_ROOT: they are only served through signed links).
DSAR_CODE_TTL_MINUTES = env.int("DSAR_CODE_TTL_MINUTES", default=30)
DSAR_CODE_MAX_ATTEMPTS = env.int("DSAR_CODE_MAX_ATTEMPTS", default=5)
DSAR_EXPORT_TTL_DAYS = env.int("DSAR_EXPORT_TTL_DAYS", default=7)
# An erasure whose verification scan is clean completes by itself and emails the person ("auto"), or
# waits for a staff member to complete it ("manual").
DSAR_ERASURE_FINALIZATION = env.str("DSAR_ERASURE_FINALIZATION", default="auto")
if DSAR_ERASURE_FINALIZATION not in ("auto", "manual"):
    raise ImproperlyConfigured(f"DSAR_ERASURE_FINALIZATION: {DSAR_ERASURE_FINALIZATION!r} is not one of auto, manual.")
# Requester identity data (what a request was received with, staff notes, people intake created with no
# other record) is removed this many days after the request closes, by `forget_requesters`.
DSAR_IDENTITY_RETENTION_DAYS = env.int("DSAR_IDENTITY_RETENTION_DAYS", default=730)
if DSAR_IDENTITY_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(f"DSAR_IDENTITY_RETENTION_DAYS: {DSAR_IDENTITY_RETENTION_DAYS} must be at least 1.")
# Identity codes emailed at most this many times an hour per request, and per address across requests.
DSAR_CODES_PER_REQUEST_PER_HOUR = env.int("DSAR_CODES_PER_REQUEST_PER_HOUR", default=3)
DSAR_CODES_PER_ADDRESS_PER_HOUR = env.int("DSAR_CODES_PER_ADDRESS_PER_HOUR", default=5)
DSAR_EXPORT_ROOT = env.path("DSAR_EXPORT_ROOT", default=BASE_DIR / "var" / "dsar-exports")

# The privacy center (dsar/center/): a submission not verified within DSAR_SUBMISSION_TTL_DAYS expires, with one
# reminder DSAR_SUBMISSION_REMINDER_HOURS after it was made; agents' signed authorizations are kept in
# DSAR_AGENT_PROOF_ROOT (outside MEDIA_ROOT: only staff with the permission download them), at most
# DSAR_AGENT_PROOF_MAX_BYTES each. Submissions are limited per client address and per identity (email or
# phone), on the shared cache, "N/second|minute|hour|day".
DSAR_SUBMISSION_TTL_DAYS = env.int("DSAR_SUBMISSION_TTL_DAYS", default=7)
DSAR_SUBMISSION_REMINDER_HOURS = env.int("DSAR_SUBMISSION_REMINDER_HOURS", default=24)
if not 0 < DSAR_SUBMISSION_REMINDER_HOURS < DSAR_SUBMISSION_TTL_DAYS * 24:
    raise ImproperlyConfigured(
        "DSAR_SUBMISSION_REMINDER_HOURS: must be positive and earlier than DSAR_SUBMISSION_TTL_DAYS."
    )
DSAR_AGENT_PROOF_ROOT = env.path("DSAR_AGENT_PROOF_ROOT", default=BASE_DIR / "var" / "dsar-agent-proofs")
DSAR_AGENT_PROOF_MAX_BYTES = env.int("DSAR_AGENT_PROOF_MAX_BYTES", default=5 * 1024 * 1024)
PRIVACY_CENTER_RATES = {
    "address": env.str("PRIVACY_CENTER_ADDRESS_RATE", default="20/hour"),
    "identity": env.str("PRIVACY_CENTER_IDENTITY_RATE", default="5/hour"),
}

# How often the audit chain's head is signed and written outside the database (core/checkpoints.py), in seconds.
AUDIT_CHECKPOINT_INTERVAL = env.int("AUDIT_CHECKPOINT_INTERVAL", default=900)
if AUDIT_CHECKPOINT_INTERVAL < 60:
    raise ImproperlyConfigured("AUDIT_CHECKPOINT_INTERVAL: at least 60 seconds.")

# The periodic jobs `manage.py run_schedules` runs, as (seconds between runs, command and its arguments);
# cron or systemd timers can run the same commands instead (README, "Running in production").
SCHEDULES: list[tuple[int, list[str]]] = [
    # Recordings past their line's auto-delete window, and tickets soft-deleted 7+ days ago.
    (3600, ["purge_recordings", "--verbosity", "0"]),
    # Deletions at the telephony provider, retried with backoff while it is down.
    (60, ["process_provider_deletions", "--verbosity", "0"]),
    # The digest of requests overdue or due soon, emailed to PRIVACY_TEAM_EMAILS.
    (86400, ["dsar_due", "--email", "--verbosity", "0"]),
    # Requester identity data of requests closed over DSAR_IDENTITY_RETENTION_DAYS ago.
    (86400, ["forget_requesters", "--verbosity", "0"]),
    # Notices of new sub-processors and transfers whose email failed (Art. 28(2)).
    (3600, ["send_change_notices", "--verbosity", "0"]),
    # Catalogs scheduled for a date (effective_from) apply on that date.
    (3600, ["apply_scheduled_catalogs", "--verbosity", "0"]),
    # Privacy-center and DRP submissions nobody verified: reminded after a day, expired after a week.
    (3600, ["expire_submissions", "--verbosity", "0"]),
    # Erasures whose blocker cleared (a call ended, a hold was released) resume by themselves.
    (300, ["resume_erasures", "--verbosity", "0"]),
    # The audit chain's head, signed and written outside the database, also when nothing happened.
    (AUDIT_CHECKPOINT_INTERVAL, ["audit_checkpoint", "--verbosity", "0"]),
]

# Background tasks (exports, archives, provider deletions) go through Django's Tasks API to one of two
# queues: `database` (the default: tasks are rows in this database, run by `manage.py db_worker`) or `rq`
# (Redis at REDIS_URL, run by `manage.py rqworker --job-class django_tasks_rq.Job default`), for
# deployments whose task volume outgrows the database.
TASKS_BACKEND = env.str("TASKS_BACKEND", default="database")
if TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif TASKS_BACKEND == "rq":
    if not env.str("REDIS_URL", default=""):
        raise ImproperlyConfigured("REDIS_URL: TASKS_BACKEND=rq needs the Redis server's URL (redis://host:port/db).")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": env.str("REDIS_URL"), "DEFAULT_TIMEOUT": 3600}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    raise ImproperlyConfigured(f"TASKS_BACKEND: {TASKS_BACKEND!r} is not one of database, rq.")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every view declares what each method needs (a Django permission for staff, a scope for API keys);
    # a view that declares nothing answers 403 to everyone.
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.HasAccess"],
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttling.ApiKeyRateThrottle",
        "core.api.throttling.UserRateThrottle",
    ],
    # JSON bodies nested deeper than any operation reads answer 400 before they are decoded (see the module).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}

# Request rates, "N/second|minute|hour|day": per API key, per logged-in user, and for intake (requests
# opened per key, each of which may email a code). Past a rate the API answers 429 with Retry-After.
API_THROTTLE_RATES = {
    "api_key": env.str("API_THROTTLE_KEY_RATE", default="600/minute"),
    "user": env.str("API_THROTTLE_USER_RATE", default="1200/minute"),
    "intake": env.str("API_THROTTLE_INTAKE_RATE", default="60/hour"),
}
_RATE_VARIABLES = {
    **{name: f"API_THROTTLE_{'KEY' if name == 'api_key' else name.upper()}_RATE" for name in API_THROTTLE_RATES},
    **{f"center-{name}": f"PRIVACY_CENTER_{name.upper()}_RATE" for name in PRIVACY_CENTER_RATES},
}
for _name, _rate in [*API_THROTTLE_RATES.items(), *((f"center-{k}", v) for k, v in PRIVACY_CENTER_RATES.items())]:
    _count, _, _period = _rate.partition("/")
    if not (_count.isdigit() and int(_count) > 0 and _period in ("second", "minute", "hour", "day")):
        raise ImproperlyConfigured(f"{_RATE_VARIABLES[_name]}: {_rate!r} is not N/second|minute|hour|day.")

# The cache holds the API's rate counters (and the dashboard's figures): every process of the deployment must
# see the same counters, or each server process allows the whole rate. The default is a directory of files
# under var/, shared by every process on this host and created on first use; a deployment on several hosts
# sets CACHE_URL=redis://HOST:6379/1. Not the database cache: its writes would belong to the request's
# transaction, and a refused request would roll back its own count. `check --deploy` warns about a cache
# that lives in one process's memory (config/checks.py).
CACHES = {
    "default": env.cache_url(
        "CACHE_URL",
        # Entries past MAX_ENTRIES are culled at random; counters of a few thousand keys and logins must stay.
        default=f"filecache://{BASE_DIR / 'var' / 'cache'}?max_entries=20000",
    )
}

# History and audit tables are append-only on PostgreSQL (core/append_only.py): the triggers are
# registered in code for the generated history models, so `migrate` installs them instead of migrations.
PGTRIGGER_INSTALL_ON_MIGRATE = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# History pages show past versions but never restore one: a purged ticket or an erased person stays gone.
SIMPLE_HISTORY_REVERT_DISABLED = True
# The customer account that API keys and audit entries name (core names it only through this setting).
ACCOUNT_MODEL = "residency.Account"
PGTRIGGER_MIGRATIONS = False
# The key of the audit chain's hashes (core/audit.py); by default derived from SECRET_KEY. Set it to
# keep the chain verifiable across a SECRET_KEY rotation.
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="")
# Signed checkpoints of the chain's head, kept outside the database (core/checkpoints.py): the Ed25519
# private key (base64; `manage.py audit_checkpoint --new-key` makes one; by default, for development only,
# derived from SECRET_KEY), the public key auditors verify with (default: the private key's), the witness
# directory the checkpoints are written to once each (the interval is AUDIT_CHECKPOINT_INTERVAL, above).
AUDIT_CHECKPOINT_KEY = env.str("AUDIT_CHECKPOINT_KEY", default="")
AUDIT_CHECKPOINT_PUBLIC_KEY = env.str("AUDIT_CHECKPOINT_PUBLIC_KEY", default="")
for _name, _value in (("AUDIT_CHECKPOINT_KEY", AUDIT_CHECKPOINT_KEY), ("AUDIT_CHECKPOINT_PUBLIC_KEY", AUDIT_CHECKPOINT_PUBLIC_KEY)):
    try:
        if _value and len(base64.b64decode(_value, validate=True)) != 32:
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(f"{_name}: give the base64 of a 32-byte Ed25519 key.") from None
if not AUDIT_CHECKPOINT_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "AUDIT_CHECKPOINT_KEY: set it when DEBUG is off (`manage.py audit_checkpoint --new-key` prints one)."
    )
AUDIT_WITNESS_DIR = env.path("AUDIT_WITNESS_DIR", default=BASE_DIR / "var" / "witness")

# One JSON shape for every API error: {"type": …, "errors": [{"code", "detail", "attr"}]}, where
# `attr` names the offending field.
DRF_STANDARDIZED_ERRORS = {"EXCEPTION_HANDLER_CLASS": "core.api.errors.ExceptionHandler"}

SPECTACULAR_SETTINGS = {
    "TITLE": "Privacy operations API",
    "DESCRIPTION": "Residency, data subject requests and telephony records of the privacy back office.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Tags operations by the first path segment after /api/v1/ (accounts, dsar, recordings…).
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI's files come from the installed sidecar package, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}
# drf-spectacular names an enum after its field; dsar's `type`, `status` and `kind` need names of their own.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "DsarRequestTypeEnum": "dsar.models.Request.Type",
        "DsarRequestStatusEnum": "dsar.models.Request.Status",
        "DsarEventKindEnum": "dsar.models.RequestEvent.Kind",
        "CatalogBasisEnum": "residency.models.Basis",
    }
)

# The residency catalog file that `load_catalog` reads when given no path.
RESIDENCY_CATALOG_PATH = env.path("RESIDENCY_CATALOG_PATH", default=BASE_DIR / "residency" / "catalog" / "catalog.toml")

# Telephony provider where recordings are also deleted: "twilio" (the Twilio recordings API shape, at
# TELEPHONY_PROVIDER_BASE_URL with basic auth) or "local", a development stand-in that deletes nothing.
# "local" is never a default, DEBUG or not: it must be chosen explicitly (.env.example does).
TELEPHONY_PROVIDER_BACKEND = env.str("TELEPHONY_PROVIDER_BACKEND", default="twilio")
if TELEPHONY_PROVIDER_BACKEND not in ("local", "twilio"):
    raise ImproperlyConfigured(f"TELEPHONY_PROVIDER_BACKEND: {TELEPHONY_PROVIDER_BACKEND!r} is not one of local, twilio.")
TELEPHONY_PROVIDER_BASE_URL = env.str("TELEPHONY_PROVIDER_BASE_URL", default="https://api.twilio.com").rstrip("/")
TELEPHONY_PROVIDER_ACCOUNT_SID = env.str("TELEPHONY_PROVIDER_ACCOUNT_SID", default="")
TELEPHONY_PROVIDER_AUTH_TOKEN = env.str("TELEPHONY_PROVIDER_AUTH_TOKEN", default="")
TELEPHONY_PROVIDER_TIMEOUT = env.float("TELEPHONY_PROVIDER_TIMEOUT", default=10.0)
# The number text messages (the privacy center's verification codes) are sent from, through the provider.
SMS_FROM = env.str("SMS_FROM", default="")
if TELEPHONY_PROVIDER_BACKEND == "twilio" and not (TELEPHONY_PROVIDER_ACCOUNT_SID and TELEPHONY_PROVIDER_AUTH_TOKEN):
    raise ImproperlyConfigured(
        "TELEPHONY_PROVIDER_ACCOUNT_SID and TELEPHONY_PROVIDER_AUTH_TOKEN: set both when TELEPHONY_PROVIDER_BACKEND=twilio "
        "(or choose TELEPHONY_PROVIDER_BACKEND=local in development)."
    )
# The credentials travel in every request's Authorization header: never over plain HTTP in production.
if TELEPHONY_PROVIDER_BACKEND == "twilio" and not DEBUG and not TELEPHONY_PROVIDER_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured(f"TELEPHONY_PROVIDER_BASE_URL: {TELEPHONY_PROVIDER_BASE_URL!r} must be https:// when DEBUG is off.")
if TELEPHONY_PROVIDER_TIMEOUT <= 0:
    raise ImproperlyConfigured("TELEPHONY_PROVIDER_TIMEOUT: must be a positive number of seconds.")

# Call- and monitoring-history CSV exports: where the files are written, and how long the emailed link works.
RECORDINGS_EXPORT_DIR = env.path("RECORDINGS_EXPORT_DIR", default=BASE_DIR / "var" / "exports")
RECORDINGS_EXPORT_LINK_DAYS = env.int("RECORDINGS_EXPORT_LINK_DAYS", default=7)

# How long an account may object to a new sub-processor or transfer after its notice (GDPR Art. 28(2)).
CHANGE_NOTICE_OBJECTION_DAYS = env.int("CHANGE_NOTICE_OBJECTION_DAYS", default=30)
if CHANGE_NOTICE_OBJECTION_DAYS < 1:
    raise ImproperlyConfigured("CHANGE_NOTICE_OBJECTION_DAYS must be a whole number of days, 1 or more.")
# The recordings API's enums by name: "kind" and "status" are also field names elsewhere in the API.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "RecordingKindEnum": "recordings.models.Recording.Kind",
        "HistoryExportKindEnum": "recordings.models.HistoryExport.Kind",
        "HistoryExportStatusEnum": "recordings.models.HistoryExport.Status",
        "TicketStatusEnum": "recordings.models.Ticket.Status",
        "DirectionEnum": "recordings.models.Call.Direction",  # texts have the same two
        "MonitoringModeEnum": "recordings.models.MonitoringEntry.Mode",
    }
)

# Identity codes and the data subject's address are never logged; signed download links would be (Django
# logs the path of every refused request), so the one handler redacts them (config/logging_filters.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_signed_values": {"()": "config.logging_filters.RedactSignedValues"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_signed_values"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Every successful login is not news; failures and lockouts (warnings) are.
        "axes": {"level": "WARNING"},
        # Django's defaults give these handlers of their own, which would bypass the redaction.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
