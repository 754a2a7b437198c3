"""Django settings. Deployments configure Tandem through ``TANDEM_*`` variables and DATABASE_URL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from tandem import config

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = config.secret_key()
DEBUG = config.env_bool("DEBUG", False)
ALLOWED_HOSTS = [
    h.strip() for h in config.env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o for o in config.env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tables2",
    "django_filters",
    "django_countries",
    "ninja",  # serves the bundled Swagger UI for /api/v1/docs instead of a CDN
    "auditlog",
    "tandem.core",
    "tandem.audit",
    "tandem.access",
    "tandem.users",
    "tandem.accounts",
    "tandem.subscriptions",
    "tandem.support",
    "tandem.timeline",
    "tandem.usage",
    "tandem.imports",
    "tandem.demo",
    "tandem.metrics",
    "tandem.health",
    "tandem.risk",
    "tandem.web",
    "tandem.jobs",
    "tandem.surveys",
    "tandem.success",
    "tandem.traits",
    "tandem.segments",
    "tandem.notifications",
    "tandem.playbooks",
    "tandem.ingest",
    "tandem.opportunities",
    "tandem.revenue",
    "tandem.reports",
    "tandem.daily",
    "tandem.webhooks",
    "tandem.comments",
    "tandem.meetings",
    "tandem.maillog",
    "axes",  # login throttling and lockout (docs/security.md)
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tandem.users.middleware.PreferredLanguageMiddleware",
    "tandem.audit.middleware.AuditContextMiddleware",
    "tandem.api.parser.NullCharacterMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a login refused during a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tandem.urls"

# The audit history is django-auditlog's, in our own table (audit.AuditEntry) with the path of
# each change (web app, API, import, rule, job) and the account it belongs to.
AUDITLOG_LOGENTRY_MODEL = "audit.AuditEntry"
# django-auditlog's own migrations create its LogEntry table even though it is swapped out (they
# do not mark the model swappable); nothing uses that table, and on PostgreSQL its foreign key to
# content types breaks the TRUNCATE of a flush. Without migrations the swapped model gets no table.
MIGRATION_MODULES = {"auditlog": None}
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_REMOTE_ADDR = False
WSGI_APPLICATION = "tandem.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tandem.web.context_processors.shell",
                "tandem.access.context_processors.access",
            ],
        },
    }
]

DATABASES = {"default": dj_database_url.parse(config.database_url(), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a import or the demo builder writes;
    # IMMEDIATE transactions avoid "database is locked" upgrades mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
        ),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    config.tandem_home().mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"
# AxesStandaloneBackend first: it refuses every password, right or wrong, while the user is locked out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGES = [
    ("en", _("English")),
    ("vi", _("Vietnamese")),
    ("ja", _("Japanese")),
    ("fa", _("Persian")),
    ("zh-hans", _("Simplified Chinese")),
]
# The company's language (TANDEM_LANGUAGE): stored texts (CTA reasons, the shipped playbook
# library) are written in it, and it is the default for anyone who has not picked one.
LANGUAGE_CODE = (config.env_list("LANGUAGE", "en", allowed={code for code, _name in LANGUAGES}) or ["en"])[0]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Off on purpose: with it on, every {{ id }} and form value="{{ amount }}" renders as "1,030", which
# breaks field names, URLs and number inputs. Numbers people read go through the Babel filters in
# tandem_format (money, number, signed), which group digits per locale.
USE_THOUSAND_SEPARATOR = False
USE_TZ = True
TIME_ZONE = config.env_str("TIME_ZONE", "UTC")

STATIC_URL = "static/"
STATIC_ROOT = config.tandem_home() / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Attachments of logged email (tandem.maillog): under TANDEM_HOME/mail unless another backend is set.
    "maillog": {
        "BACKEND": config.env_str("MAIL_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": (
            {"location": str(config.tandem_home() / "mail")}
            if config.env_str("MAIL_STORAGE_BACKEND", "") in ("", "django.core.files.storage.FileSystemStorage")
            else {}
        ),
    },
    # Files attached to notes and interactions (tandem.timeline): under TANDEM_HOME/attachments.
    "attachments": {
        "BACKEND": config.env_str("ATTACHMENT_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": (
            {"location": str(config.tandem_home() / "attachments")}
            if config.env_str("ATTACHMENT_STORAGE_BACKEND", "") in ("", "django.core.files.storage.FileSystemStorage")
            else {}
        ),
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the installed packages: `tandem serve` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DJANGO_TABLES2_TEMPLATE = "web/table.html"

# Money shown across accounts is converted into this currency with the exchange-rate table.
TANDEM_REPORTING_CURRENCY = config.env_str("REPORTING_CURRENCY", "USD").upper()
TANDEM_EVENTS_PATH = config.events_path()
# Where the daily metrics are computed from the event table: "duckdb" (in-process, the default) or
# "spark" (a Spark cluster, or local mode, reading the same Delta table's Parquet files).
TANDEM_ANALYTICS_ENGINE = config.env_str("ANALYTICS_ENGINE", "duckdb").strip().lower()
TANDEM_SPARK_MASTER = config.env_str("SPARK_MASTER", "local[*]")
TANDEM_SPARK_DRIVER_MEMORY = config.env_str("SPARK_DRIVER_MEMORY", "2g")
# Tracking API (tandem.ingest): the durable inbox file, and whether the serving process drains it.
# One inbox per host: on several hosts sharing TANDEM_HOME, point this at local disk (SQLite must not sit on NFS).
TANDEM_INGEST_INBOX_PATH = Path(config.env_str("INBOX_PATH", str(config.tandem_home() / "inbox.sqlite3"))).expanduser()
TANDEM_INGEST_BACKGROUND = config.env_bool("INGEST_BACKGROUND", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A refused request (403, 404) is one warning line, not a traceback (tandem.core.logging).
    "filters": {"client_errors": {"()": "tandem.core.logging.ClientErrorWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["client_errors"]}},
    "root": {"handlers": ["console"], "level": config.env_str("LOG_LEVEL", "WARNING")},
}

# Revenue analytics (docs/revenue.md): gross margin and annual discount rate used for CLV, and how
# many days before a term ends its renewal opportunity opens, by tier (overridable per tier in the
# admin under "Renewal policies").
TANDEM_CLV_MARGIN = config.env_str("CLV_MARGIN", "0.80")
TANDEM_CLV_DISCOUNT_RATE = config.env_str("CLV_DISCOUNT_RATE", "0.10")
TANDEM_RENEWAL_LEAD_DAYS = {"enterprise": 180, "mid_market": 120, "smb": 90}

# Playbooks, notifications and background jobs (docs/playbooks.md). SMTP carries customer emails,
# notification emails and daily digests; nothing is mailed while TANDEM_SMTP_HOST is empty.
TANDEM_SMTP_HOST = config.env_str("SMTP_HOST", "")
TANDEM_SMTP_PORT = int(config.env_str("SMTP_PORT", "25"))
TANDEM_SMTP_USER = config.env_str("SMTP_USER", "")
TANDEM_SMTP_PASSWORD = config.env_str("SMTP_PASSWORD", "")
TANDEM_SMTP_STARTTLS = config.env_bool("SMTP_STARTTLS", False)
TANDEM_SMTP_FROM = config.env_str("SMTP_FROM", "tandem@localhost")
TANDEM_BASE_URL = config.env_str("BASE_URL", "")  # for links in emails and Slack posts
TANDEM_JOB_LEASE_SECONDS = float(config.env_str("JOB_LEASE_SECONDS", "300"))
TANDEM_DAILY_HOUR = int(config.env_str("DAILY_HOUR", "6"))  # local hour the worker queues the daily run

# --- Security (docs/security.md) ----------------------------------------------------------------
# Login throttling and lockout (django-axes) on /login/ and the admin login. Failed attempts are rows
# in the database, so every serving process sees the same count. A locked-out user is refused even
# the right password until the cool-off ends or an admin runs `tandem manage axes_reset_username NAME`.
AXES_FAILURE_LIMIT = config.env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
_cooloff_minutes = config.env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=0)
AXES_COOLOFF_TIME = dt.timedelta(minutes=_cooloff_minutes) if _cooloff_minutes else None  # 0: until reset
# "username" locks the account under attack whatever address the guesses come from; "ip_address" also
# locks an address that sprays guesses over many usernames. Behind reverse proxies set TANDEM_PROXY_COUNT
# to how many there are, or every client shares the proxy's address (see tandem.users.security).
AXES_LOCKOUT_PARAMETERS = config.env_list("LOGIN_LOCKOUT_BY", "username,ip_address", allowed={"username", "ip_address"})
TANDEM_PROXY_COUNT = config.env_int("PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "tandem.users.security.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_ENABLED = config.env_bool("LOGIN_LOCKOUT", True)

# A strict Content-Security-Policy (django-csp): scripts and styles only from our own static files.
# No inline <script>, no on*= handlers, no style attributes, no eval; charts are inline SVG whose
# styles come from web/charts.css. The API docs page serves Swagger UI from django-ninja's bundle.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# TANDEM_HTTPS=1 turns on the production set: HSTS, Secure cookies, redirect of http to https. Behind a
# reverse proxy that terminates TLS, TANDEM_PROXY_SSL_HEADER names the header it sets (default
# X-Forwarded-Proto: https). Only set it when the proxy strips that header from client requests.
TANDEM_HTTPS = config.env_bool("HTTPS", False)
# Django's defaults, stated here because docs/security.md relies on them: cookies are not sent on
# cross-site subrequests or POSTs, and no other site may frame Tandem.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
if TANDEM_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = config.env_bool("SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = config.env_int("HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = config.env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = config.env_bool("HSTS_PRELOAD", True)
    _proxy_header = config.env_str("PROXY_SSL_HEADER", "X-Forwarded-Proto")
    if _proxy_header:
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")

# Outbound HTTP (tandem.core.outbound): hosts that may be reached even though they resolve to a private,
# loopback or otherwise internal address, e.g. an on-premises Slack-compatible chat server.
TANDEM_OUTBOUND_ALLOWED_HOSTS = config.env_list("OUTBOUND_ALLOWED_HOSTS", "")

# Email logging (tandem.maillog, docs/email-logging.md): each user's BCC address is
# log+<token>@TANDEM_MAIL_DOMAIN. Mail reaches Tandem through `tandem mail serve` (an SMTP receiver) or
# `tandem mail poll` (an IMAP mailbox, also the worker job "maillog.poll").
TANDEM_MAIL_DOMAIN = config.env_str("MAIL_DOMAIN", "log.tandem.localhost").strip().lower()
TANDEM_MAIL_LOCAL_PART = config.env_str("MAIL_LOCAL_PART", "log").strip().lower()
TANDEM_MAIL_MAX_MESSAGE_BYTES = config.env_int("MAIL_MAX_MESSAGE_BYTES", 30_000_000, minimum=1024)
TANDEM_MAIL_MAX_ATTACHMENT_BYTES = config.env_int("MAIL_MAX_ATTACHMENT_BYTES", 10_000_000, minimum=1)
# Files attached to notes and interactions (tandem.timeline, docs/daily-work.md).
TANDEM_ATTACHMENT_MAX_BYTES = config.env_int("ATTACHMENT_MAX_BYTES", 10_000_000, minimum=1024)
TANDEM_MAIL_IMAP_HOST = config.env_str("MAIL_IMAP_HOST", "")
TANDEM_MAIL_IMAP_PORT = config.env_int("MAIL_IMAP_PORT", 993, minimum=1)
TANDEM_MAIL_IMAP_SSL = config.env_bool("MAIL_IMAP_SSL", True)
TANDEM_MAIL_IMAP_USER = config.env_str("MAIL_IMAP_USER", "")
TANDEM_MAIL_IMAP_PASSWORD = config.env_str("MAIL_IMAP_PASSWORD", "")
TANDEM_MAIL_IMAP_FOLDER = config.env_str("MAIL_IMAP_FOLDER", "INBOX")
