"""The site as one ASGI application: HTTP (pages and /static/) and WebSockets (chat, notifications).

Run it with uvicorn, several workers on one port (deploy/README.md says why uvicorn and how many):

    uvicorn config.asgi:application --workers 2 --lifespan off --no-proxy-headers

`--no-proxy-headers` because this module reads the proxy's headers itself, from the addresses in
TRUSTED_PROXIES only, whichever server runs it.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
# Django must be set up before anything imports models (the routing does).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware  # noqa: E402

from config.errors import SocketsUnavailable  # noqa: E402
from messaging.routing import websocket_urlpatterns  # noqa: E402

# The names ManifestStaticFilesStorage writes: "app.3f2a9c1b7d4e.css". They never change, so
# browsers may keep them for a year.
HASHED_STATIC_NAME = r"^.+\.[0-9a-f]{12}\..+$"


def _not_found(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"Not found"]


class StaticFirst:
    """/static/ to `static`, everything else over HTTP to `site`."""

    def __init__(self, static, site, prefix: str) -> None:
        self.static, self.site, self.prefix = static, site, prefix

    async def __call__(self, scope, receive, send):
        app = self.static if scope["path"].startswith(self.prefix) else self.site
        await app(scope, receive, send)


def http_application():
    if settings.STATIC_SERVER == "whitenoise":
        # WhiteNoise is a WSGI application: asgiref runs it in a thread for /static/ only, which
        # keeps it out of Django's middleware, where under ASGI its file responses are sync
        # iterators that Django warns about on every file. It reads STATIC_ROOT once at start and
        # serves the gzip or Brotli copy that collectstatic wrote when the browser takes it.
        from asgiref.wsgi import WsgiToAsgi
        from whitenoise import WhiteNoise

        prefix = "/" + settings.STATIC_URL.strip("/") + "/"
        files = WhiteNoise(_not_found, root=settings.STATIC_ROOT, prefix=prefix, immutable_file_test=HASHED_STATIC_NAME)
        return StaticFirst(WsgiToAsgi(files), django_asgi_app, prefix)
    # The embedded profile: Django's async handler serves the apps' folders as they are.
    return ASGIStaticFilesHandler(django_asgi_app)


router = ProtocolTypeRouter(
    {
        "http": http_application(),
        # PostgreSQL or Redis away: a 503 for a handshake, 1013 for an open socket (config/errors.py).
        "websocket": SocketsUnavailable(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
# Behind a reverse proxy every peer is the proxy: take the client's address and scheme from its
# X-Forwarded-For / X-Forwarded-Proto, for HTTP and WebSockets, only when the peer is one of
# TRUSTED_PROXIES. allauth's limits, the certificate check's and the logs then count real people.
application = (
    ProxyHeadersMiddleware(router, trusted_hosts=settings.TRUSTED_PROXIES) if settings.TRUSTED_PROXIES else router
)
