"""Settings for dindweb. One file; every knob can be set from the environment.

The embedded default (no variables set) is SQLite, the in-memory channel layer and the
local Docker engine, which is what `make run` gives on a fresh machine.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.getenv("DINDWEB_STATE_DIR", BASE_DIR / "var"))
# The database, logs and built files live here; collected static files too.
(STATE_DIR / "staticfiles").mkdir(parents=True, exist_ok=True)


def envbool(name, default="False"):
    return os.getenv(name, default).lower() in ("1", "true", "yes", "on")


def envint(name, default):
    return int(os.getenv(name, default))


def envlist(name, default=""):
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


SECRET_KEY = os.getenv("SECRET_KEY", "dev-only-insecure-key-set-SECRET_KEY-in-production")
DEBUG = envbool("DEBUG", "False")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

# Behind HTTPS (production): secure cookies, HSTS and a redirect from plain HTTP. A proxy
# in front that ends TLS must set X-Forwarded-Proto.
if envbool("DINDWEB_HTTPS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("DINDWEB_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("DINDWEB_HSTS_PRELOAD", "True")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "environments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Requests for a port's own host name (DINDWEB_PORTS_HOST) go to the port proxy, before
    # our static files or slash redirects can answer for the app.
    "environments.port_hosts.port_host_middleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "environments.middleware.ChooseOwnPasswordMiddleware",
    # Last, as django-axes asks: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # counts failed logins, refuses when locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Five failed logins for one user name from one address lock that pair out for 15 minutes.
AXES_FAILURE_LIMIT = envint("DINDWEB_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = envint("DINDWEB_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# Environments a user may create per minute (the page and the API share the count).
DINDWEB_CREATE_RATE = os.getenv("DINDWEB_CREATE_RATE", "20/min")

ROOT_URLCONF = "dindweb.urls"
ASGI_APPLICATION = "dindweb.asgi.application"

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
                "environments.context_processors.engine_banner",
                "environments.context_processors.user_roles",
            ],
        },
    },
]

# SQLite by default. WAL and IMMEDIATE transactions let the web process and the
# background workers write at the same time without "database is locked" errors.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if os.getenv("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            # The browser tests point a separate daphne process at the suite's database.
            "NAME": os.getenv("DINDWEB_SQLITE_PATH", STATE_DIR / "dindweb.sqlite3"),
            "OPTIONS": SQLITE_OPTIONS,
            # Tests use a file too: background worker threads need to see the test data.
            "TEST": {"NAME": STATE_DIR / "test-dindweb.sqlite3"},  # tests/settings.py names it
        }
    }

if os.getenv("REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [os.environ["REDIS_URL"]]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Background work (creating, starting, stopping environments) is queued in the database,
# so it survives a restart and any number of worker processes can share the queue.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Worker threads run inside the web process in the embedded default; a larger set-up
# sets this to 0 and runs `python manage.py run_workers` as processes of their own.
DINDWEB_INPROCESS_WORKERS = envint("DINDWEB_INPROCESS_WORKERS", 4)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "environment_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = STATE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor", BASE_DIR / "node_modules")]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "environments.api.auth.ApiTokenAuthentication",  # our hashed tokens (environments/tokens.py)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "environments.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "dindweb API",
    "DESCRIPTION": "Nested Docker environments: create, start, stop, exec, delete.",
    "VERSION": "1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# --- Docker -------------------------------------------------------------------------
# The engine of the default host, created by migrate; DOCKER_HOST is honoured.
DINDWEB_DEFAULT_ENGINE_URL = os.getenv("DOCKER_HOST", "unix:///var/run/docker.sock")
# The image environments run. `dindweb/dind` is built offline by `make images`;
# where a registry is reachable, `docker:dind` works as well.
DINDWEB_DIND_IMAGE = os.getenv("DINDWEB_DIND_IMAGE", "dindweb/dind:latest")
# Host images loaded into every new environment (they must also be on the allow-list).
DINDWEB_DEFAULT_PRELOADS = envlist("DINDWEB_DEFAULT_PRELOADS", "dindweb/busybox:latest")
# Seconds to wait for a new environment's nested daemon to answer.
DINDWEB_READY_TIMEOUT = envint("DINDWEB_READY_TIMEOUT", 60)
# Bound on every call to the engine, so no request hangs on a stuck engine.
DINDWEB_ENGINE_TIMEOUT = envint("DINDWEB_ENGINE_TIMEOUT", 30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "environments": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    },
}

# Labels every engine object with this name, so that reconcile only ever touches what
# this installation made (the test suite uses its own, and can share an engine with a
# running dashboard).
DINDWEB_INSTANCE = os.getenv("DINDWEB_INSTANCE", "default")

# Bounds on what one environment may ask for (per-user quotas narrow these further).
DINDWEB_DEFAULTS = {"cpus": 1, "memory_mb": 1024, "pids_limit": 2048, "lifetime_minutes": 240}
DINDWEB_MAX_CPUS = float(os.getenv("DINDWEB_MAX_CPUS", "4"))
DINDWEB_MIN_MEMORY_MB = 256
DINDWEB_MAX_MEMORY_MB = envint("DINDWEB_MAX_MEMORY_MB", 8192)
DINDWEB_MAX_LIFETIME_MINUTES = envint("DINDWEB_MAX_LIFETIME_MINUTES", 7 * 24 * 60)
DINDWEB_MAX_EXEC_TIMEOUT = 600
# Files: the most one upload (all its files together) may weigh. A folder dropped on the
# page is many files in one request, hence more than Django's default of 100.
DINDWEB_MAX_UPLOAD_MB = envint("DINDWEB_MAX_UPLOAD_MB", 200)
DATA_UPLOAD_MAX_NUMBER_FILES = envint("DINDWEB_MAX_UPLOAD_FILES", 1000)
# Ports: web apps of environments served under the dashboard's own address run sandboxed
# (a CSP sandbox: an opaque origin), so a page of a nested app cannot act as the person
# viewing it, an admin included. Turning it off lets such apps use cookies and websockets
# from the browser, at that risk.
DINDWEB_PROXY_SANDBOX = envbool("DINDWEB_PROXY_SANDBOX", "True")
# Or each port on a host name of its own, for apps that must live at "/" (no sandbox
# needed: each is an origin of its own), e.g. "{port}-{id}.ports.example.com". Those
# names must resolve to this server, and the session cookie must reach them
# (SESSION_COOKIE_DOMAIN=".example.com").
DINDWEB_PORTS_HOST = os.getenv("DINDWEB_PORTS_HOST", "")
if DINDWEB_PORTS_HOST.partition(".")[2]:
    ALLOWED_HOSTS.append("." + DINDWEB_PORTS_HOST.partition(".")[2])
SESSION_COOKIE_DOMAIN = os.getenv("SESSION_COOKIE_DOMAIN") or None
# Classroom labs: a seat's setup script may run this long; a command broadcast to every
# seat runs on this many at once; students are warned this long before their class ends.
DINDWEB_SETUP_TIMEOUT = envint("DINDWEB_SETUP_TIMEOUT", 600)
DINDWEB_BROADCAST_PARALLEL = envint("DINDWEB_BROADCAST_PARALLEL", 8)
DINDWEB_CLASS_WARNING_MINUTES = envint("DINDWEB_CLASS_WARNING_MINUTES", 10)
# New accounts one address may make by joining classes (a class room shares one address).
DINDWEB_SIGNUP_RATE = os.getenv("DINDWEB_SIGNUP_RATE", "60/hour")
WHITENOISE_USE_FINDERS = True  # serve static files straight from static/ and node_modules/
