from datetime import time, timedelta

import pytest
from django.utils import timezone

from aid_posts.models import WelfareRole
from aid_posts.services import welfare_role_create
from messaging.models import Conversation
from messaging.services import conversation_open, message_send
from neighbors.models import Membership, SensitiveWord
from tests.factories import MembershipFactory, UserFactory, skill

WORD = "高利贷"


@pytest.fixture
def conversation(resident, helper, community, post):
    """The request's conversation between its poster and helper, in the community."""
    return conversation_open(
        kind=Conversation.Kind.CLAIM,
        subject=post.subject,
        title=post.title,
        participants=[resident, helper],
        community=community,
    )


@pytest.fixture
def sensitive_word(community):
    return SensitiveWord.objects.create(community=community, word=WORD)


@pytest.fixture
def send():
    """send(user, conversation, body) -> the stored message, through the service."""

    def send_message(user, conversation, body):
        message, _created = message_send(actor=user, conversation_id=conversation.pk, body=body)
        return message

    return send_message


@pytest.fixture
def role(committee, community, building):
    today = timezone.localdate()
    return welfare_role_create(
        actor=committee,
        community=community,
        title="周六法律援助",
        description="每周六上午在社区调解室提供法律咨询。",
        skill=skill("legal-aid"),
        seats=1,
        weekday=WelfareRole.Weekday.SATURDAY,
        starts_at=time(9),
        ends_at=time(11),
        term_start=today,
        term_end=today + timedelta(days=300),
        place=building,
    )


@pytest.fixture
def other_grid_worker(outsider):
    user = UserFactory(username="other-grid-worker")
    MembershipFactory(user=user, community=outsider.memberships.get().community, role=Membership.Role.GRID_WORKER)
    return user
