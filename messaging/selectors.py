from datetime import datetime, timedelta

from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from neighbors.data_rights import isoformat
from neighbors.models import Community, User
from neighbors.permissions import communities_visible_to

from .events import message_payload
from .models import Conversation, EmailOptOut, Message, Notification, Participant
from .permissions import conversations_visible_to, held_messages_reviewable_by

HISTORY_SIZE = 50
CATCH_UP_BATCH = 200
# Two messages sent at once can commit out of id order: a client that already has id 11 may
# miss id 10 committed just after. Changes are looked for this much before the client's mark,
# so such a message comes with the next catch-up (clients keep messages by id: repeats are harmless).
CATCH_UP_OVERLAP = timedelta(seconds=30)


def _readable_by(viewer_id: int) -> Q:
    """Messages a person may see in a conversation they may read: the published ones, and their
    own that await (or failed) review."""
    return Q(status=Message.Status.VISIBLE) | Q(sender_id=viewer_id)


def _unread_for(user: User) -> QuerySet[Message]:
    """Published, undeleted, unhidden messages from others after the person's read mark, in the
    conversations they may read (no seat yet, as in a new member's announcements: all of them)."""
    last_read = Participant.objects.filter(conversation=OuterRef("conversation"), user=user).values("last_read_id")[:1]
    return (
        Message.objects.filter(
            conversation__in=conversations_visible_to(user).values("pk"),
            status=Message.Status.VISIBLE,
            deleted_at__isnull=True,
            hidden_at__isnull=True,
        )
        .exclude(sender=user)
        .annotate(read_mark=Coalesce(Subquery(last_read), 0))
        .filter(id__gt=F("read_mark"))
    )


def unread_message_counts(user: User) -> dict[int, int]:
    """Unread messages per conversation id, for the conversations that have any."""
    if not user.is_authenticated:
        return {}
    rows = _unread_for(user).values("conversation").annotate(count=Count("id")).values_list("conversation", "count")
    return dict(rows)


def unread_message_total(user: User) -> int:
    return sum(unread_message_counts(user).values())


def conversation_list(user: User) -> list[Conversation]:
    """The person's conversations, the most recently active first, each with `unread` and
    `last_message_at` set; their communities' announcement channels come through
    announcement_communities."""
    newest = Message.objects.filter(conversation=OuterRef("pk"), status=Message.Status.VISIBLE).order_by("-id")
    conversations = list(
        conversations_visible_to(user)
        .select_related("community")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.select_related("user__profile").order_by("joined_at", "pk"),
            )
        )
        .annotate(last_message_at=Subquery(newest.values("created_at")[:1]))
        .order_by(F("last_message_at").desc(nulls_last=True), "-created_at", "-id")
    )
    unread = unread_message_counts(user)
    for conversation in conversations:
        conversation.unread = unread.get(conversation.pk, 0)
    return conversations


def announcement_communities(user: User) -> QuerySet[Community]:
    """Communities whose announcement channel the person may read but has not opened yet."""
    opened = Conversation.objects.filter(kind=Conversation.Kind.ANNOUNCEMENT).values("community")
    return communities_visible_to(user).exclude(pk__in=opened).order_by("name")


def conversation_for_subject(user: User, subject: str) -> Conversation | None:
    return conversations_visible_to(user).filter(subject=subject).first()


def recent_messages(conversation: Conversation, viewer: User, limit: int = HISTORY_SIZE) -> list[Message]:
    newest = (
        conversation.messages.filter(_readable_by(viewer.pk)).select_related("sender__profile").order_by("-id")[:limit]
    )
    return list(reversed(newest))


def message_payloads_after(
    conversation_id: int, after_id: int, *, viewer_id: int, changed_after: datetime | None = None
) -> tuple[list[dict], bool]:
    """What a reconnecting client missed, oldest first: the messages after the last id it has,
    then those it has that changed since `changed_after` (edited, deleted, released). Returns
    (payloads, more): at most CATCH_UP_BATCH new ones at a time; the client asks again."""
    readable = Message.objects.filter(_readable_by(viewer_id), conversation_id=conversation_id).select_related(
        "sender__profile"
    )
    new = list(readable.filter(id__gt=after_id).order_by("id")[: CATCH_UP_BATCH + 1])
    more = len(new) > CATCH_UP_BATCH
    new = new[:CATCH_UP_BATCH]
    changed = []
    if changed_after is not None:
        # Those it has (ids up to what it said it has) that changed since: edited, deleted, and
        # released from review (an old id with a new change time). And those it was shown that
        # an edit sent back for review, so that it shows them withdrawn.
        withdrawn = Q(published_at__isnull=False) & ~Q(status=Message.Status.VISIBLE)
        changed = list(
            Message.objects.filter(_readable_by(viewer_id) | withdrawn, conversation_id=conversation_id)
            .filter(id__lte=after_id, changed_at__gt=changed_after - CATCH_UP_OVERLAP)
            .select_related("sender__profile")
            .order_by("id")
        )
    return [message_payload(message, viewer_id=viewer_id) for message in changed + new], more


def read_marks_of(conversation_id: int) -> dict[int, int]:
    """Each seated person's read mark, for "seen" under what one sent."""
    seats = Participant.objects.filter(conversation_id=conversation_id).exclude(
        conversation__kind=Conversation.Kind.ANNOUNCEMENT
    )
    return dict(seats.values_list("user_id", "last_read_id"))


def message_in(conversation: Conversation, message_id: int, viewer: User) -> Message | None:
    """One message to open (its photo, its shared detail, to report it): one the committee hid
    is its sender's alone; in the list the others see only that it was hidden."""
    openable = _readable_by(viewer.pk) & (Q(hidden_at__isnull=True) | Q(sender_id=viewer.pk))
    return conversation.messages.filter(openable, pk=message_id).select_related("sender__profile").first()


HELD_CONTEXT_SIZE = 3


def _with_context(messages: QuerySet[Message]) -> list[Message]:
    """The messages, each with `context`: the published messages just before it in its
    conversation, oldest first. A fixed number of queries: one subquery per place before it,
    then one fetch of them all."""
    before = (
        Message.objects.filter(
            conversation=OuterRef("conversation"),
            id__lt=OuterRef("pk"),
            status=Message.Status.VISIBLE,
            deleted_at__isnull=True,
            hidden_at__isnull=True,
        )
        .order_by("-id")
        .values("id")
    )
    rows = list(
        messages.annotate(
            **{f"context_{place}": Subquery(before[place : place + 1]) for place in range(HELD_CONTEXT_SIZE)}
        )
    )
    places = [[getattr(message, f"context_{place}") for place in range(HELD_CONTEXT_SIZE)] for message in rows]
    context = Message.objects.select_related("sender__profile").in_bulk({pk for row in places for pk in row} - {None})
    for message, nearest_first in zip(rows, places, strict=True):
        message.context = [context[pk] for pk in reversed(nearest_first) if pk is not None]
    return rows


def held_messages_for(user: User, limit: int = 50) -> list[Message]:
    """What the filter held in the communities the person works for, oldest first, each with
    `context` for the reviewer."""
    return _with_context(
        held_messages_reviewable_by(user)
        .select_related("sender__profile", "conversation__community")
        .order_by("created_at", "pk")[:limit]
    )


def messages_with_context(message_ids: set[int]) -> dict[int, Message]:
    """Messages by id, each with `context` (what came just before it), so that a reviewer judges
    a reported message where it was said without being a participant: the reporter, who is
    one, asked them to look. No rule of its own: the caller passes the ids of reports the
    person may review (committee.permissions.reports_reviewable_by)."""
    messages = Message.objects.filter(pk__in=message_ids).select_related("sender__profile")
    return {message.pk: message for message in _with_context(messages)}


def email_opt_outs_of(user: User) -> set[str]:
    return set(EmailOptOut.objects.filter(user=user).values_list("kind", flat=True))


def notifications_of(user: User) -> QuerySet[Notification]:
    """A person's own notifications, newest first; nobody else's are reachable through it."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_notification_count(user: User) -> int:
    # Served by the (user, read_at) index: cheap enough for every page's header bell.
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def unread_counts(user: User) -> dict[str, int]:
    """The header's two numbers: unread notifications (the bell) and unread messages."""
    return {"unread": unread_notification_count(user), "unread_messages": unread_message_total(user)}


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
