"""Opening conversations, who sits in them, and their read state."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from neighbors.models import Community, Membership, User
from neighbors.permissions import STAFF_ROLES

from .. import events
from ..models import Conversation, Notification, Participant
from ..permissions import can_access_conversation, can_ask_committee_in, can_open_committee_conversation
from .notifications import notification_send_translated


@transaction.atomic
def conversation_open(
    *, kind: str, subject: str, title: str, participants: Iterable[User], community: Community | None = None
) -> Conversation:
    """Open the conversation about `subject`, or add people to the one already open."""
    conversation, created = Conversation.objects.get_or_create(
        subject=subject, defaults={"kind": kind, "title": title[:200], "community": community}
    )
    if created:
        conversation.full_clean()
    for user in participants:
        seat, created = Participant.objects.get_or_create(conversation=conversation, user=user)
        if not created and seat.through_role:
            # Someone who read here through a role is now in it in their own right.
            Participant.objects.filter(pk=seat.pk).update(through_role=False)
    return conversation


@transaction.atomic
def conversation_retire(*, subject: str) -> None:
    """Free `subject` for a fresh conversation, e.g. when a request opens again after its
    helper left: the next helper must not read what was said before them. The old
    thread stays, under a subject of its own, for those who were in it."""
    conversation = Conversation.objects.select_for_update().filter(subject=subject).first()
    if conversation is not None:
        conversation.subject = f"{subject}#{conversation.pk}"
        conversation.save(update_fields=["subject"])


@transaction.atomic
def conversation_leave(*, subject: str, user: User) -> None:
    """Take one person out of the conversation about `subject`, e.g. the committee member who
    relayed a request for a resident, once the resident takes it over. What was said stays."""
    Participant.objects.filter(conversation__subject=subject, user=user).delete()


def committee_subject(community_id: int, member_id: int) -> str:
    return f"committee:{community_id}:member:{member_id}"


@transaction.atomic
def committee_conversation_open(*, actor: User, community: Community, member: User) -> Conversation:
    """The one conversation between a member and their community's committee (and grid workers),
    opened by either side. There is no other way to write to someone who is not a partner."""
    if not can_open_committee_conversation(actor, community, member):
        raise PermissionDenied
    return conversation_open(
        kind=Conversation.Kind.COMMITTEE,
        subject=committee_subject(community.pk, member.pk),
        title=community.name,
        participants=[member],
        community=community,
    )


@transaction.atomic
def announcement_channel(*, community: Community) -> Conversation:
    """The community's announcement channel: the committee writes, members read. Opened the
    first time anyone looks, so a new community needs no setup."""
    return conversation_open(
        kind=Conversation.Kind.ANNOUNCEMENT,
        subject=f"announcement:{community.pk}",
        title=community.name,
        participants=[],
        community=community,
    )


@transaction.atomic
def conversation_ask_committee(*, actor: User, conversation: Conversation) -> Conversation:
    """Someone in a request's conversation asks the committee in: from now on the committee and
    grid workers of the request's community read and write there, and they are told."""
    if not can_ask_committee_in(actor, conversation):
        raise PermissionDenied
    updated = Conversation.objects.filter(pk=conversation.pk, committee_asked_at__isnull=True).update(
        committee_asked_at=timezone.now()
    )
    conversation.refresh_from_db(fields=["committee_asked_at"])
    if not updated:
        return conversation
    staff = User.objects.filter(
        memberships__community_id=conversation.community_id,
        memberships__status=Membership.Status.APPROVED,
        memberships__role__in=STAFF_ROLES,
        is_active=True,
    ).select_related("profile")
    for person in staff.distinct():
        notification_send_translated(
            user=person,
            kind=Notification.Kind.ESCALATION,
            title=gettext_lazy("You were asked into the conversation about “%(title)s”"),
            params={"title": conversation.title},
            url=conversation_url(conversation),
        )
    return conversation


def conversation_url(conversation: Conversation) -> str:
    return f"/messages/{conversation.pk}/"


def seat_for(user: User, conversation: Conversation) -> Participant:
    """The person's seat; made on first use for the staff kinds and announcements, where access
    comes from a role, as a seat that only keeps read state (through_role) and grants nothing."""
    seat, _created = Participant.objects.get_or_create(
        conversation=conversation, user=user, defaults={"through_role": True}
    )
    return seat


@transaction.atomic
def conversation_mark_read(*, actor: User, conversation_id: int, up_to: int) -> int:
    """Move the person's read mark forward to `up_to` (never back, never past the newest message)
    and tell the others, who show "seen" under what they sent. Returns the mark."""
    if not can_access_conversation(actor, conversation_id):
        raise PermissionDenied
    if up_to < 0:
        raise ValidationError(_("That is not a message of this conversation."))
    conversation = Conversation.objects.get(pk=conversation_id)
    newest = conversation.messages.aggregate(newest=Max("id"))["newest"] or 0
    up_to = min(up_to, newest)
    seat = seat_for(actor, conversation)
    moved = Participant.objects.filter(pk=seat.pk, last_read_id__lt=up_to).update(last_read_id=up_to)
    if moved:
        if conversation.kind != Conversation.Kind.ANNOUNCEMENT:
            # Who has read an announcement is nobody's business but the reader's.
            transaction.on_commit(lambda: events.broadcast_read(conversation_id, actor.pk, up_to))
        transaction.on_commit(lambda: events.broadcast_unread_changed([actor.pk]))
        return up_to
    seat.refresh_from_db(fields=["last_read_id"])
    return seat.last_read_id
