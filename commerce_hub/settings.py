"""Commerce Hub settings. Everything that differs between machines comes from the environment.

DATABASE_URL and REDIS_URL point at the real services. When they are not set, the values the embedded services
wrote to .data/services.env are used, so `manage.py` works in a shell next to a running `make run`.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("COMMERCE_HUB_DATA_DIR", BASE_DIR / ".data"))


def _load_services_env() -> None:
    env_file = DATA_DIR / "services.env"
    if not env_file.exists():
        return
    for line in env_file.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and key.strip() not in os.environ:
            os.environ[key.strip()] = value.strip()


_load_services_env()


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("COMMERCE_HUB_TESTING", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("Set SECRET_KEY (make run and make test set one for local use).")
    SECRET_KEY = "insecure-local-development-key-only-for-make-run-and-tests"

# The public site lives on BASE_DOMAIN, each tenant on <subdomain>.BASE_DOMAIN.
BASE_DOMAIN = os.environ.get("COMMERCE_HUB_BASE_DOMAIN", "localhost")
SITE_PORT = os.environ.get("COMMERCE_HUB_SITE_PORT", "8000")
SITE_SCHEME = os.environ.get("COMMERCE_HUB_SITE_SCHEME", "http")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", f".{BASE_DOMAIN},{BASE_DOMAIN},127.0.0.1").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

SHARED_APPS = [
    "django_tenants",
    "commerce_hub.tenancy",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_htmx",
    "django_filters",
    "djmoney",
    "commerce_hub",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "commerce_hub.accounts",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "commerce_hub.events",
    "commerce_hub.idempotency",
    "commerce_hub.organization",
    "commerce_hub.saved_views",
    "crm",
    "billing",
    "payments",
    "integrations",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenancy.Tenant"
TENANT_DOMAIN_MODEL = "tenancy.Domain"
# New tenants are cloned from this schema instead of migrated in the request (see tenancy.services).
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Ready clones of the template that signups rename (commerce_hub.tenancy.services); refilled after each signup.
TENANT_SPARE_POOL_SIZE = int(os.environ.get("TENANT_SPARE_POOL_SIZE", 2))
GET_EXECUTOR_FUNCTION = "commerce_hub.tenancy.migration.get_executor"
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(os.environ.get("TENANT_MIGRATION_PROCESSES", os.cpu_count() or 2))
PUBLIC_SCHEMA_URLCONF = "commerce_hub.urls_public"
ROOT_URLCONF = "commerce_hub.urls_tenant"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False

MIDDLEWARE = [
    "commerce_hub.middleware.RequestIdMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "commerce_hub.middleware.UserPreferencesMiddleware",
    "commerce_hub.middleware.NoStoreMiddleware",
    "commerce_hub.middleware.HostedTokenGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "commerce_hub.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "commerce_hub.idempotency.middleware.IdempotencyRefusedMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "commerce_hub.context_processors.shell",
            ],
        },
    }
]

# Field templates come from templates/django/forms/ (label, widget, inline error, help) for every form.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

WSGI_APPLICATION = "commerce_hub.wsgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Run `make run` or `make test`, which start an embedded Postgres, "
        "or export DATABASE_URL=postgresql://user@host:5432/dbname."
    )
# Connections: each process keeps a psycopg pool (Django's "pool" option) of DB_POOL_MIN_SIZE to DB_POOL_MAX_SIZE
# connections, and a request waits up to DB_POOL_TIMEOUT seconds for a free one instead of opening more, so a burst
# of requests queues rather than exhausting Postgres. DB_POOL_MAX_SIZE=0 turns the pool off (each thread then keeps
# one persistent connection). Sizing (README, "Connections"): processes x DB_POOL_MAX_SIZE must stay below Postgres'
# max_connections minus a reserve for migrations and psql.
# The test suite keeps one connection per thread unless DB_POOL_MAX_SIZE is set (its concurrency tests open more
# threads than a pool would hold; tests/platform/test_connection_pool.py runs the server with a pool).
DB_POOL_MAX_SIZE = int(os.environ.get("DB_POOL_MAX_SIZE", 0 if TESTING else 10))
if DB_POOL_MAX_SIZE:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(int(os.environ.get("DB_POOL_MIN_SIZE", 2)), DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": int(os.environ.get("DB_POOL_TIMEOUT", 10)),
    }
else:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is not set. Run `make run` or `make test`, or export REDIS_URL.")
# Django's cache speaks unix:// for sockets; Celery's broker speaks redis+socket://.
CACHE_REDIS_URL = REDIS_URL.replace("redis+socket://", "unix://", 1)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_REDIS_URL,
        # Every key carries the schema of the tenant that wrote it (see tests/platform/test_cache.py).
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "ch"),
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["commerce_hub.accounts.backends.RoleBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if TESTING
    else ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
)
# Login throttling (commerce_hub.accounts.throttle): this many attempts per account and client are free, then each
# one waits, the delay doubling from the base up to the maximum. Never a lock for everyone.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 5))
LOGIN_DELAY_BASE_SECONDS = int(os.environ.get("LOGIN_DELAY_BASE_SECONDS", 30))
LOGIN_DELAY_MAX_SECONDS = int(os.environ.get("LOGIN_DELAY_MAX_SECONDS", 900))
LOGIN_DEVICE_COOKIE_SECONDS = 180 * 24 * 3600
INVITATION_VALID_DAYS = 7
# Password reset links work once (the token covers the password hash and last login) and for one hour.
PASSWORD_RESET_TIMEOUT = 3600
# A session ends this long after sign-in whatever the activity; the idle timeout is each tenant's (Settings ->
# Security, SecurityPolicy). The cookie lives as long, so the server-side checks decide.
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_SECONDS", 7 * 24 * 3600))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
# Hosted pages whose path carries a token: misses count against the client address (HostedTokenGuardMiddleware).
HOSTED_TOKEN_PATH_PREFIXES = ["/billing/i/", "/billing/q/", "/billing/l/", "/payments/pay/"]
# A signup form sent back sooner than this after it was shown is refused (people take longer; bots do not).
SIGNUP_MIN_FILL_SECONDS = int(os.environ.get("SIGNUP_MIN_FILL_SECONDS", 2))
# Checkout pages whose form may be answered with a redirect to a processor or bank (form-action allows https: there).
CSP_FORM_ACTION_HTTPS_PREFIXES = ["/payments/pay/", "/billing/q/"]
# Rate-limit counters carry this in their keys (the test suite sets one per test).
RATE_LIMIT_NAMESPACE = ""

# Behind a reverse proxy: how many proxies append to X-Forwarded-For (the client address is that many hops from
# the right), and whether the proxy reports HTTPS in X-Forwarded-Proto. Both stay off unless configured.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Production is every run that is neither DEBUG (make run) nor the test suite: there the transport defaults are the
# strict ones (HTTPS only, Secure cookies, HSTS), each of which an environment variable can still turn off, e.g. for a
# production-like stack on plain http://localhost (docker-compose.yml documents it).
PRODUCTION = not (DEBUG or TESTING)
HTTPS = SITE_SCHEME == "https"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION or HTTPS)
# htmx sends the token from the page (hx-headers on <body>), never from the cookie: scripts need not read it.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION or HTTPS)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0))
# Tenants live on subdomains of BASE_DOMAIN, so the policy covers them all.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from this site (no inline scripts or handlers: page scripts
# live in static/js), Stripe.js where a tenant takes cards through Stripe, no framing by anyone. Styles keep
# 'unsafe-inline' for the tenant's accent colour and style attributes; htmx adds no styles of its own
# (htmx-config meta in base.html).
_STRIPE_JS = "https://js.stripe.com"
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": [],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", _STRIPE_JS],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", "https://api.stripe.com"],
        "frame-src": [_STRIPE_JS, "https://hooks.stripe.com"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Dutch")), ("nb", _("Norwegian Bokmål"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates day-first (4 Dec 2026), as European tenants write them; nl and nb keep Django's formats.
FORMAT_MODULE_PATH = ["commerce_hub.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Amsterdam"
LANGUAGE_COOKIE_NAME = "ch_language"

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / ("test-media" if TESTING else "media")))
MEDIA_URL = "/media/"
STORAGES = {
    # Files land under MEDIA_ROOT/<schema>/ so one tenant's uploads never share a path with another's.
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
if DEBUG or TESTING:
    # Served from the finders in development; the folder only has to exist.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
LOGO_MAX_BYTES = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = Path(os.environ.get("EMAIL_FILE_PATH", DATA_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"Commerce Hub <no-reply@{BASE_DOMAIN}>")

# Stripe: empty API base means Stripe's own. A call slower than the timeout (whole seconds) counts as an unknown
# outcome and is asked for later; the SDK's own retries reuse the idempotency key, so they never charge twice.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
STRIPE_TIMEOUT = int(os.environ.get("STRIPE_TIMEOUT", "30"))
STRIPE_NETWORK_RETRIES = int(os.environ.get("STRIPE_NETWORK_RETRIES", "2"))

CELERY_BROKER_URL = REDIS_URL
# Results are kept only for tasks that ask for them (ignore_result=False), e.g. the worker heartbeat.
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True  # a worker killed halfway leaves the message for the next worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# Money: amounts always carry their currency; these are the ones offered in forms.
CURRENCIES = ("EUR", "NOK", "USD", "GBP", "SEK", "DKK", "CHF")
DEFAULT_CURRENCY = "EUR"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "commerce_hub.middleware.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every step of every render at INFO.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
CSRF_FAILURE_VIEW = "commerce_hub.views.csrf_failure"
# Emails are unique case-insensitively (a functional unique index on lower(email)), which this check cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
