"""Settings, read from the environment (django-environ).

With nothing set the product runs on a laptop: SQLite, local-memory cache, Celery tasks run
eagerly. Set DATABASE_URL and REDIS_URL for PostgreSQL and Redis.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django_guid.integrations import CeleryIntegration

from timebank.policy import PRESETS

BASE_DIR = Path(__file__).resolve().parent.parent
INSECURE_KEY = "django-insecure-timebank-development-only"

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    CSRF_TRUSTED_ORIGINS=(list, []),
    SECRET_KEY=(str, INSECURE_KEY),
    TIMEBANK_POLICY=(str, "changning-2019"),
    REDIS_URL=(str, ""),
    LOG_LEVEL=(str, "INFO"),
    SECURE_SSL=(bool, False),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
# The web app, the Celery worker and beat refuse to start with the development key unless
# DEBUG is on (timebank.security); developer commands such as makemigrations still run.
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")
TIMEBANK_POLICY = env("TIMEBANK_POLICY")
if TIMEBANK_POLICY not in PRESETS:
    raise ImproperlyConfigured(
        f"Unknown TIMEBANK_POLICY {TIMEBANK_POLICY!r}; known presets: {', '.join(sorted(PRESETS))}"
    )
# The policy's local choices (values no scheme states; timebank.policy.LOCAL_SETTINGS). Each
# replaces the preset's value where the preset marks it "本地设定"; None keeps the preset's.
TIMEBANK_INITIAL_GRANT_HOURS = env.int("TIMEBANK_INITIAL_GRANT_HOURS", default=None)  # 20 / 0
TIMEBANK_MINOR_MIN_AGE = env.int("TIMEBANK_MINOR_MIN_AGE", default=10)
TIMEBANK_INTEGRITY_STRIKES = env.int("TIMEBANK_INTEGRITY_STRIKES", default=3)
TIMEBANK_INTEGRITY_DAYS = env.int("TIMEBANK_INTEGRITY_DAYS", default=30)
TIMEBANK_LATE_CANCEL_HOURS = env.int("TIMEBANK_LATE_CANCEL_HOURS", default=24)
TIMEBANK_SIGN_IN_EARLY_MINUTES = env.int("TIMEBANK_SIGN_IN_EARLY_MINUTES", default=30)
TIMEBANK_SIGN_OUT_MARGIN_MINUTES = env.int("TIMEBANK_SIGN_OUT_MARGIN_MINUTES", default=60)
TIMEBANK_PENDING_MAX_AGE_DAYS = env.int("TIMEBANK_PENDING_MAX_AGE_DAYS", default=90)
TIMEBANK_GIFT_REQUIRES_APPROVAL = env.bool("TIMEBANK_GIFT_REQUIRES_APPROVAL", default=None)
# Keys for the encrypted ID numbers; derived from SECRET_KEY unless set explicitly.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default=SECRET_KEY)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.weixin",
    "accounts.wechat_mp",  # in-WeChat login of the official account (provider "weixin_mp")
    "simple_history",
    "phonenumber_field",
    "django_htmx",
    "django_guid",
    "csp",
    "timebank",
    "branches",
    "accounts",
    "ledger",
    "orders",
    "exchange",
    "honour",
    "reports",
    "notices",
    "news",
]

MIDDLEWARE = [
    "django_guid.middleware.guid_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "timebank.csp.PageCSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "timebank.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "timebank.inputs.RefuseUnstorableInputMiddleware",  # NUL in a query string: 400
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.RateLimitedMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "timebank.outages.OutageMiddleware",  # last: first to see a view's exception
]

ROOT_URLCONF = "timebank.urls"
WSGI_APPLICATION = "timebank.wsgi.application"
ASGI_APPLICATION = "timebank.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "timebank.context_processors.site",
                "notices.context_processors.unread",
            ],
        },
    }
]

# Database: SQLite on a laptop (immediate transactions, WAL, busy timeout so concurrent
# writers wait instead of failing), PostgreSQL in production and in CI.
SQLITE_PATH = BASE_DIR / "db.sqlite3"
# An empty DATABASE_URL counts as unset, as it does for REDIS_URL.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{SQLITE_PATH}"
DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA busy_timeout=20000; PRAGMA foreign_keys=ON;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend, whose health check asks the socket, not the server.
        DATABASES["default"]["ENGINE"] = "timebank.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {})
    # A row lock that is not granted in time ends the transaction (SQLSTATE 55P03), which
    # service_transaction retries and then reports as busy, instead of a page that hangs.
    # JIT off: PostgreSQL compiled the reports' aggregates for 1–2 s where they run in tens
    # of milliseconds (its cost model guesses at large scans); the site's queries are short.
    DATABASES["default"]["OPTIONS"].setdefault(
        "options",
        f"-c lock_timeout={env.int('DB_LOCK_TIMEOUT_MS', default=10000)} -c jit=off",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "timebank.cache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="timebank"),
        }
    }
    # Sessions read from the shared cache, written through to the database: every page
    # saves the session query; a cache flush only costs a re-read, never a logout.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# What is the same for everyone and changes only with a deploy (the site's menu in each
# language): kept in each process, no round trip.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "timebank-local",
}

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
LOGIN_REDIRECT_URL = "home"
SITE_ID = 1

PHONENUMBER_DEFAULT_REGION = "CN"
PHONENUMBER_DB_FORMAT = "E164"

# Internationalisation: Simplified Chinese first, English second; the preset's clock.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = PRESETS[TIMEBANK_POLICY].time_zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
PRIVATE_MEDIA_ROOT = env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private-media"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Security. Cookies are secure and HSTS is on when the site is served over TLS.
SECURE_SSL = env("SECURE_SSL")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = SECURE_SSL
SECURE_HSTS_SECONDS = 31536000 if SECURE_SSL else 0
# The header covers the subdomains of the site's own host only, and preloading needs the
# domain's owner to ask for it (hstspreload.org): neither reaches a sibling site.
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = SECURE_SSL
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The proxy's and the container's health probes ask over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: base.html hands htmx the token in hx-headers.
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles come from our static files only: no inline code, no eval (htmx is told
# so in base.html). Images are ours too (the signature is posted as data, never shown as one).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        # WeChat login posts to allauth, which redirects to WeChat: browsers hold a form's
        # redirects to form-action as well.
        "form-action": ["'self'"]
        + (["https://open.weixin.qq.com"] if env("WEIXIN_APP_ID", default="") else [])
        + (
            # the origin of the in-WeChat login's authorize page (scheme://host)
            [
                "/".join(
                    env(
                        "WECHAT_MP_OAUTH_AUTHORIZE_URL", default="https://open.weixin.qq.com"
                    ).split("/")[:3]
                )
            ]
            if env("WECHAT_MP_APP_ID", default="")
            else []
        ),
    }
}

# Old versions are shown, never restored: every change goes through a service and its rules.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Celery: Redis as broker when configured; otherwise tasks run in-process (eager).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The queue this process sends to and, as a worker, reads (tests give each worker its own), and
# how long a task taken by a worker that died unacknowledged waits before another takes it.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
# How often the reports' standard dashboards are counted ahead (minutes; a divisor of 60).
REPORT_SNAPSHOT_MINUTES = env.int("REPORT_SNAPSHOT_MINUTES", default=30)
# Periodic work; the apps' entries are added here as they arrive. Times are TIME_ZONE's.
CELERY_BEAT_SCHEDULE = {
    "ledger-audit-nightly": {
        "task": "ledger.tasks.audit_ledger",
        "schedule": crontab(hour=2, minute=0),
    },
    # Orders: each job re-checks under lock, so running one twice changes nothing.
    "orders-expire-requests": {
        "task": "orders.tasks.expire_requests",
        "schedule": crontab(minute="*/5"),
    },
    "orders-mark-no-shows": {
        "task": "orders.tasks.mark_no_shows",
        "schedule": crontab(minute="*/10"),
    },
    "orders-flag-missing-sign-outs": {
        "task": "orders.tasks.flag_missing_sign_outs",
        "schedule": crontab(minute="*/15"),
    },
    # Reminders the day before, two hours before, and to sign in (each once per place).
    "orders-remind-services": {
        "task": "orders.tasks.remind_services",
        "schedule": crontab(minute="*/15"),
    },
    # Exchange orders not collected within the pickup window: coins and stock go back.
    "exchange-expire-orders": {
        "task": "exchange.tasks.expire_orders",
        "schedule": crontab(minute="*/10"),
    },
    # Once per order, when it has two days left (exchange.services.REMIND_BEFORE).
    "exchange-remind-pickups": {
        "task": "exchange.tasks.remind_pickups",
        "schedule": crontab(minute=20),
    },
    # The dashboards of the standard periods, counted ahead (reports.snapshots).
    "reports-refresh-dashboards": {
        "task": "reports.tasks.refresh_dashboards",
        "schedule": crontab(minute=f"*/{REPORT_SNAPSHOT_MINUTES}"),
    },
    # Messages due after quiet hours or whose task was lost are queued (notices.services).
    "notices-sweep": {
        "task": "notices.tasks.sweep",
        "schedule": crontab(minute="*"),
    },
    # Export files past their keeping time are deleted with their jobs.
    "reports-delete-expired-exports": {
        "task": "reports.tasks.delete_expired_exports",
        "schedule": crontab(minute=30),
    },
}
# Days a member has to collect an exchange order (a local setting, not a scheme rule).
EXCHANGE_PICKUP_DAYS = env.int("EXCHANGE_PICKUP_DAYS", default=14)
# Certificates (honour): the seal printed on each, an SVG, PNG or JPEG file on this machine;
# and how often one address may check numbers at /verify/ (allauth's rate syntax; "" = off).
CERTIFICATE_SEAL_PATH = env(
    "CERTIFICATE_SEAL_PATH", default=str(BASE_DIR / "static" / "honour" / "seal.svg")
)
CERTIFICATE_VERIFY_RATE = env("CERTIFICATE_VERIFY_RATE", default="30/m/ip")
# Reports (local settings, not scheme rules): how long a dashboard's figures are reused before
# they are computed again; exports up to EXPORT_STREAM_MAX_ROWS rows are streamed at once, bigger
# ones are written by a Celery task and kept for EXPORT_KEEP_DAYS days.
REPORT_CACHE_SECONDS = env.int("REPORT_CACHE_SECONDS", default=300)
EXPORT_STREAM_MAX_ROWS = env.int("EXPORT_STREAM_MAX_ROWS", default=5000)
EXPORT_KEEP_DAYS = env.int("EXPORT_KEEP_DAYS", default=7)

# django-allauth: phone number + password. Apps' adapters complete the phone flow.
ACCOUNT_LOGIN_METHODS = {"phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True  # SMS code login (accounts.sms sends it)
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}  # easy on SMS
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/ip,5/5m/key"}
SOCIALACCOUNT_PROVIDERS = {
    "weixin": {
        # Off unless keys are configured (see README).
        "APP": {
            "client_id": env("WEIXIN_APP_ID", default=""),
            "secret": env("WEIXIN_APP_SECRET", default=""),
        },
        "SCOPE": ["snsapi_login"],
    }
}
WEIXIN_ENABLED = bool(env("WEIXIN_APP_ID", default=""))
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"  # hides unconfigured providers
SMS_SENDER = env("SMS_SENDER", default="notices.sms.LogSender")
# Messages (notices): tries before a delivery is listed as failed, the first wait between
# tries (doubling), the language SMS and WeChat are written in, and the site's address for
# links in them.
NOTICE_MAX_ATTEMPTS = env.int("NOTICE_MAX_ATTEMPTS", default=5)
NOTICE_RETRY_SECONDS = env.int("NOTICE_RETRY_SECONDS", default=60)
NOTICE_LANGUAGE = "zh-hans"
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# WeChat official account (公众号): in-WeChat login (snsapi_base / snsapi_userinfo) and
# template messages. Off unless its keys are configured.
WECHAT_MP_PROVIDER = "weixin_mp"
WECHAT_MP_APP_ID = env("WECHAT_MP_APP_ID", default="")
WECHAT_MP_APP_SECRET = env("WECHAT_MP_APP_SECRET", default="")
# Where 网页授权 sends the person, and WeChat's API (tests point both at a local fake).
WECHAT_MP_OAUTH_AUTHORIZE_URL = env(
    "WECHAT_MP_OAUTH_AUTHORIZE_URL", default="https://open.weixin.qq.com/connect/oauth2/authorize"
)

# Logging: one line per record to stdout, each tagged with the request id.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
    # Tasks queued by a request log with that request's id, so one id follows the work.
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True, log_parent=True)],
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "django_guid.log_filters.CorrelationId"}},
    "formatters": {
        "line": {
            "format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s",
        }
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id"],
            "formatter": "line",
        }
    },
    "root": {"handlers": ["stdout"], "level": env("LOG_LEVEL")},
    "loggers": {
        "django_guid": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},  # certificates: no seven progress lines a PDF
    },
}

# SMS gateways and WeChat template messages (notices.gateways)
# SMS_SENDER (above) picks the gateway: notices.gateways.aliyun.AliyunSender or
# notices.gateways.tencent.TencentSender. SMS_TEMPLATES and WECHAT_TEMPLATES are JSON, mapping
# event codes (plus "default", and "code" for login codes) to the templates registered with
# the gateway; their formats are in notices/gateways/common.py and notices/gateways/wechat.py.
GATEWAY_TIMEOUT_SECONDS = env.float("GATEWAY_TIMEOUT_SECONDS", default=10.0)
ALIYUN_SMS_ENDPOINT = env("ALIYUN_SMS_ENDPOINT", default="https://dysmsapi.aliyuncs.com/")
ALIYUN_SMS_REGION = env("ALIYUN_SMS_REGION", default="cn-hangzhou")
ALIYUN_SMS_ACCESS_KEY_ID = env("ALIYUN_SMS_ACCESS_KEY_ID", default="")
ALIYUN_SMS_ACCESS_KEY_SECRET = env("ALIYUN_SMS_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_SIGN_NAME = env("ALIYUN_SMS_SIGN_NAME", default="")
TENCENT_SMS_ENDPOINT = env("TENCENT_SMS_ENDPOINT", default="https://sms.tencentcloudapi.com/")
TENCENT_SMS_REGION = env("TENCENT_SMS_REGION", default="ap-guangzhou")
TENCENT_SMS_SECRET_ID = env("TENCENT_SMS_SECRET_ID", default="")
TENCENT_SMS_SECRET_KEY = env("TENCENT_SMS_SECRET_KEY", default="")
TENCENT_SMS_SDK_APP_ID = env("TENCENT_SMS_SDK_APP_ID", default="")
TENCENT_SMS_SIGN_NAME = env("TENCENT_SMS_SIGN_NAME", default="")
SMS_TEMPLATES = env.json("SMS_TEMPLATES", default={})
WECHAT_MP_API = env("WECHAT_MP_API", default="https://api.weixin.qq.com")  # login's too
WECHAT_TEMPLATES = env.json("WECHAT_TEMPLATES", default={})
