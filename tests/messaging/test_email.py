"""Email for what people missed while away: important notifications and unread messages, each
once, in the recipient's language, with a link back; never to someone on the site, never what
they opted out of, read already, or is too fresh or too old to matter."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from messaging.models import Conversation, EmailOptOut, Message, Notification, Participant, Presence
from messaging.services import (
    announcement_channel,
    committee_conversation_open,
    conversation_mark_read,
    conversation_open,
    email_opt_outs_set,
    emails_send,
    message_delete,
    message_send,
    notification_send,
    presence_seen,
)
from messaging.services import notifications as notification_services
from neighbors.models import Membership, Profile, SensitiveWord

pytestmark = pytest.mark.django_db


def due_ago() -> timedelta:
    return timedelta(seconds=settings.EMAIL_DELAY_SECONDS + 60)


def backdated(instance, ago: timedelta):
    """Pretend it was made `ago`, so that the emails treat it as that old."""
    type(instance).objects.filter(pk=instance.pk).update(created_at=timezone.now() - ago)
    instance.refresh_from_db()
    return instance


def notify(user, *, kind=Notification.Kind.DISPATCH, title="「修水龙头」需要你帮忙", ago=None) -> Notification:
    notification = notification_send(user=user, kind=kind, title=title, url="/posts/1/")
    return backdated(notification, due_ago() if ago is None else ago)


def say(user, conversation: Conversation, body: str, *, ago=None) -> Message:
    message, _created = message_send(actor=user, conversation_id=conversation.pk, body=body)
    return backdated(message, due_ago() if ago is None else ago)


def subject_for(title: str) -> str:
    """A message email's subject as its recipient reads it, in the profile's default language."""
    with translation.override("zh-hans"):
        return gettext("New messages in “%(title)s”") % {"title": title}


@pytest.fixture
def conversation(resident, helper):
    return conversation_open(
        kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="修水龙头", participants=[resident, helper]
    )


class TestNotificationEmails:
    def test_an_unread_important_notification_reaches_someone_away_once(self, resident, mailoutbox):
        notification = notify(resident)

        assert emails_send() == 1
        assert emails_send() == 0

        [email] = mailoutbox
        assert email.to == [resident.email]
        assert email.subject == "「修水龙头」需要你帮忙"
        link = f"{settings.SITE_URL}/messages/notifications/{notification.pk}/open/"
        assert link in email.body
        assert f"{settings.SITE_URL}/messages/notifications/email/" in email.body
        notification.refresh_from_db()
        assert notification.emailed_at is not None

    def test_the_command_sends_them_and_says_how_many(self, resident, helper, mailoutbox):
        notify(resident)
        notify(helper)
        out = StringIO()

        call_command("notifications_email", stdout=out)
        call_command("notifications_email", stdout=out)

        assert out.getvalue().split("\n")[:2] == ["emails sent 2", "emails sent 0"]
        assert sorted(email.to[0] for email in mailoutbox) == sorted([resident.email, helper.email])

    def test_not_while_the_person_is_on_the_site(self, resident, mailoutbox):
        notify(resident)
        presence_seen(user=resident)

        assert emails_send() == 0
        assert mailoutbox == []

    def test_a_page_not_heard_from_for_a_while_counts_as_away(self, resident, mailoutbox):
        notify(resident)
        gone = timezone.now() - timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS + 5)
        Presence.objects.create(user=resident, seen_at=gone)

        assert emails_send() == 1

    def test_not_a_kind_the_person_opted_out_of_and_not_later_either(self, resident, mailoutbox):
        notify(resident)
        email_opt_outs_set(user=resident, kinds=[Notification.Kind.DISPATCH])

        assert emails_send() == 0
        EmailOptOut.objects.filter(user=resident).delete()
        assert emails_send() == 0
        assert mailoutbox == []

    def test_an_opt_out_of_one_kind_leaves_the_others(self, resident, mailoutbox):
        notify(resident, kind=Notification.Kind.CLAIM, title="有人愿意帮忙")
        email_opt_outs_set(user=resident, kinds=[Notification.Kind.DISPATCH])

        assert emails_send() == 1
        assert mailoutbox[0].subject == "有人愿意帮忙"

    def test_not_once_it_is_read(self, resident, mailoutbox):
        notification = notify(resident)
        Notification.objects.filter(pk=notification.pk).update(read_at=timezone.now())

        assert emails_send() == 0

    def test_not_before_the_delay_but_after_it(self, resident, mailoutbox):
        notify(resident, ago=timedelta(seconds=10))

        assert emails_send() == 0
        assert emails_send(now=timezone.now() + timedelta(seconds=settings.EMAIL_DELAY_SECONDS)) == 1

    def test_not_when_older_than_a_day(self, resident, mailoutbox):
        notify(resident, ago=timedelta(days=1, minutes=1))

        assert emails_send() == 0

    def test_not_for_kinds_that_wait_for_the_next_visit(self, resident, mailoutbox):
        notify(resident, kind=Notification.Kind.REMINDER)
        notify(resident, kind=Notification.Kind.REQUEST_UPDATE)

        assert emails_send() == 0

    def test_not_to_a_closed_account_or_one_without_an_address(self, resident, helper, mailoutbox):
        notify(resident)
        notify(helper)
        type(resident).objects.filter(pk=resident.pk).update(is_active=False)
        type(helper).objects.filter(pk=helper.pk).update(email="")

        assert emails_send() == 0

    def test_a_title_with_a_line_break_still_makes_a_one_line_subject(self, resident, mailoutbox):
        notify(resident, title="修水龙头\n急")

        assert emails_send() == 1
        assert mailoutbox[0].subject == "修水龙头 急"


class TestMessageEmails:
    def test_unread_messages_make_one_email_per_conversation_with_the_newest_text(
        self, conversation, resident, helper, mailoutbox
    ):
        say(resident, conversation, "你好")
        say(resident, conversation, "明天上午九点可以吗？")

        assert emails_send() == 1
        assert emails_send() == 0

        [email] = mailoutbox
        assert email.to == [helper.email]
        assert email.subject == subject_for("修水龙头")
        assert "明天上午九点可以吗？" in email.body
        with translation.override("zh-hans"):
            unread = ngettext(
                "You have %(counter)s unread message in “%(title)s”.",
                "You have %(counter)s unread messages in “%(title)s”.",
                2,
            ) % {"counter": 2, "title": "修水龙头"}
        assert unread in email.body
        assert f"{settings.SITE_URL}/messages/{conversation.pk}/" in email.body

    def test_a_new_message_later_sends_again(self, conversation, resident, helper, mailoutbox):
        say(resident, conversation, "你好")
        emails_send()

        say(resident, conversation, "到楼下了")

        assert emails_send() == 1
        assert "到楼下了" in mailoutbox[1].body

    def test_each_conversation_gets_its_own(self, conversation, resident, helper, make_member, mailoutbox):
        other = conversation_open(
            kind=Conversation.Kind.CLAIM, subject="aid_post:2", title="搬冰箱", participants=[helper, make_member()]
        )
        say(resident, conversation, "一")
        say(other.participants.exclude(user=helper).get().user, other, "二")

        assert emails_send() == 2
        assert sorted(email.subject for email in mailoutbox) == sorted([subject_for("修水龙头"), subject_for("搬冰箱")])

    def test_not_what_was_read_held_or_deleted(self, conversation, resident, helper, mailoutbox):
        SensitiveWord.objects.create(word="转账")
        read = say(resident, conversation, "已读")
        conversation_mark_read(actor=helper, conversation_id=conversation.pk, up_to=read.pk)
        say(resident, conversation, "先转账")
        gone = say(resident, conversation, "门牌 3 号")
        message_delete(actor=resident, conversation_id=conversation.pk, message_id=gone.pk)

        assert emails_send() == 0

    def test_not_while_on_the_site_nor_when_opted_out(self, conversation, resident, helper, mailoutbox):
        say(resident, conversation, "你好")
        presence_seen(user=helper)
        assert emails_send() == 0

        Presence.objects.all().delete()
        email_opt_outs_set(user=helper, kinds=[Notification.Kind.MESSAGE])
        assert emails_send() == 0
        assert mailoutbox == []

    def test_not_too_fresh_nor_too_old(self, conversation, resident, helper, mailoutbox):
        say(resident, conversation, "刚说的", ago=timedelta(seconds=5))
        assert emails_send() == 0

        Message.objects.update(created_at=timezone.now() - timedelta(days=2))
        assert emails_send() == 0

    def test_stale_conversations_do_not_crowd_out_due_ones(self, resident, helper, make_member, mailoutbox):
        forgotten = conversation_open(
            kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="很久以前", participants=[resident, helper]
        )
        say(resident, forgotten, "上个月的话", ago=timedelta(days=30))
        neighbour = make_member()
        current = conversation_open(
            kind=Conversation.Kind.CLAIM, subject="aid_post:2", title="现在", participants=[neighbour, helper]
        )
        say(neighbour, current, "在吗")

        assert emails_send(batch=1) == 1
        assert mailoutbox[0].subject == subject_for("现在")

    def test_staff_seated_only_for_their_read_state_hear_of_a_reply(self, community, resident, committee, mailoutbox):
        # Given the committee wrote to a member (which seats it, for its read state only)
        talk = committee_conversation_open(actor=committee, community=community, member=resident)
        say(committee, talk, "您好，关于您反映的问题")
        assert Participant.objects.get(conversation=talk, user=committee).through_role

        # When the member replies while the committee member is away
        say(resident, talk, "谢谢，已经解决了")

        # Then the committee member gets the email, the member (who read it all) none
        assert emails_send() == 1
        [email] = mailoutbox
        assert email.to == [committee.email]
        assert "谢谢，已经解决了" in email.body

    def test_not_once_the_staff_role_is_gone(self, community, resident, committee, mailoutbox):
        # Given a committee member who wrote to a member, then left the committee
        talk = committee_conversation_open(actor=committee, community=community, member=resident)
        say(committee, talk, "您好，关于您反映的问题")
        Membership.objects.filter(user=committee).update(role=Membership.Role.RESIDENT)

        # When the member replies with something private
        say(resident, talk, "我家门牌是 3 号，私事")

        # Then no email carries it to the former committee member, now or on a later run
        assert emails_send() == 0
        assert emails_send() == 0
        assert mailoutbox == []

    def test_not_for_announcements(self, community, resident, committee, mailoutbox):
        # Given a member who has opened the community's announcements (a seat with a read mark)
        channel = announcement_channel(community=community)
        conversation_mark_read(actor=resident, conversation_id=channel.pk, up_to=0)
        assert Participant.objects.filter(conversation=channel, user=resident).exists()

        # When the committee announces something and the member is away
        say(committee, channel, "周六上午停水")

        # Then it waits on the site: the whole community is not emailed
        assert emails_send() == 0
        assert mailoutbox == []


class TestLanguage:
    def test_each_email_is_written_in_its_recipients_language(
        self, conversation, resident, helper, monkeypatch, mailoutbox
    ):
        Profile.objects.filter(user=helper).update(language="en")
        Profile.objects.filter(user=resident).update(language="zh-hans")
        say(resident, conversation, "你好")
        notify(helper, title="An offer of help")
        notify(resident, title="有人愿意帮忙")
        written_in = {}
        real_email = notification_services._email

        def recording_email(user, subject, template, context):
            written_in.setdefault(user.email, set()).add(translation.get_language())
            real_email(user, subject, template, context)

        monkeypatch.setattr(notification_services, "_email", recording_email)

        with translation.override("zh-hans"):
            assert emails_send() == 3

        assert written_in == {helper.email: {"en"}, resident.email: {"zh-hans"}}
        english = [email for email in mailoutbox if email.to == [helper.email]]
        assert {email.subject for email in english} == {"An offer of help", "New messages in “修水龙头”"}
