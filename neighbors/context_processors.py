"""What every page needs from neighbors: the header's communities, whether to show the staff
links, and the large-text mode."""

from functools import cache

from django.http import HttpRequest

from .permissions import staff_communities
from .selectors import community_names_of


def community_staff(request: HttpRequest) -> dict:
    """`is_community_staff`: committee member or grid worker somewhere. A callable, so that the
    query runs only on pages whose template asks, and once however often it asks."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"is_community_staff": cache(lambda: staff_communities(user).exists())}


def header_communities(request: HttpRequest) -> dict:
    """`header_communities`: the names of the communities the person is a member of, for the
    header. A callable, like the staff flag, so that pages without the header pay nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"header_communities": cache(lambda: community_names_of(user))}


# Remembered per browser as well as per person: the login page of a browser that asked for it
# is large too, and so is a page after logging out.
LARGE_TEXT_COOKIE = "jinlin_large_text"


def large_text_wanted(request: HttpRequest) -> bool:
    """The large-text mode (长辈模式): the person's profile when logged in, else the browser's cookie."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.profile.large_text
    return request.COOKIES.get(LARGE_TEXT_COOKIE) == "1"


def large_text(request: HttpRequest) -> dict:
    return {"large_text": large_text_wanted(request)}
