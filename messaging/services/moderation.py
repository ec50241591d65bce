"""The committee hides a message, and restores it. Called by the committee's workspace (which
messaging may not import): the rule and the broadcast live here, beside the other writes."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from neighbors.models import AuditEntry, User
from neighbors.services import audit_record, decision_reason

from .. import events
from ..models import Message, Notification
from ..permissions import can_moderate_message
from .conversations import conversation_url
from .notifications import notification_send_translated


def _broadcast_if_shown(message: Message) -> None:
    # Only what the others were shown is news to them; `changed_at` moved, so a socket that
    # misses the frame learns it in its next catch-up.
    if message.status == Message.Status.VISIBLE:
        transaction.on_commit(lambda: events.broadcast_message(message, new=False))


@transaction.atomic
def message_hide(*, actor: User, message: Message, reason: str) -> Message:
    """Hide a published message: everyone else sees at once (on open sockets too) that the
    committee hid it, and nothing of what it said; its sender keeps it, with the reason."""
    if not can_moderate_message(actor, message):
        raise PermissionDenied
    reason = decision_reason(reason, missing=_("Say why it is hidden: its sender reads it."))
    if message.is_deleted:
        raise ValidationError(_("Its sender deleted this message: nothing of it is left to hide."))
    if message.status != Message.Status.VISIBLE:
        raise ValidationError(_("This message is not published: only its sender sees it."))
    now = timezone.now()
    hidden = Message.objects.filter(pk=message.pk, hidden_at__isnull=True, deleted_at__isnull=True).update(
        hidden_at=now, hidden_reason=reason, hidden_by=actor, changed_at=now
    )
    if not hidden:
        raise ValidationError(_("This message is already hidden."))
    message.refresh_from_db()
    conversation = message.conversation
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CONTENT_HIDDEN,
        community=conversation.community_id,
        subject=message.sender_id,
        target=f"message:{message.pk}",
        reason=reason,
    )
    notification_send_translated(
        user=message.sender,
        kind=Notification.Kind.DECISION,
        title=gettext_lazy("The committee hid your message in “%(title)s”"),
        params={"title": conversation.title},
        body=reason,
        url=conversation_url(conversation),
    )
    _broadcast_if_shown(message)
    return message


@transaction.atomic
def message_restore(*, actor: User, message: Message) -> Message:
    """Show a hidden message again, as it was, to everyone who may read its conversation."""
    if not can_moderate_message(actor, message):
        raise PermissionDenied
    now = timezone.now()
    if not Message.objects.filter(pk=message.pk, hidden_at__isnull=False).update(
        hidden_at=None, hidden_reason="", hidden_by=None, changed_at=now
    ):
        raise ValidationError(_("This message is not hidden."))
    message.refresh_from_db()
    conversation = message.conversation
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CONTENT_RESTORED,
        community=conversation.community_id,
        subject=message.sender_id,
        target=f"message:{message.pk}",
    )
    notification_send_translated(
        user=message.sender,
        kind=Notification.Kind.DECISION,
        title=gettext_lazy("Your message in “%(title)s” is shown again"),
        params={"title": conversation.title},
        url=conversation_url(conversation),
    )
    _broadcast_if_shown(message)
    return message
