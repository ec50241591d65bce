import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from messaging.models import MESSAGE_MAX_LENGTH, Conversation, Message
from messaging.permissions import can_access_conversation, conversations_visible_to
from messaging.services import conversation_open, message_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(resident, helper):
    return conversation_open(
        kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="修水龙头", participants=[resident, helper]
    )


def test_opening_twice_reuses_the_conversation(conversation, resident, helper):
    again = conversation_open(kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="x", participants=[resident])
    assert again.pk == conversation.pk
    assert conversation.participants.count() == 2


def test_participants_only(conversation, resident, helper, make_member):
    stranger = make_member()
    assert can_access_conversation(resident, conversation.pk)
    assert not can_access_conversation(stranger, conversation.pk)
    assert list(conversations_visible_to(helper)) == [conversation]
    assert not conversations_visible_to(stranger).exists()


def test_send_persists_and_broadcasts_after_commit(conversation, resident, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        message, created = message_send(actor=resident, conversation_id=conversation.pk, body="  你好  ")
    assert created
    assert message.body == "你好"
    assert len(callbacks) == 1  # the broadcast waits for the commit


def test_an_outsider_cannot_send(conversation, make_member):
    with pytest.raises(PermissionDenied):
        message_send(actor=make_member(), conversation_id=conversation.pk, body="hi")
    assert not Message.objects.exists()


@pytest.mark.parametrize("body", ["", "   ", "x" * (MESSAGE_MAX_LENGTH + 1)])
def test_empty_or_overlong_messages_are_refused(conversation, resident, body):
    with pytest.raises(ValidationError):
        message_send(actor=resident, conversation_id=conversation.pk, body=body)
    assert not Message.objects.exists()


def test_a_retry_with_the_same_client_id_is_stored_once(conversation, resident, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first, created_first = message_send(actor=resident, conversation_id=conversation.pk, body="hi", client_id="c1")
        second, created_second = message_send(
            actor=resident, conversation_id=conversation.pk, body="hi", client_id="c1"
        )
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert Message.objects.count() == 1
    assert len(callbacks) == 1
