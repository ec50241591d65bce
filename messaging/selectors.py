from django.db.models import QuerySet

from neighbors.models import User

from .events import message_payload
from .models import Conversation, Message
from .permissions import conversations_visible_to

HISTORY_SIZE = 50


def conversation_list(user: User) -> QuerySet[Conversation]:
    return conversations_visible_to(user).prefetch_related("participants__user__profile")


def conversation_for_subject(user: User, subject: str) -> Conversation | None:
    return conversations_visible_to(user).filter(subject=subject).first()


def recent_messages(conversation: Conversation, limit: int = HISTORY_SIZE) -> list[Message]:
    newest = conversation.messages.select_related("sender__profile").order_by("-id")[:limit]
    return list(reversed(newest))


def message_payloads_after(conversation_id: int, after_id: int, limit: int = 200) -> list[dict]:
    """What a reconnecting client missed, oldest first."""
    messages = (
        Message.objects.filter(conversation_id=conversation_id, id__gt=after_id)
        .select_related("sender__profile")
        .order_by("id")[:limit]
    )
    return [message_payload(message) for message in messages]
