"""The form side of the chat page, as the deploy tests drive it (the socket side is
tests/messaging/clients.py, shared with tests/messaging/test_multiprocess.py)."""

import asyncio
import http.client
import secrets
from urllib.parse import urlencode

from tests.messaging.clients import (
    FIRST_BACKOFF_SECONDS,
    FRAME_TIMEOUT_SECONDS,
    LAST_BACKOFF_SECONDS,
    ChatClient,
    eventually,
    open_socket,
)

__all__ = ["FRAME_TIMEOUT_SECONDS", "ChatClient", "FormPoster", "eventually", "open_socket"]


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
