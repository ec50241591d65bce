from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from neighbors.data_rights import isoformat
from neighbors.models import User

from .events import message_payload
from .models import Conversation, Message, Notification, Participant
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


def notifications_of(user: User) -> QuerySet[Notification]:
    """A person's own notifications, newest first; nobody else's are reachable through it."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_notification_count(user: User) -> int:
    # Served by the (user, read_at) index: cheap enough for every page's header bell.
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def user_data_export(user: User) -> dict:
    """The conversations the person is in and the messages they sent; others' messages are theirs."""
    seats = Participant.objects.filter(user=user).select_related("conversation").order_by("joined_at", "pk")
    sent = Message.objects.filter(sender=user).select_related("conversation").order_by("id")
    conversation_count, message_count = len(seats), len(sent)
    return {
        "summary": [
            ngettext("You are in %(count)d conversation.", "You are in %(count)d conversations.", conversation_count)
            % {"count": conversation_count},
            ngettext("You sent %(count)d message.", "You sent %(count)d messages.", message_count)
            % {"count": message_count},
        ],
        "conversations": [{"title": seat.conversation.title, "joined_at": isoformat(seat.joined_at)} for seat in seats],
        "messages_sent": [
            {"conversation": message.conversation.title, "body": message.body, "sent_at": isoformat(message.created_at)}
            for message in sent
        ],
    }


def user_data_consequences(user: User) -> list[str]:
    if not Message.objects.filter(sender=user).exists():
        return []
    return [
        _(
            "Your messages stay in their conversations for the other people there, shown as from “Deleted user”; "
            "you leave every conversation."
        )
    ]
