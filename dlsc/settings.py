"""Settings for the DLSC portal, read from the environment with safe development defaults."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
# Production never runs on a key that is published in this file.
SECRET_KEY = env("SECRET_KEY") if not DEBUG else env("SECRET_KEY", default="dev-insecure-key-change-me-" + "x" * 40)
# Keys rotated away: old sessions, signed links and newsletter tombstones stay valid under them.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The site is served over HTTPS exactly when its public address says so; that decides cookies, redirect and HSTS.
HTTPS = SITE_URL.startswith("https://")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    # modeltranslation must come before the admin so that translated fields show there.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "import_export",
    "anymail",
    "django_countries",
    "accounts",
    "hubs",
    "members",
    "events",
    "newsletters",
    "billing",
    "outbox",
    "pages",
    # The project itself: its management commands (seed_demo, demo_logins) drive every app.
    "dlsc",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.NulCharacterRefusedMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffMfaRequiredMiddleware",
    "accounts.middleware.AllauthErrorStatusMiddleware",
    # Last, so its process_exception sees a lock timeout first and answers 503 "busy, try again".
    "common.middleware.LockBusyMiddleware",
]

ROOT_URLCONF = "dlsc.urls"
WSGI_APPLICATION = "dlsc.wsgi.application"
ASGI_APPLICATION = "dlsc.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dlsc.context_processors.site",
            ],
        },
    },
]

# --- Data -----------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# Behind a pooler in transaction mode (PgBouncer) a session is shared between clients: no server-side cursors and
# no prepared statements (common.prepared), which live in a session.
if env.bool("DB_TRANSACTION_POOLING", default=False):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# How long a row lock may wait before the request gives up with "busy, try again" (common.locks).
DB_LOCK_TIMEOUT_MS = env.int("DB_LOCK_TIMEOUT_MS", default=5000)


def redis_cache_url(url: str) -> str:
    """The cache's Redis database: the one after REDIS_URL's, so clearing the cache never flushes the broker's
    queued tasks (database 0 when the URL names none)."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{database + 1}"))


REDIS_URL = env("REDIS_URL", default="")
REDIS_CACHE_URL = env("REDIS_CACHE_URL", default=redis_cache_url(REDIS_URL) if REDIS_URL else "")
if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            # Fails open: a Redis error or timeout falls back to local memory, never to a 500 (dlsc/cache.py).
            "BACKEND": "dlsc.cache.FailOpenRedisCache",
            "LOCATION": REDIS_CACHE_URL,
            # A web request may wait at most 0.5 s on Redis in all: Redis answers in milliseconds or not at all.
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2, "retry_after": 5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Accounts -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:portal"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[DLSC] "
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "DLSC"

# --- Languages ------------------------------------------------------------------------------------
LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Danish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["dlsc.formats"]  # one way to write a date per language
USE_I18N = True
TIME_ZONE = "Europe/Copenhagen"
USE_TZ = True
MODELTRANSLATION_DEFAULT_LANGUAGE = "da"
MODELTRANSLATION_LANGUAGES = ("da", "en")
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("da", "en")}

# --- Static and media -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Django serves uploads itself only while DEBUG is on (make run, tests); a deployment serves /media/ from its proxy.
SERVE_MEDIA = DEBUG
# Hashed, compressed static files in production; `make test` collects them this way too, because the tests start
# production-configured processes that look names up in the manifest.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "dlsc.storage.StaticStorage" if STATIC_MANIFEST else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Mail -----------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="DLSC <noreply@dlsc.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Billing: the seller on every invoice (legal name, CVR, address, bank) and the terms. The defaults are a demo
# association's; production sets its own through the environment.
BILLING_SELLER = {
    "legal_name": env("BILLING_LEGAL_NAME", default="Danish Life Science Cluster"),
    "cvr": env("BILLING_CVR", default="41929006"),
    "address": env("BILLING_ADDRESS", default="Ole Maaløes Vej 3"),
    "postcode": env("BILLING_POSTCODE", default="2200"),
    "city": env("BILLING_CITY", default="København N"),
    "country": "DK",
    "email": env("BILLING_EMAIL", default="faktura@dlsc.example"),
    "phone": env("BILLING_PHONE", default="+45 70 70 70 70"),
    "bank_name": env("BILLING_BANK_NAME", default="Danske Bank"),
    "bank_reg": env("BILLING_BANK_REG", default="1234"),
    "bank_account": env("BILLING_BANK_ACCOUNT", default="0012345678"),
    "iban": env("BILLING_IBAN", default="DK5000400440116243"),
    "bic": env("BILLING_BIC", default="DABADKKK"),
}
BILLING_PAYMENT_TERMS_DAYS = env.int("BILLING_PAYMENT_TERMS_DAYS", default=30)
# Days after the due date on which reminders go out; after the last one the invoice is flagged for staff.
BILLING_DUNNING_DAYS = tuple(int(days) for days in env.list("BILLING_DUNNING_DAYS", default=["7", "21"]))


# Short schemes for the backends without a server; django-environ spells them consolemail:// and so on.
MAILER_SCHEMES = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def mailer_from_url(url: str) -> dict:
    """Turn EMAIL_URL (smtp://user:pass@host:port, smtp+tls://, smtp+ssl://, console://, locmem://, dummy://)
    into a Django 6.1 MAILERS entry."""
    scheme = url.split("://", 1)[0]
    if scheme in MAILER_SCHEMES:
        return {"BACKEND": MAILER_SCHEMES[scheme]}
    parsed = environ.Env.email_url_config(url)
    backend = parsed["EMAIL_BACKEND"]
    if backend.endswith("smtp.EmailBackend"):
        return {
            "BACKEND": backend,
            "OPTIONS": {
                "host": parsed.get("EMAIL_HOST") or "localhost",
                "port": parsed.get("EMAIL_PORT") or 25,
                "username": parsed.get("EMAIL_HOST_USER") or "",
                "password": parsed.get("EMAIL_HOST_PASSWORD") or "",
                "use_tls": bool(parsed.get("EMAIL_USE_TLS")),
                "use_ssl": bool(parsed.get("EMAIL_USE_SSL")),
                "timeout": 20,
            },
        }
    return {"BACKEND": backend}


EMAIL_URL = env("EMAIL_URL", default="smtp://127.0.0.1:1025")
MAILERS = {"default": mailer_from_url(EMAIL_URL)}
# In development, mail stays in the outbox (readable in the admin) unless a worker may deliver it.
OUTBOX_DELIVER = env.bool("OUTBOX_DELIVER", default=True)
# Attempts for a failure that is no SMTP answer; a refused recipient (5xx) fails at once, a deferral (4xx) or an
# unreachable relay is retried with doubling delays (at most OUTBOX_RETRY_MAX_SECONDS apart) for
# OUTBOX_TRANSIENT_LIFETIME_SECONDS, as an MTA keeps a deferred message in its queue.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=6)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=30)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600)
OUTBOX_TRANSIENT_LIFETIME_SECONDS = env.int("OUTBOX_TRANSIENT_LIFETIME_SECONDS", default=3 * 24 * 3600)
# After the relay refuses the session (authentication, relaying denied), nothing is sent for this long.
OUTBOX_HALT_SECONDS = env.int("OUTBOX_HALT_SECONDS", default=900)
# A queued row older than this was not picked up (broker down, task lost): the sweeper re-publishes it.
OUTBOX_REQUEUE_AFTER_SECONDS = env.int("OUTBOX_REQUEUE_AFTER_SECONDS", default=60)
# A row in "sending" for longer than this belonged to a worker that died: the sweeper queues it again.
OUTBOX_STUCK_AFTER_SECONDS = env.int("OUTBOX_STUCK_AFTER_SECONDS", default=300)
OUTBOX_SWEEP_INTERVAL_SECONDS = env.int("OUTBOX_SWEEP_INTERVAL_SECONDS", default=60)
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=50)
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=365)
# Retention (events.retention, run nightly by beat): guests' details are anonymised this long after the event,
# and newsletter sign-ups nobody confirmed are deleted after this many days.
EVENTS_GUEST_RETENTION_DAYS = env.int("EVENTS_GUEST_RETENTION_DAYS", default=365)
NEWSLETTER_UNCONFIRMED_RETENTION_DAYS = env.int("NEWSLETTER_UNCONFIRMED_RETENTION_DAYS", default=30)

# --- Newsletters ----------------------------------------------------------------------------------
NEWSLETTER_CONFIRM_MAX_AGE = env.int("NEWSLETTER_CONFIRM_MAX_AGE", default=7 * 24 * 3600)
NEWSLETTER_BATCH_SIZE = env.int("NEWSLETTER_BATCH_SIZE", default=200)
NEWSLETTER_LIST_ID = env("NEWSLETTER_LIST_ID", default="DLSC newsletter <newsletter.dlsc.example>")
# The public subscription form: at most this many posts per IP address in this many seconds.
NEWSLETTER_SUBSCRIBE_RATE = (env.int("NEWSLETTER_SUBSCRIBE_LIMIT", default=10), 3600)
NEWSLETTER_TICK_SECONDS = env.int("NEWSLETTER_TICK_SECONDS", default=60)
# A campaign pauses itself once this many of its copies wait on a temporary failure (the relay defers or is gone).
NEWSLETTER_PAUSE_AFTER_TRANSIENT_FAILURES = env.int("NEWSLETTER_PAUSE_AFTER_TRANSIENT_FAILURES", default=20)
# GNU Mailman's bounce score: each day with a refused copy adds 1; at the threshold the subscriber is marked
# bounced; a score whose last bounce is older than the stale days starts again from 0.
NEWSLETTER_BOUNCE_SCORE_THRESHOLD = env.int("NEWSLETTER_BOUNCE_SCORE_THRESHOLD", default=5)
NEWSLETTER_BOUNCE_INFO_STALE_DAYS = env.int("NEWSLETTER_BOUNCE_INFO_STALE_DAYS", default=7)

ANYMAIL = {"WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default="")}

# --- Celery ---------------------------------------------------------------------------------------
# Without REDIS_URL, Celery uses its filesystem transport so that `make run` needs no outside service.
CELERY_FS_BROKER_DIR = Path(env("CELERY_FS_BROKER_DIR", default=str(BASE_DIR / ".celery-broker")))
if REDIS_URL:
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
    # Publishing from a request gives up after about a second when Redis refuses, hangs or is unreachable; the
    # outbox sweep publishes again later. Workers read through the event loop, which this timeout does not cut.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 1,
        "socket_timeout": 1,
        "max_retries": 0,
        "visibility_timeout": 3600,
    }
else:
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FS_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_FS_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_FS_BROKER_DIR / "processed"),
        # Where the broadcast exchanges are kept; left to kombu, a `control/` folder appears wherever Celery runs.
        "control_folder": str(CELERY_FS_BROKER_DIR / "control"),
        "store_processed": False,
    }
    # kombu's filesystem transport does not create its folders, and a fresh clone has none.
    if CELERY_BROKER_URL.startswith("filesystem://"):
        for folder in ("out", "processed", "control"):
            (CELERY_FS_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / ".celerybeat-schedule"))
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {
        "task": "outbox.tasks.outbox_sweep_task",
        "schedule": timedelta(seconds=OUTBOX_SWEEP_INTERVAL_SECONDS),
    },
    "newsletters-tick": {
        "task": "newsletters.tasks.newsletters_tick_task",
        "schedule": timedelta(seconds=NEWSLETTER_TICK_SECONDS),
    },
    "retention-run": {
        "task": "events.tasks.retention_run_task",
        "schedule": crontab(hour=3, minute=17),
    },
    "events-reminders": {
        "task": "events.tasks.event_reminders_task",
        "schedule": timedelta(minutes=5),
    },
    "billing-undelivered": {
        "task": "billing.tasks.invoices_undelivered_task",
        "schedule": timedelta(minutes=15),
    },
    "events-paid-registrations": {
        "task": "events.tasks.paid_registrations_sweep_task",
        "schedule": timedelta(minutes=10),
    },
    "events-member-holds": {
        "task": "events.tasks.member_holds_release_task",
        "schedule": timedelta(minutes=5),
    },
    "members-renewal-reminders": {
        "task": "members.tasks.membership_renewal_reminders_task",
        "schedule": crontab(hour=7, minute=5),
    },
    "billing-dunning": {
        "task": "billing.tasks.dunning_run_task",
        "schedule": crontab(hour=8, minute=15),
    },
    "members-expire": {
        "task": "members.tasks.memberships_expire_task",
        "schedule": crontab(hour=2, minute=41),
    },
    # Before the reminders: a reminder then names the invoice issued the same morning.
    "members-renew": {
        "task": "members.tasks.memberships_renew_task",
        "schedule": crontab(hour=6, minute=17),
    },
    "members-paid-sync": {
        "task": "members.tasks.memberships_paid_sync_task",
        "schedule": crontab(minute=23),
    },
    "matchmaking-requests-expire": {
        "task": "events.matchmaking.tasks.requests_expire_task",
        "schedule": timedelta(minutes=10),
    },
    "matchmaking-agendas-day-before": {
        "task": "events.matchmaking.tasks.agendas_send_day_before_task",
        "schedule": crontab(hour=16, minute=0),
    },
    "matchmaking-feedback-requests": {
        "task": "events.matchmaking.tasks.feedback_requests_send_task",
        "schedule": crontab(hour=10, minute=5),
    },
    "matchmaking-schedule-runs-sweep": {
        "task": "events.matchmaking.tasks.schedule_runs_sweep_task",
        "schedule": timedelta(minutes=2),
    },
}
# Celery's autodiscovery finds only <app>.tasks; matchmaking's tasks live one package deeper.
CELERY_IMPORTS = ("events.matchmaking.tasks",)
# Public event sign-ups per client IP and minute (0 turns the limit off, e.g. for a load benchmark).
EVENTS_SIGNUP_RATE_PER_MINUTE = env.int("EVENTS_SIGNUP_RATE_PER_MINUTE", default=10)
# Exports of members and contacts: a cell such as "=HYPERLINK(...)" is written as text, never as a formula.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
# Days an unpaid membership stays active after its period starts before it expires.
MEMBERSHIP_GRACE_DAYS = env.int("MEMBERSHIP_GRACE_DAYS", default=30)

# A signed-in member's every request reads their session: from the cache (Redis), written through to the database,
# so a restarted Redis (or the fail-open cache's local memory) signs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Security -------------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Container health checks call /healthz over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
