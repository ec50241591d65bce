"""The sockets: chat (authenticate, check access, validate the frame, call a service), and each
person's stream of notifications and feed changes."""

import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import PermissionDenied, ValidationError

from neighbors.models import User
from neighbors.permissions import communities_visible_to

from . import events, selectors, services
from .models import MESSAGE_MAX_LENGTH
from .permissions import can_access_conversation

logger = logging.getLogger(__name__)

# Close codes in the 4000 range are the application's own (RFC 6455, 7.4.2).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_MALFORMED = 4400
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "try again later"
CLIENT_ID_MAX_LENGTH = 64


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        if not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await database_sync_to_async(can_access_conversation)(self.user, self.conversation_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        group = events.conversation_group(self.conversation_id)
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception:
            # A channel layer that is down or overloaded (e.g. a Redis timeout under
            # load) must not turn the handshake into an HTTP 500: refuse cleanly and
            # let the page reconnect with back-off.
            logger.exception("channel layer refused group_add for %s", group)
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        self.group = group
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = _parse_frame(text_data)
        if frame is None:
            await self.close(code=CLOSE_MALFORMED)
            return
        # Access can be revoked while the socket is open: check on every frame.
        if not await database_sync_to_async(can_access_conversation)(self.user, self.conversation_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if frame["type"] == "message.send":
            await self._send_message(frame)
        else:
            await self._catch_up(frame["after"])

    async def _send_message(self, frame: dict) -> None:
        try:
            message, _created = await database_sync_to_async(services.message_send)(
                actor=self.user, conversation_id=self.conversation_id, body=frame["body"], client_id=frame["client_id"]
            )
        except PermissionDenied:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        except ValidationError as error:
            await self._send_json({"type": "error", "client_id": frame["client_id"], "errors": error.messages})
            return
        await self._send_json({"type": "message.ack", "client_id": frame["client_id"], "id": message.pk})

    async def _catch_up(self, after: int) -> None:
        payloads = await database_sync_to_async(selectors.message_payloads_after)(self.conversation_id, after)
        for payload in payloads:
            await self._send_json({"type": "message", "message": payload})

    async def chat_message(self, event: dict) -> None:
        await self._send_json({"type": "message", "message": event["message"]})

    async def _send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))


def _parse_frame(text_data: str | None) -> dict | None:
    """The frame as a normalised dict, or None when it is not one we understand."""
    if text_data is None:
        return None
    try:
        frame = json.loads(text_data)
    except ValueError:
        return None
    if not isinstance(frame, dict):
        return None
    kind = frame.get("type")
    if kind == "message.send":
        body, client_id = frame.get("body"), frame.get("client_id", "")
        if not isinstance(body, str) or len(body) > MESSAGE_MAX_LENGTH * 2:
            return None
        if not isinstance(client_id, str) or len(client_id) > CLIENT_ID_MAX_LENGTH:
            return None
        return {"type": kind, "body": body, "client_id": client_id}
    if kind == "catch_up":
        after = frame.get("after")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            return None
        return {"type": kind, "after": after}
    return None


def _stream_groups(user: User) -> list[str]:
    """The person's own group, and the feed of each community they are an approved member of."""
    community_ids = communities_visible_to(user).values_list("pk", flat=True)
    return [events.user_group(user.pk), *(events.feed_group(pk) for pk in community_ids)]


def _still_active(user: User) -> bool:
    return User.objects.filter(pk=user.pk, is_active=True).exists()


class StreamConsumer(AsyncWebsocketConsumer):
    """One socket per open page: the person's notifications as they are stored, with the unread
    count, and a contentless "something changed" for each community feed they may read.

    The unread count travels with every frame, counted when the frame is sent, so the bell is
    right after a reconnect and whatever frames were missed; the client never adds things up.
    Feed frames carry only a community id (pages ask again over HTTP, where visibility rules
    apply), so a membership ended mid-session leaks nothing until the next reconnect drops it.
    """

    async def connect(self) -> None:
        self.user = self.scope["user"]
        if not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        groups = await database_sync_to_async(_stream_groups)(self.user)
        self.joined: list[str] = []
        try:
            for group in groups:
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.append(group)
        except Exception:
            # As in ChatConsumer: a failing layer refuses the handshake cleanly (1013), never a 500;
            # the page reconnects with back-off. Leave the groups already joined.
            logger.exception("channel layer refused group_add for the stream of user %s", self.user.pk)
            await self._leave_groups()
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        await self.accept()
        await self._send_json({"type": "hello", "unread": await self._unread()})

    async def disconnect(self, code: int) -> None:
        await self._leave_groups()

    async def _leave_groups(self) -> None:
        for group in getattr(self, "joined", []):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                # The groups expire on their own (group_expiry); a failing discard must not raise here.
                logger.warning("channel layer refused group_discard for %s", group, exc_info=True)
        self.joined = []

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Only {"type": "ping"} is understood; anything else gets an error frame, the socket stays."""
        frame = None
        if text_data is not None:
            try:
                frame = json.loads(text_data)
            except ValueError:
                frame = None
        if not isinstance(frame, dict) or frame.get("type") != "ping":
            await self._send_json({"type": "error", "error": "unsupported"})
            return
        # An account closed while the socket was open hears nothing more.
        if not await database_sync_to_async(_still_active)(self.user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self._send_json({"type": "pong", "unread": await self._unread()})

    async def stream_notification(self, event: dict) -> None:
        await self._send_json(
            {"type": "notification", "notification": event["notification"], "unread": await self._unread()}
        )

    async def stream_feed_changed(self, event: dict) -> None:
        await self._send_json({"type": "feed.changed", "community": event["community"]})

    async def _unread(self) -> int:
        return await database_sync_to_async(selectors.unread_notification_count)(self.user)

    async def _send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))
