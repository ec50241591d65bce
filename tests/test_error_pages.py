"""Error pages: rendered off the request's thread under ASGI, they must not leave a connection open."""

import threading

import pytest
from django.db import connections
from django.http import Http404
from django.test import RequestFactory
from django.urls import get_resolver
from django.views import defaults

from config.errors import page_not_found, permission_denied
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def render_on_another_thread(view, user, exception) -> dict:
    """Render as Django's ASGI handler does for an exception: on a thread of its own."""
    request = RequestFactory().get("/nowhere/")
    request.user = user
    seen: dict = {}

    def run() -> None:
        try:
            # The header reads the profile: that opens this thread's connection.
            response = view(request, exception)
            seen["status"] = response.status_code
            seen["name_shown"] = user.profile.display_name in response.content.decode()
            seen["left_open"] = connections["default"].connection is not None
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen


def fresh(user):
    # A user object whose profile is not cached, so that rendering must query.
    return type(user).objects.get(pk=user.pk)


def test_the_404_page_closes_the_connection_it_opened():
    user = UserFactory()
    seen = render_on_another_thread(page_not_found, fresh(user), Http404())
    assert seen == {"status": 404, "name_shown": True, "left_open": False}


def test_the_403_page_closes_it_too():
    user = UserFactory()
    seen = render_on_another_thread(permission_denied, fresh(user), PermissionError())
    assert (seen["status"], seen["left_open"]) == (403, False)


def test_without_it_django_leaves_the_connection_open():
    # The reason the handlers exist: Django's own view leaves it to request_finished,
    # which never runs on this thread.
    user = UserFactory()
    seen = render_on_another_thread(defaults.page_not_found, fresh(user), Http404())
    assert (seen["status"], seen["left_open"]) == (404, True)


def test_the_site_uses_them():
    resolver = get_resolver()
    assert resolver.resolve_error_handler(404) is page_not_found
    assert resolver.resolve_error_handler(403) is permission_denied
