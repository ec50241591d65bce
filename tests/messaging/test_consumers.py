import json

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from config.asgi import application
from messaging.consumers import CLOSE_FORBIDDEN, CLOSE_MALFORMED, CLOSE_UNAUTHENTICATED
from messaging.models import Conversation, Message, Participant
from messaging.services import conversation_open, message_send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def connect(conversation_id: int, user=None, origin=ORIGIN):
    headers = [origin] if origin else []
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, f"/ws/conversations/{conversation_id}/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest_asyncio.fixture(autouse=True)
async def close_connections_of_the_sync_thread():
    """A refused handshake leaves a database connection open in asgiref's shared sync
    thread, which then blocks dropping the PostgreSQL test database. Close it after
    each test. (Issue 8 measures connection counts over connect/disconnect cycles.)"""
    yield
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
def conversation(resident, helper):
    return conversation_open(
        kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="修水龙头", participants=[resident, helper]
    )


async def test_a_participant_receives_what_the_other_sends(conversation, resident, helper):
    poster, connected, _ = await connect(conversation.pk, resident)
    assert connected
    neighbour, connected, _ = await connect(conversation.pk, helper)
    assert connected

    await poster.send_json_to({"type": "message.send", "body": "明天上午可以吗？", "client_id": "a1"})

    ack = await poster.receive_json_from(timeout=5)
    frames = [ack, await poster.receive_json_from(timeout=5)]
    got = await neighbour.receive_json_from(timeout=5)
    assert got["type"] == "message"
    assert got["message"]["body"] == "明天上午可以吗？"
    assert got["message"]["sender_id"] == resident.pk
    assert {frame["type"] for frame in frames} == {"message.ack", "message"}
    assert await database_sync_to_async(Message.objects.count)() == 1
    await poster.disconnect()
    await neighbour.disconnect()


async def test_a_retried_frame_is_acknowledged_with_the_same_id(conversation, resident):
    poster, _, _ = await connect(conversation.pk, resident)
    acks = []
    for _attempt in range(2):
        await poster.send_json_to({"type": "message.send", "body": "hi", "client_id": "same"})
        frames = [await poster.receive_json_from(timeout=5)]
        if frames[0]["type"] != "message.ack" or not acks:
            frames.append(await poster.receive_json_from(timeout=5))
        acks += [frame for frame in frames if frame["type"] == "message.ack"]
    assert len(acks) == 2
    assert acks[0]["id"] == acks[1]["id"]
    assert await database_sync_to_async(Message.objects.count)() == 1
    await poster.disconnect()


async def test_catch_up_sends_what_was_missed_in_order(conversation, resident, helper):
    first, _ = await database_sync_to_async(message_send)(actor=resident, conversation_id=conversation.pk, body="一")
    await database_sync_to_async(message_send)(actor=resident, conversation_id=conversation.pk, body="二")
    await database_sync_to_async(message_send)(actor=resident, conversation_id=conversation.pk, body="三")
    neighbour, _, _ = await connect(conversation.pk, helper)

    await neighbour.send_json_to({"type": "catch_up", "after": first.pk})

    bodies = [(await neighbour.receive_json_from(timeout=5))["message"]["body"] for _ in range(2)]
    assert bodies == ["二", "三"]
    assert await neighbour.receive_nothing(timeout=0.2)
    await neighbour.disconnect()


async def test_an_outsider_is_refused_on_connect(conversation, make_member):
    stranger = await database_sync_to_async(make_member)()
    _, connected, code = await connect(conversation.pk, stranger)
    assert not connected
    assert code == CLOSE_FORBIDDEN


async def test_an_anonymous_visitor_is_refused(conversation):
    _, connected, code = await connect(conversation.pk)
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


async def test_a_foreign_origin_is_refused(conversation, resident):
    _, connected, _ = await connect(conversation.pk, resident, origin=(b"origin", b"https://evil.example"))
    assert not connected


async def test_a_missing_origin_is_refused(conversation, resident):
    _, connected, _ = await connect(conversation.pk, resident, origin=None)
    assert not connected


async def test_access_is_checked_again_on_every_frame(conversation, resident, helper):
    neighbour, connected, _ = await connect(conversation.pk, helper)
    assert connected
    await database_sync_to_async(Participant.objects.filter(user=helper).delete)()

    await neighbour.send_json_to({"type": "message.send", "body": "还在吗", "client_id": "x"})

    output = await neighbour.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    assert await database_sync_to_async(Message.objects.count)() == 0


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        json.dumps({"type": "message.send"}),
        json.dumps({"type": "message.send", "body": 5}),
        json.dumps({"type": "message.send", "body": "hi", "client_id": "x" * 65}),
        json.dumps({"type": "catch_up", "after": "zero"}),
        json.dumps({"type": "delete_everything"}),
    ],
)
async def test_malformed_frames_close_the_socket(conversation, resident, frame):
    poster, _, _ = await connect(conversation.pk, resident)
    await poster.send_to(text_data=frame)
    output = await poster.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": CLOSE_MALFORMED}
    assert await database_sync_to_async(Message.objects.count)() == 0


async def test_binary_frames_close_the_socket(conversation, resident):
    poster, _, _ = await connect(conversation.pk, resident)
    await poster.send_to(bytes_data=b"\x00\x01")
    assert await poster.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_MALFORMED}


async def test_an_empty_message_gets_an_error_frame_and_the_socket_stays(conversation, resident):
    poster, _, _ = await connect(conversation.pk, resident)
    await poster.send_json_to({"type": "message.send", "body": "   ", "client_id": "e1"})
    error = await poster.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["client_id"] == "e1"
    assert error["errors"]
    await poster.send_json_to({"type": "message.send", "body": "好的", "client_id": "e2"})
    frames = [await poster.receive_json_from(timeout=5) for _ in range(2)]
    assert "message.ack" in {frame["type"] for frame in frames}
    await poster.disconnect()


async def test_a_failing_channel_layer_refuses_the_handshake_cleanly(conversation, resident, monkeypatch):
    from channels.layers import get_channel_layer

    from messaging.consumers import CLOSE_TRY_AGAIN

    async def broken_group_add(group, channel):
        raise TimeoutError("Redis did not answer")

    monkeypatch.setattr(get_channel_layer(), "group_add", broken_group_add)
    _, connected, code = await connect(conversation.pk, resident)
    assert not connected
    assert code == CLOSE_TRY_AGAIN
