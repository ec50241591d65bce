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

import logging
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
logger = logging.getLogger(__name__)


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


class SocketsUnavailable:
    """ASGI middleware for WebSockets, the sockets' 503. PostgreSQL or Redis away (UNAVAILABLE)
    during a handshake refuses it with 503 and Retry-After (a close before accept, which browsers
    see as a failed handshake, on servers without the websocket.http.response extension); on an
    open socket it closes with 1013, "try again later". Never an HTTP 500 or a dropped connection:
    the page reconnects with back-off and catches up (tests/deploy/test_faults.py)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        state = {"accepted": False, "ended": False}

        async def tracking_send(message) -> None:
            if message["type"] == "websocket.accept":
                state["accepted"] = True
            elif message["type"] in ("websocket.close", "websocket.http.response.start"):
                state["ended"] = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except UNAVAILABLE:
            logger.warning("WebSocket %s: the database or Redis is unavailable", scope["path"], exc_info=True)
            if state["ended"]:
                return
            if not state["accepted"] and "websocket.http.response" in scope.get("extensions", {}):
                headers = [
                    (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                    (b"content-type", b"text/plain; charset=utf-8"),
                ]
                await send({"type": "websocket.http.response.start", "status": 503, "headers": headers})
                await send({"type": "websocket.http.response.body", "body": b"Briefly unavailable, try again."})
            else:
                await send({"type": "websocket.close", "code": 1013})
