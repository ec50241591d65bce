"""Sending, editing, deleting and reviewing messages. Every path (socket, HTTP form, upload)
goes through these, so the rules and the broadcast after commit are the same everywhere."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from neighbors import ratelimits
from neighbors.images import ProcessedImage
from neighbors.models import ContactMethod, Membership, Suspension, User
from neighbors.permissions import STAFF_ROLES
from neighbors.selectors import sensitive_words_in
from neighbors.services import Suspended, contact_share, decision_reason, files_delete_after_commit

from .. import events
from ..models import Conversation, Message, MessageRevision, Notification, Participant
from ..permissions import (
    blocked_in_conversation,
    can_access_conversation,
    can_delete_message,
    can_edit_message,
    can_review_message,
    can_share_contact_in,
    can_write_in,
    writing_suspension,
)
from .conversations import conversation_url, seat_for
from .notifications import notification_send_translated

logger = logging.getLogger(__name__)


class RateLimited(Exception):
    """Too many messages: refused before anything is stored. `retry_after` in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def text(self) -> str:
        """What the sender reads, in the active language."""
        return ngettext(
            "You are sending messages too fast. Wait %(seconds)d second and try again.",
            "You are sending messages too fast. Wait %(seconds)d seconds and try again.",
            self.retry_after,
        ) % {"seconds": self.retry_after}


def rate_limits_reset() -> None:
    """Forget every count (tests start each case clean)."""
    ratelimits.rate_limits_reset()


def _rate_limit_hit(user: User) -> None:
    """Count one send; refuse when over MESSAGE_RATE_LIMITS. If the store is down the message is
    still saved and reaches everyone by catch-up: sending goes on unlimited for the outage."""
    wait = ratelimits.rate_limit_hit("message", str(user.pk), settings.MESSAGE_RATE_LIMITS)
    if wait is not None:
        raise RateLimited(wait)


def _suspension_refusing(actor: User, conversation: Conversation) -> Suspension | None:
    """Why someone who reads here may not write: a suspension (None when it is something else).
    Asked only after can_write_in refused, to choose the words of the refusal."""
    if not can_access_conversation(actor, conversation.pk):
        return None
    return writing_suspension(actor, conversation)


def _conversation_for_writing(actor: User, conversation_id: int) -> Conversation:
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise PermissionDenied
    if not can_write_in(actor, conversation):
        # A suspended member keeps reading: they are told where, until when and why, and the
        # socket stays open (a PermissionDenied would close it).
        suspension = _suspension_refusing(actor, conversation)
        if suspension is not None:
            raise Suspended(suspension)
        raise PermissionDenied
    # A block is between two people; an announcement is to the whole community, and one
    # reader's block (their seat keeps only read state) must not silence it for everyone.
    if conversation.kind != Conversation.Kind.ANNOUNCEMENT and blocked_in_conversation(actor, conversation_id):
        raise ValidationError(_("You cannot send messages here: one of you has blocked the other."))
    return conversation


def _audience(conversation: Conversation) -> QuerySet[User]:
    """Everyone who reads the conversation now: its seats, and its community's committee and
    grid workers where they take part (they may not have a seat until they first look)."""
    audience = Q(conversation_seats__conversation=conversation)
    if conversation.staff_take_part:
        audience |= Q(
            memberships__community_id=conversation.community_id,
            memberships__status=Membership.Status.APPROVED,
            memberships__role__in=STAFF_ROLES,
        )
    return User.objects.filter(audience, is_active=True).distinct()


def _held_for(body: str, conversation: Conversation) -> str:
    return ", ".join(sensitive_words_in(body, community_id=conversation.community_id))[:300] if body else ""


@transaction.atomic
def message_send(
    *,
    actor: User,
    conversation_id: int,
    body: str = "",
    client_id: str = "",
    image: ProcessedImage | None = None,
    contact_kind: str = "",
) -> tuple[Message, bool]:
    """Persist a message, then broadcast it after commit. Returns (message, created).

    One of: text (`body`), an image through the pipeline (with an optional caption in `body`),
    or one of the sender's own contact details (`contact_kind`), shared by name with the
    people seated here through neighbors' disclosure path. A retry with the same client id
    returns the stored message, sends nothing new and does not count against the rate limit.
    A message with a listed sensitive word is stored but held for the committee's review:
    only the sender sees it until then.
    """
    conversation = _conversation_for_writing(actor, conversation_id)
    client_id = client_id.strip()
    if client_id:
        existing = Message.objects.filter(sender=actor, client_id=client_id).first()
        if existing is not None:
            if existing.conversation_id != conversation_id:
                raise ValidationError(_("That message id was already used."))
            if existing.status == Message.Status.VISIBLE:
                # The first attempt may have been saved by a server that died before broadcasting
                # it: say it again (clients keep messages by id, so a repeat changes nothing).
                transaction.on_commit(lambda: events.broadcast_message(existing, new=False))
            return existing, False
    _rate_limit_hit(actor)
    body = body.strip()
    kind = Message.Kind.TEXT
    if contact_kind:
        kind = Message.Kind.CONTACT
        body = ""
        if contact_kind not in ContactMethod.Kind.values:
            raise ValidationError(_("Unknown contact field."))
        if not can_share_contact_in(actor, conversation):
            raise ValidationError(_("Contact details cannot be shared here."))
        contact_share(
            owner=actor,
            viewers=list(_audience(conversation).exclude(pk=actor.pk)),
            kind=contact_kind,
            subject=conversation.subject,
        )
    elif image is not None:
        kind = Message.Kind.IMAGE
    elif not body:
        raise ValidationError({"body": _("Write something before sending.")})
    message = Message(
        conversation=conversation,
        sender=actor,
        kind=kind,
        body=body,
        contact_kind=contact_kind,
        client_id=client_id,
        held_for=_held_for(body, conversation),
    )
    if message.held_for:
        message.status = Message.Status.HELD
    else:
        message.published_at = timezone.now()
    message.full_clean(exclude=["conversation", "sender", "image", "thumbnail"], validate_constraints=False)
    if image is not None:
        message.image.save(image.image.name, image.image, save=False)
        message.thumbnail.save(image.thumbnail.name, image.thumbnail, save=False)
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # The same retry raced itself: the other attempt stored it (here, or in another
        # conversation, which makes this one a misuse of the id).
        existing = Message.objects.filter(sender=actor, client_id=client_id).first() if client_id else None
        if existing is None:
            raise
        if existing.conversation_id != conversation_id:
            raise ValidationError(_("That message id was already used.")) from None
        return existing, False
    # One's own message is read; and staff get a seat (with their read state) by writing.
    seat = seat_for(actor, conversation)
    Participant.objects.filter(pk=seat.pk, last_read_id__lt=message.pk).update(last_read_id=message.pk)
    if message.status == Message.Status.VISIBLE:
        transaction.on_commit(lambda: events.broadcast_message(message, new=True))
    return message, True


def _message_for(actor: User, message_id: int, conversation_id: int, *, deleting: bool = False) -> Message:
    """A message of this conversation that the actor may read; another conversation's id is
    refused like a missing one, so ids do not tell what exists elsewhere. A suspended member
    may still delete what they wrote (it only takes content away), not edit it."""
    message = (
        Message.objects.select_related("conversation").filter(pk=message_id, conversation_id=conversation_id).first()
    )
    if message is not None and not can_write_in(actor, message.conversation):
        suspension = _suspension_refusing(actor, message.conversation)
        if suspension is None:
            message = None
        elif not deleting:
            raise Suspended(suspension)
    if message is None:
        raise ValidationError(_("That is not a message of this conversation."))
    return message


@transaction.atomic
def message_edit(*, actor: User, conversation_id: int, message_id: int, body: str) -> Message:
    """Change the text within MESSAGE_EDIT_MINUTES. The old text is kept as a revision and
    everyone sees "edited"; a listed word in the new text holds the message for review."""
    message = _message_for(actor, message_id, conversation_id)
    if message.hidden_at is not None and message.sender_id == actor.pk:
        raise ValidationError(_("The committee hid this message: it can no longer be edited."))
    if not can_edit_message(actor, message):
        raise ValidationError(
            _("Only your own text messages can be edited, within %(minutes)d minutes of sending.")
            % {"minutes": settings.MESSAGE_EDIT_MINUTES}
        )
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write something, or delete the message instead.")})
    if body == message.body:
        return message
    was_published = message.status == Message.Status.VISIBLE
    MessageRevision.objects.create(message=message, body=message.body)
    now = timezone.now()
    message.body = body
    message.edited_at = now
    message.changed_at = now
    held_for = _held_for(body, message.conversation)
    if held_for:
        message.status = Message.Status.HELD
        message.held_for = held_for
    message.full_clean(exclude=["conversation", "sender", "image", "thumbnail"], validate_constraints=False)
    message.save(update_fields=["body", "edited_at", "changed_at", "status", "held_for"])
    if was_published:
        # Only what others were shown is news to them; a message awaiting review (or rejected)
        # was never theirs to know about, and its sender hears of the change from the consumer.
        transaction.on_commit(lambda: events.broadcast_message(message, new=False))
    return message


@transaction.atomic
def message_delete(*, actor: User, conversation_id: int, message_id: int) -> Message:
    """The sender deletes their message: its text, image or shared detail go, "message deleted"
    stays in its place for everyone."""
    message = _message_for(actor, message_id, conversation_id, deleting=True)
    if not can_delete_message(actor, message):
        raise ValidationError(_("You can delete only your own messages."))
    now = timezone.now()
    files_delete_after_commit(message.image, message.thumbnail)
    MessageRevision.objects.filter(message=message).delete()
    Message.objects.filter(pk=message.pk).update(body="", image="", thumbnail="", deleted_at=now, changed_at=now)
    message.refresh_from_db()
    if message.status == Message.Status.VISIBLE:
        # As for an edit: a message the others were never shown is not announced as deleted.
        transaction.on_commit(lambda: events.broadcast_message(message, new=False))
    return message


@transaction.atomic
def message_release(*, actor: User, message: Message) -> Message:
    """The committee finds a held message fine: it is published where it was written."""
    if not can_review_message(actor, message):
        raise PermissionDenied
    now = timezone.now()
    held = Message.objects.filter(pk=message.pk, status=Message.Status.HELD)
    if not held.update(status=Message.Status.VISIBLE, reviewed_by=actor, reviewed_at=now, changed_at=now):
        raise ValidationError(_("This message has already been reviewed."))
    Message.objects.filter(pk=message.pk, published_at__isnull=True).update(published_at=now)
    message.refresh_from_db()
    transaction.on_commit(lambda: events.broadcast_message(message, new=True))
    return message


@transaction.atomic
def message_reject(*, actor: User, message: Message, reason: str) -> Message:
    """The committee keeps a held message unpublished, and tells the sender why."""
    if not can_review_message(actor, message):
        raise PermissionDenied
    reason = decision_reason(reason, missing=_("Say why, so that the sender understands."))
    now = timezone.now()
    updated = Message.objects.filter(pk=message.pk, status=Message.Status.HELD).update(
        status=Message.Status.REJECTED, reviewed_by=actor, reviewed_at=now, review_reason=reason, changed_at=now
    )
    if not updated:
        raise ValidationError(_("This message has already been reviewed."))
    message.refresh_from_db()
    notification_send_translated(
        user=message.sender,
        kind=Notification.Kind.DECISION,
        title=gettext_lazy("Your message in “%(title)s” was not published"),
        params={"title": message.conversation.title},
        body=reason,
        url=conversation_url(message.conversation),
    )
    return message
