"""What every page needs from messaging: the header's unread counts."""

from django.conf import settings
from django.http import HttpRequest

from .selectors import unread_message_total, unread_notification_count


def notifications(request: HttpRequest) -> dict[str, int]:
    """`unread_notifications` (the bell) and `unread_messages` (beside "Messages") for a
    logged-in person, counted when a template renders; the stream keeps them current after,
    pinging every `presence_ping_seconds` so that the site knows the person is here."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": unread_notification_count(user),
        "unread_messages": unread_message_total(user),
        "presence_ping_seconds": settings.PRESENCE_PING_SECONDS,
    }
