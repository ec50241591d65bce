"""Each person's stream: notifications reach only their owner, feed changes only the community's
members, the unread count is right on connect and with every notification."""

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
from messaging.consumers import CLOSE_FORBIDDEN, CLOSE_TRY_AGAIN, CLOSE_UNAUTHENTICATED
from messaging.models import Conversation, Notification, Presence
from messaging.services import (
    announcement_channel,
    conversation_mark_read,
    conversation_open,
    feed_changed,
    message_send,
    notification_send,
    notifications_mark_read,
)
from neighbors.models import Membership, SensitiveWord

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def connect(user=None, origin=ORIGIN):
    headers = [origin] if origin else []
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, "/ws/stream/", headers=headers)
    connected, code = await communicator.connect()
    if not connected:
        # A refused handshake leaves the application task waiting on the channel layer; with
        # Redis, closing the test's loop would then wait for it for ever.
        await communicator.disconnect()
    return communicator, connected, code


async def connect_and_greet(user) -> tuple[WebsocketCommunicator, dict]:
    communicator, connected, code = await connect(user)
    assert connected, code
    return communicator, await communicator.receive_json_from(timeout=5)


@pytest_asyncio.fixture(autouse=True)
async def close_connections_of_the_sync_thread():
    """As in test_consumers.py: a refused handshake leaves a connection open in asgiref's
    sync thread, which would block dropping the PostgreSQL test database."""
    yield
    await database_sync_to_async(connections.close_all)()


def send(user, title: str = "有人需要你帮忙") -> Notification:
    return notification_send(user=user, kind=Notification.Kind.DISPATCH, title=title, url="/posts/1/")


def chat(user, conversation: Conversation, body: str):
    return message_send(actor=user, conversation_id=conversation.pk, body=body)[0]


@pytest.fixture
def conversation(resident, helper):
    return conversation_open(
        kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="修水龙头", participants=[resident, helper]
    )


async def test_an_anonymous_visitor_is_refused():
    _, connected, code = await connect()
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


async def test_a_foreign_or_missing_origin_is_refused(resident):
    _, connected, _ = await connect(resident, origin=(b"origin", b"https://evil.example"))
    assert not connected
    _, connected, _ = await connect(resident, origin=None)
    assert not connected


async def test_hello_carries_the_unread_count(resident):
    await database_sync_to_async(send)(resident)
    read = await database_sync_to_async(send)(resident)
    await database_sync_to_async(Notification.objects.filter(pk=read.pk).update)(read_at=timezone.now())

    stream, hello = await connect_and_greet(resident)

    assert hello == {"type": "hello", "unread": 1, "unread_messages": 0}
    await stream.disconnect()


async def test_a_notification_reaches_only_its_owner_with_the_count(resident, helper):
    mine, hello = await connect_and_greet(resident)
    assert hello["unread"] == 0
    theirs, _ = await connect_and_greet(helper)

    notification = await database_sync_to_async(send)(resident, "「修水龙头」需要你帮忙")

    frame = await mine.receive_json_from(timeout=5)
    assert frame["type"] == "notification"
    assert frame["unread"] == 1
    assert frame["notification"]["id"] == notification.pk
    assert frame["notification"]["title"] == "「修水龙头」需要你帮忙"
    assert frame["notification"]["url"] == "/posts/1/"
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()


async def test_a_notification_rolled_back_is_never_pushed(resident):
    from django.db import transaction

    stream, _ = await connect_and_greet(resident)

    def send_then_roll_back() -> None:
        with transaction.atomic():
            send(resident)
            transaction.set_rollback(True)

    await database_sync_to_async(send_then_roll_back)()

    assert await stream.receive_nothing(timeout=0.3)
    assert await database_sync_to_async(Notification.objects.count)() == 0
    await stream.disconnect()


async def test_the_count_after_a_reconnect_reflects_what_was_read_meanwhile(resident):
    stream, _ = await connect_and_greet(resident)
    await database_sync_to_async(send)(resident)
    assert (await stream.receive_json_from(timeout=5))["unread"] == 1
    await stream.disconnect()

    await database_sync_to_async(notifications_mark_read)(user=resident)
    await database_sync_to_async(send)(resident)  # sent while no page was open

    again, hello = await connect_and_greet(resident)
    assert hello == {"type": "hello", "unread": 1, "unread_messages": 0}
    await again.disconnect()


async def test_a_feed_change_reaches_the_communitys_members_only(resident, helper, outsider, community):
    member, _ = await connect_and_greet(resident)
    neighbour, _ = await connect_and_greet(helper)
    stranger, _ = await connect_and_greet(outsider)

    await database_sync_to_async(feed_changed)(community_id=community.pk)

    for stream in (member, neighbour):
        assert await stream.receive_json_from(timeout=5) == {"type": "feed.changed", "community": community.pk}
    assert await stranger.receive_nothing(timeout=0.3)
    for stream in (member, neighbour, stranger):
        await stream.disconnect()


async def test_a_pending_member_hears_no_feed(make_member, community):
    applicant = await database_sync_to_async(make_member)()
    await database_sync_to_async(Membership.objects.filter(user=applicant).update)(status=Membership.Status.PENDING)
    stream, _ = await connect_and_greet(applicant)

    await database_sync_to_async(feed_changed)(community_id=community.pk)

    assert await stream.receive_nothing(timeout=0.3)
    await stream.disconnect()


async def test_a_ping_is_answered_with_the_count_and_marks_the_person_present(resident):
    stream, _ = await connect_and_greet(resident)
    await database_sync_to_async(send)(resident)
    await stream.receive_json_from(timeout=5)
    long_ago = timezone.now() - timedelta(hours=1)
    await database_sync_to_async(Presence.objects.filter(user=resident).update)(seen_at=long_ago)

    await stream.send_json_to({"type": "ping"})

    assert await stream.receive_json_from(timeout=5) == {"type": "pong", "unread": 1, "unread_messages": 0}
    presence = await database_sync_to_async(Presence.objects.get)(user=resident)
    assert presence.seen_at > long_ago
    await stream.disconnect()


async def test_connecting_marks_the_person_present(resident):
    stream, _ = await connect_and_greet(resident)
    assert await database_sync_to_async(Presence.objects.filter(user=resident).exists)()
    await stream.disconnect()


async def test_hello_counts_unread_messages(conversation, resident, helper):
    await database_sync_to_async(chat)(resident, conversation, "一")
    await database_sync_to_async(chat)(resident, conversation, "二")

    theirs, hello = await connect_and_greet(helper)
    mine, own_hello = await connect_and_greet(resident)

    assert hello == {"type": "hello", "unread": 0, "unread_messages": 2}
    assert own_hello["unread_messages"] == 0  # what one sent oneself is read
    await theirs.disconnect()
    await mine.disconnect()


async def test_a_new_message_recounts_the_other_participants_stream_only(conversation, resident, helper, make_member):
    theirs, _ = await connect_and_greet(helper)
    mine, _ = await connect_and_greet(resident)
    stranger, _ = await connect_and_greet(await database_sync_to_async(make_member)())

    await database_sync_to_async(chat)(resident, conversation, "在吗")
    first = await theirs.receive_json_from(timeout=5)
    await database_sync_to_async(chat)(resident, conversation, "到楼下了")
    second = await theirs.receive_json_from(timeout=5)

    assert first == {"type": "unread", "unread": 0, "unread_messages": 1}
    assert second == {"type": "unread", "unread": 0, "unread_messages": 2}
    assert await mine.receive_nothing(timeout=0.3)
    assert await stranger.receive_nothing(timeout=0.1)
    for stream in (theirs, mine, stranger):
        await stream.disconnect()


async def test_reading_sends_the_reader_a_new_count(conversation, resident, helper):
    await database_sync_to_async(chat)(resident, conversation, "一")
    newest = await database_sync_to_async(chat)(resident, conversation, "二")
    theirs, hello = await connect_and_greet(helper)
    assert hello["unread_messages"] == 2

    await database_sync_to_async(conversation_mark_read)(
        actor=helper, conversation_id=conversation.pk, up_to=newest.pk - 1
    )
    after_first = await theirs.receive_json_from(timeout=5)
    await database_sync_to_async(conversation_mark_read)(actor=helper, conversation_id=conversation.pk, up_to=newest.pk)
    after_all = await theirs.receive_json_from(timeout=5)

    assert after_first == {"type": "unread", "unread": 0, "unread_messages": 1}
    assert after_all == {"type": "unread", "unread": 0, "unread_messages": 0}
    await theirs.disconnect()


async def test_a_held_message_recounts_nobody(conversation, resident, helper):
    await database_sync_to_async(SensitiveWord.objects.create)(word="转账")
    theirs, _ = await connect_and_greet(helper)

    await database_sync_to_async(chat)(resident, conversation, "先转账给我")

    assert await theirs.receive_nothing(timeout=0.3)
    await theirs.disconnect()


async def test_an_announcement_recounts_every_member_who_has_not_opened_the_channel(
    resident, helper, committee, community, outsider
):
    channel = await database_sync_to_async(announcement_channel)(community=community)
    member, _ = await connect_and_greet(resident)
    stranger, _ = await connect_and_greet(outsider)

    await database_sync_to_async(chat)(committee, channel, "周六上午停水")

    assert await member.receive_json_from(timeout=5) == {"type": "unread", "unread": 0, "unread_messages": 1}
    assert await stranger.receive_nothing(timeout=0.3)
    await member.disconnect()
    await stranger.disconnect()


@pytest.mark.parametrize("frame", ["not json", "[1]", '{"type": "notification.send", "title": "x"}', '{"no": "type"}'])
async def test_other_frames_get_an_error_and_the_socket_stays(resident, frame):
    stream, _ = await connect_and_greet(resident)

    await stream.send_to(text_data=frame)

    assert await stream.receive_json_from(timeout=5) == {"type": "error", "error": "unsupported"}
    assert await database_sync_to_async(Notification.objects.count)() == 0
    await stream.send_json_to({"type": "ping"})
    assert (await stream.receive_json_from(timeout=5))["type"] == "pong"
    await stream.disconnect()


async def test_binary_frames_get_an_error_too(resident):
    stream, _ = await connect_and_greet(resident)
    await stream.send_to(bytes_data=b"\x00\x01")
    assert await stream.receive_json_from(timeout=5) == {"type": "error", "error": "unsupported"}
    await stream.disconnect()


async def test_an_account_closed_mid_session_is_cut_off_at_the_next_frame(resident):
    stream, _ = await connect_and_greet(resident)
    await database_sync_to_async(type(resident).objects.filter(pk=resident.pk).update)(is_active=False)

    await stream.send_json_to({"type": "ping"})

    assert await stream.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


async def test_a_failing_channel_layer_refuses_the_handshake_cleanly(resident, monkeypatch):
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    joined, discarded = [], []
    real_group_add = layer.group_add

    async def group_add_then_fail(group, channel):
        if joined:
            raise TimeoutError("Redis did not answer")
        joined.append(group)
        await real_group_add(group, channel)

    async def group_discard(group, channel):
        discarded.append(group)

    monkeypatch.setattr(layer, "group_add", group_add_then_fail)
    monkeypatch.setattr(layer, "group_discard", group_discard)

    _, connected, code = await connect(resident)

    assert not connected
    assert code == CLOSE_TRY_AGAIN
    # The group joined before the failure is left again, not kept for a socket that never opened.
    assert discarded == joined
