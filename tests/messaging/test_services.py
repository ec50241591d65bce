"""The messaging services: every write checks permission, stores once, and broadcasts only
after commit; what the sensitive-word filter holds reaches nobody but its sender."""

import io
from datetime import time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from PIL import Image

from aid_posts.models import WelfareRole
from aid_posts.services import role_claim, role_claim_approve, role_step_down, welfare_role_create
from messaging import events
from messaging.events import message_payload
from messaging.models import MESSAGE_MAX_LENGTH, Conversation, Message, MessageRevision, Notification, Participant
from messaging.permissions import can_access_conversation, conversations_visible_to
from messaging.selectors import message_payloads_after, recent_messages
from messaging.services import (
    RateLimited,
    announcement_channel,
    committee_conversation_open,
    conversation_ask_committee,
    conversation_leave,
    conversation_mark_read,
    conversation_open,
    message_delete,
    message_edit,
    message_reject,
    message_release,
    message_send,
)
from neighbors.images import image_process
from neighbors.models import Block, ContactDisclosure, ContactMethod, ContactShare, Membership, Profile, SensitiveWord
from neighbors.services import contact_reveal
from talent_pool.services import talent_skill_add
from tests.factories import phone_of, skill

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed_word():
    return SensitiveWord.objects.create(word="转账")


def small_png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 220)).save(buffer, "PNG")
    return SimpleUploadedFile("王阿姨家门牌.png", buffer.getvalue(), content_type="image/png")


def send(user, conversation, body: str = "", **kwargs) -> Message:
    return message_send(actor=user, conversation_id=conversation.pk, body=body, **kwargs)[0]


class TestConversations:
    def test_opening_twice_reuses_the_conversation(self, conversation, resident, helper):
        again = conversation_open(
            kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="x", participants=[resident]
        )
        assert again.pk == conversation.pk
        assert again.title == "修水龙头"
        assert conversation.participants.count() == 2

    def test_participants_only(self, conversation, resident, helper, make_member):
        stranger = make_member()
        assert can_access_conversation(resident, conversation.pk)
        assert not can_access_conversation(stranger, conversation.pk)
        assert list(conversations_visible_to(helper)) == [conversation]
        assert not conversations_visible_to(stranger).exists()

    def test_leaving_keeps_what_was_said_for_the_others(self, conversation, resident, helper):
        send(helper, conversation, "我明天来")

        conversation_leave(subject="aid_post:1", user=helper)

        assert not can_access_conversation(helper, conversation.pk)
        assert [message.body for message in recent_messages(conversation, resident)] == ["我明天来"]


class TestCommitteeConversation:
    def test_a_member_opens_one_with_their_committee_and_gets_the_same_one_again(self, community, resident, committee):
        opened = committee_conversation_open(actor=resident, community=community, member=resident)
        from_the_committee = committee_conversation_open(actor=committee, community=community, member=resident)

        assert opened.pk == from_the_committee.pk
        assert opened.kind == Conversation.Kind.COMMITTEE
        assert list(opened.participants.values_list("user", flat=True)) == [resident.pk]
        assert can_access_conversation(committee, opened.pk)

    def test_nobody_else_opens_one_for_a_member(self, community, resident, helper, outsider):
        Membership.objects.filter(user=outsider).update(role=Membership.Role.COMMITTEE)
        for someone in (helper, outsider):
            with pytest.raises(PermissionDenied):
                committee_conversation_open(actor=someone, community=community, member=resident)
        with pytest.raises(PermissionDenied):
            committee_conversation_open(actor=outsider, community=community, member=outsider)
        assert not Conversation.objects.exists()

    def test_the_staff_of_the_community_read_and_write_others_do_not(
        self, community, resident, helper, committee, grid_worker, outsider
    ):
        conversation = committee_conversation_open(actor=resident, community=community, member=resident)
        Membership.objects.filter(user=outsider).update(role=Membership.Role.COMMITTEE)

        for staff in (committee, grid_worker):
            send(staff, conversation, f"{staff.username} 在")
        for someone in (helper, outsider):
            with pytest.raises(PermissionDenied):
                send(someone, conversation, "我也说两句")

        assert Message.objects.count() == 2


class TestAskingTheCommittee:
    def test_the_staff_are_let_in_and_told_once(self, conversation, resident, helper, committee, grid_worker):
        assert not can_access_conversation(committee, conversation.pk)

        conversation_ask_committee(actor=resident, conversation=conversation)
        with pytest.raises(PermissionDenied):
            conversation_ask_committee(actor=helper, conversation=conversation)

        assert can_access_conversation(committee, conversation.pk)
        assert can_access_conversation(grid_worker, conversation.pk)
        told = Notification.objects.filter(kind=Notification.Kind.ESCALATION)
        assert sorted(told.values_list("user", flat=True)) == sorted([committee.pk, grid_worker.pk])
        assert all(notification.url == f"/messages/{conversation.pk}/" for notification in told)

    def test_someone_outside_the_conversation_cannot_ask(self, conversation, make_member, committee):
        for someone in (make_member(), committee):
            with pytest.raises(PermissionDenied):
                conversation_ask_committee(actor=someone, conversation=conversation)
        conversation.refresh_from_db()
        assert conversation.committee_asked_at is None
        assert not Notification.objects.exists()


class TestRoleTeam:
    @pytest.fixture
    def role(self, committee, community, building):
        return welfare_role_create(
            actor=committee,
            community=community,
            title="周六作业辅导",
            description="在社区活动室辅导小学生作业。",
            skill=skill("tutoring"),
            seats=2,
            weekday=WelfareRole.Weekday.SATURDAY,
            starts_at=time(9),
            ends_at=time(11),
            term_start=timezone.localdate() - timedelta(days=1),
            term_end=timezone.localdate() + timedelta(days=90),
            place=building,
        )

    def test_approving_a_claim_seats_the_holder_in_the_team_and_stepping_down_leaves_it(
        self, role, committee, helper, make_member
    ):
        talent_skill_add(actor=helper, skill=skill("tutoring"))
        claim = role_claim_approve(actor=committee, claim=role_claim(actor=helper, role=role))
        team = Conversation.objects.get(subject=role.subject)

        assert team.kind == Conversation.Kind.ROLE_TEAM
        assert team.community_id == role.community_id
        assert can_access_conversation(helper, team.pk)
        assert can_access_conversation(committee, team.pk)
        assert not can_access_conversation(make_member(), team.pk)

        role_step_down(actor=helper, claim=claim)

        assert not can_access_conversation(helper, team.pk)
        assert can_access_conversation(committee, team.pk)


class TestSending:
    def test_a_text_is_stored_stripped_read_by_its_sender_and_broadcast_after_commit(
        self, conversation, resident, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            message, created = message_send(actor=resident, conversation_id=conversation.pk, body="  你好  ")

        assert created
        assert (message.kind, message.body, message.status) == (Message.Kind.TEXT, "你好", Message.Status.VISIBLE)
        assert Participant.objects.get(user=resident).last_read_id == message.pk
        assert len(callbacks) == 1  # the broadcast waits for the commit

    def test_an_outsider_cannot_send(self, conversation, make_member):
        with pytest.raises(PermissionDenied):
            message_send(actor=make_member(), conversation_id=conversation.pk, body="hi")
        assert not Message.objects.exists()

    def test_a_conversation_that_does_not_exist_is_refused_like_a_forbidden_one(self, resident):
        with pytest.raises(PermissionDenied):
            message_send(actor=resident, conversation_id=999_999, body="hi")

    @pytest.mark.parametrize("body", ["", "   ", "x" * (MESSAGE_MAX_LENGTH + 1)])
    def test_empty_or_overlong_messages_are_refused(self, conversation, resident, body):
        with pytest.raises(ValidationError):
            message_send(actor=resident, conversation_id=conversation.pk, body=body)
        assert not Message.objects.exists()

    def test_a_retry_with_the_same_client_id_is_stored_once_and_said_again_as_not_new(
        self, conversation, resident, monkeypatch, django_capture_on_commit_callbacks
    ):
        said = []
        monkeypatch.setattr(events, "broadcast_message", lambda message, *, new: said.append((message.pk, new)))

        with django_capture_on_commit_callbacks(execute=True):
            first, created_first = message_send(
                actor=resident, conversation_id=conversation.pk, body="hi", client_id="c1"
            )
        with django_capture_on_commit_callbacks(execute=True):
            second, created_second = message_send(
                actor=resident, conversation_id=conversation.pk, body="hi", client_id=" c1 "
            )

        assert (created_first, created_second) == (True, False)
        assert first.pk == second.pk
        assert Message.objects.count() == 1
        # The retry says it again (a server may have died between saving and broadcasting), as
        # a change, not as news: clients keep messages by id, and it does not count as unread again.
        assert said == [(first.pk, True), (first.pk, False)]

    def test_a_retry_of_a_held_message_is_not_said_to_anyone(
        self, conversation, resident, listed_word, monkeypatch, django_capture_on_commit_callbacks
    ):
        said = []
        monkeypatch.setattr(events, "broadcast_message", lambda message, *, new: said.append((message.pk, new)))

        with django_capture_on_commit_callbacks(execute=True):
            held = send(resident, conversation, "先转账", client_id="c1")
            retried = send(resident, conversation, "先转账", client_id="c1")

        assert retried.pk == held.pk
        assert retried.status == Message.Status.HELD
        assert said == []

    def test_a_client_id_from_another_conversation_is_refused(self, conversation, resident, make_member):
        elsewhere = conversation_open(
            kind=Conversation.Kind.CLAIM, subject="aid_post:2", title="t", participants=[resident, make_member()]
        )
        send(resident, elsewhere, "别处", client_id="c1")

        with pytest.raises(ValidationError):
            send(resident, conversation, "这里", client_id="c1")
        assert not Message.objects.filter(conversation=conversation).exists()

    def test_people_who_blocked_one_another_cannot_send_there(self, conversation, resident, helper):
        Block.objects.create(blocker=resident, blocked=helper)

        for someone in (resident, helper):
            with pytest.raises(ValidationError):
                send(someone, conversation, "你好")
        assert not Message.objects.exists()

    def test_an_image_goes_through_the_pipeline_with_a_caption(
        self, conversation, resident, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            message = send(resident, conversation, " 漏水的地方 ", image=image_process(small_png()))

        assert message.kind == Message.Kind.IMAGE
        assert message.body == "漏水的地方"
        assert message.image.name.startswith("messages/")
        assert "门牌" not in message.image.name + message.thumbnail.name
        private = storages["private"]
        assert private.exists(message.image.name)
        assert private.exists(message.thumbnail.name)
        payload = message_payload(message)
        assert payload["image"] == f"/messages/{conversation.pk}/m/{message.pk}/image/"
        assert payload["thumbnail"] == f"/messages/{conversation.pk}/m/{message.pk}/thumbnail/"
        assert len(callbacks) == 1

    def test_an_image_without_a_caption_is_fine(self, conversation, resident):
        message = send(resident, conversation, image=image_process(small_png()))
        assert (message.kind, message.body) == (Message.Kind.IMAGE, "")

    def test_over_the_rate_nothing_is_stored(self, conversation, resident, settings):
        settings.MESSAGE_RATE_LIMITS = "2 per minute"
        send(resident, conversation, "一", client_id="1")
        send(resident, conversation, "二", client_id="2")
        with pytest.raises(RateLimited) as limited:
            send(resident, conversation, "三", client_id="3")
        # A retry of something stored is answered, not counted.
        assert send(resident, conversation, "二", client_id="2").body == "二"

        assert 0 < limited.value.retry_after <= 61
        assert list(Message.objects.values_list("body", flat=True)) == ["一", "二"]

    def test_while_the_rate_store_is_down_messages_are_still_saved(self, conversation, resident, settings, caplog):
        # A port nothing listens on: the Redis that counts the rates is down.
        settings.RATE_LIMIT_STORAGE_URL = "redis://127.0.0.1:9/0"
        settings.MESSAGE_RATE_LIMITS = "1 per minute"
        send(resident, conversation, "一", client_id="1")
        send(resident, conversation, "二", client_id="2")

        assert list(Message.objects.values_list("body", flat=True)) == ["一", "二"]
        assert "rate-limit storage unavailable" in caplog.text


class TestContactSharing:
    def test_sharing_reaches_the_others_seated_by_name_and_stores_no_value(
        self, conversation, resident, helper, make_member
    ):
        second_helper = make_member()
        conversation_open(kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="", participants=[second_helper])

        message = send(resident, conversation, "忽略的正文", contact_kind=ContactMethod.Kind.PHONE)

        assert (message.kind, message.contact_kind, message.body) == (Message.Kind.CONTACT, "phone", "")
        shares = ContactShare.objects.filter(owner=resident, kind="phone", subject="aid_post:1")
        assert sorted(shares.values_list("viewer", flat=True)) == sorted([helper.pk, second_helper.pk])
        phone = phone_of(resident)
        assert all(phone not in str(value) for value in message_payload(message).values())

    def test_in_a_committee_conversation_it_reaches_the_committee_and_grid_workers_without_seats(
        self, community, resident, committee, grid_worker, helper
    ):
        question = committee_conversation_open(actor=resident, community=community, member=resident)

        send(resident, question, contact_kind=ContactMethod.Kind.PHONE)

        viewers = ContactShare.objects.filter(owner=resident, subject=question.subject).values_list("viewer", flat=True)
        assert sorted(viewers) == sorted([committee.pk, grid_worker.pk])
        assert helper.pk not in viewers

    def test_the_shared_detail_is_revealed_through_the_logged_path(self, conversation, resident, helper):
        ContactMethod.objects.filter(user=resident).update(scope=ContactMethod.Scope.PRIVATE)
        send(resident, conversation, contact_kind=ContactMethod.Kind.PHONE)

        value = contact_reveal(viewer=helper, owner=resident, kind="phone", subject=conversation.subject)

        assert value == phone_of(resident)
        disclosure = ContactDisclosure.objects.get()
        assert (disclosure.viewer, disclosure.owner, disclosure.field) == (helper, resident, "phone")
        assert disclosure.subject == conversation.subject

    def test_a_child_cannot_share(self, conversation, resident):
        Profile.objects.filter(user=resident).update(is_minor=True)

        with pytest.raises(ValidationError):
            send(resident, conversation, contact_kind=ContactMethod.Kind.PHONE)
        assert not Message.objects.exists()
        assert not ContactShare.objects.exists()

    def test_not_in_announcements(self, community, committee, resident):
        channel = announcement_channel(community=community)

        with pytest.raises(ValidationError):
            send(committee, channel, contact_kind=ContactMethod.Kind.PHONE)
        assert not Message.objects.exists()
        assert not ContactShare.objects.exists()

    @pytest.mark.parametrize("kind", ["fax", ContactMethod.Kind.WECHAT])
    def test_an_unknown_or_missing_detail_is_refused(self, conversation, resident, kind):
        with pytest.raises(ValidationError):
            send(resident, conversation, contact_kind=kind)
        assert not Message.objects.exists()
        assert not ContactShare.objects.exists()

    def test_someone_blocked_by_the_sharer_is_not_reached(self, conversation, resident, helper, make_member):
        blocked = make_member()
        conversation_open(kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="", participants=[blocked])
        Block.objects.create(blocker=resident, blocked=blocked)

        # Blocked people in one conversation cannot message there at all.
        with pytest.raises(ValidationError):
            send(resident, conversation, contact_kind=ContactMethod.Kind.PHONE)
        assert not ContactShare.objects.exists()


class TestHeldMessages:
    def test_a_listed_word_holds_the_message_for_review(
        self, conversation, resident, helper, listed_word, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            held = send(resident, conversation, "先 转 账 给我")
        published = send(resident, conversation, "在吗")

        assert (held.status, held.held_for) == (Message.Status.HELD, "转账")
        assert callbacks == []  # nothing is broadcast
        assert recent_messages(conversation, helper) == [published]
        assert recent_messages(conversation, resident) == [held, published]
        others, _more = message_payloads_after(conversation.pk, 0, viewer_id=helper.pk)
        own, _more = message_payloads_after(conversation.pk, 0, viewer_id=resident.pk)
        assert [payload["id"] for payload in others] == [published.pk]
        assert [payload["id"] for payload in own] == [held.pk, published.pk]

    def test_a_word_listed_for_another_community_holds_nothing(self, conversation, resident, outsider):
        SensitiveWord.objects.create(word="转账", community=outsider.memberships.get().community)

        assert send(resident, conversation, "先转账").status == Message.Status.VISIBLE

    def test_the_committee_releases_a_held_message_and_it_is_broadcast(
        self, conversation, resident, helper, committee, listed_word, django_capture_on_commit_callbacks
    ):
        held = send(resident, conversation, "先转账")

        with django_capture_on_commit_callbacks() as callbacks:
            released = message_release(actor=committee, message=held)

        assert released.status == Message.Status.VISIBLE
        assert released.reviewed_by == committee
        assert len(callbacks) == 1
        assert recent_messages(conversation, helper) == [released]
        # A second decision is refused with a reason, not as if the message did not exist.
        with pytest.raises(ValidationError, match="already been reviewed"), translation.override("en"):
            message_reject(actor=committee, message=held, reason="改主意了")
        assert Message.objects.get(pk=held.pk).status == Message.Status.VISIBLE

    def test_the_committee_rejects_with_a_reason_the_sender_reads(
        self, conversation, resident, helper, committee, listed_word
    ):
        held = send(resident, conversation, "先转账")

        with pytest.raises(ValidationError):
            message_reject(actor=committee, message=held, reason="  ")
        rejected = message_reject(actor=committee, message=held, reason="涉及转账，请当面沟通")

        assert rejected.status == Message.Status.REJECTED
        notice = Notification.objects.get(user=resident)
        assert (notice.kind, notice.body) == (Notification.Kind.DECISION, "涉及转账，请当面沟通")
        assert recent_messages(conversation, helper) == []

    def test_only_the_communitys_staff_review(self, conversation, resident, helper, outsider, listed_word):
        held = send(resident, conversation, "先转账")
        Membership.objects.filter(user=outsider).update(role=Membership.Role.COMMITTEE)

        for someone in (resident, helper, outsider):
            with pytest.raises(PermissionDenied):
                message_release(actor=someone, message=held)
            with pytest.raises(PermissionDenied):
                message_reject(actor=someone, message=held, reason="不行")
        held.refresh_from_db()
        assert held.status == Message.Status.HELD


class TestEditingAndDeleting:
    def test_an_edit_keeps_the_old_text_as_a_revision(self, conversation, resident):
        message = send(resident, conversation, "九点见")
        sent_changed_at = message.changed_at

        edited = message_edit(actor=resident, conversation_id=conversation.pk, message_id=message.pk, body=" 十点见 ")

        assert edited.body == "十点见"
        assert edited.edited_at is not None
        assert edited.changed_at > sent_changed_at
        assert list(MessageRevision.objects.values_list("body", flat=True)) == ["九点见"]

    def test_an_edit_to_the_same_text_changes_nothing(self, conversation, resident):
        message = send(resident, conversation, "九点见")

        message_edit(actor=resident, conversation_id=conversation.pk, message_id=message.pk, body="九点见")

        message.refresh_from_db()
        assert message.edited_at is None
        assert not MessageRevision.objects.exists()

    def test_an_edit_with_a_listed_word_holds_the_message(self, conversation, resident, helper, listed_word):
        message = send(resident, conversation, "明天见")

        message_edit(actor=resident, conversation_id=conversation.pk, message_id=message.pk, body="先转账")

        message.refresh_from_db()
        assert (message.status, message.held_for) == (Message.Status.HELD, "转账")
        assert recent_messages(conversation, helper) == []

    def test_only_the_sender_edits_and_only_within_the_window(self, conversation, resident, helper, settings):
        message = send(resident, conversation, "九点见")
        with pytest.raises(ValidationError):
            message_edit(actor=helper, conversation_id=conversation.pk, message_id=message.pk, body="改了")
        sent_at = timezone.now() - timedelta(minutes=settings.MESSAGE_EDIT_MINUTES + 1)
        Message.objects.filter(pk=message.pk).update(created_at=sent_at)
        with pytest.raises(ValidationError):
            message_edit(actor=resident, conversation_id=conversation.pk, message_id=message.pk, body="十点见")

        message.refresh_from_db()
        assert (message.body, message.edited_at) == ("九点见", None)
        assert not MessageRevision.objects.exists()

    def test_a_message_id_of_another_conversation_is_refused(self, conversation, resident, make_member):
        elsewhere = conversation_open(
            kind=Conversation.Kind.CLAIM, subject="aid_post:2", title="t", participants=[resident, make_member()]
        )
        message = send(resident, elsewhere, "别处")

        with pytest.raises(ValidationError):
            message_edit(actor=resident, conversation_id=conversation.pk, message_id=message.pk, body="改")
        with pytest.raises(ValidationError):
            message_delete(actor=resident, conversation_id=conversation.pk, message_id=message.pk)
        message.refresh_from_db()
        assert (message.body, message.deleted_at) == ("别处", None)

    def test_a_delete_clears_the_text_image_and_earlier_versions(
        self, conversation, resident, django_capture_on_commit_callbacks
    ):
        message = send(resident, conversation, "门口", image=image_process(small_png()))
        files = [message.image.name, message.thumbnail.name]
        Message.objects.filter(pk=message.pk).update(kind=Message.Kind.TEXT)
        message_edit(actor=resident, conversation_id=conversation.pk, message_id=message.pk, body="门口左边")

        with django_capture_on_commit_callbacks(execute=True):
            deleted = message_delete(actor=resident, conversation_id=conversation.pk, message_id=message.pk)

        assert deleted.deleted_at is not None
        assert (deleted.body, deleted.image.name, deleted.thumbnail.name) == ("", "", "")
        assert not MessageRevision.objects.exists()
        assert not any(storages["private"].exists(name) for name in files)

    def test_someone_elses_message_is_not_deleted(self, conversation, resident, helper):
        message = send(resident, conversation, "我家在 3 楼")

        with pytest.raises(ValidationError):
            message_delete(actor=helper, conversation_id=conversation.pk, message_id=message.pk)
        message.refresh_from_db()
        assert message.deleted_at is None


class TestReadMarks:
    def test_the_mark_moves_forward_only_and_never_past_the_newest(
        self, conversation, resident, helper, django_capture_on_commit_callbacks
    ):
        first = send(resident, conversation, "一")
        newest = send(resident, conversation, "二")

        with django_capture_on_commit_callbacks() as callbacks:
            assert conversation_mark_read(actor=helper, conversation_id=conversation.pk, up_to=newest.pk) == newest.pk
        assert len(callbacks) == 2  # "seen" for the sender, a recount for the reader's pages
        with django_capture_on_commit_callbacks() as callbacks:
            assert conversation_mark_read(actor=helper, conversation_id=conversation.pk, up_to=first.pk) == newest.pk
            assert conversation_mark_read(actor=helper, conversation_id=conversation.pk, up_to=10**30) == newest.pk
        assert callbacks == []
        assert Participant.objects.get(user=helper).last_read_id == newest.pk

    def test_a_negative_mark_is_refused_and_an_outsider_may_not_mark(self, conversation, helper, make_member):
        with pytest.raises(ValidationError):
            conversation_mark_read(actor=helper, conversation_id=conversation.pk, up_to=-1)
        stranger = make_member()
        with pytest.raises(PermissionDenied):
            conversation_mark_read(actor=stranger, conversation_id=conversation.pk, up_to=0)
        assert not Participant.objects.filter(user=stranger).exists()

    def test_staff_get_a_seat_for_their_read_state_on_first_read(self, community, resident, committee):
        conversation = committee_conversation_open(actor=resident, community=community, member=resident)
        message = send(resident, conversation, "请问怎么办居住证")

        conversation_mark_read(actor=committee, conversation_id=conversation.pk, up_to=message.pk)

        assert Participant.objects.get(conversation=conversation, user=committee).last_read_id == message.pk


class TestAnnouncements:
    def test_the_committee_writes_and_members_only_read(self, community, committee, resident):
        channel = announcement_channel(community=community)

        notice = send(committee, channel, "周六上午停水")
        with pytest.raises(PermissionDenied):
            send(resident, channel, "收到")

        assert recent_messages(channel, resident) == [notice]
        assert list(Message.objects.values_list("sender", flat=True)) == [committee.pk]

    def test_one_reader_blocking_the_writer_does_not_silence_the_community(self, community, committee, resident):
        channel = announcement_channel(community=community)
        first = send(committee, channel, "周六上午停水")
        conversation_mark_read(actor=resident, conversation_id=channel.pk, up_to=first.pk)
        Block.objects.create(blocker=resident, blocked=committee)

        second = send(committee, channel, "周日恢复供水")

        assert second.status == Message.Status.VISIBLE
