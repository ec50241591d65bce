"""What every page needs from neighbors: whether to show the staff links."""

from django.http import HttpRequest

from .permissions import staff_communities


def community_staff(request: HttpRequest) -> dict:
    """`is_community_staff`: committee member or grid worker somewhere. A callable, so that the
    query runs only on pages whose template asks."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"is_community_staff": lambda: staff_communities(user).exists()}
