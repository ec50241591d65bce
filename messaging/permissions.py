"""Who may read, write and review in which conversation. Checked on connect and on every frame."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from neighbors.models import Community, Suspension, User
from neighbors.permissions import (
    blocked_with_any,
    communities_visible_to,
    is_minor,
    staff_communities,
    suspension_in,
)

from .models import Conversation, Message, Participant

AnyUser = User | AnonymousUser


def _active(user: AnyUser) -> bool:
    return user.is_authenticated and user.is_active


def conversations_visible_to(user: AnyUser) -> QuerySet[Conversation]:
    """Where the person has a seat; the conversations of the staff kinds (and requests that asked
    the committee in) of the communities they work for; their communities' announcements."""
    if not _active(user):
        return Conversation.objects.none()
    # A seat kept only for read state (through_role) grants nothing: access through a role
    # (staff, a member reading announcements) ends with the role.
    seated = Exists(Participant.objects.filter(conversation=OuterRef("pk"), user=user, through_role=False))
    staff_of = staff_communities(user).values("pk")
    return Conversation.objects.filter(
        seated
        | Q(community__in=staff_of, kind__in=Conversation.STAFF_KINDS)
        | Q(community__in=staff_of, committee_asked_at__isnull=False)
        | Q(kind=Conversation.Kind.ANNOUNCEMENT, community__in=communities_visible_to(user).values("pk"))
    )


def can_access_conversation(user: AnyUser, conversation_id: int) -> bool:
    """Read access. Checked on connect and on every frame: a seat or a role can end mid-session.

    A seat of one's own is the first branch of conversations_visible_to: asked alone first, it
    answers the common case with one indexed lookup instead of the whole query's subqueries
    (this runs for every chat frame)."""
    if not _active(user):
        return False
    if Participant.objects.filter(conversation_id=conversation_id, user=user, through_role=False).exists():
        return True
    return conversations_visible_to(user).filter(pk=conversation_id).exists()


def can_write_in(user: AnyUser, conversation: Conversation) -> bool:
    """Everyone who may read may write, except in announcements, where only the committee and its
    grid workers do, and except a member suspended in the conversation's community
    (writing_suspension)."""
    if not can_access_conversation(user, conversation.pk):
        return False
    if conversation.kind == Conversation.Kind.ANNOUNCEMENT and not (
        staff_communities(user).filter(pk=conversation.community_id).exists()
    ):
        return False
    return writing_suspension(user, conversation) is None


def writing_suspension(user: AnyUser, conversation: Conversation) -> Suspension | None:
    """The suspension that stops the person writing here now, or None. Their own conversation
    with the committee stays open to them (to ask why, or to appeal): they hold its one seat
    of their own; staff sit there only through their role."""
    suspension = suspension_in(user, conversation.community_id)
    if suspension is None:
        return None
    if conversation.kind == Conversation.Kind.COMMITTEE and (
        Participant.objects.filter(conversation=conversation, user=user, through_role=False).exists()
    ):
        return None
    return suspension


def blocked_in_conversation(user: User, conversation_id: int) -> bool:
    """Whether the user and another participant have blocked one another: then nobody there hears them."""
    others = Participant.objects.filter(conversation_id=conversation_id).exclude(user=user).values("user")
    return blocked_with_any(user, others)


def can_edit_message(user: AnyUser, message: Message) -> bool:
    """The sender, within MESSAGE_EDIT_MINUTES of sending, a text message not deleted, rejected or
    hidden by the committee (an edit would change what was judged)."""
    return (
        _active(user)
        and message.sender_id == user.pk
        and message.kind == Message.Kind.TEXT
        and message.deleted_at is None
        and message.hidden_at is None
        and message.status != Message.Status.REJECTED
        and timezone.now() - message.created_at <= timedelta(minutes=settings.MESSAGE_EDIT_MINUTES)
    )


def can_delete_message(user: AnyUser, message: Message) -> bool:
    """The sender, at any time: deleting leaves "message deleted" in its place."""
    return _active(user) and message.sender_id == user.pk and message.deleted_at is None


def can_share_contact_in(user: AnyUser, conversation: Conversation) -> bool:
    """Not in announcements (a whole community), never a child's."""
    return conversation.kind != Conversation.Kind.ANNOUNCEMENT and not is_minor(user)


def can_ask_committee_in(user: AnyUser, conversation: Conversation) -> bool:
    """Anyone seated in a request's conversation may ask the committee in, once."""
    return (
        conversation.kind == Conversation.Kind.CLAIM
        and conversation.committee_asked_at is None
        and conversation.community_id is not None
        and Participant.objects.filter(conversation=conversation, user=user, through_role=False).exists()
    )


def messages_reviewable_by(user: AnyUser) -> QuerySet[Message]:
    """Messages the filter held (now or before a decision) in conversations of the communities
    the person works for; never their own."""
    if not _active(user):
        return Message.objects.none()
    return (
        Message.objects.filter(
            conversation__community__in=staff_communities(user).values("pk"),
        )
        .exclude(held_for="")
        .exclude(sender=user)
    )


def held_messages_reviewable_by(user: AnyUser) -> QuerySet[Message]:
    """What still awaits the review."""
    return messages_reviewable_by(user).filter(status=Message.Status.HELD)


def can_review_message(user: AnyUser, message: Message) -> bool:
    """May decide on it; whether a decision is still open is the service's to say."""
    return messages_reviewable_by(user).filter(pk=message.pk).exists()


def can_open_committee_conversation(user: AnyUser, community: Community, member: User) -> bool:
    """A member with their own committee, or the committee (and grid workers) with a member."""
    if not _active(user) or not communities_visible_to(member).filter(pk=community.pk).exists():
        return False
    if user.pk == member.pk:
        return True
    return staff_communities(user).filter(pk=community.pk).exists()


def messages_moderated_by(user: AnyUser) -> QuerySet[Message]:
    """Messages the person may hide and restore: in conversations of the communities they work
    for (a report brings them even a request's private conversation), never their own."""
    if not _active(user):
        return Message.objects.none()
    return Message.objects.filter(conversation__community__in=staff_communities(user).values("pk")).exclude(sender=user)


def can_moderate_message(user: AnyUser, message: Message) -> bool:
    return messages_moderated_by(user).filter(pk=message.pk).exists()
