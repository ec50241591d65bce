"""What the services put on the channel layer, and only after commit."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from messaging import events
from messaging.models import Conversation, Message
from messaging.services import conversation_open, message_delete, message_edit, message_send
from neighbors.models import SensitiveWord
from tests.conftest import require_service

PAYLOAD_FIELDS = {
    "id",
    "conversation",
    "sender_id",
    "sender",
    "kind",
    "body",
    "client_id",
    "status",
    "created_at",
    "edited_at",
    "deleted",
    "changed_at",
    "contact_kind",
    "image",
    "thumbnail",
    "hidden",
    "hidden_reason",
}


@pytest.fixture
def conversation(resident, helper):
    return conversation_open(
        kind=Conversation.Kind.CLAIM, subject="aid_post:9", title="t", participants=[resident, helper]
    )


def next_event(channel: str) -> dict:
    """The next event for the channel. The timeout only stops a failing test from hanging:
    cancelling a receive can leave the Redis layer's connection unusable afterwards."""
    layer = get_channel_layer()

    async def receive() -> dict:
        return await asyncio.wait_for(layer.receive(channel), timeout=10)

    return async_to_sync(receive)()


def nothing_came(channel: str, group: str) -> bool:
    """Nothing has reached the channel so far: a marker sent to its group now is the next event
    (a group's events reach each channel in the order they were sent)."""
    async_to_sync(get_channel_layer().group_send)(group, {"type": "test.marker"})
    return next_event(channel) == {"type": "test.marker"}


def joined_channel(group: str) -> str:
    """A channel in the group, as a connected socket's would be."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


@pytest.fixture
def listener(conversation) -> str:
    return joined_channel(events.conversation_group(conversation.pk))


@pytest.fixture
def conversation_group(conversation) -> str:
    return events.conversation_group(conversation.pk)


@pytest.mark.django_db(transaction=True)
def test_a_sent_message_reaches_the_conversation_group(conversation, resident, listener):
    message, _ = message_send(actor=resident, conversation_id=conversation.pk, body="到了", client_id="c1")

    event = next_event(listener)
    assert event["type"] == events.MESSAGE_NEW
    assert event["message"]["id"] == message.pk
    assert event["message"]["body"] == "到了"
    assert event["message"]["status"] == Message.Status.VISIBLE
    # Building-level privacy: the payload carries a display name, never contact details; and
    # the client id of the sender's device goes back only in the sender's own ack.
    assert set(event["message"]) == PAYLOAD_FIELDS
    assert event["message"]["sender"] == "wang"
    assert event["message"]["client_id"] == ""


@pytest.mark.django_db
def test_a_message_payload_shows_a_held_text_to_its_sender_only(conversation, resident, helper):
    SensitiveWord.objects.create(word="转账")
    message, _ = message_send(actor=resident, conversation_id=conversation.pk, body="先转账", client_id="c1")

    own = events.message_payload(message, viewer_id=resident.pk)
    others = events.message_payload(message, viewer_id=helper.pk)
    nobodys = events.message_payload(message)

    assert (own["status"], own["body"], own["client_id"]) == (Message.Status.HELD, "先转账", "c1")
    assert (others["body"], others["client_id"]) == ("", "")
    assert nobodys["body"] == ""


@pytest.mark.django_db
def test_a_deleted_messages_payload_says_so_without_content(conversation, resident):
    message, _ = message_send(actor=resident, conversation_id=conversation.pk, body="门牌 3 号")
    message = message_delete(actor=resident, conversation_id=conversation.pk, message_id=message.pk)

    payload = events.message_payload(message, viewer_id=resident.pk)

    assert payload["deleted"] is True
    assert payload["body"] == ""
    assert payload["image"] is None


@pytest.mark.django_db(transaction=True)
def test_a_message_rolled_back_is_never_broadcast(conversation, resident, listener):
    with transaction.atomic():
        message_send(actor=resident, conversation_id=conversation.pk, body="撤回")
        transaction.set_rollback(True)
    message_send(actor=resident, conversation_id=conversation.pk, body="这条才算")

    assert next_event(listener)["message"]["body"] == "这条才算"
    assert not Message.objects.filter(body="撤回").exists()


@pytest.mark.django_db(transaction=True)
def test_a_new_message_tells_the_other_participants_streams_to_recount(conversation, resident, helper):
    theirs, mine = joined_channel(events.user_group(helper.pk)), joined_channel(events.user_group(resident.pk))

    message_send(actor=resident, conversation_id=conversation.pk, body="在吗")

    assert next_event(theirs) == {"type": events.UNREAD_CHANGED}
    assert nothing_came(mine, events.user_group(resident.pk))  # one's own message leaves nothing to read


@pytest.mark.django_db(transaction=True)
def test_a_held_message_is_not_broadcast_at_all(conversation, resident, helper, listener, conversation_group):
    SensitiveWord.objects.create(word="转账")
    theirs = joined_channel(events.user_group(helper.pk))

    message_send(actor=resident, conversation_id=conversation.pk, body="先转账")

    assert nothing_came(listener, conversation_group)
    assert nothing_came(theirs, events.user_group(helper.pk))


@pytest.mark.django_db(transaction=True)
def test_editing_or_deleting_a_held_message_tells_the_others_nothing(
    conversation, resident, listener, conversation_group
):
    SensitiveWord.objects.create(word="转账")
    held, _ = message_send(actor=resident, conversation_id=conversation.pk, body="先转账")

    message_edit(actor=resident, conversation_id=conversation.pk, message_id=held.pk, body="先转账吧")
    message_delete(actor=resident, conversation_id=conversation.pk, message_id=held.pk)

    assert nothing_came(listener, conversation_group)


@pytest.mark.django_db(transaction=True)
def test_an_edit_and_a_delete_are_broadcast_as_changes(conversation, resident, listener):
    message, _ = message_send(actor=resident, conversation_id=conversation.pk, body="九点")
    next_event(listener)

    message_edit(actor=resident, conversation_id=conversation.pk, message_id=message.pk, body="十点")
    edited = next_event(listener)["message"]
    message_delete(actor=resident, conversation_id=conversation.pk, message_id=message.pk)
    deleted = next_event(listener)["message"]

    assert (edited["id"], edited["body"], edited["deleted"]) == (message.pk, "十点", False)
    assert edited["edited_at"] is not None
    assert (deleted["id"], deleted["body"], deleted["deleted"]) == (message.pk, "", True)
    assert deleted["changed_at"] > edited["changed_at"]


@pytest.mark.redis
def test_redis_layer_delivers_between_two_workers():
    """Two layer instances stand for two ASGI worker processes sharing Redis."""
    require_service("Redis", bool(settings.REDIS_URL), _redis_error)
    from channels_redis.core import RedisChannelLayer

    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]

    async def scenario():
        worker_a, worker_b = RedisChannelLayer(**config), RedisChannelLayer(**config)
        channel = await worker_a.new_channel()
        await worker_a.group_add("conversation.test-two-workers", channel)
        await worker_b.group_send("conversation.test-two-workers", {"type": "chat.message", "message": {"id": 1}})
        received = await worker_a.receive(channel)
        await worker_a.group_discard("conversation.test-two-workers", channel)
        await worker_a.close_pools()
        await worker_b.close_pools()
        return received

    assert async_to_sync(scenario)()["message"] == {"id": 1}


def _redis_error() -> str | None:
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        return str(error)
    return None
