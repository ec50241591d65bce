"""What every page needs from messaging: the header's unread counts."""

from django.http import HttpRequest

from .selectors import unread_message_total, unread_notification_count


def notifications(request: HttpRequest) -> dict[str, int]:
    """`unread_notifications` (the bell) and `unread_messages` (beside "Messages") for a
    logged-in person, counted when a template renders; the stream keeps them current after."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_notification_count(user), "unread_messages": unread_message_total(user)}
