"""The chat page's client side, as the deploy tests drive it on real sockets: the protocol of
messaging/consumers.py as static/js/chat.js follows it (and as tests/messaging/test_multiprocess.py
writes it down for users of the test database; these clients get their session cookie from
tests/deploy/seed.py instead, so that they work on any database the servers use)."""

import asyncio
import contextlib
import http.client
import json
import secrets
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

FRAME_TIMEOUT_SECONDS = 5
FIRST_BACKOFF_SECONDS = 0.1
LAST_BACKOFF_SECONDS = 1.0


def open_socket(port: int, conversation_id: int, cookie: str):
    return connect(
        f"ws://127.0.0.1:{port}/ws/conversations/{conversation_id}/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": cookie},
        proxy=None,
        open_timeout=FRAME_TIMEOUT_SECONDS,
    )


class ChatClient:
    """One chat page: reconnects with back-off (0.1 s doubling to 1 s) whenever its socket ends
    or the handshake is refused, and catches up after every connect from `synced_id` (the last
    id of its last complete catch-up, chat.js's caughtUpTo); keeps a log of messages upserted by
    id; as a sender keeps every message not yet acknowledged and sends it again, with the same
    client id, after each reconnect. Records how each connection ended."""

    def __init__(self, name: str, port: int, conversation_id: int, cookie: str) -> None:
        self.name = name
        self.port = port
        self.conversation_id = conversation_id
        self.cookie = cookie
        self.log: dict[int, dict] = {}
        self.heard: list[int] = []  # the id of every "message" frame, repeats included
        self.synced_id = 0
        self.synced = asyncio.Event()
        self.unacknowledged: dict[str, str] = {}
        self.acknowledged: dict[str, int] = {}
        self.errors: list[dict] = []
        self.refusals: list[int] = []  # HTTP statuses of refused handshakes
        self.close_codes: list[int | None] = []  # how each accepted socket ended, by the server's code
        self.connections = 0
        self.socket: ClientConnection | None = None

    @property
    def local_port(self) -> int | None:
        """The client side's TCP port of the open socket (which worker holds it: stack.py)."""
        if self.socket is None:
            return None
        return self.socket.local_address[1]

    async def run(self) -> None:
        """Until cancelled."""
        backoff = FIRST_BACKOFF_SECONDS
        while True:
            try:
                async with open_socket(self.port, self.conversation_id, self.cookie) as socket:
                    self.socket = socket
                    self.connections += 1
                    backoff = FIRST_BACKOFF_SECONDS
                    await self.catch_up()
                    for client_id, body in list(self.unacknowledged.items()):
                        await self._send(client_id, body)
                    try:
                        async for text in socket:
                            await self._receive(json.loads(text))
                    finally:
                        self.close_codes.append(socket.close_code)
            except InvalidStatus as refusal:
                self.refusals.append(refusal.response.status_code)
            except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError):
                # The server or its connection went away: try again.
                pass
            finally:
                self.socket = None
                self.synced.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, LAST_BACKOFF_SECONDS)

    async def catch_up(self) -> None:
        self.synced.clear()
        if self.socket is not None:
            with contextlib.suppress(ConnectionClosed):
                await self.socket.send(json.dumps({"type": "catch_up", "after": self.synced_id, "changed_after": None}))

    async def send(self, client_id: str, body: str) -> None:
        self.unacknowledged[client_id] = body
        await self._send(client_id, body)

    async def _send(self, client_id: str, body: str) -> None:
        if self.socket is not None:
            with contextlib.suppress(ConnectionClosed):
                await self.socket.send(json.dumps({"type": "message.send", "client_id": client_id, "body": body}))

    async def _receive(self, frame: dict) -> None:
        if frame["type"] == "message":
            self.heard.append(frame["message"]["id"])
            self.log[frame["message"]["id"]] = frame["message"]
        elif frame["type"] == "message.ack":
            self.acknowledged[frame["client_id"]] = frame["id"]
            self.unacknowledged.pop(frame["client_id"], None)
            self.log[frame["id"]] = frame["message"]
        elif frame["type"] == "caught_up":
            self.synced_id = frame["last_id"]
            if frame["more"]:
                await self.catch_up()
            else:
                self.synced.set()
        elif frame["type"] == "error":
            self.errors.append(frame)


class FormPoster:
    """A page without WebSockets posting the chat form (messaging/views.py): a post is stored
    when the answer is the redirect back to the conversation; anything else is recorded (status,
    body, how long it took) and the same client id is posted again after a back-off."""

    def __init__(self, name: str, port: int, conversation_id: int, cookie: str) -> None:
        self.name = name
        self.port = port
        self.conversation_id = conversation_id
        self.csrf_token = secrets.token_hex(16)
        self.cookie = f"{cookie}; csrftoken={self.csrf_token}"
        self.stored: list[str] = []
        self.answers: list[tuple[int, str, float]] = []  # every answer but the redirect: status, body, seconds
        self.slowest = 0.0  # seconds, of any post

    @property
    def path(self) -> str:
        return f"/messages/{self.conversation_id}/"

    async def post_until_stored(self, client_id: str, body: str, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        backoff = FIRST_BACKOFF_SECONDS
        while True:
            started = loop.time()
            status, location, text = await asyncio.to_thread(self._post, client_id, body)
            self.slowest = max(self.slowest, loop.time() - started)
            if status == http.HTTPStatus.FOUND and location == self.path:
                self.stored.append(client_id)
                return
            self.answers.append((status, text, loop.time() - started))
            if loop.time() > deadline:
                raise AssertionError(f"{client_id} not stored within {timeout} s; answers: {self.answers[-3:]}")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, LAST_BACKOFF_SECONDS)

    def _post(self, client_id: str, body: str) -> tuple[int, str, str]:
        form = {"body": body, "client_id": client_id, "csrfmiddlewaretoken": self.csrf_token}
        # The timeout bounds a hung request: PostgreSQL's connect_timeout is 5 s.
        server = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3 * FRAME_TIMEOUT_SECONDS)
        try:
            server.request(
                "POST",
                self.path,
                body=urlencode(form),
                headers={"Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"},
            )
            response = server.getresponse()
            text = response.read().decode(errors="replace")
            if response.status == http.HTTPStatus.SERVICE_UNAVAILABLE:
                text = f"Retry-After: {response.getheader('Retry-After')}\n{text}"
            return response.status, response.getheader("Location") or "", text
        except OSError as error:
            return 0, "", f"{type(error).__name__}: {error}"
        finally:
            server.close()


async def eventually(condition, what: str, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)
