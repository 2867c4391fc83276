"""One settings module, read from the environment and validated loudly.

With nothing set the project runs on SQLite with Celery executing tasks eagerly, so a
fresh machine needs nothing but Python. ``DATABASE_URL`` switches to PostgreSQL,
``REDIS_URL`` to a real broker, result backend and cache. ``PARTYBUILD_ENV=production``
turns on the hardening that ``manage.py check --deploy`` asks for and refuses to start
with development defaults.
"""

import os
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from pghistory.config import ForeignKey as HistoryForeignKey

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    env.read_env(str(env_file))

ENVIRONMENTS = ("development", "test", "production")
PARTYBUILD_ENV = env.str("PARTYBUILD_ENV", default="development")
if PARTYBUILD_ENV not in ENVIRONMENTS:
    raise ImproperlyConfigured(f"PARTYBUILD_ENV={PARTYBUILD_ENV!r} is not one of {', '.join(ENVIRONMENTS)}.")
PRODUCTION = PARTYBUILD_ENV == "production"

_DEV_SECRET = "dev-only-insecure-secret-key-change-me-in-production-0123456789"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="" if PRODUCTION else _DEV_SECRET)
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION and PARTYBUILD_ENV != "test")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

if PRODUCTION:
    problems = []
    if len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET:
        problems.append("DJANGO_SECRET_KEY must be set to a random value of 50+ characters")
    if DEBUG:
        problems.append("DJANGO_DEBUG must be off")
    if not ALLOWED_HOSTS:
        problems.append("DJANGO_ALLOWED_HOSTS must list the host names that serve the site")
    if not env.str("DATABASE_URL", default="").startswith(("postgres://", "postgresql://")):
        problems.append("DATABASE_URL must point at PostgreSQL")
    if not env.str("REDIS_URL", default=""):
        problems.append("REDIS_URL must be set (Celery broker and cache)")
    if problems:
        raise ImproperlyConfigured("Production settings are incomplete: " + "; ".join(problems))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    "branches",
    "members",
    "members.ledger.apps.LedgerConfig",
    "members.commitments.apps.CommitmentsConfig",
    "members.suggestions.apps.SuggestionsConfig",
    "branches.activities.apps.ActivitiesConfig",
    "members.reviews.apps.ReviewsConfig",
    "branches.projects.apps.ProjectsConfig",
    "branches.reportback.apps.ReportbackConfig",
    "branches.grading.apps.GradingConfig",
    "branches.reports.apps.ReportsConfig",
    # The member's own pages read the boards and the records above: at the top.
    "members.me.apps.MeConfig",
    "branches.notifications.apps.NotificationsConfig",
    # The project package itself, for commands that span every app (seed_demo).
    "partybuild",
    # The audit trail (pghistory's triggers; PostgreSQL only) reads every app above.
    "pgtrigger",
    "pghistory",
    "partybuild.audit.apps.AuditConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Early, so every response gets the policy: static files, lock-outs, errors.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "partybuild.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes last: it needs the authenticated user and answers lock-outs itself.
    "axes.middleware.AxesMiddleware",
    # A member-only login: the password change first, then only the member's own pages.
    "members.me.middleware.MemberOnlyMiddleware",
    # Who, from where: the user, address and path of every write (the audit trail).
    "partybuild.audit.middleware.AuditContextMiddleware",
]

ROOT_URLCONF = "partybuild.urls"
WSGI_APPLICATION = "partybuild.wsgi.application"

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
                "django.template.context_processors.i18n",
                "branches.context_processors.access",
                "branches.notifications.context_processors.bell",
            ],
        },
    },
]

# An empty DATABASE_URL counts as unset, so `DATABASE_URL= make test` means SQLite.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60 if PRODUCTION else 0)
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis"))
# A covering index (activities' date with updated_at and id included) is a plain index on
# SQLite, which has no included columns: the demo and tests need not be told on every command.
SILENCED_SYSTEM_CHECKS = [] if IS_POSTGRES else ["models.W040"]
if IS_POSTGRES:
    # The pages run short queries over indexes; PostgreSQL's JIT compiled code for them
    # whenever the planner's estimate was large (0.75 s of a 0.8 s ledger page at 100,000
    # members) and never paid it back.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Parallel test processes (pytest-xdist) share one Redis: keep their keys apart.
            "KEY_PREFIX": os.environ.get("PYTEST_XDIST_WORKER", ""),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

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
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes, with partybuild.throttle's handler): after
# AXES_FAILURE_LIMIT failures for one user name from one address, or
# AXES_IP_FAILURE_LIMIT failures from one address whatever the user names, further
# attempts from there are refused for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_IP_FAILURE_LIMIT = env.int("AXES_IP_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
# The per-user count is axes' own (user name + address); the per-address count is added
# by the handler, so a successful login resets only that user's failures, never the
# address's (an attacker with one valid account cannot clear the address's count).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "partybuild.throttle.LoginThrottleHandler"
AXES_CLIENT_IP_CALLABLE = "partybuild.throttle.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
if AXES_FAILURE_LIMIT < 1 or AXES_IP_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("AXES_FAILURE_LIMIT and AXES_IP_FAILURE_LIMIT must be at least 1.")

# The client's address for the throttle. Without a header it is REMOTE_ADDR, the
# socket's peer: nothing a client sends can change it. Behind reverse proxies, name
# the header they set (X-Forwarded-For, X-Real-IP) and how many of them append to it;
# the address is then the one the outermost trusted proxy saw (for X-Forwarded-For
# the N-th entry from the right), and whatever a client put further left is ignored.
CLIENT_IP_HEADER = env.str("PARTYBUILD_CLIENT_IP_HEADER", default="").strip()
TRUSTED_PROXY_COUNT = env.int("PARTYBUILD_TRUSTED_PROXIES", default=1)
if CLIENT_IP_HEADER:
    if not all(c.isalnum() or c == "-" for c in CLIENT_IP_HEADER):
        raise ImproperlyConfigured(
            f"PARTYBUILD_CLIENT_IP_HEADER={CLIENT_IP_HEADER!r} is not a header name (e.g. X-Forwarded-For)."
        )
    if TRUSTED_PROXY_COUNT < 1:
        raise ImproperlyConfigured(
            "PARTYBUILD_TRUSTED_PROXIES must be at least 1 when PARTYBUILD_CLIENT_IP_HEADER is set."
        )

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery. With REDIS_URL, Redis is the broker and the result backend. Without it,
# CELERY_BROKER_URL may name an embedded broker: kombu's SQLAlchemy transport over a
# SQLite file (sqla+sqlite:///var/celery.sqlite3), what `make demo` runs its worker on.
# The results then go to a SQLite file beside it and the cache (grading progress) to a
# directory beside it, so the web server and the worker see the same. With neither,
# tasks run in-process (eagerly) and the cache stays in memory. CELERY_TASK_ALWAYS_EAGER
# overrides (tests turn it on).
CELERY_BROKER_URL = REDIS_URL or env.str("CELERY_BROKER_URL", default="") or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
if CELERY_BROKER_URL.startswith("sqla+sqlite:///"):
    _broker_file = Path(CELERY_BROKER_URL.removeprefix("sqla+sqlite:///"))
    CELERY_RESULT_BACKEND = f"db+sqlite:///{_broker_file.with_name(_broker_file.stem + '-results.sqlite3')}"
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(_broker_file.with_name(_broker_file.stem + "-cache")),
        }
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A worker and the web server both write the file: wait up to 20 s for the other's
    # lock rather than fail at once, take the write lock when a transaction begins (a
    # read lock upgraded midway fails without waiting), and let pages read while a
    # grading run writes (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# E-mail (the daily digest of reminders). With EMAIL_HOST set, mail goes to that SMTP
# server; without it, to the console (the demo and development).
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="partybuild <noreply@localhost>")
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on.")
# The site's address as users reach it, for the links in e-mails (e.g. https://partybuild.example.internal).
SITE_URL = env.str("PARTYBUILD_SITE_URL", default="http://127.0.0.1:8000")

# How many days before a branch's term (届) ends the system starts reminding (换届提醒).
TERM_REMINDER_DAYS = env.int("PARTYBUILD_TERM_REMINDER_DAYS", default=90)
ROSTER_PAGE_SIZE = 50
# How long a generated report file stays downloadable before it is deleted.
REPORT_FILE_HOURS = env.int("PARTYBUILD_REPORT_FILE_HOURS", default=72)
# Days after a ranking is published within which each bottom-three branch's talk
# (谈话帮扶) must be recorded before it shows as overdue.
GRADING_TALK_DUE_DAYS = env.int("PARTYBUILD_TALK_DUE_DAYS", default=15)

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from our own static files: no inline <script>, no on*=
# handlers, no style="" attributes (tests/test_csp.py checks every page). htmx is told
# by <meta name="htmx-config"> not to inject its indicator <style>; ECharts draws its
# tooltips on the canvas. The PDFs (WeasyPrint) are rendered server-side and are not
# subject to it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    # Intranets often terminate TLS at a proxy; these follow the proxy's header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Secure cookies follow the redirect: a plain-HTTP intranet (redirect off) would
    # otherwise never receive its CSRF cookie and every login would fail with 403.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=SECURE_SSL_REDIRECT)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

SITE_TITLE = _("Party Building Management")

# --- Reliability under faults (issue 15's drills: tests/drills/) --------------------------
# PostgreSQL restarted: a request that loses its connection gets a clean 503 page
# (partybuild.unavailable, outside the session middleware, which may write), and a
# persistent connection is checked before each request reuses it, so the app reconnects
# by itself. A refused or unreachable server fails in seconds, not a TCP timeout.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
    "partybuild.unavailable.DatabaseUnavailableMiddleware",
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if IS_POSTGRES:
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# Redis down: the cache degrades to no cache (sessions are in the database, never in
# Redis); jobs cannot be queued and say so (branches.jobs). Short socket timeouts keep a
# page from hanging on an unreachable Redis.
if REDIS_URL:
    CACHES["default"]["BACKEND"] = "partybuild.cache.ForgivingRedisCache"
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 2}
# Celery: a task is acknowledged after it ran (CELERY_TASK_ACKS_LATE above); grading also
# rejects on a lost worker, so a SIGKILLed worker's run is redelivered. On Redis an
# unacknowledged message comes back after the visibility timeout (longer than any job),
# checked every minute and when a worker starts. The worker and the web processes retry
# the broker forever: when Redis returns, work resumes without a restart.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = 2
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 6,
        "socket_connect_timeout": 2,
    }
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Parallel test processes share one Redis but each has its own test database: a
        # worker one process starts must never take (or purge) another's messages. The
        # prefix covers queues, bindings and the broadcast channels; a worker the tests
        # start inherits the variable and so the prefix.
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = f"broker-{os.environ['PYTEST_XDIST_WORKER']}:"
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
# Uploads: a full disk is a form error and leaves no partial file (partybuild.storage).
STORAGES["default"]["BACKEND"] = "partybuild.storage.MediaStorage"
# The audit trail (partybuild/audit): event times are the statement's clock, so the events
# of one transaction keep their order; context is attached by our own middleware.
PGHISTORY_CREATED_AT_FUNCTION = "clock_timestamp()"
# The event tables copy a row's foreign keys as plain values: no constraint, and no index
# (the trail is read by time, object and context, each indexed; an index per copied key
# would only slow every audited write).
PGHISTORY_FOREIGN_KEY_FIELD = HistoryForeignKey(db_index=False)
# --- Backups and accounts (issue 15) ---------------------------------------------------------
# Where `manage.py backup` writes its timestamped directories (a volume in the compose stack).
BACKUP_ROOT = Path(env.str("PARTYBUILD_BACKUP_ROOT", default=str(BASE_DIR / "backups")))
# TOTP two-factor login for administrators and committee staff (partybuild/accounts).
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp"]
OTP_TOTP_ISSUER = "partybuild"
# A session ends after this many seconds without a request (partybuild.accounts.middleware
# refreshes its expiry at most once a minute, so pages do not write the session each time).
SESSION_IDLE_TIMEOUT = env.int("PARTYBUILD_SESSION_IDLE_MINUTES", default=8 * 60) * 60
if SESSION_IDLE_TIMEOUT < 60:
    raise ImproperlyConfigured("PARTYBUILD_SESSION_IDLE_MINUTES must be at least 1.")
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
    "partybuild.accounts.middleware.IdleTimeoutMiddleware",
)
