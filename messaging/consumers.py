"""The sockets: chat (authenticate, check access, validate the frame, call a service), and each
person's stream of notifications, unread counts and feed changes.

The chat protocol, client to server (JSON text frames, at most MAX_FRAME_CHARS):

    {"type": "message.send", "client_id": "…", "body": "…"}
    {"type": "message.edit", "id": 12, "body": "…"}
    {"type": "message.delete", "id": 12}
    {"type": "read", "up_to": 12}
    {"type": "catch_up", "after": 12, "changed_after": "2026-11-23T10:00:00+00:00" | null}
    {"type": "ping"}

Server to client: "message.ack" {client_id, id, status, message}; "message" {message} for a new
or changed message (clients upsert by id); "read" {user_id, up_to}; "caught_up" {last_id,
more, now, reads}; "pong"; "error" {code, errors, client_id?, id?, retry_after?}, where code is
"invalid", "rate_limited" or "suspended" (the sender is suspended in the community: nothing was
stored, the text says until when and why).

Close codes: 4401 not logged in, 4403 no access (now), 4400 a frame we cannot read, 4429 too
many refused sends, 1009 a frame too big, 1013 the channel layer refused, try again later.
"""

import json
import logging
from datetime import datetime

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from neighbors.models import User
from neighbors.permissions import communities_visible_to
from neighbors.services import Suspended

from . import events, selectors, services
from .models import MESSAGE_MAX_LENGTH, Message
from .permissions import can_access_conversation

logger = logging.getLogger(__name__)

# Close codes in the 4000 range are the application's own (RFC 6455, 7.4.2).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_MALFORMED = 4400
CLOSE_RATE_LIMITED = 4429
CLOSE_TOO_BIG = 1009  # RFC 6455 "message too big"
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "try again later"
CLIENT_ID_MAX_LENGTH = 64
# A 2,000-character message escaped as \uXXXX is 12,000 characters; anything much bigger is
# not a frame our page sends.
MAX_FRAME_CHARS = 16_384


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        self.strikes = 0
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
        await database_sync_to_async(services.presence_seen)(user=self.user)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except Exception:
                # The group membership expires on its own (group_expiry).
                logger.warning("channel layer refused group_discard for %s", self.group, exc_info=True)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None and len(text_data) > MAX_FRAME_CHARS:
            await self.close(code=CLOSE_TOO_BIG)
            return
        frame = _parse_frame(text_data)
        if frame is None:
            await self.close(code=CLOSE_MALFORMED)
            return
        replies, close_code = await database_sync_to_async(self._answer)(frame)
        for reply in replies:
            await self._send_json(reply)
        if close_code is not None:
            await self.close(code=close_code)
        elif frame["type"] == "ping":
            await self._rejoin()

    async def _rejoin(self) -> None:
        """The layer forgets a group membership after group_expiry (a day), however long the
        socket stays open; joining again on each ping renews it."""
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
        except Exception:
            logger.warning("channel layer refused group_add for %s on ping", self.group, exc_info=True)

    # What follows runs on the database thread: one trip there per frame, not one per query
    # (every trip queues behind every other socket's on that one thread; bench/README.md).

    def _answer(self, frame: dict) -> tuple[list[dict], int | None]:
        """The frames to send back, and a close code if the socket must close."""
        # Access can be revoked while the socket is open: check on every frame.
        if not can_access_conversation(self.user, self.conversation_id):
            return [], CLOSE_FORBIDDEN
        handler = {
            "message.send": self._send_message,
            "message.edit": self._edit_message,
            "message.delete": self._delete_message,
            "read": self._read,
            "catch_up": self._catch_up,
            "ping": self._ping,
        }[frame["type"]]
        try:
            return handler(frame)
        except PermissionDenied:
            return [], CLOSE_FORBIDDEN

    def _send_message(self, frame: dict) -> tuple[list[dict], int | None]:
        client_id = frame["client_id"]
        try:
            message, _created = services.message_send(
                actor=self.user, conversation_id=self.conversation_id, body=frame["body"], client_id=client_id
            )
        except services.RateLimited as limited:
            self.strikes += 1
            error = {
                "type": "error",
                "code": "rate_limited",
                "client_id": client_id,
                "retry_after": limited.retry_after,
                "errors": [limited.text],
            }
            return [error], CLOSE_RATE_LIMITED if self.strikes >= settings.MESSAGE_RATE_STRIKES else None
        except ValidationError as error:
            frame = {"type": "error", "code": _error_code(error), "client_id": client_id, "errors": error.messages}
            return [frame], None
        ack = {
            "type": "message.ack",
            "client_id": client_id,
            "id": message.pk,
            "status": message.status,
            "message": events.message_payload(message, viewer_id=self.user.pk),
        }
        return [ack], None

    def _edit_message(self, frame: dict) -> tuple[list[dict], int | None]:
        return self._change(services.message_edit, frame, body=frame["body"])

    def _delete_message(self, frame: dict) -> tuple[list[dict], int | None]:
        return self._change(services.message_delete, frame)

    def _change(self, service, frame: dict, **kwargs) -> tuple[list[dict], int | None]:
        """An edit or a delete: everyone, the sender included, hears the result of a published
        message as a "message" frame from the broadcast. A message awaiting review is nobody
        else's business and is not broadcast, so its sender hears the result here."""
        try:
            message = service(actor=self.user, conversation_id=self.conversation_id, message_id=frame["id"], **kwargs)
        except ValidationError as error:
            return [{"type": "error", "code": _error_code(error), "id": frame["id"], "errors": error.messages}], None
        if message.status != Message.Status.VISIBLE:
            return [{"type": "message", "message": events.message_payload(message, viewer_id=self.user.pk)}], None
        return [], None

    def _read(self, frame: dict) -> tuple[list[dict], int | None]:
        try:
            services.conversation_mark_read(actor=self.user, conversation_id=self.conversation_id, up_to=frame["up_to"])
        except ValidationError as error:
            return [{"type": "error", "code": "invalid", "errors": error.messages}], None
        return [], None

    def _catch_up(self, frame: dict) -> tuple[list[dict], int | None]:
        now = timezone.now()
        payloads, more = selectors.message_payloads_after(
            self.conversation_id, frame["after"], viewer_id=self.user.pk, changed_after=frame["changed_after"]
        )
        reads = selectors.read_marks_of(self.conversation_id)
        caught_up = {
            "type": "caught_up",
            "last_id": max([frame["after"], *(payload["id"] for payload in payloads)]),
            "more": more,
            # Changes after this moment come live or in the next catch-up's changed_after.
            "now": now.isoformat(),
            "reads": {str(user_id): up_to for user_id, up_to in reads.items()},
        }
        return [*({"type": "message", "message": payload} for payload in payloads), caught_up], None

    def _ping(self, frame: dict) -> tuple[list[dict], int | None]:
        services.presence_seen(user=self.user)
        return [{"type": "pong"}], None

    # The channel layer's events. These touch no database, so they skip the connection
    # housekeeping Channels runs before every handler (a trip to the database thread, once per
    # socket per message: a room of 100 made 100 trips for each message; bench/README.md).
    EVENTS_WITHOUT_DATABASE = frozenset({events.MESSAGE_NEW, events.READ})

    async def dispatch(self, message: dict) -> None:
        if message["type"] in self.EVENTS_WITHOUT_DATABASE:
            await getattr(self, get_handler_name(message))(message)
            return
        await super().dispatch(message)

    async def chat_message(self, event: dict) -> None:
        await self._send_json({"type": "message", "message": event["message"]})

    async def chat_read(self, event: dict) -> None:
        await self._send_json({"type": "read", "user_id": event["user_id"], "up_to": event["up_to"]})

    async def _send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))


def _error_code(error: ValidationError) -> str:
    """The error frame's code: "suspended" when a suspension refused it (the text says until
    when and why; the socket stays open, reading goes on), "invalid" for any other refusal."""
    return "suspended" if isinstance(error, Suspended) else "invalid"


def _message_id(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


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
    if kind == "message.edit":
        message_id, body = _message_id(frame.get("id")), frame.get("body")
        if message_id is None or not isinstance(body, str) or len(body) > MESSAGE_MAX_LENGTH * 2:
            return None
        return {"type": kind, "id": message_id, "body": body}
    if kind == "message.delete":
        message_id = _message_id(frame.get("id"))
        return None if message_id is None else {"type": kind, "id": message_id}
    if kind == "read":
        up_to = _message_id(frame.get("up_to"))
        return None if up_to is None else {"type": kind, "up_to": up_to}
    if kind == "catch_up":
        after = _message_id(frame.get("after"))
        changed_after = _changed_after(frame.get("changed_after"))
        if after is None or changed_after is False:
            return None
        return {"type": kind, "after": after, "changed_after": changed_after}
    if kind == "ping":
        return {"type": kind}
    return None


def _changed_after(value) -> datetime | None | bool:
    """None when absent, the aware datetime it names, or False when it names none."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return False
    if parsed is None or timezone.is_naive(parsed):
        return False
    return parsed


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
        await database_sync_to_async(services.presence_seen)(user=self.user)
        await self._send_json({"type": "hello", **await self._counts()})

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
        await database_sync_to_async(services.presence_seen)(user=self.user)
        await self._send_json({"type": "pong", **await self._counts()})

    async def stream_notification(self, event: dict) -> None:
        await self._send_json({"type": "notification", "notification": event["notification"], **await self._counts()})

    async def stream_unread(self, event: dict) -> None:
        """A new message in one of the person's conversations, or something read elsewhere."""
        await self._send_json({"type": "unread", **await self._counts()})

    async def stream_feed_changed(self, event: dict) -> None:
        await self._send_json({"type": "feed.changed", "community": event["community"]})

    async def _counts(self) -> dict:
        """Counted when the frame is sent: right after a reconnect, whatever frames were missed."""
        return await database_sync_to_async(selectors.unread_counts)(self.user)

    async def _send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))
