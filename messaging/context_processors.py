"""What every page needs from messaging: the header bell's unread count."""

from django.http import HttpRequest

from .selectors import unread_notification_count


def notifications(request: HttpRequest) -> dict[str, int]:
    """`unread_notifications` for a logged-in person: one indexed count, only when a template renders."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_notification_count(user)}
