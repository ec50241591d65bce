"""The chat socket: who may connect and stay connected, a send stored once (a retry answered
with the same id), catch-up in order, rate limits, and bad input answered with an error frame or
a close code, never a crash and never a second copy."""

import json
from datetime import timedelta

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from config.asgi import application
from messaging import selectors
from messaging.consumers import (
    CLOSE_FORBIDDEN,
    CLOSE_MALFORMED,
    CLOSE_RATE_LIMITED,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHENTICATED,
    MAX_FRAME_CHARS,
)
from messaging.models import MESSAGE_MAX_LENGTH, Conversation, Message, MessageRevision, Participant, Presence
from messaging.services import (
    announcement_channel,
    committee_conversation_open,
    conversation_open,
    message_delete,
    message_edit,
    message_release,
    message_send,
)
from neighbors.models import Membership, SensitiveWord
from neighbors.ratelimits import rate_limits_reset

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
ORIGIN = (b"origin", b"http://127.0.0.1:8000")
db = database_sync_to_async


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def connect(conversation_id: int, user=None, origin=ORIGIN):
    headers = [origin] if origin else []
    if user is not None:
        headers.append((b"cookie", await db(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, f"/ws/conversations/{conversation_id}/", headers=headers)
    connected, code = await communicator.connect()
    if not connected:
        # Let the refused application finish now: left to the closing event loop, its pending
        # channels-redis receive is cancelled there and the run hangs (the Redis profile).
        await communicator.disconnect()
    return communicator, connected, code


async def joined(conversation_id: int, user) -> WebsocketCommunicator:
    communicator, connected, code = await connect(conversation_id, user)
    assert connected, code
    return communicator


async def stream_of(user) -> WebsocketCommunicator:
    """The person's own stream (unread counts), past its greeting."""
    headers = [ORIGIN, (b"cookie", await db(session_cookie)(user))]
    stream = WebsocketCommunicator(application, "/ws/stream/", headers=headers)
    connected, code = await stream.connect()
    assert connected, code
    assert (await stream.receive_json_from(timeout=5))["type"] == "hello"
    return stream


async def frames(communicator: WebsocketCommunicator, count: int) -> list[dict]:
    return [await communicator.receive_json_from(timeout=5) for _ in range(count)]


async def send_visible(communicator: WebsocketCommunicator, body: str, client_id: str) -> tuple[dict, dict]:
    """Send a message that is published: the sender hears its ack and the broadcast, in either order."""
    await communicator.send_json_to({"type": "message.send", "body": body, "client_id": client_id})
    received = {frame["type"]: frame for frame in await frames(communicator, 2)}
    assert set(received) == {"message.ack", "message"}, received
    return received["message.ack"], received["message"]


async def closed_with(communicator: WebsocketCommunicator) -> int:
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close", output
    return output["code"]


def stored(**filters) -> int:
    return Message.objects.filter(**filters).count()


def send(user, conversation, body: str, **kwargs) -> Message:
    return message_send(actor=user, conversation_id=conversation.pk, body=body, **kwargs)[0]


@pytest_asyncio.fixture(autouse=True)
async def close_connections_of_the_sync_thread():
    """A refused handshake leaves a database connection open in asgiref's shared sync
    thread, which then blocks dropping the PostgreSQL test database. Close it after
    each test. (Issue 8 measures connection counts over connect/disconnect cycles.)"""
    yield
    await db(connections.close_all)()


@pytest.fixture
def small_rate_limits(settings):
    """Two sends a minute, closed after two refusals (the limits are read from the settings on
    every send)."""
    settings.MESSAGE_RATE_LIMITS = "2 per minute"
    settings.MESSAGE_RATE_STRIKES = 2
    rate_limits_reset()
    yield


@pytest.fixture
def conversation(resident, helper):
    return conversation_open(
        kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="修水龙头", participants=[resident, helper]
    )


@pytest.fixture
def other_conversation(resident, make_member):
    return conversation_open(
        kind=Conversation.Kind.CLAIM, subject="aid_post:2", title="搬冰箱", participants=[resident, make_member()]
    )


# --- Access ------------------------------------------------------------------------------


async def test_an_anonymous_visitor_is_refused(conversation):
    _, connected, code = await connect(conversation.pk)
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


async def test_a_member_of_the_community_without_a_seat_is_refused(conversation, make_member):
    stranger = await db(make_member)()
    _, connected, code = await connect(conversation.pk, stranger)
    assert not connected
    assert code == CLOSE_FORBIDDEN


async def test_a_conversation_that_does_not_exist_is_refused_like_a_forbidden_one(conversation, resident):
    _, connected, code = await connect(conversation.pk + 1000, resident)
    assert not connected
    assert code == CLOSE_FORBIDDEN


async def test_a_foreign_origin_is_refused(conversation, resident):
    _, connected, _ = await connect(conversation.pk, resident, origin=(b"origin", b"https://evil.example"))
    assert not connected


async def test_a_missing_origin_is_refused(conversation, resident):
    _, connected, _ = await connect(conversation.pk, resident, origin=None)
    assert not connected


async def test_a_seat_removed_mid_session_closes_the_socket_at_the_next_frame(conversation, resident, helper):
    neighbour = await joined(conversation.pk, helper)
    await db(Participant.objects.filter(user=helper).delete)()

    await neighbour.send_json_to({"type": "message.send", "body": "还在吗", "client_id": "x"})

    assert await closed_with(neighbour) == CLOSE_FORBIDDEN
    assert await db(stored)() == 0


async def test_a_seat_removed_mid_session_also_ends_catch_up(conversation, resident, helper):
    await db(send)(resident, conversation, "地址发你了")
    neighbour = await joined(conversation.pk, helper)
    await db(Participant.objects.filter(user=helper).delete)()

    await neighbour.send_json_to({"type": "catch_up", "after": 0})

    assert await closed_with(neighbour) == CLOSE_FORBIDDEN


async def test_a_staff_role_removed_mid_session_closes_the_committee_conversation(resident, committee, community):
    conversation = await db(committee_conversation_open)(actor=resident, community=community, member=resident)
    staff = await joined(conversation.pk, committee)
    await db(Membership.objects.filter(user=committee).update)(role=Membership.Role.RESIDENT)

    await staff.send_json_to({"type": "ping"})

    assert await closed_with(staff) == CLOSE_FORBIDDEN


async def test_the_committee_of_another_community_cannot_join_a_committee_conversation(resident, community, outsider):
    conversation = await db(committee_conversation_open)(actor=resident, community=community, member=resident)
    await db(Membership.objects.filter(user=outsider).update)(role=Membership.Role.COMMITTEE)

    _, connected, code = await connect(conversation.pk, outsider)

    assert not connected
    assert code == CLOSE_FORBIDDEN


async def test_members_read_announcements_live_but_cannot_write_there(resident, committee, community):
    channel = await db(announcement_channel)(community=community)
    member = await joined(channel.pk, resident)
    board = await joined(channel.pk, committee)

    await send_visible(board, "周六上午停水", "n1")
    heard = await member.receive_json_from(timeout=5)
    await member.send_json_to({"type": "message.send", "body": "收到", "client_id": "r1"})

    assert heard["message"]["body"] == "周六上午停水"
    assert await closed_with(member) == CLOSE_FORBIDDEN
    assert await db(stored)(sender=resident) == 0
    await board.disconnect()


async def test_a_member_who_leaves_the_community_loses_its_announcements(resident, community):
    channel = await db(announcement_channel)(community=community)
    member = await joined(channel.pk, resident)
    await db(Membership.objects.filter(user=resident).update)(status=Membership.Status.LEFT)

    await member.send_json_to({"type": "catch_up", "after": 0})

    assert await closed_with(member) == CLOSE_FORBIDDEN
    _, connected, code = await connect(channel.pk, resident)
    assert (connected, code) == (False, CLOSE_FORBIDDEN)


async def test_a_failing_channel_layer_refuses_the_handshake_cleanly(conversation, resident, monkeypatch):
    from channels.layers import get_channel_layer

    async def broken_group_add(group, channel):
        raise TimeoutError("Redis did not answer")

    monkeypatch.setattr(get_channel_layer(), "group_add", broken_group_add)
    _, connected, code = await connect(conversation.pk, resident)
    assert not connected
    assert code == CLOSE_TRY_AGAIN


# --- Sending, idempotency ----------------------------------------------------------------


async def test_a_participant_receives_what_the_other_sends(conversation, resident, helper):
    poster = await joined(conversation.pk, resident)
    neighbour = await joined(conversation.pk, helper)

    ack, echo = await send_visible(poster, "明天上午可以吗？", "a1")

    got = await neighbour.receive_json_from(timeout=5)
    assert got["type"] == "message"
    assert got["message"]["body"] == "明天上午可以吗？"
    assert got["message"]["sender_id"] == resident.pk
    assert ack["id"] == echo["message"]["id"] == got["message"]["id"]
    assert ack["client_id"] == "a1"
    assert ack["message"]["client_id"] == "a1"  # the sender's own page matches its pending bubble
    assert got["message"]["client_id"] == ""  # a device's ids are nobody else's business
    assert await db(stored)() == 1
    await poster.disconnect()
    await neighbour.disconnect()


async def test_a_retried_send_is_acknowledged_with_the_same_id_stored_once_and_said_again(
    conversation, resident, helper
):
    poster = await joined(conversation.pk, resident)
    neighbour = await joined(conversation.pk, helper)
    neighbours_stream = await stream_of(helper)
    first_ack, _ = await send_visible(poster, "hi", "same")
    assert (await neighbour.receive_json_from(timeout=5))["message"]["id"] == first_ack["id"]
    assert await neighbours_stream.receive_json_from(timeout=5) == {"type": "unread", "unread": 0, "unread_messages": 1}

    # When the client retries (it did not see the ack, say)
    second_ack, repeated = await send_visible(poster, "hi", "same")

    # Then it is the same message, stored once; it is said again to both sides (a server may
    # have died between saving and broadcasting), with the same id, so pages keep one copy
    assert second_ack["id"] == first_ack["id"]
    assert await db(stored)() == 1
    assert repeated["message"]["id"] == first_ack["id"]
    heard_again = await neighbour.receive_json_from(timeout=5)
    assert (heard_again["type"], heard_again["message"]["id"]) == ("message", first_ack["id"])
    # But it is not news: the neighbour's unread count is not told again
    assert await neighbours_stream.receive_nothing(timeout=0.3)
    assert await neighbour.receive_nothing(timeout=0.1)
    assert await poster.receive_nothing(timeout=0.1)
    await poster.disconnect()
    await neighbour.disconnect()
    await neighbours_stream.disconnect()


async def test_a_client_id_used_in_another_conversation_is_refused(conversation, other_conversation, resident):
    await db(send)(resident, other_conversation, "别处的话", client_id="reused")
    poster = await joined(conversation.pk, resident)

    await poster.send_json_to({"type": "message.send", "body": "这里的话", "client_id": "reused"})

    error = await poster.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["client_id"] == "reused"
    assert error["errors"]
    assert await db(stored)(conversation=conversation) == 0
    assert await db(stored)() == 1
    await poster.disconnect()


async def test_two_people_may_pick_the_same_client_id(conversation, resident, helper):
    poster = await joined(conversation.pk, resident)
    neighbour = await joined(conversation.pk, helper)

    first, _ = await send_visible(poster, "我先说", "c1")
    await neighbour.receive_json_from(timeout=5)
    second, _ = await send_visible(neighbour, "我后说", "c1")

    assert first["id"] != second["id"]
    assert await db(stored)() == 2
    await poster.disconnect()
    await neighbour.disconnect()


async def test_an_empty_message_gets_an_error_frame_and_the_socket_stays(conversation, resident):
    poster = await joined(conversation.pk, resident)
    await poster.send_json_to({"type": "message.send", "body": "   ", "client_id": "e1"})
    error = await poster.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == "invalid"
    assert error["client_id"] == "e1"
    assert error["errors"]

    await send_visible(poster, "好的", "e2")
    await poster.disconnect()


async def test_an_overlong_message_gets_an_error_frame_and_nothing_is_stored(conversation, resident):
    poster = await joined(conversation.pk, resident)

    await poster.send_json_to({"type": "message.send", "body": "长" * (MESSAGE_MAX_LENGTH + 1), "client_id": "l1"})

    error = await poster.receive_json_from(timeout=5)
    assert (error["type"], error["code"], error["client_id"]) == ("error", "invalid", "l1")
    assert await db(stored)() == 0
    await poster.disconnect()


async def test_a_held_message_is_acknowledged_to_its_sender_only(conversation, resident, helper):
    await db(SensitiveWord.objects.create)(word="微信")
    poster = await joined(conversation.pk, resident)
    neighbour = await joined(conversation.pk, helper)

    await poster.send_json_to({"type": "message.send", "body": "加我微 信聊", "client_id": "h1"})

    ack = await poster.receive_json_from(timeout=5)
    assert ack["type"] == "message.ack"
    assert ack["status"] == Message.Status.HELD
    assert ack["message"]["body"] == "加我微 信聊"
    assert await poster.receive_nothing(timeout=0.2)
    assert await neighbour.receive_nothing(timeout=0.2)
    await poster.disconnect()
    await neighbour.disconnect()


# --- Catch-up ----------------------------------------------------------------------------


async def test_catch_up_sends_what_was_missed_in_order_then_caught_up(conversation, resident, helper):
    first = await db(send)(resident, conversation, "一")
    second = await db(send)(helper, conversation, "二")
    third = await db(send)(resident, conversation, "三")
    neighbour = await joined(conversation.pk, helper)

    await neighbour.send_json_to({"type": "catch_up", "after": first.pk})

    missed = await frames(neighbour, 2)
    done = await neighbour.receive_json_from(timeout=5)
    assert [(frame["type"], frame["message"]["body"]) for frame in missed] == [("message", "二"), ("message", "三")]
    assert missed[0]["message"]["id"] < missed[1]["message"]["id"]
    assert done["type"] == "caught_up"
    assert done["last_id"] == third.pk
    assert done["more"] is False
    assert done["reads"] == {str(resident.pk): third.pk, str(helper.pk): second.pk}
    assert await neighbour.receive_nothing(timeout=0.2)
    await neighbour.disconnect()


async def test_catch_up_with_nothing_missed_says_caught_up_at_the_same_id(conversation, resident, helper):
    last = await db(send)(resident, conversation, "一")
    neighbour = await joined(conversation.pk, helper)

    await neighbour.send_json_to({"type": "catch_up", "after": last.pk, "changed_after": None})

    done = await neighbour.receive_json_from(timeout=5)
    assert (done["type"], done["last_id"], done["more"]) == ("caught_up", last.pk, False)


async def test_catch_up_comes_in_batches(conversation, resident, helper, monkeypatch):
    monkeypatch.setattr(selectors, "CATCH_UP_BATCH", 2)
    sent = [await db(send)(resident, conversation, f"第{number}条") for number in range(5)]
    neighbour = await joined(conversation.pk, helper)

    batches, after, more = [], 0, True
    while more:
        await neighbour.send_json_to({"type": "catch_up", "after": after})
        *messages, done = await frames(neighbour, 3 if len(batches) < 2 else 2)
        assert done["type"] == "caught_up"
        batches.append([frame["message"]["id"] for frame in messages])
        after, more = done["last_id"], done["more"]

    assert batches == [[sent[0].pk, sent[1].pk], [sent[2].pk, sent[3].pk], [sent[4].pk]]
    assert after == sent[4].pk
    await neighbour.disconnect()


async def test_catch_up_with_changed_after_brings_edits_deletes_and_releases(
    conversation, resident, helper, committee, community
):
    await db(SensitiveWord.objects.create)(word="微信")
    await db(Conversation.objects.filter(pk=conversation.pk).update)(community=community)
    edited = await db(send)(resident, conversation, "明天九点")
    deleted = await db(send)(resident, conversation, "我家门牌是 3 号")
    held = await db(send)(resident, conversation, "我微信是 wang123")
    untouched = await db(send)(resident, conversation, "谢谢")
    # Sent more than the overlap catch-up looks back over before the mark the client takes next
    sent_earlier = timezone.now() - selectors.CATCH_UP_OVERLAP - timedelta(seconds=1)
    await db(Message.objects.filter(conversation=conversation).update)(changed_at=sent_earlier)
    neighbour = await joined(conversation.pk, helper)
    await neighbour.send_json_to({"type": "catch_up", "after": 0})
    *had, done = await frames(neighbour, 4)
    assert [frame["message"]["id"] for frame in had] == [edited.pk, deleted.pk, untouched.pk]
    await neighbour.disconnect()

    await db(message_edit)(actor=resident, conversation_id=conversation.pk, message_id=edited.pk, body="明天十点")
    await db(message_delete)(actor=resident, conversation_id=conversation.pk, message_id=deleted.pk)
    await db(message_release)(actor=committee, message=held)
    again = await joined(conversation.pk, helper)
    await again.send_json_to({"type": "catch_up", "after": done["last_id"], "changed_after": done["now"]})

    *changed, caught_up = await frames(again, 4)
    by_id = {frame["message"]["id"]: frame["message"] for frame in changed}
    assert list(by_id) == [edited.pk, deleted.pk, held.pk]
    assert by_id[edited.pk]["body"] == "明天十点"
    assert by_id[edited.pk]["edited_at"] is not None
    assert by_id[deleted.pk]["deleted"] is True
    assert by_id[deleted.pk]["body"] == ""
    assert by_id[held.pk]["status"] == Message.Status.VISIBLE
    assert by_id[held.pk]["body"] == "我微信是 wang123"
    assert caught_up["last_id"] == untouched.pk
    await again.disconnect()


async def test_others_held_messages_never_appear_in_catch_up(conversation, resident, helper):
    await db(SensitiveWord.objects.create)(word="转账")
    held = await db(send)(resident, conversation, "先转账给我")
    after = await db(send)(resident, conversation, "在吗")
    long_ago = (timezone.now() - timedelta(days=1)).isoformat()

    neighbour = await joined(conversation.pk, helper)
    await neighbour.send_json_to({"type": "catch_up", "after": 0, "changed_after": long_ago})
    seen_by_neighbour = await frames(neighbour, 2)
    poster = await joined(conversation.pk, resident)
    await poster.send_json_to({"type": "catch_up", "after": 0})
    seen_by_poster = await frames(poster, 3)

    assert [frame["message"]["id"] for frame in seen_by_neighbour[:-1]] == [after.pk]
    assert seen_by_neighbour[-1]["type"] == "caught_up"
    assert [frame["message"]["id"] for frame in seen_by_poster[:-1]] == [held.pk, after.pk]
    assert seen_by_poster[0]["message"]["status"] == Message.Status.HELD
    await neighbour.disconnect()
    await poster.disconnect()


async def test_a_catch_up_far_past_the_newest_id_sends_only_caught_up(conversation, resident, helper):
    await db(send)(resident, conversation, "一")
    neighbour = await joined(conversation.pk, helper)

    await neighbour.send_json_to({"type": "catch_up", "after": 10**30})

    done = await neighbour.receive_json_from(timeout=5)
    assert done["type"] == "caught_up"
    assert done["more"] is False
    await neighbour.disconnect()


# --- Rate limits -------------------------------------------------------------------------


async def test_a_send_over_the_rate_gets_an_error_frame_and_is_not_stored(conversation, resident, small_rate_limits):
    poster = await joined(conversation.pk, resident)
    await send_visible(poster, "一", "r1")
    await send_visible(poster, "二", "r2")

    await poster.send_json_to({"type": "message.send", "body": "三", "client_id": "r3"})

    error = await poster.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == "rate_limited"
    assert error["client_id"] == "r3"
    assert 0 < error["retry_after"] <= 61
    assert error["errors"]
    assert await db(stored)() == 2
    # One refusal is not abuse: the socket stays open.
    await poster.send_json_to({"type": "ping"})
    assert (await poster.receive_json_from(timeout=5))["type"] == "pong"
    await poster.disconnect()


async def test_a_retry_of_a_stored_send_is_acknowledged_even_over_the_rate(conversation, resident, small_rate_limits):
    poster = await joined(conversation.pk, resident)
    first, _ = await send_visible(poster, "一", "r1")
    await send_visible(poster, "二", "r2")

    await poster.send_json_to({"type": "message.send", "body": "一", "client_id": "r1"})

    ack = await poster.receive_json_from(timeout=5)
    assert (ack["type"], ack["id"]) == ("message.ack", first["id"])
    await poster.disconnect()


async def test_repeated_refused_sends_close_the_socket(conversation, resident, small_rate_limits):
    poster = await joined(conversation.pk, resident)
    await send_visible(poster, "一", "r1")
    await send_visible(poster, "二", "r2")

    await poster.send_json_to({"type": "message.send", "body": "三", "client_id": "r3"})
    assert (await poster.receive_json_from(timeout=5))["code"] == "rate_limited"
    await poster.send_json_to({"type": "message.send", "body": "四", "client_id": "r4"})

    assert (await poster.receive_json_from(timeout=5))["code"] == "rate_limited"
    assert await closed_with(poster) == CLOSE_RATE_LIMITED
    assert await db(stored)() == 2


# --- Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '"message.send"',
        "{}",
        json.dumps({"type": "delete_everything"}),
        json.dumps({"type": "message.send"}),
        json.dumps({"type": "message.send", "body": 5}),
        json.dumps({"type": "message.send", "body": "hi", "client_id": 7}),
        json.dumps({"type": "message.send", "body": "hi", "client_id": "x" * 65}),
        json.dumps({"type": "message.send", "body": "x" * (MESSAGE_MAX_LENGTH * 2 + 1), "client_id": "big"}),
        json.dumps({"type": "message.edit", "id": "12", "body": "hi"}),
        json.dumps({"type": "message.edit", "id": True, "body": "hi"}),
        json.dumps({"type": "message.edit", "id": 12}),
        json.dumps({"type": "message.delete", "id": -1}),
        json.dumps({"type": "message.delete", "id": 1.5}),
        json.dumps({"type": "read", "up_to": None}),
        json.dumps({"type": "read", "up_to": "all"}),
        json.dumps({"type": "catch_up", "after": "zero"}),
        json.dumps({"type": "catch_up"}),
        json.dumps({"type": "catch_up", "after": 0, "changed_after": "yesterday"}),
        json.dumps({"type": "catch_up", "after": 0, "changed_after": "2026-11-23T10:00:00"}),
        json.dumps({"type": "catch_up", "after": 0, "changed_after": 1700000000}),
    ],
)
async def test_malformed_frames_close_the_socket(conversation, resident, frame):
    poster = await joined(conversation.pk, resident)
    await poster.send_to(text_data=frame)
    assert await closed_with(poster) == CLOSE_MALFORMED
    assert await db(stored)() == 0


async def test_binary_frames_close_the_socket(conversation, resident):
    poster = await joined(conversation.pk, resident)
    await poster.send_to(bytes_data=b"\x00\x01")
    assert await closed_with(poster) == CLOSE_MALFORMED


async def test_a_frame_over_the_size_limit_closes_the_socket_before_it_is_read(conversation, resident):
    poster = await joined(conversation.pk, resident)
    padding = " " * MAX_FRAME_CHARS
    await poster.send_to(text_data=json.dumps({"type": "message.send", "body": "hi", "client_id": "p"}) + padding)
    assert await closed_with(poster) == CLOSE_TOO_BIG
    assert await db(stored)() == 0


async def test_editing_or_deleting_another_conversations_message_changes_nothing(
    conversation, other_conversation, resident
):
    elsewhere = await db(send)(resident, other_conversation, "别处的话")
    poster = await joined(conversation.pk, resident)

    await poster.send_json_to({"type": "message.edit", "id": elsewhere.pk, "body": "改掉"})
    edit_error = await poster.receive_json_from(timeout=5)
    await poster.send_json_to({"type": "message.delete", "id": elsewhere.pk})
    delete_error = await poster.receive_json_from(timeout=5)

    assert (edit_error["type"], edit_error["id"]) == ("error", elsewhere.pk)
    assert (delete_error["type"], delete_error["id"]) == ("error", elsewhere.pk)
    # Told like a missing id, so that ids say nothing about other conversations.
    await poster.send_json_to({"type": "message.delete", "id": 10**30})
    assert (await poster.receive_json_from(timeout=5))["errors"] == delete_error["errors"]
    await db(elsewhere.refresh_from_db)()
    assert elsewhere.body == "别处的话"
    assert elsewhere.deleted_at is None
    await poster.disconnect()


async def test_someone_elses_message_cannot_be_edited_or_deleted(conversation, resident, helper):
    theirs = await db(send)(resident, conversation, "我家在 3 楼")
    neighbour = await joined(conversation.pk, helper)

    await neighbour.send_json_to({"type": "message.edit", "id": theirs.pk, "body": "我家在 5 楼"})
    edit_error = await neighbour.receive_json_from(timeout=5)
    await neighbour.send_json_to({"type": "message.delete", "id": theirs.pk})
    delete_error = await neighbour.receive_json_from(timeout=5)

    assert edit_error["type"] == delete_error["type"] == "error"
    await db(theirs.refresh_from_db)()
    assert (theirs.body, theirs.edited_at, theirs.deleted_at) == ("我家在 3 楼", None, None)
    assert not await db(MessageRevision.objects.exists)()
    await neighbour.disconnect()


async def test_an_edit_after_the_window_is_refused(conversation, resident):
    message = await db(send)(resident, conversation, "九点见")
    sent_at = timezone.now() - timedelta(minutes=settings.MESSAGE_EDIT_MINUTES + 1)
    await db(Message.objects.filter(pk=message.pk).update)(created_at=sent_at)
    poster = await joined(conversation.pk, resident)

    await poster.send_json_to({"type": "message.edit", "id": message.pk, "body": "十点见"})

    error = await poster.receive_json_from(timeout=5)
    assert (error["type"], error["code"], error["id"]) == ("error", "invalid", message.pk)
    await db(message.refresh_from_db)()
    assert (message.body, message.edited_at) == ("九点见", None)
    assert not await db(MessageRevision.objects.exists)()
    await poster.disconnect()


async def test_an_edit_to_an_empty_or_overlong_text_is_refused(conversation, resident):
    message = await db(send)(resident, conversation, "九点见")
    poster = await joined(conversation.pk, resident)

    for body in ("  ", "长" * (MESSAGE_MAX_LENGTH + 1)):
        await poster.send_json_to({"type": "message.edit", "id": message.pk, "body": body})
        assert (await poster.receive_json_from(timeout=5))["type"] == "error"

    await db(message.refresh_from_db)()
    assert (message.body, message.edited_at) == ("九点见", None)
    assert not await db(MessageRevision.objects.exists)()
    await poster.disconnect()


# --- Edits, deletes, read receipts, ping ---------------------------------------------------


async def test_an_edit_reaches_everyone_and_keeps_the_old_text(conversation, resident, helper):
    message = await db(send)(resident, conversation, "九点见")
    poster = await joined(conversation.pk, resident)
    neighbour = await joined(conversation.pk, helper)

    await poster.send_json_to({"type": "message.edit", "id": message.pk, "body": "十点见"})

    for socket in (poster, neighbour):
        frame = await socket.receive_json_from(timeout=5)
        assert frame["type"] == "message"
        assert frame["message"]["id"] == message.pk
        assert frame["message"]["body"] == "十点见"
        assert frame["message"]["edited_at"] is not None
        assert frame["message"]["deleted"] is False
    revisions = await db(list)(MessageRevision.objects.filter(message=message).values_list("body", flat=True))
    assert revisions == ["九点见"]
    assert await db(stored)() == 1
    await poster.disconnect()
    await neighbour.disconnect()


async def test_an_edit_that_adds_a_listed_word_withdraws_the_text_from_the_others(conversation, resident, helper):
    await db(SensitiveWord.objects.create)(word="转账")
    message = await db(send)(resident, conversation, "明天见")
    poster = await joined(conversation.pk, resident)
    neighbour = await joined(conversation.pk, helper)

    await poster.send_json_to({"type": "message.edit", "id": message.pk, "body": "先转账"})

    frame = await neighbour.receive_json_from(timeout=5)
    assert frame["message"]["id"] == message.pk
    assert frame["message"]["status"] == Message.Status.HELD
    assert frame["message"]["body"] == ""
    own = await poster.receive_json_from(timeout=5)  # its text, before the broadcast without it
    assert (own["message"]["status"], own["message"]["body"]) == (Message.Status.HELD, "先转账")
    await poster.disconnect()
    await neighbour.disconnect()


async def test_editing_or_deleting_a_held_message_is_answered_to_its_sender_alone(conversation, resident, helper):
    await db(SensitiveWord.objects.create)(word="转账")
    held = await db(send)(resident, conversation, "先转账")
    poster = await joined(conversation.pk, resident)
    neighbour = await joined(conversation.pk, helper)

    await poster.send_json_to({"type": "message.edit", "id": held.pk, "body": "先转账吧"})
    edited = await poster.receive_json_from(timeout=5)
    await poster.send_json_to({"type": "message.delete", "id": held.pk})
    deleted = await poster.receive_json_from(timeout=5)

    assert edited["type"] == "message"
    assert (edited["message"]["id"], edited["message"]["body"]) == (held.pk, "先转账吧")
    assert edited["message"]["status"] == Message.Status.HELD
    assert (deleted["message"]["id"], deleted["message"]["deleted"]) == (held.pk, True)
    assert await poster.receive_nothing(timeout=0.2)
    assert await neighbour.receive_nothing(timeout=0.2)
    await poster.disconnect()
    await neighbour.disconnect()


async def test_a_delete_reaches_everyone_and_leaves_a_trace_without_the_text(conversation, resident, helper):
    message = await db(send)(resident, conversation, "我家门牌是 3 号")
    poster = await joined(conversation.pk, resident)
    neighbour = await joined(conversation.pk, helper)

    await poster.send_json_to({"type": "message.delete", "id": message.pk})

    for socket in (poster, neighbour):
        frame = await socket.receive_json_from(timeout=5)
        assert frame["message"]["id"] == message.pk
        assert frame["message"]["deleted"] is True
        assert frame["message"]["body"] == ""
    await db(message.refresh_from_db)()
    assert message.body == ""
    assert message.deleted_at is not None
    await poster.send_json_to({"type": "message.delete", "id": message.pk})
    assert (await poster.receive_json_from(timeout=5))["type"] == "error"
    await poster.disconnect()
    await neighbour.disconnect()


async def test_a_read_frame_tells_the_others_seen(conversation, resident, helper):
    message = await db(send)(resident, conversation, "到楼下了")
    poster = await joined(conversation.pk, resident)
    neighbour = await joined(conversation.pk, helper)

    await neighbour.send_json_to({"type": "read", "up_to": message.pk})

    assert await poster.receive_json_from(timeout=5) == {"type": "read", "user_id": helper.pk, "up_to": message.pk}
    seat = await db(Participant.objects.get)(user=helper, conversation=conversation)
    assert seat.last_read_id == message.pk
    await poster.disconnect()
    await neighbour.disconnect()


async def test_a_read_mark_past_the_newest_message_is_clamped_and_never_moves_back(conversation, resident, helper):
    newest = await db(send)(resident, conversation, "到楼下了")
    poster = await joined(conversation.pk, resident)
    neighbour = await joined(conversation.pk, helper)

    await neighbour.send_json_to({"type": "read", "up_to": 10**30})
    clamped = await poster.receive_json_from(timeout=5)
    await neighbour.send_json_to({"type": "read", "up_to": 0})

    assert clamped == {"type": "read", "user_id": helper.pk, "up_to": newest.pk}
    assert await poster.receive_nothing(timeout=0.3)
    seat = await db(Participant.objects.get)(user=helper, conversation=conversation)
    assert seat.last_read_id == newest.pk
    await poster.disconnect()
    await neighbour.disconnect()


async def test_a_ping_is_answered_and_marks_the_person_present(conversation, resident):
    poster = await joined(conversation.pk, resident)
    long_ago = timezone.now() - timedelta(hours=1)
    await db(Presence.objects.filter(user=resident).update)(seen_at=long_ago)

    await poster.send_json_to({"type": "ping"})

    assert await poster.receive_json_from(timeout=5) == {"type": "pong"}
    presence = await db(Presence.objects.get)(user=resident)
    assert presence.seen_at > long_ago
    await poster.disconnect()
