"""Production: PostgreSQL, Redis, real secrets. Refuses to start without them."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CHANNEL_LAYERS, DATABASES, env

DEBUG = False
# The reverse proxy serves MEDIA_ROOT; Django does not.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    # A "*" would also switch off the WebSocket origin check.
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names.")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production needs a PostgreSQL DATABASE_URL.")
if CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer":
    raise ImproperlyConfigured("Production needs REDIS_URL for the channel layer.")

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
