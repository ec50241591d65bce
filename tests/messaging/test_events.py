import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from messaging import events
from messaging.models import Conversation
from messaging.services import conversation_open, message_send
from tests.conftest import require_service


@pytest.mark.django_db(transaction=True)
def test_a_sent_message_reaches_the_conversation_group(resident, helper):
    conversation = conversation_open(
        kind=Conversation.Kind.CLAIM, subject="aid_post:9", title="t", participants=[resident, helper]
    )
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.conversation_group(conversation.pk), channel)

    message, _ = message_send(actor=resident, conversation_id=conversation.pk, body="到了")

    event = async_to_sync(layer.receive)(channel)
    assert event["type"] == events.MESSAGE_NEW
    assert event["message"]["id"] == message.pk
    assert event["message"]["body"] == "到了"
    # Building-level privacy: the payload carries a display name, never contact details.
    assert set(event["message"]) == {"id", "conversation", "sender_id", "sender", "body", "client_id", "created_at"}


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
