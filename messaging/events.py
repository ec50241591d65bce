"""Event names and payloads; the only module that talks to the channel layer."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .models import Message, Notification

MESSAGE_NEW = "chat.message"
NOTIFICATION_NEW = "stream.notification"
FEED_CHANGED = "stream.feed_changed"


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def user_group(user_id: int) -> str:
    """Each person's own stream: notifications, whichever page they are on."""
    return f"user.{user_id}"


def feed_group(community_id: int) -> str:
    """Everyone looking at a community's requests: told only that something changed there."""
    return f"feed.{community_id}"


def message_payload(message: Message) -> dict:
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "sender_id": message.sender_id,
        "sender": str(message.sender.profile),
        "body": message.body,
        "client_id": message.client_id,
        "created_at": message.created_at.isoformat(),
    }


def broadcast_message(message: Message) -> None:
    """Called after commit only, so nobody sees a message that was rolled back."""
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(
        conversation_group(message.conversation_id),
        {"type": MESSAGE_NEW, "message": message_payload(message)},
    )


def notification_payload(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "created_at": notification.created_at.isoformat(),
    }


def broadcast_notification(notification: Notification) -> None:
    """After commit only, like messages."""
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(
        user_group(notification.user_id),
        {"type": NOTIFICATION_NEW, "notification": notification_payload(notification)},
    )


def broadcast_feed_changed(community_id: int) -> None:
    """No content at all: the page asks again over HTTP, where the visibility rules apply."""
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(feed_group(community_id), {"type": FEED_CHANGED, "community": community_id})
