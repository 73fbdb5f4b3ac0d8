"""casemgr settings: every knob is an environment variable with a safe default for `make run`.

A bad value raises ImproperlyConfigured naming the variable. There is no dev/prod split:
production sets DEBUG=False (which turns on HTTPS redirect, secure cookies and HSTS) and the
external services (DATABASE_URL, REDIS_URL, EVIDENCE_S3_BUCKET, EMAIL_URL).
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


# --- tiny typed helpers: each fails loudly with the variable's name ----------------------------


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0/yes/no/on/off), got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_timezone(name: str, default: str) -> str:
    raw = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name} must be an IANA time zone name, got {raw!r}.") from None
    return raw


def env_country(name: str, default: str) -> str:
    import holidays

    raw = env_str(name, default).upper()
    if raw not in holidays.list_supported_countries():
        raise ImproperlyConfigured(f"{name} must be a country code supported by `holidays`, got {raw!r}.")
    return raw


def env_email(name: str, default: str) -> dict[str, object]:
    """Parse an EMAIL_URL: smtp://user:pass@host:port, smtp+tls://, smtp+ssl://, console://,
    file:///path, locmem://, dummy://."""
    raw = env_str(name, default)
    parsed = urlparse(raw)
    scheme = parsed.scheme
    backends = {
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
        "smtp+ssl": "django.core.mail.backends.smtp.EmailBackend",
        "console": "django.core.mail.backends.console.EmailBackend",
        "file": "django.core.mail.backends.filebased.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
    }
    if scheme not in backends:
        raise ImproperlyConfigured(f"{name} must start with one of {', '.join(sorted(backends))}://, got {raw!r}.")
    config: dict[str, object] = {"EMAIL_BACKEND": backends[scheme]}
    if scheme.startswith("smtp"):
        try:
            port = parsed.port or (465 if scheme == "smtp+ssl" else 587 if scheme == "smtp+tls" else 25)
        except ValueError:
            raise ImproperlyConfigured(f"{name} has an invalid port: {raw!r}.") from None
        config.update(
            EMAIL_HOST=parsed.hostname or "localhost",
            EMAIL_PORT=port,
            EMAIL_HOST_USER=unquote(parsed.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parsed.password or ""),
            EMAIL_USE_TLS=scheme == "smtp+tls",
            EMAIL_USE_SSL=scheme == "smtp+ssl",
            EMAIL_TIMEOUT=int(parse_qs(parsed.query).get("timeout", ["10"])[0]),
        )
    elif scheme == "file":
        config["EMAIL_FILE_PATH"] = parsed.path or str(BASE_DIR / "var" / "mail")
    return config


# --- core ---------------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-make-run-and-tests"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
if not DEBUG and not os.environ.get("ALLOWED_HOSTS", "").strip():
    # The defaults are for `make run`; a production server must name the hosts it answers for.
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set (comma-separated host names) when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
VAR_DIR = Path(env_str("CASEMGR_VAR_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "django_fsm",
    "axes",
    "accounts",
    "tickets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # One structured log line per request, with an X-Request-ID (casemgr/middleware.py).
    "casemgr.middleware.RequestLogMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "casemgr.middleware.ContentSecurityPolicyMiddleware",
    # Axes last: it needs the authenticated user and answers lockouts itself.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "casemgr.urls"
WSGI_APPLICATION = "casemgr.wsgi.application"
ASGI_APPLICATION = "casemgr.asgi.application"

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
                "accounts.context_processors.restriction_alerts",
                "accounts.context_processors.staff_links",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------

_database_url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'casemgr.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
except Exception as exc:  # noqa: BLE001 - dj-database-url raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process, the worker and beat share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The reports' covering index (INCLUDE columns) is a PostgreSQL feature; SQLite uses it as a plain index.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- auth -----------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- i18n / time ----------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static & storage -------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# Project-wide static files, when the folder exists (apps ship their own in <app>/static/).
STATICFILES_DIRS = [path for path in [BASE_DIR / "static"] if path.is_dir()]
# WhiteNoise serves collected static files from the web processes with far-future cache headers
# (hashed names in production); no separate static server is needed.
WHITENOISE_MAX_AGE = env_int("WHITENOISE_MAX_AGE", 31_536_000 if not DEBUG else 0, minimum=0)
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

# Evidence lives in its own storage alias: a private folder that no URL serves, or S3.
EVIDENCE_ROOT = Path(env_str("EVIDENCE_ROOT", str(VAR_DIR / "evidence")))
EVIDENCE_S3_BUCKET = env_str("EVIDENCE_S3_BUCKET", "")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL", "") or None
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "us-east-1")
EVIDENCE_SIGNED_URL_SECONDS = env_int("EVIDENCE_SIGNED_URL_SECONDS", 300, minimum=1)

if EVIDENCE_S3_BUCKET:
    from botocore.config import Config as _BotoConfig

    _evidence_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            # Signature v4 (v2 query signing is deprecated and refused by newer regions); short
            # timeouts and few retries, so an outage is a clear error in seconds, not a hung upload.
            "client_config": _BotoConfig(
                signature_version="s3v4",
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
            "bucket_name": EVIDENCE_S3_BUCKET,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "region_name": AWS_S3_REGION_NAME,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": EVIDENCE_SIGNED_URL_SECONDS,
            "file_overwrite": False,
            "location": "evidence",
            "object_parameters": {"ContentDisposition": "attachment"},
        },
    }
else:
    _evidence_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Readable by the app's own user only.
        "OPTIONS": {
            "location": str(EVIDENCE_ROOT),
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
    "evidence": _evidence_storage,
}

EVIDENCE_MAX_FILE_BYTES = env_int("EVIDENCE_MAX_FILE_BYTES", 10 * 1024 * 1024, minimum=1)
EVIDENCE_MAX_ITEMS = env_int("EVIDENCE_MAX_ITEMS", 20, minimum=1)
EVIDENCE_MAX_REQUEST_BYTES = env_int("EVIDENCE_MAX_REQUEST_BYTES", 50 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The evidence handler first: an oversized upload is counted, not spooled to disk.
FILE_UPLOAD_HANDLERS = [
    "tickets.evidence.EvidenceUploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- mail -----------------------------------------------------------------------------------

globals().update(env_email("EMAIL_URL", "console://"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Reassessment desk <reassessments@casemgr.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where team-wide SLA alerts go when a request has no assignee, on top of the group's members.
SLA_TEAM_EMAIL = env_str("SLA_TEAM_EMAIL", "")

# --- SLA and policy ---------------------------------------------------------------------------

SLA_TIMEZONE = env_timezone("SLA_TIMEZONE", "America/Chicago")
SLA_HOLIDAYS_COUNTRY = env_country("SLA_HOLIDAYS_COUNTRY", "US")
SLA_HOLIDAYS_SUBDIV = env_str("SLA_HOLIDAYS_SUBDIV", "") or None
SLA_TARGET_BUSINESS_DAYS = env_int("SLA_TARGET_BUSINESS_DAYS", 5, minimum=1)
SLA_BREACH_BUSINESS_DAYS = env_int("SLA_BREACH_BUSINESS_DAYS", 7, minimum=1)
if SLA_BREACH_BUSINESS_DAYS < SLA_TARGET_BUSINESS_DAYS:
    raise ImproperlyConfigured("SLA_BREACH_BUSINESS_DAYS must not be smaller than SLA_TARGET_BUSINESS_DAYS.")
SLA_AT_RISK_BUSINESS_HOURS = env_int("SLA_AT_RISK_BUSINESS_HOURS", 24, minimum=1)
SLA_SWEEP_SECONDS = env_int("SLA_SWEEP_SECONDS", 60, minimum=1)
SLA_SWEEP_BATCH_SIZE = env_int("SLA_SWEEP_BATCH_SIZE", 500, minimum=1)
INFO_REQUEST_DAYS = env_int("INFO_REQUEST_DAYS", 14, minimum=1)
INFO_REQUEST_REMINDER_DAYS = env_int("INFO_REQUEST_REMINDER_DAYS", 3, minimum=0)
REEVALUATION_WINDOW_DAYS = env_int("REEVALUATION_WINDOW_DAYS", 30, minimum=1)
# Run screening in the submitting process right after commit instead of on a worker.
SCREENING_INLINE = env_bool("SCREENING_INLINE", False)

# --- Celery ---------------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must be a redis://, rediss:// or unix:// URL, got {REDIS_URL!r}.")
# Without Redis, `make run` uses kombu's filesystem transport: no external service needed.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    {"visibility_timeout": 3600}
    if REDIS_URL
    else {
        "data_folder_in": str(VAR_DIR / "broker" / "out"),
        "data_folder_out": str(VAR_DIR / "broker" / "out"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        "store_processed": False,
    }
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A short publish timeout: when the broker is down, the row is already committed and the sweep
# delivers it later, so the web request must not hang on the broker.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
# The only periodic task, on a static schedule: the sweep fires every deadline kept in the database.
# A sweep message older than one period is dropped (the next one does the same work), so sweeps
# queued behind a busy worker never pile up.
CELERY_BEAT_SCHEDULE = {
    "sla-sweep": {
        "task": "tickets.tasks.sla_sweep",
        "schedule": float(SLA_SWEEP_SECONDS),
        "options": {"expires": float(SLA_SWEEP_SECONDS)},
    },
}

# --- caches ---------------------------------------------------------------------------------

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL and env_bool("CACHE_USE_REDIS", True)
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- REST API -------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first: its `WWW-Authenticate` makes an unauthenticated call a 401 (session auth has none).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tickets.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "tickets.api.pagination.RequestPagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 25, minimum=1),
    "EXCEPTION_HANDLER": "tickets.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "writes": env_str("API_WRITE_THROTTLE", "120/hour"),
        "uploads": env_str("API_UPLOAD_THROTTLE", "60/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
for _scope, _rate in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].items():  # type: ignore[union-attr]
    _count, _, _period = _rate.partition("/")
    if not _count.isdigit() or not _period or _period[0] not in "smhd":
        _name = "API_WRITE_THROTTLE" if _scope == "writes" else "API_UPLOAD_THROTTLE"
        raise ImproperlyConfigured(f"{_name} must look like 120/hour (per second, minute, hour or day), got {_rate!r}.")
# The docs page serves Swagger UI from the sidecar package's static files: no CDN, and the
# split view keeps its script out of the page so the CSP (script-src 'self') holds.
INSTALLED_APPS.append("drf_spectacular_sidecar")
SPECTACULAR_SETTINGS = {
    "TITLE": "casemgr reassessment desk API",
    "DESCRIPTION": (
        "File and track account reassessment requests (customers) and triage them (staff).\n\n"
        "Authenticate with the portal session or a personal API token (`Authorization: Bearer <key>`; "
        "create one at /api/tokens/ while signed in). Errors: 400 `{field: [messages]}`; "
        "401 / 403 / 404 / 409 / 429 / 503 `{detail}`. Writes are throttled per user (429 with `Retry-After`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TAGS": [
        {"name": "requests", "description": "Customers: your reassessment requests."},
        {"name": "staff", "description": "The accounts team: the queue and its decisions."},
        {"name": "account", "description": "Who you are, and your API tokens."},
    ],
    "ENUM_NAME_OVERRIDES": {
        "StateEnum": "tickets.models.State",
        "SlaStatusEnum": "tickets.models.SlaStatus",
        "ReasonCodeEnum": "tickets.models.ReasonCode",
        "EvidenceKindEnum": "tickets.models.Evidence.Kind",
        "RestrictionKindEnum": "accounts.models.Restriction.Kind",
        "RiskSignalKindEnum": "accounts.models.RiskSignal.Kind",
    },
}

# --- security -------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
CSRF_COOKIE_HTTPONLY = False
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # The load balancer probes /healthz over plain HTTP inside the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
)

# --- logging --------------------------------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}.")
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, got {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # RequestLogMiddleware writes the access log; Django's own 4xx/5xx lines would repeat it.
        "django.request": {"level": "ERROR"},
        "casemgr.request": {"level": env_str("REQUEST_LOG_LEVEL", "INFO").upper()},
    },
}
