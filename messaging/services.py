from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from neighbors.models import User

from . import events
from .models import Conversation, Message, Participant
from .permissions import can_access_conversation


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
def message_send(*, actor: User, conversation_id: int, body: str, client_id: str = "") -> tuple[Message, bool]:
    """Persist a message, then broadcast it after commit. Returns (message, created).

    A retry with the same client id returns the stored message and sends nothing new.
    """
    if not can_access_conversation(actor, conversation_id):
        raise PermissionDenied
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
