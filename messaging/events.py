"""Event names and payloads; the only module that talks to the channel layer."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .models import Message

MESSAGE_NEW = "chat.message"


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


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
