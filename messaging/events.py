"""Event names and payloads; the only module that talks to the channel layer.

Everything here runs after commit (services register it with transaction.on_commit), so no
socket ever hears of something that was rolled back. The channel layer is not a delivery
guarantee (a socket that is down misses frames, a full channel drops them): the database is,
and clients catch up by the last id they have.
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.urls import reverse

from .models import Message, Notification, Participant

logger = logging.getLogger(__name__)

MESSAGE_NEW = "chat.message"
READ = "chat.read"
NOTIFICATION_NEW = "stream.notification"
UNREAD_CHANGED = "stream.unread"
FEED_CHANGED = "stream.feed_changed"


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def user_group(user_id: int) -> str:
    """Each person's own stream: notifications, whichever page they are on."""
    return f"user.{user_id}"


def feed_group(community_id: int) -> str:
    """Everyone looking at a community's requests: told only that something changed there."""
    return f"feed.{community_id}"


def message_payload(message: Message, *, viewer_id: int | None = None) -> dict:
    """What a socket or page receives of a message. A held or rejected message's text reaches
    only its sender (`viewer_id`); anyone else gets nothing of it, not even that it exists. One
    the committee hid is "hidden" to everyone else, with nothing of what it said; its sender
    keeps it, with the committee's reason."""
    own = viewer_id is not None and viewer_id == message.sender_id
    deleted = message.deleted_at is not None
    hidden = message.hidden_at is not None
    payload = {
        "id": message.pk,
        "conversation": message.conversation_id,
        "sender_id": message.sender_id,
        "sender": str(message.sender.profile),
        "kind": message.kind,
        "body": message.body,
        "client_id": message.client_id if own else "",
        "status": message.status,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
        "changed_at": message.changed_at.isoformat(),
        "contact_kind": message.contact_kind,
        "image": None,
        "thumbnail": None,
        "hidden": hidden,
        "hidden_reason": message.hidden_reason if own and hidden else "",
    }
    if message.kind == Message.Kind.IMAGE and message.image and not deleted:
        args = [message.conversation_id, message.pk]
        payload["image"] = reverse("messaging:message_image", args=args)
        payload["thumbnail"] = reverse("messaging:message_thumbnail", args=args)
    if (message.status != Message.Status.VISIBLE or hidden) and not own:
        # Those who were shown it before an edit held it (or the committee hid it) see it
        # withdrawn, without its text.
        payload.update(body="", image=None, thumbnail=None, contact_kind="")
    return payload


def _group_send_all(sends: list[tuple[str, dict]]) -> None:
    """Several group sends in one trip to the event loop, each one's failure logged, not raised:
    the message is saved, and whoever missed it catches up."""
    if not sends:
        return
    layer = get_channel_layer()

    async def send_all() -> None:
        results = await asyncio.gather(
            *(layer.group_send(group, event) for group, event in sends), return_exceptions=True
        )
        for (group, _event), result in zip(sends, results, strict=True):
            if isinstance(result, BaseException):
                logger.warning("channel layer refused group_send to %s: %r", group, result)

    async_to_sync(send_all)()


def broadcast_message(message: Message, *, new: bool) -> None:
    """A new, edited, deleted, released, hidden or restored message to the conversation's sockets;
    and, when it is new, an unread count to the stream of everyone else seated there."""
    sends = [(conversation_group(message.conversation_id), {"type": MESSAGE_NEW, "message": message_payload(message)})]
    if new and message.status == Message.Status.VISIBLE:
        others = (
            Participant.objects.filter(conversation_id=message.conversation_id)
            .exclude(user_id=message.sender_id)
            .values_list("user_id", flat=True)
        )
        sends += [(user_group(user_id), {"type": UNREAD_CHANGED}) for user_id in others]
        if message.conversation.kind == message.conversation.Kind.ANNOUNCEMENT:
            # Members read announcements without a seat until they open them: every open page
            # in the community (they all listen to its feed) recounts.
            sends.append((feed_group(message.conversation.community_id), {"type": UNREAD_CHANGED}))
    _group_send_all(sends)


def broadcast_read(conversation_id: int, user_id: int, up_to: int) -> None:
    """Someone read up to a message: the senders show "seen"."""
    _group_send_all([(conversation_group(conversation_id), {"type": READ, "user_id": user_id, "up_to": up_to})])


def broadcast_unread_changed(user_ids: list[int]) -> None:
    """The person's unread counts changed (they read something, elsewhere): every open page of
    theirs recounts."""
    _group_send_all([(user_group(user_id), {"type": UNREAD_CHANGED}) for user_id in user_ids])


def notification_payload(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "created_at": notification.created_at.isoformat(),
    }


def broadcast_notification(notification: Notification) -> None:
    """After commit only, like messages."""
    _group_send_all(
        [
            (
                user_group(notification.user_id),
                {"type": NOTIFICATION_NEW, "notification": notification_payload(notification)},
            )
        ]
    )


def broadcast_feed_changed(community_id: int) -> None:
    """No content at all: the page asks again over HTTP, where the visibility rules apply."""
    _group_send_all([(feed_group(community_id), {"type": FEED_CHANGED, "community": community_id})])
