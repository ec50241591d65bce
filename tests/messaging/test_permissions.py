"""Who may read, write, edit, share and review where: each rule in both of its forms, the
single-object check and the queryset, denial checked as carefully as access."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from messaging import permissions
from messaging.models import Conversation, Message, Participant
from messaging.permissions import (
    blocked_in_conversation,
    can_access_conversation,
    can_ask_committee_in,
    can_delete_message,
    can_edit_message,
    can_open_committee_conversation,
    can_review_message,
    can_share_contact_in,
    can_write_in,
    conversations_visible_to,
    held_messages_reviewable_by,
)
from messaging.services import (
    announcement_channel,
    committee_conversation_open,
    conversation_ask_committee,
    conversation_mark_read,
    conversation_open,
    message_send,
)
from neighbors.models import Block, Membership, Profile, SensitiveWord

pytestmark = pytest.mark.django_db


def sees(user, conversation: Conversation) -> bool:
    """Both forms of the read rule, which must agree."""
    single = can_access_conversation(user, conversation.pk)
    assert single == conversations_visible_to(user).filter(pk=conversation.pk).exists()
    return single


@pytest.fixture
def committee_conversation(resident, community):
    return committee_conversation_open(actor=resident, community=community, member=resident)


@pytest.fixture
def other_committee(outsider):
    """The committee of the outsider's (another) community."""
    Membership.objects.filter(user=outsider).update(role=Membership.Role.COMMITTEE)
    return outsider


class TestReading:
    def test_a_request_conversation_is_read_by_its_seated_people_only(
        self, conversation, resident, helper, committee, grid_worker, make_member
    ):
        assert sees(resident, conversation)
        assert sees(helper, conversation)
        for someone in (make_member(), committee, grid_worker, AnonymousUser()):
            assert not sees(someone, conversation)

    def test_asking_the_committee_in_opens_it_to_that_communitys_staff_only(
        self, conversation, resident, committee, grid_worker, other_committee, make_member
    ):
        conversation_ask_committee(actor=resident, conversation=conversation)

        assert sees(committee, conversation)
        assert sees(grid_worker, conversation)
        assert not sees(other_committee, conversation)
        assert not sees(make_member(), conversation)

    def test_a_committee_conversation_is_the_members_and_their_committees(
        self, committee_conversation, resident, committee, grid_worker, other_committee, helper
    ):
        assert sees(resident, committee_conversation)
        assert sees(committee, committee_conversation)
        assert sees(grid_worker, committee_conversation)
        assert not sees(other_committee, committee_conversation)
        assert not sees(helper, committee_conversation)

    def test_losing_the_staff_role_ends_access_to_the_staff_kinds(self, committee_conversation, committee):
        Membership.objects.filter(user=committee).update(role=Membership.Role.VOLUNTEER)

        assert not sees(committee, committee_conversation)

    def test_losing_the_staff_role_ends_access_even_after_writing_there(self, committee_conversation, committee):
        message_send(actor=committee, conversation_id=committee_conversation.pk, body="您好，请讲")
        Membership.objects.filter(user=committee).update(role=Membership.Role.VOLUNTEER)

        assert not sees(committee, committee_conversation)

    def test_announcements_are_read_by_approved_members_of_the_community(
        self, community, resident, committee, outsider, make_member
    ):
        channel = announcement_channel(community=community)
        applicant = make_member()
        Membership.objects.filter(user=applicant).update(status=Membership.Status.PENDING)

        assert sees(resident, channel)
        assert sees(committee, channel)
        assert not sees(outsider, channel)
        assert not sees(applicant, channel)

    def test_a_member_who_read_the_announcements_loses_them_on_leaving(self, community, resident, committee):
        channel = announcement_channel(community=community)
        notice, _ = message_send(actor=committee, conversation_id=channel.pk, body="周六停水")
        conversation_mark_read(actor=resident, conversation_id=channel.pk, up_to=notice.pk)
        assert Participant.objects.filter(conversation=channel, user=resident).exists()

        Membership.objects.filter(user=resident).update(status=Membership.Status.LEFT)

        assert not sees(resident, channel)

    def test_an_inactive_account_reads_nothing(self, conversation, resident):
        resident.is_active = False
        resident.save(update_fields=["is_active"])

        assert not sees(resident, conversation)


class TestWriting:
    def test_everyone_who_reads_a_conversation_writes_there(self, conversation, resident, helper, make_member):
        assert can_write_in(resident, conversation)
        assert can_write_in(helper, conversation)
        assert not can_write_in(make_member(), conversation)
        assert not can_write_in(AnonymousUser(), conversation)

    def test_only_the_communitys_staff_write_announcements(
        self, community, resident, committee, grid_worker, other_committee
    ):
        channel = announcement_channel(community=community)

        assert can_write_in(committee, channel)
        assert can_write_in(grid_worker, channel)
        assert not can_write_in(resident, channel)
        assert not can_write_in(other_committee, channel)

    def test_a_block_between_participants_is_seen_from_both_sides(self, conversation, resident, helper, make_member):
        assert not blocked_in_conversation(resident, conversation.pk)
        Block.objects.create(blocker=helper, blocked=resident)

        assert blocked_in_conversation(resident, conversation.pk)
        assert blocked_in_conversation(helper, conversation.pk)
        # A block with someone who is not in the conversation does not matter here.
        Block.objects.filter(blocker=helper).update(blocked=make_member())
        assert not blocked_in_conversation(resident, conversation.pk)


class TestEditingAndDeleting:
    @pytest.fixture
    def message(self, conversation, resident):
        return message_send(actor=resident, conversation_id=conversation.pk, body="九点见")[0]

    def test_the_sender_edits_their_text_within_the_window(self, message, resident, helper, monkeypatch):
        assert can_edit_message(resident, message)
        assert not can_edit_message(helper, message)
        assert not can_edit_message(AnonymousUser(), message)

        later = message.created_at + timedelta(minutes=settings.MESSAGE_EDIT_MINUTES, seconds=1)
        monkeypatch.setattr(permissions.timezone, "now", lambda: later)
        assert not can_edit_message(resident, message)

    @pytest.mark.parametrize(
        "change",
        [
            {"kind": Message.Kind.IMAGE},
            {"kind": Message.Kind.CONTACT, "contact_kind": "phone"},
            {"deleted_at": timezone.now()},
            {"status": Message.Status.REJECTED},
        ],
    )
    def test_images_shared_details_deleted_and_rejected_messages_are_not_edited(self, message, resident, change):
        for field, value in change.items():
            setattr(message, field, value)
        assert not can_edit_message(resident, message)

    def test_a_held_message_may_still_be_edited_by_its_sender(self, message, resident):
        message.status = Message.Status.HELD
        assert can_edit_message(resident, message)

    def test_the_sender_deletes_at_any_time_once(self, message, resident, helper, monkeypatch):
        later = message.created_at + timedelta(days=400)
        monkeypatch.setattr(permissions.timezone, "now", lambda: later)
        assert can_delete_message(resident, message)
        assert not can_delete_message(helper, message)
        message.deleted_at = later
        assert not can_delete_message(resident, message)


class TestSharingAndAsking:
    def test_contact_details_are_shared_in_conversations_not_announcements(
        self, conversation, community, resident, committee
    ):
        assert can_share_contact_in(resident, conversation)
        assert not can_share_contact_in(committee, announcement_channel(community=community))

    def test_a_child_shares_no_contact_details(self, conversation, resident):
        Profile.objects.filter(user=resident).update(is_minor=True)
        assert not can_share_contact_in(resident, conversation)

    def test_a_seated_person_asks_the_committee_into_a_request_once(
        self, conversation, committee_conversation, resident, helper, committee
    ):
        assert can_ask_committee_in(resident, conversation)
        assert can_ask_committee_in(helper, conversation)
        assert not can_ask_committee_in(committee, conversation)
        assert not can_ask_committee_in(resident, committee_conversation)

        conversation_ask_committee(actor=helper, conversation=conversation)

        assert not can_ask_committee_in(resident, conversation)

    def test_a_request_without_a_community_has_no_committee_to_ask(self, resident, helper):
        loose = conversation_open(
            kind=Conversation.Kind.CLAIM, subject="aid_post:7", title="t", participants=[resident, helper]
        )
        assert not can_ask_committee_in(resident, loose)


class TestCommitteeConversations:
    def test_a_member_opens_their_own_and_staff_open_one_with_a_member(
        self, community, resident, helper, committee, grid_worker, other_committee
    ):
        assert can_open_committee_conversation(resident, community, resident)
        assert can_open_committee_conversation(committee, community, resident)
        assert can_open_committee_conversation(grid_worker, community, resident)
        assert not can_open_committee_conversation(helper, community, resident)
        assert not can_open_committee_conversation(other_committee, community, resident)
        assert not can_open_committee_conversation(AnonymousUser(), community, resident)

    def test_not_with_someone_who_is_not_a_member(self, community, committee, outsider):
        assert not can_open_committee_conversation(committee, community, outsider)
        assert not can_open_committee_conversation(outsider, community, outsider)


class TestReview:
    def test_held_messages_are_reviewed_by_their_communitys_staff_only(
        self, conversation, resident, helper, committee, grid_worker, other_committee
    ):
        SensitiveWord.objects.create(word="转账")
        held, _ = message_send(actor=resident, conversation_id=conversation.pk, body="先转账")
        published, _ = message_send(actor=resident, conversation_id=conversation.pk, body="好的")

        for staff in (committee, grid_worker):
            assert can_review_message(staff, held)
            assert list(held_messages_reviewable_by(staff)) == [held]
            assert not can_review_message(staff, published)
        for someone in (resident, helper, other_committee, AnonymousUser()):
            assert not can_review_message(someone, held)
            assert not held_messages_reviewable_by(someone).exists()
