"""The site's ASGI application with one more URL, a trivial view, for bench/http_pages.py.

`/bench/trivial/` answers "ok" through the whole middleware stack (sessions, locale, auth,
messages...) and no template and no query of its own: the floor every page pays on the same
server, against which the pages are compared. Everything else is the site as deployed
(config.asgi, config.urls).

uvicorn imports it as `http_asgi:application` with `--app-dir bench`; daphne with the bench
directory on PYTHONPATH.
"""

TRIVIAL_PATH = "/bench/trivial/"


def trivial(request):
    from django.http import HttpResponse

    return HttpResponse("ok", content_type="text/plain")


def _server_application():
    import django
    from django.conf import settings

    django.setup()
    # Before the first request: the resolver reads ROOT_URLCONF then, and caches by its value.
    settings.ROOT_URLCONF = __name__
    from config.asgi import application as site

    return site


def __getattr__(name: str):
    # Made on first use, so that importing this module sets nothing up: `urlpatterns` for the
    # URLconf, `application` for the server.
    if name == "urlpatterns":
        from django.urls import path

        from config.urls import urlpatterns as site_patterns

        return [path(TRIVIAL_PATH.strip("/") + "/", trivial), *site_patterns]
    if name == "application":
        return _server_application()
    raise AttributeError(name)
