"""Chat across real server processes (issue 6): uvicorn processes sharing PostgreSQL and
Redis, clients on real WebSockets, and faults while the clients keep sending.

Only in the PostgreSQL + Redis profile: separate processes need a database and a channel layer
they share. The servers run on pytest-django's test database, so the tests commit their data
(transaction=True) for the servers to see it.
"""

import asyncio
import contextlib
import http.client
import json
import os
import secrets
import uuid
from urllib.parse import urlencode

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.db import connection
from django.test import Client
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from messaging.models import Conversation, Message
from messaging.services import conversation_open
from tests.conftest import require_service

from .clients import (
    FIRST_BACKOFF_SECONDS,
    FRAME_TIMEOUT_SECONDS,
    LAST_BACKOFF_SECONDS,
    SETTLE_TIMEOUT_SECONDS,
    ChatClient,
    eventually,
    open_socket,
)
from .servers import REDIS_SERVER, ServerProcess, ServerProcesses, database_url, redis_error

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Small numbers: the machine has two cores, shared with other test runs.
MESSAGE_COUNT = 60
FAULT_AT = 20
SEND_INTERVAL_SECONDS = 0.04
POSTS_DURING_OUTAGE = 8
LIVE_TIMEOUT_SECONDS = 5


@pytest.fixture(scope="module", autouse=True)
def shared_services():
    """Checked before anything else, so that a run without them skips without building a database."""
    require_service("Redis", bool(settings.REDIS_URL), lambda: redis_error(settings.REDIS_URL))
    require_service("PostgreSQL", connection.vendor == "postgresql", lambda: None)


@pytest.fixture
def processes(tmp_path):
    """The server processes of one test, all stopped at its end whatever happened."""
    started = ServerProcesses(tmp_path, prefix=f"multiprocess-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    yield started
    started.stop_all()


@contextlib.contextmanager
def logs_on_failure(processes: ServerProcesses):
    """A failure says what the servers said."""
    try:
        yield
    except Exception as error:
        error.add_note(f"server output:\n{processes.logs()}")
        raise


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def conversation_of(*people, community) -> Conversation:
    return conversation_open(
        kind=Conversation.Kind.CLAIM,
        subject=f"aid_post:multiprocess-{uuid.uuid4().hex[:8]}",
        title="修水龙头",
        participants=people,
        community=community,
    )


async def next_frame(socket: ClientConnection, kind: str, message_id: int | None = None) -> dict:
    """The next frame of this type (about this message), passing over the others."""
    try:
        async with asyncio.timeout(FRAME_TIMEOUT_SECONDS):
            while True:
                frame = json.loads(await socket.recv())
                if frame["type"] == kind and (message_id is None or frame["message"]["id"] == message_id):
                    return frame
    except TimeoutError:
        raise AssertionError(f"no {kind!r} frame (message {message_id}) within {FRAME_TIMEOUT_SECONDS} s") from None
    except ConnectionClosed as closed:
        raise AssertionError(f"the socket closed ({closed}) before a {kind!r} frame (message {message_id})") from closed


def test_a_message_sent_through_one_server_reaches_a_socket_on_the_other(processes, resident, helper, community):
    """Both ways, right after connecting and again after both sockets sat idle for longer than
    the channel layer blocks in one receive from Redis (a page stays open for hours)."""
    # given two server processes sharing Redis and the database, the poster on one, the helper on the other
    conversation = conversation_of(resident, helper, community=community)
    url = database_url(connection.settings_dict)
    first = processes.asgi(database_url=url, redis_url=settings.REDIS_URL)
    second = processes.asgi(database_url=url, redis_url=settings.REDIS_URL)
    poster_cookie, helper_cookie = session_cookie(resident), session_cookie(helper)
    said = [("明天上午可以吗？", "可以，九点到"), ("我到楼下了", "马上下来")]

    async def scenario() -> None:
        first.start()
        second.start()
        await asyncio.gather(first.wait_ready(), second.wait_ready())
        async with (
            open_socket(first.port, conversation.pk, poster_cookie) as poster,
            open_socket(second.port, conversation.pk, helper_cookie) as neighbour,
        ):
            for round_number, (question, answer) in enumerate(said):
                if round_number:
                    await asyncio.sleep(RedisChannelLayer.brpop_timeout + 1)
                for sender, receiver, body in [(poster, neighbour, question), (neighbour, poster, answer)]:
                    # when one sends
                    await sender.send(json.dumps({"type": "message.send", "client_id": uuid.uuid4().hex, "body": body}))
                    ack = await next_frame(sender, "message.ack")
                    # then the socket on the other server hears that message, under the acknowledged id
                    heard = await next_frame(receiver, "message", message_id=ack["id"])
                    assert heard["message"]["body"] == body

    with logs_on_failure(processes):
        asyncio.run(scenario())
        assert list(
            Message.objects.filter(conversation=conversation).order_by("id").values_list("body", flat=True)
        ) == [body for pair in said for body in pair]


class FormPoster:
    """A page without WebSockets: it posts the chat form (the same service stores it), keeps
    what the server did not answer with the redirect that means stored, and posts that again,
    with the same client id, when asked to retry."""

    def __init__(self, name: str, user, server: ServerProcess, conversation: Conversation) -> None:
        self.name = name
        self.server = server
        self.conversation = conversation
        self.csrf_token = secrets.token_hex(16)
        self.cookie = f"{session_cookie(user)}; {settings.CSRF_COOKIE_NAME}={self.csrf_token}"
        self.unstored: dict[str, str] = {}
        self.statuses: list[int] = []  # every answer other than the redirect

    async def send(self, client_id: str, body: str) -> None:
        self.unstored[client_id] = body
        await self._send(client_id, body)

    async def retry(self) -> None:
        """Until everything is stored, with back-off."""
        deadline = asyncio.get_running_loop().time() + SETTLE_TIMEOUT_SECONDS
        backoff = FIRST_BACKOFF_SECONDS
        for client_id, body in list(self.unstored.items()):
            while not await self._send(client_id, body):
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"{client_id} not stored within {SETTLE_TIMEOUT_SECONDS} s: {self.statuses}")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, LAST_BACKOFF_SECONDS)

    async def _send(self, client_id: str, body: str) -> bool:
        status = await asyncio.to_thread(self._post, client_id, body)
        if status == http.HTTPStatus.FOUND:
            self.unstored.pop(client_id)
            return True
        self.statuses.append(status)
        return False

    def _post(self, client_id: str, body: str) -> int:
        form = {"body": body, "client_id": client_id, "csrfmiddlewaretoken": self.csrf_token}
        server = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=FRAME_TIMEOUT_SECONDS)
        try:
            server.request(
                "POST",
                f"/messages/{self.conversation.pk}/",
                body=urlencode(form),
                headers={"Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"},
            )
            return server.getresponse().status
        except OSError:
            return 0
        finally:
            server.close()


async def all_synced(clients: list[ChatClient]) -> None:
    await eventually(lambda: all(client.synced.is_set() for client in clients), "every client connected and caught up")


def sent_ids(name: str, count: int) -> list[str]:
    return [f"{name}-{seq:04d}" for seq in range(count)]


async def chat_through_a_fault(clients: list[ChatClient], fault) -> None:
    """The clients connect and catch up; the first sends MESSAGE_COUNT messages at a steady
    pace, and `fault` starts after FAULT_AT of them. Once every message is acknowledged and the
    clients are back, one more message must reach every socket live (the servers serve again,
    and no socket stayed open deaf); then each client catches up once more, as a page does with
    every ping (static/js/chat.js), which is how a socket that stayed open through the fault
    gets what it missed."""
    sender = clients[0]
    runs = [asyncio.create_task(client.run()) for client in clients]
    try:
        await all_synced(clients)
        fault_done = None
        for seq, client_id in enumerate(sent_ids(sender.name, MESSAGE_COUNT)):
            if seq == FAULT_AT:
                fault_done = asyncio.create_task(fault())
            await sender.send(client_id, f"{client_id} 到了吗？")
            await asyncio.sleep(SEND_INTERVAL_SECONDS)
        await fault_done
        await eventually(lambda: not sender.unacknowledged, "every message acknowledged")
        await all_synced(clients)

        connections = [client.connections for client in clients]
        last = sent_ids(sender.name, MESSAGE_COUNT + 1)[-1]
        await sender.send(last, f"{last} 到了吗？")
        await eventually(lambda: last in sender.acknowledged, "the last message acknowledged")
        await eventually(
            lambda: all(sender.acknowledged[last] in client.heard for client in clients),
            "the last message heard live on every socket",
            LIVE_TIMEOUT_SECONDS,
        )
        assert [client.connections for client in clients] == connections, "heard live, not after a reconnect"

        for client in clients:
            await client.catch_up()
        await all_synced(clients)
    finally:
        for run in runs:
            run.cancel()
        for outcome in await asyncio.gather(*runs, return_exceptions=True):
            if not isinstance(outcome, asyncio.CancelledError):
                raise AssertionError("a client failed") from outcome


def assert_every_message_reached_everyone_once(
    conversation: Conversation, clients: list[ChatClient], sent: dict[int, list[str]]
) -> None:
    """`sent`: each sender's user id and the client ids it sent, in order.

    Exactly once, at a client, means: its log (upserted by id) holds each stored message and
    nothing else, and read in id order, as the page shows it, each sender's messages come in
    the order they were sent with none missing. How often a message reached the socket does not
    count: live and then again in an overlapping catch-up is expected."""
    stored = list(
        Message.objects.filter(conversation=conversation)
        .order_by("id")
        .values_list("id", "sender_id", "client_id", "body")
    )
    stored_ids = [message_id for message_id, *_rest in stored]
    # Every message sent is stored, once however often it was retried, in the order sent.
    for sender_id, client_ids in sent.items():
        assert [client_id for _id, sender, client_id, _body in stored if sender == sender_id] == client_ids
    assert len(stored) == sum(len(client_ids) for client_ids in sent.values())
    stored_under = {client_id: message_id for message_id, _sender, client_id, _body in stored}
    for client in clients:
        # What a client saw acknowledged is stored, under the id it was told.
        assert not client.unacknowledged, client.name
        assert client.acknowledged == {client_id: stored_under.get(client_id) for client_id in client.acknowledged}
        assert sorted(client.log) == stored_ids, client.name
        assert [client.log[message_id]["body"] for message_id in stored_ids] == [body for *_rest, body in stored], (
            client.name
        )
        assert set(client.heard) <= set(stored_ids), client.name
        assert not client.errors, client.name
        # A handshake may be refused while a server cannot serve it, never with a server error.
        assert http.HTTPStatus.INTERNAL_SERVER_ERROR not in client.refusals, (client.name, client.refusals)


def test_a_server_killed_and_started_again_loses_and_duplicates_nothing(
    processes, resident, helper, make_member, community
):
    """The poster and the helper are on a server that is killed (SIGKILL, as in a crash) and
    started again on the same port while the poster keeps sending. A third participant stays on
    a second server: it hears the poster only through Redis (a broadcast lost with the killed
    process would be made up by its final catch-up), and it writes while the others' server is
    down (they have to catch that up after reconnecting)."""
    neighbour = make_member()
    conversation = conversation_of(resident, helper, neighbour, community=community)
    url = database_url(connection.settings_dict)
    crashing = processes.asgi(database_url=url, redis_url=settings.REDIS_URL)
    steady = processes.asgi(database_url=url, redis_url=settings.REDIS_URL)
    clients = [
        ChatClient("poster", crashing.port, conversation.pk, session_cookie(resident)),
        ChatClient("helper", crashing.port, conversation.pk, session_cookie(helper)),
        ChatClient("neighbour", steady.port, conversation.pk, session_cookie(neighbour)),
    ]

    async def crash_and_restart() -> None:
        crashing.kill()
        neighbour_client = clients[2]
        for client_id in sent_ids(neighbour_client.name, POSTS_DURING_OUTAGE):
            await neighbour_client.send(client_id, f"{client_id} 收到")
        await eventually(lambda: not neighbour_client.unacknowledged, "the neighbour's messages acknowledged")
        crashing.start()
        await crashing.wait_ready()

    async def scenario() -> None:
        crashing.start()
        steady.start()
        await asyncio.gather(crashing.wait_ready(), steady.wait_ready())
        await chat_through_a_fault(clients, crash_and_restart)

    with logs_on_failure(processes):
        asyncio.run(scenario())
        assert clients[0].connections > 1, "the poster's server did go down"
        assert_every_message_reached_everyone_once(
            conversation,
            clients,
            {
                resident.pk: sent_ids("poster", MESSAGE_COUNT + 1),
                neighbour.pk: sent_ids("neighbour", POSTS_DURING_OUTAGE),
            },
        )


def test_redis_killed_and_started_again_loses_and_duplicates_nothing(
    processes, resident, helper, make_member, community
):
    """As above with the servers running on and a private Redis (never the shared one: the
    channel layer and the rate limits both use it, as in production) killed and started again,
    empty, on the same port.

    While Redis is down the helper posts the chat form. Each post is stored in PostgreSQL (its
    broadcast fails) or refused with a clear answer, not a 500; what was refused the helper posts
    again once Redis is back. With the core channel layer, losing Redis ends every socket (its
    receive fails) and refuses new ones until Redis is back, so the pages catch up when they
    reconnect; with the pub/sub layer (CHANNEL_LAYER=pubsub) the sockets stay open, miss the
    frames sent meanwhile without noticing, and only the final catch-up brings them."""
    require_service("redis-server", True, lambda: None if os.access(REDIS_SERVER, os.X_OK) else f"no {REDIS_SERVER}")
    neighbour = make_member()
    conversation = conversation_of(resident, helper, neighbour, community=community)
    url = database_url(connection.settings_dict)
    private_redis = processes.redis()
    redis_url = f"redis://127.0.0.1:{private_redis.port}/0"
    first = processes.asgi(database_url=url, redis_url=redis_url)
    second = processes.asgi(database_url=url, redis_url=redis_url)
    clients = [
        ChatClient("poster", first.port, conversation.pk, session_cookie(resident)),
        ChatClient("helper", first.port, conversation.pk, session_cookie(helper)),
        ChatClient("neighbour", second.port, conversation.pk, session_cookie(neighbour)),
    ]
    form = FormPoster("helper-form", helper, second, conversation)

    async def redis_crash_and_restart() -> None:
        private_redis.kill()
        for client_id in sent_ids(form.name, POSTS_DURING_OUTAGE):
            await form.send(client_id, f"{client_id} 收到")
        private_redis.start()
        await private_redis.wait_ready()
        await form.retry()

    async def scenario() -> None:
        private_redis.start()
        await private_redis.wait_ready()
        first.start()
        second.start()
        await asyncio.gather(first.wait_ready(), second.wait_ready())
        await chat_through_a_fault(clients, redis_crash_and_restart)

    with logs_on_failure(processes):
        asyncio.run(scenario())
        assert http.HTTPStatus.INTERNAL_SERVER_ERROR not in form.statuses, form.statuses
        assert_every_message_reached_everyone_once(
            conversation,
            clients,
            {resident.pk: sent_ids("poster", MESSAGE_COUNT + 1), helper.pk: sent_ids(form.name, POSTS_DURING_OUTAGE)},
        )
