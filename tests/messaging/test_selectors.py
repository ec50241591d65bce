"""The reads: history and catch-up show each person what they may see, in order; unread counts
leave out one's own, deleted and held messages; lists cost the same number of queries however
long they are."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import selectors
from messaging.models import Conversation, Message, Notification
from messaging.selectors import (
    CATCH_UP_OVERLAP,
    announcement_communities,
    conversation_list,
    held_messages_for,
    message_in,
    message_payloads_after,
    notifications_of,
    read_marks_of,
    recent_messages,
    unread_counts,
    unread_message_counts,
    unread_message_total,
)
from messaging.services import (
    announcement_channel,
    conversation_mark_read,
    conversation_open,
    message_delete,
    message_edit,
    message_send,
    notification_send,
)
from neighbors.models import Membership, SensitiveWord

pytestmark = pytest.mark.django_db


def open_with(subject: str, *people) -> Conversation:
    return conversation_open(kind=Conversation.Kind.CLAIM, subject=subject, title=subject, participants=people)


def send(user, conversation, body: str) -> Message:
    return message_send(actor=user, conversation_id=conversation.pk, body=body)[0]


@pytest.fixture
def conversation(resident, helper):
    return open_with("aid_post:1", resident, helper)


@pytest.fixture
def listed_word():
    return SensitiveWord.objects.create(word="转账")


class TestHistory:
    def test_recent_messages_are_the_newest_oldest_first(self, conversation, resident):
        sent = [send(resident, conversation, str(number)) for number in range(5)]

        assert recent_messages(conversation, resident, limit=3) == sent[2:]

    def test_a_message_of_another_conversation_or_someone_elses_held_one_is_not_found(
        self, conversation, resident, helper, listed_word
    ):
        elsewhere = send(resident, open_with("aid_post:2", resident), "别处")
        held = send(resident, conversation, "先转账")

        assert message_in(conversation, elsewhere.pk, resident) is None
        assert message_in(conversation, held.pk, helper) is None
        assert message_in(conversation, held.pk, resident) == held


class TestCatchUp:
    def test_what_came_after_the_given_id_in_order(self, conversation, resident, helper):
        sent = [send(resident, conversation, str(number)) for number in range(4)]

        payloads, more = message_payloads_after(conversation.pk, sent[1].pk, viewer_id=helper.pk)

        assert [payload["id"] for payload in payloads] == [sent[2].pk, sent[3].pk]
        assert more is False

    def test_at_most_a_batch_at_a_time(self, conversation, resident, helper, monkeypatch):
        monkeypatch.setattr(selectors, "CATCH_UP_BATCH", 2)
        sent = [send(resident, conversation, str(number)) for number in range(3)]

        first, more_after_first = message_payloads_after(conversation.pk, 0, viewer_id=helper.pk)
        rest, more_after_rest = message_payloads_after(conversation.pk, first[-1]["id"], viewer_id=helper.pk)

        assert ([payload["id"] for payload in first], more_after_first) == ([sent[0].pk, sent[1].pk], True)
        assert ([payload["id"] for payload in rest], more_after_rest) == ([sent[2].pk], False)

    def test_changes_since_a_time_among_the_messages_the_client_has(self, conversation, resident, helper):
        edited = send(resident, conversation, "九点")
        deleted = send(resident, conversation, "门牌 3 号")
        send(resident, conversation, "好的")
        since = timezone.now()
        # All three sent more than the overlap before the mark: not changed since, as catch-up sees it
        Message.objects.update(changed_at=since - CATCH_UP_OVERLAP - timedelta(seconds=1))
        message_edit(actor=resident, conversation_id=conversation.pk, message_id=edited.pk, body="十点")
        message_delete(actor=resident, conversation_id=conversation.pk, message_id=deleted.pk)
        newer = send(resident, conversation, "新的")

        payloads, _more = message_payloads_after(
            conversation.pk, newer.pk - 1, viewer_id=helper.pk, changed_after=since
        )

        assert [(payload["id"], payload["body"], payload["deleted"]) for payload in payloads] == [
            (edited.pk, "十点", False),
            (deleted.pk, "", True),
            (newer.pk, "新的", False),
        ]

    def test_changes_are_looked_for_from_a_while_before_the_mark(self, conversation, resident, helper):
        # Given two messages the client has, one stamped just inside the overlap before its mark
        # (sent at once with others, it may have committed after the mark), one just outside it
        outside, inside = send(resident, conversation, "一"), send(resident, conversation, "二")
        mark = timezone.now()
        Message.objects.filter(pk=outside.pk).update(changed_at=mark - CATCH_UP_OVERLAP - timedelta(seconds=1))
        Message.objects.filter(pk=inside.pk).update(changed_at=mark - CATCH_UP_OVERLAP + timedelta(seconds=1))

        payloads, _more = message_payloads_after(conversation.pk, inside.pk, viewer_id=helper.pk, changed_after=mark)

        # Then the one inside comes again (clients keep messages by id), the one outside does not
        assert [payload["id"] for payload in payloads] == [inside.pk]

    def test_someone_elses_held_message_never_comes(self, conversation, resident, helper, listed_word):
        held = send(resident, conversation, "先转账")
        long_ago = timezone.now() - timedelta(days=1)

        theirs, _more = message_payloads_after(conversation.pk, 0, viewer_id=helper.pk, changed_after=long_ago)
        changed, _more = message_payloads_after(conversation.pk, held.pk, viewer_id=helper.pk, changed_after=long_ago)
        own, _more = message_payloads_after(conversation.pk, 0, viewer_id=resident.pk)

        assert theirs == changed == []
        assert [(payload["id"], payload["body"]) for payload in own] == [(held.pk, "先转账")]

    def test_the_read_marks_of_everyone_seated(self, conversation, resident, helper):
        message = send(resident, conversation, "一")

        assert read_marks_of(conversation.pk) == {resident.pk: message.pk, helper.pk: 0}


class TestUnread:
    def test_only_published_undeleted_messages_from_others_after_the_mark_count(
        self, conversation, resident, helper, listed_word
    ):
        read = send(resident, conversation, "已读")
        conversation_mark_read(actor=helper, conversation_id=conversation.pk, up_to=read.pk)
        send(helper, conversation, "自己的")
        send(resident, conversation, "一")
        gone = send(resident, conversation, "二")
        message_delete(actor=resident, conversation_id=conversation.pk, message_id=gone.pk)
        send(resident, conversation, "先转账")
        send(resident, conversation, "三")

        assert unread_message_counts(helper) == {conversation.pk: 2}
        # Sending marks everything before it read: one answers what one has seen.
        assert unread_message_counts(resident) == {}

    def test_counts_span_conversations_and_leave_out_those_one_cannot_read(
        self, conversation, resident, helper, make_member
    ):
        other = open_with("aid_post:2", resident, helper)
        private = open_with("aid_post:3", resident, make_member())
        send(resident, conversation, "一")
        send(resident, other, "二")
        send(resident, other, "三")
        send(resident, private, "不关你事")

        assert unread_message_counts(helper) == {conversation.pk: 1, other.pk: 2}
        assert unread_message_total(helper) == 3
        assert unread_counts(helper) == {"unread": 0, "unread_messages": 3}

    def test_announcements_count_for_members_without_a_seat_until_read(self, community, resident, committee, outsider):
        channel = announcement_channel(community=community)
        notice = send(committee, channel, "周六停水")

        assert unread_message_counts(resident) == {channel.pk: 1}
        assert unread_message_counts(outsider) == {}
        conversation_mark_read(actor=resident, conversation_id=channel.pk, up_to=notice.pk)
        assert unread_message_counts(resident) == {}

    def test_nobody_logged_in_has_nothing_unread(self):
        from django.contrib.auth.models import AnonymousUser

        assert unread_message_counts(AnonymousUser()) == {}


class TestLists:
    def test_the_most_recently_active_first_each_with_its_unread_count(self, resident, helper):
        quiet = open_with("aid_post:1", resident, helper)
        busy = open_with("aid_post:2", resident, helper)
        empty = open_with("aid_post:3", resident, helper)
        send(resident, busy, "旧的")
        send(resident, quiet, "一")
        send(resident, busy, "新的")

        listed = conversation_list(helper)

        assert [conversation.pk for conversation in listed] == [busy.pk, quiet.pk, empty.pk]
        assert [conversation.unread for conversation in listed] == [2, 1, 0]

    def test_a_held_message_does_not_make_a_conversation_look_active(self, resident, helper, listed_word):
        first = open_with("aid_post:1", resident, helper)
        second = open_with("aid_post:2", resident, helper)
        send(resident, second, "一")
        send(resident, first, "二")
        send(resident, second, "先转账")

        assert [conversation.pk for conversation in conversation_list(helper)] == [first.pk, second.pk]

    def test_the_list_costs_the_same_queries_however_long(
        self, resident, helper, make_member, django_assert_num_queries
    ):
        def listed_after_opening(count: int) -> int:
            for _number in range(count):
                conversation = open_with(
                    f"aid_post:{Conversation.objects.count() + 1}", resident, helper, make_member()
                )
                send(resident, conversation, "hi")
            with django_assert_num_queries(3):
                conversations = conversation_list(helper)
                names = {str(seat.user.profile) for c in conversations for seat in c.participants.all()}
            return len(names)

        assert listed_after_opening(1) == 3
        assert listed_after_opening(5) == 8

    def test_announcement_channels_not_opened_yet(self, community, resident, outsider):
        assert list(announcement_communities(resident)) == [community]
        announcement_channel(community=community)
        assert not announcement_communities(resident).exists()
        assert list(announcement_communities(outsider)) == [outsider.memberships.get().community]


class TestOthers:
    def test_held_messages_come_oldest_first_to_their_communitys_staff(
        self, community, resident, helper, committee, listed_word
    ):
        conversation = conversation_open(
            kind=Conversation.Kind.CLAIM,
            subject="aid_post:1",
            title="t",
            participants=[resident, helper],
            community=community,
        )
        greeting = send(resident, conversation, "你好")
        first = send(resident, conversation, "先转账")
        second = send(helper, conversation, "转账也行")

        held = held_messages_for(committee)
        assert held == [first, second]
        # Each with the published messages before it, for the reviewer's context.
        assert [held[0].context, held[1].context] == [[greeting], [greeting]]
        assert held_messages_for(resident) == []
        # Nobody reviews their own: a committee member's held message goes to someone else.
        assert send(
            committee,
            conversation_open(kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="t", participants=[committee]),
            "转账",
        ) not in held_messages_for(committee)

    def test_notifications_are_ones_own_newest_first(self, resident, helper):
        older = notification_send(user=resident, kind=Notification.Kind.DISPATCH, title="一")
        newer = notification_send(user=resident, kind=Notification.Kind.DISPATCH, title="二")
        notification_send(user=helper, kind=Notification.Kind.DISPATCH, title="别人的")

        assert list(notifications_of(resident)) == [newer, older]

    def test_a_pending_member_is_not_counted_in_announcements(self, community, committee, make_member):
        applicant = make_member()
        Membership.objects.filter(user=applicant).update(status=Membership.Status.PENDING)
        send(committee, announcement_channel(community=community), "欢迎")

        assert unread_message_counts(applicant) == {}
