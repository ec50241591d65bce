"""Error pages that close the database connections they open.

Under ASGI, Django renders the response for an exception raised in a view (Http404,
PermissionDenied, a bad request) with `sync_to_async(..., thread_sensitive=False)`:
on a worker thread of its own, not the request's thread. Our error pages show the
header with the person's name, so rendering one reads the session and the profile
and opens a connection on that worker thread, where `request_finished` never
closes it. Measured on PostgreSQL: every 404 left one idle connection behind per
worker thread. So each handler closes what it opened, unless it runs inside a
transaction (the request's own thread under WSGI or the test client).
"""

import sys

import redis
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

# What a restart of PostgreSQL or Redis raises: the request could not be served now and will be
# in a moment, which is a 503 with Retry-After, not a 500.
UNAVAILABLE = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)
RETRY_AFTER_SECONDS = 5


def _close_connections_outside_transactions() -> None:
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    try:
        return defaults.bad_request(request, exception)
    finally:
        _close_connections_outside_transactions()


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    try:
        return defaults.permission_denied(request, exception)
    finally:
        _close_connections_outside_transactions()


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    try:
        return defaults.page_not_found(request, exception)
    finally:
        _close_connections_outside_transactions()


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, or the 503 page when what failed is the database or Redis being away (Django
    calls this inside the `except` that caught the error, so it is at hand). Neither template
    reads the session or the database: both may be what is down."""
    try:
        if isinstance(sys.exception(), UNAVAILABLE):
            response = HttpResponse(loader.get_template("503.html").render(), status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return defaults.server_error(request)
    finally:
        _close_connections_outside_transactions()
