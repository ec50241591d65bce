"""A released message reaches the sockets open in its conversation; a rejected one never does."""

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from committee.services.reports import held_message_reject, held_message_release
from config.asgi import application

from .conftest import WORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HELD = f"要不要借点{WORD}"


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def connect(conversation_id: int, user) -> WebsocketCommunicator:
    cookie = await database_sync_to_async(session_cookie)(user)
    communicator = WebsocketCommunicator(
        application, f"/ws/conversations/{conversation_id}/", headers=[ORIGIN, (b"cookie", cookie)]
    )
    connected, _code = await communicator.connect()
    assert connected
    return communicator


@pytest_asyncio.fixture(autouse=True)
async def close_connections_of_the_sync_thread():
    # As in tests/messaging/test_consumers.py: a connection left open in asgiref's sync thread
    # blocks dropping the PostgreSQL test database.
    yield
    await database_sync_to_async(connections.close_all)()


async def test_a_released_message_reaches_the_open_sockets(
    conversation, resident, helper, committee, send, sensitive_word
):
    held = await database_sync_to_async(send)(resident, conversation, HELD)
    neighbour = await connect(conversation.pk, helper)

    await database_sync_to_async(held_message_release)(actor=committee, message=held)

    frame = await neighbour.receive_json_from(timeout=5)
    assert frame["type"] == "message"
    assert (frame["message"]["id"], frame["message"]["body"], frame["message"]["status"]) == (held.pk, HELD, "visible")
    await neighbour.disconnect()


async def test_a_rejected_message_reaches_no_socket(conversation, resident, helper, committee, send, sensitive_word):
    held = await database_sync_to_async(send)(resident, conversation, HELD)
    neighbour = await connect(conversation.pk, helper)

    await database_sync_to_async(held_message_reject)(actor=committee, message=held, reason="借贷推广")

    assert await neighbour.receive_nothing(timeout=0.3)
    await neighbour.disconnect()
