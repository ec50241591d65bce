from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from neighbors.models import User

from . import events
from .models import Conversation, Message, Notification, Participant
from .permissions import blocked_in_conversation, can_access_conversation


@transaction.atomic
def conversation_open(*, kind: str, subject: str, title: str, participants: Iterable[User]) -> Conversation:
    """Open the conversation about `subject`, or add people to the one already open."""
    conversation, created = Conversation.objects.get_or_create(subject=subject, defaults={"kind": kind, "title": title})
    if created:
        conversation.full_clean()
    for user in participants:
        Participant.objects.get_or_create(conversation=conversation, user=user)
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
def message_send(*, actor: User, conversation_id: int, body: str, client_id: str = "") -> tuple[Message, bool]:
    """Persist a message, then broadcast it after commit. Returns (message, created).

    A retry with the same client id returns the stored message and sends nothing new.
    """
    if not can_access_conversation(actor, conversation_id):
        raise PermissionDenied
    if blocked_in_conversation(actor, conversation_id):
        raise ValidationError(_("You cannot send messages here: one of you has blocked the other."))
    client_id = client_id.strip()
    if client_id:
        existing = Message.objects.filter(sender=actor, client_id=client_id).select_related("sender__profile").first()
        if existing is not None:
            if existing.conversation_id != conversation_id:
                raise ValidationError(_("That message id was already used."))
            return existing, False
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write something before sending.")})
    message = Message(conversation_id=conversation_id, sender=actor, body=body, client_id=client_id)
    message.full_clean(exclude=["conversation", "sender"], validate_constraints=False)
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # The same retry raced itself: the other attempt stored it.
        existing = Message.objects.filter(sender=actor, client_id=client_id, conversation_id=conversation_id).first()
        if client_id and existing is not None:
            return existing, False
        raise
    transaction.on_commit(lambda: events.broadcast_message(message))
    return message, True


@transaction.atomic
def conversation_leave(*, subject: str, user: User) -> None:
    """Take one person out of the conversation about `subject`, e.g. the committee member who
    relayed a request for a resident, once the resident takes it over. What was said stays."""
    Participant.objects.filter(conversation__subject=subject, user=user).delete()


@transaction.atomic
def notification_send(*, user: User, kind: str, title: str, body: str = "", url: str = "") -> Notification:
    """Store a notification, then push it to the person's stream after commit."""
    notification = Notification(user=user, kind=kind, title=title[:200], body=body[:500], url=url)
    notification.full_clean()
    notification.save()
    transaction.on_commit(lambda: events.broadcast_notification(notification))
    return notification


def feed_changed(*, community_id: int) -> None:
    """Tell the pages listing a community's requests to refresh, once the change is committed."""
    transaction.on_commit(lambda: events.broadcast_feed_changed(community_id))


@transaction.atomic
def user_data_erase(*, user: User) -> None:
    """The messaging part of deleting an account (registered in apps.py, run by neighbors' account_delete).

    The messages stay, because the other people need the thread; they name the sender
    through the profile, which will read "Deleted user". The client ids, which a
    client chose and might tie messages to a device, go; and the person leaves every
    conversation.
    """
    Message.objects.filter(sender=user).exclude(client_id="").update(client_id="")
    Participant.objects.filter(user=user).delete()
    Notification.objects.filter(user=user).delete()


@transaction.atomic
def notifications_mark_read(*, user: User) -> int:
    """Mark every unread notification of the person read; returns how many were."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one notification read, only by its owner; reading it again keeps the first time."""
    if notification.user_id != user.pk:
        raise PermissionDenied
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    notification.refresh_from_db(fields=["read_at"])
    return notification
