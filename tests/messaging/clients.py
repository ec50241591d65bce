"""The chat page's client side on real sockets, for the tests that run real servers
(tests/messaging/test_multiprocess.py, tests/deploy/): the protocol of messaging/consumers.py as
static/js/chat.js follows it."""

import asyncio
import contextlib
import json

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

FRAME_TIMEOUT_SECONDS = 5
FIRST_BACKOFF_SECONDS = 0.1
LAST_BACKOFF_SECONDS = 1.0
SETTLE_TIMEOUT_SECONDS = 30


def open_socket(port: int, conversation_id: int, cookie: str):
    return connect(
        f"ws://127.0.0.1:{port}/ws/conversations/{conversation_id}/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": cookie},
        proxy=None,
        open_timeout=FRAME_TIMEOUT_SECONDS,
    )


class ChatClient:
    """One participant's chat page, doing what the protocol (messaging/consumers.py) asks of a
    client, written down here because the fault tests stand or fall with it:

    - It reconnects with back-off (0.1 s doubling to 1 s) whenever its socket ends or the
      handshake is refused, and catches up after every connect.
    - It keeps a log of messages keyed by id and upserts into it, as static/js/chat.js does: a
      live frame and a catch-up may both bring a message, and an ack brings one's own.
    - It catches up after `synced_id`, the last id of its last complete catch-up (chat.js's
      caughtUpTo), not after the highest id heard live. Ids say nothing about what came in
      between, so a live frame lost while later ones arrived (a server killed between commit
      and broadcast) would otherwise leave a hole that no catch-up fills.
    - As a sender it keeps every message not yet acknowledged and sends it again, with the same
      client id, after each reconnect (the server stores a client id once).
    - It records how each connection ended: the refused handshakes' HTTP statuses, the accepted
      sockets' close codes.
    """

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


async def eventually(condition, what: str, timeout: float = SETTLE_TIMEOUT_SECONDS) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)
