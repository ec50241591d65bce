"""Settings for the embedded default: SQLite and the in-memory channel layer.

Every environment variable the site reads is read here, through django-environ, but for the
few that only production has (its HTTPS settings, in production.py). production.py and test.py
only tighten or adjust what this module builds. deploy/env.example lists them all.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# The embedded default is for a laptop: the fallback key is unusable in production,
# where production.py insists on DJANGO_SECRET_KEY.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="django-insecure-jinlin-embedded-default-only")
DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Addresses of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed
# (config/asgi.py): the client address that rate limits and logs see is then the one the proxy
# saw, for HTTP and WebSockets alike. From any other peer the headers are ignored, so a client
# cannot choose its own address. "*" would believe anyone, and is refused in production.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "allauth",
    "allauth.account",
    "neighbors",
    "talent_pool",
    "messaging",
    "aid_posts",
    "committee",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

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
                "messaging.context_processors.notifications",
                "neighbors.context_processors.community_staff",
                "neighbors.context_processors.header_communities",
                "neighbors.context_processors.large_text",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# SQLite unless DATABASE_URL says otherwise. IMMEDIATE transactions and WAL keep
# concurrent writers from failing with "database is locked" (FIELD-NOTES.md).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A request waits at most this long for a connection; while PostgreSQL is down or restarting
    # it gets the 503 page (config/errors.py) in seconds instead of hanging.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# Persistent connections leak under ASGI (channels #871, #1206): a connection belongs to the
# thread that opened it, and ASGI runs views and socket handlers on threads that outlive the
# request. So each opens its own and closes it; tests/deploy/test_connections.py holds the count
# flat over 1,000 WebSocket connects.
DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels -----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# "core" (channels_redis.core.RedisChannelLayer) or "pubsub" (RedisPubSubChannelLayer); see
# bench/README.md for the measurement behind the default.
CHANNEL_LAYER = env.str("CHANNEL_LAYER", default="core")
# channels_redis waits up to 5 s on each receive (BZPOPMIN); redis-py 8 gives up reading a
# socket after 5 s by default, which raised TimeoutError on every idle WebSocket (code 1006
# after 5 s of quiet). The read timeout must outlast the wait. And its pool of 100 connections
# refused broadcasts to a room of 100 (one group send per member's stream at once).
REDIS_CHANNEL_HOST = {"address": REDIS_URL, "socket_timeout": 10, "max_connections": 1000}
if REDIS_URL and CHANNEL_LAYER == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_CHANNEL_HOST]},
        }
    }
elif REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_CHANNEL_HOST], "capacity": 1000, "expiry": 60},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Several sites (or a site and its staging copy) may share one Redis: each keeps its own keys.
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="jinlin")
if REDIS_URL:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"{REDIS_KEY_PREFIX}-asgi"

# --- Cache and sessions ---------------------------------------------------------
# Redis when there is one: every worker sees the same cache, and allauth's rate limits (login,
# sign-up, mails) count in it across workers. Sessions are cached_db (neighbors/sessions.py): read
# from Redis, written through to the database, so a Redis restart (it may keep nothing on disk)
# logs nobody out, and pages and sockets go on from the database while Redis is away.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            # A Redis that does not answer fails a request in seconds (the 503 page), not minutes.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    SESSION_ENGINE = "neighbors.sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Accounts (django-allauth) -----------------------------------------------
AUTH_USER_MODEL = "neighbors.User"
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
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "neighbors.adapters.AccountAdapter"
ACCOUNT_USER_DISPLAY = "neighbors.adapters.user_display"
ACCOUNT_FORMS = {"signup": "neighbors.forms.SignupForm"}
# allauth's own limits, in the cache (Redis in production), per client address as
# config/asgi.py reads it behind the proxy. Failed logins: 10 a minute from one address, 5 in
# five minutes for one account; the 11th from an address gets 429 (neighbors.views.LoginView).
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key"}
LOGIN_REDIRECT_URL = "home"
LOGIN_URL = "account_login"

# Where mail goes, as one URL (django-environ): "smtp+tls://user:password@smtp.example.gov.cn:587"
# in production; the console by default, which prints each mail.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Jinlin <noreply@jinlin.local>")

# --- Language and time ---------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------
STATIC_URL = "static/"
# The browser tests' screenshots (docs/screenshots/) are also the help pages' pictures, served
# under static/screenshots/ so that the README and the site show the same files.
STATICFILES_DIRS = [BASE_DIR / "static", ("screenshots", BASE_DIR / "docs" / "screenshots")]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# Who serves /static/ (config/asgi.py): "django" from the apps' folders as they are, needing no
# collectstatic; production says "whitenoise", from STATIC_ROOT.
STATIC_SERVER = "django"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)
# Files no URL may reach (certificates carry ID numbers): served only by views that check who asks.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private-media"))
# Uploads (photos, avatars) go to MEDIA_ROOT on local disk unless MEDIA_STORAGE names another
# storage class (e.g. one of django-storages' for an object store).
STORAGES = {
    "default": {"BACKEND": env.str("MEDIA_STORAGE", default="django.core.files.storage.FileSystemStorage")},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Jinlin ---------------------------------------------------------------------
# Bump when the privacy notice's text changes: consent is recorded per version.
PRIVACY_NOTICE_VERSION = "2026-11"
# Each consent is to one version of its text; bump a version to ask everyone again.
CONSENT_VERSIONS = {
    "privacy_notice": PRIVACY_NOTICE_VERSION,
    "location": "2026-11",
    "contact_sharing": "2026-11",
    "health": "2026-11",
}
# How long partners may still see each other's shared contact after a post closes.
PARTNERSHIP_GRACE_DAYS = env.int("PARTNERSHIP_GRACE_DAYS", default=7)
# How long a contact detail shared by name in a conversation stays open to those people.
CONTACT_SHARE_DAYS = env.int("CONTACT_SHARE_DAYS", default=30)
# The image pipeline (neighbors/images.py): limits checked from the header, before decoding.
IMAGE_UPLOAD_MAX_BYTES = env.int("IMAGE_UPLOAD_MAX_BYTES", default=8 * 1024 * 1024)
# 64 MP lets 48–50 MP phone photos through; JPEGs decode at a reduced size (draft), and
# one image is decoded at a time, which bounds the memory a PNG or WebP can take.
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=64_000_000)
IMAGE_STORED_MAX_SIDE = 2048
IMAGE_THUMBNAIL_SIDE = 320
# Points a helper earns when the poster confirms the help.
POINTS_PER_CONFIRMED_HELP = 10
# Points per hour of a confirmed welfare-role duty (rounded to whole points).
POINTS_PER_DUTY_HOUR = 10
# Talents hear this many days before a credential expires.
CREDENTIAL_REMINDER_DAYS = 30
# Roles whose term ends within this many days show up in the committee's list.
ROLE_TERM_ENDING_DAYS = 30

# --- Help requests (aid_posts) ---
# How long a request may wait for help at most, from its time window to its expiry.
REQUEST_MAX_WINDOW_DAYS = 30
# Unclaimed this long after posting, a request goes to its grid worker's and the
# committee's queue: minutes per urgency (normal, soon, urgent).
REQUEST_ESCALATE_AFTER_MINUTES = {0: 24 * 60, 1: 4 * 60, 2: 30}
# The scheduled command reminds the poster of an undecided offer, or an unconfirmed
# request, and a helper of a request whose window ended, after this many hours.
REQUEST_REMIND_AFTER_HOURS = 24
# The nearby list: radii a person may choose, in metres.
NEARBY_RADIUS_CHOICES_M = [500, 1000, 2000, 5000, 10000]
NEARBY_MAX_RADIUS_M = 20_000
# Smart dispatch: how many of the best-ranked talents hear of a new request, and how far
# back "asked recently" looks for fairness.
DISPATCH_NOTIFY_TOP = 3
DISPATCH_FAIRNESS_DAYS = 7
# Each part of a dispatch score lies between 0 and its weight; the first five add up to 1.
# Fairness is a penalty: up to its weight off for a talent asked three times in those days.
# See aid_posts/selectors/dispatch.py for how each part is measured.
DISPATCH_WEIGHTS = {
    "skill": 0.25,
    "distance": 0.20,
    "availability": 0.20,
    "load": 0.15,
    "rating": 0.20,
    "fairness": 0.15,
}
# The large-text home page offers one-tap buttons for the five kinds of help most asked for in a
# person's communities; where fewer have been asked for lately, these fill up, in this order.
EASY_HOME_CATEGORIES = ["errands", "electrical", "it-help", "home-repair", "elderly-companionship"]
# The map's tile layer. Tiles are data, not code: on an intranet point this at the
# district's own tile server, or leave it empty for markers on a plain background.
MAP_TILE_URL = env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env.str("MAP_TILE_ATTRIBUTION", default="© OpenStreetMap contributors")

# --- Messaging ---
# A sender may edit a text message this long after sending; deleting is always possible.
MESSAGE_EDIT_MINUTES = 15
# Sending, per person, across every worker: a burst, then a steady pace (limits' syntax).
MESSAGE_RATE_LIMITS = env.str("MESSAGE_RATE_LIMITS", default="8 per 10 seconds; 30 per minute; 300 per hour")
# Frames refused for the rate on one socket before it is closed (code 4429).
MESSAGE_RATE_STRIKES = 5
# Where the rate limits count: Redis when there is one, so that every worker shares them.
RATE_LIMIT_STORAGE_URL = env.str("RATE_LIMIT_STORAGE_URL", default=REDIS_URL or "memory://")
RATE_LIMIT_KEY_PREFIX = f"{REDIS_KEY_PREFIX}-limits"
# Requests posted per person (a committee member posting for residents counts as one person),
# and offers of help per person: far above what a person does, low enough to stop a script.
POST_RATE_LIMITS = env.str("POST_RATE_LIMITS", default="20 per hour; 60 per day")
CLAIM_RATE_LIMITS = env.str("CLAIM_RATE_LIMITS", default="30 per hour; 100 per day")
# The public certificate check, per client address: enough for a person, too few to guess codes.
CERTIFICATE_CHECK_RATE_LIMITS = env.str("CERTIFICATE_CHECK_RATE_LIMITS", default="30 per minute; 300 per day")
# Open pages ping over their socket this often; a person not heard from for the timeout
# is away, and what is important reaches them by email after EMAIL_DELAY_SECONDS.
PRESENCE_PING_SECONDS = 30
PRESENCE_TIMEOUT_SECONDS = 90
EMAIL_DELAY_SECONDS = 120
# Links in emails start with this.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
