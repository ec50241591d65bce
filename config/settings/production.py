"""Production: PostgreSQL, Redis, real secrets, HTTPS behind a reverse proxy.

It refuses to start without DJANGO_SECRET_KEY, ALLOWED_HOSTS, a PostgreSQL DATABASE_URL and
REDIS_URL, and never falls back to SQLite or the in-memory channel layer. `python manage.py
check --deploy --fail-level WARNING` is clean under it with nothing silenced
(tests/test_settings.py). deploy/ holds the rest: the env file, the server command, nginx,
systemd and cron; deploy/run-prod.sh runs this profile on one machine.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CHANNEL_LAYERS, DATABASES, REDIS_URL, TRUSTED_PROXIES, env


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value.strip():
        raise ImproperlyConfigured(f"Production needs {name} (see deploy/env.example).")
    return value


DEBUG = False
if env.bool("DJANGO_DEBUG", default=False):
    raise ImproperlyConfigured("DJANGO_DEBUG must not be on in production: it shows settings and code to anyone.")
SECRET_KEY = _required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = [host.strip() for host in _required("ALLOWED_HOSTS").split(",") if host.strip()]
if "*" in ALLOWED_HOSTS:
    # A "*" would also switch off the WebSocket origin check.
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names.")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production needs a PostgreSQL DATABASE_URL (postgres://…).")
if not REDIS_URL or CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer":
    raise ImproperlyConfigured("Production needs REDIS_URL for the channel layer, the cache and the sessions.")
if "*" in TRUSTED_PROXIES:
    raise ImproperlyConfigured("TRUSTED_PROXIES must list the proxies' addresses: '*' lets anyone choose theirs.")

# --- HTTPS ------------------------------------------------------------------------
# The proxy terminates TLS and says so in X-Forwarded-Proto, which config/asgi.py believes from
# TRUSTED_PROXIES only. deploy/run-prod.sh turns the redirect off: it serves plain HTTP on
# 127.0.0.1 for a try-out, and `check --deploy` then warns, as it should.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# --- Media ----------------------------------------------------------------------------
# nginx serves MEDIA_ROOT (deploy/nginx/jinlin.conf); run-prod.sh, with no nginx, turns this on.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)

# --- Static files -------------------------------------------------------------------
# `collectstatic` writes hashed names with gzip and Brotli copies beside them; WhiteNoise serves
# them from STATIC_ROOT with a year's cache for the hashed names (config/asgi.py).
STATIC_SERVER = "whitenoise"
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}  # noqa: F405
