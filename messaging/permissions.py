from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from neighbors.models import User

from .models import Conversation


def conversations_visible_to(user: User | AnonymousUser) -> QuerySet[Conversation]:
    if not user.is_authenticated or not user.is_active:
        return Conversation.objects.none()
    return Conversation.objects.filter(participants__user=user)


def can_access_conversation(user: User | AnonymousUser, conversation_id: int) -> bool:
    """Read and write alike: only participants. Checked on connect and on every frame."""
    return conversations_visible_to(user).filter(pk=conversation_id).exists()
