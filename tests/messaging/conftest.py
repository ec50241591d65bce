import pytest

from messaging.models import Conversation
from messaging.services import conversation_open


@pytest.fixture
def conversation(resident, helper, community) -> Conversation:
    """A request's conversation between the poster (resident) and the accepted helper."""
    return conversation_open(
        kind=Conversation.Kind.CLAIM,
        subject="aid_post:1",
        title="修水龙头",
        participants=[resident, helper],
        community=community,
    )
