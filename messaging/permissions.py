from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from neighbors.models import User
from neighbors.permissions import blocked_with_any

from .models import Conversation, Participant


def conversations_visible_to(user: User | AnonymousUser) -> QuerySet[Conversation]:
    if not user.is_authenticated or not user.is_active:
        return Conversation.objects.none()
    return Conversation.objects.filter(participants__user=user)


def can_access_conversation(user: User | AnonymousUser, conversation_id: int) -> bool:
    """Read and write alike: only participants. Checked on connect and on every frame."""
    return conversations_visible_to(user).filter(pk=conversation_id).exists()


def blocked_in_conversation(user: User, conversation_id: int) -> bool:
    """Whether the user and another participant have blocked one another: then nobody there hears them."""
    others = Participant.objects.filter(conversation_id=conversation_id).exclude(user=user).values("user")
    return blocked_with_any(user, others)
