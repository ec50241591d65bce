"""Messages the sensitive-word list held: the committee and grid workers of the conversation's
community read them in context and release or reject them; nobody else can."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from aid_posts.models import AidPost
from aid_posts.services import aid_post_create, post_release
from committee.services.reports import held_message_reject, held_message_release
from messaging.models import Conversation, Message, Notification
from messaging.selectors import message_in, message_payloads_after
from messaging.services import committee_conversation_open, message_delete, rate_limits_reset
from neighbors.models import AuditEntry
from tests.factories import skill, window

from .conftest import WORD

pytestmark = pytest.mark.django_db

HELD = f"要不要借点{WORD}周转一下"


@pytest.fixture
def held(conversation, resident, send, sensitive_word):
    message = send(resident, conversation, HELD)
    assert message.status == Message.Status.HELD
    return message


# The reviews are made in English, the source language the flash messages are compared in
# (the site's default is Chinese).
def release(client, message):
    return client.post(reverse("committee:held_release", args=[message.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="en")


def reject(client, message, reason="含有借贷推广"):
    url = reverse("committee:held_reject", args=[message.pk])
    return client.post(url, {"reason": reason}, follow=True, HTTP_ACCEPT_LANGUAGE="en")


def flashed(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


class TestPage:
    def test_plain_members_are_refused(self, client, resident, helper):
        for member in (resident, helper):
            client.force_login(member)
            response = client.get(reverse("committee:held"))
            assert response.status_code == 403
            assert 'id="workspace-denied"' in response.content.decode()

    def test_anonymous_visitors_are_sent_to_log_in(self, client):
        response = client.get(reverse("committee:held"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))

    def test_the_committee_reads_held_messages_in_context(
        self, client, committee, conversation, resident, helper, send, sensitive_word
    ):
        # Given four published messages, one deleted, then a held one
        for number, sender in enumerate([resident, helper, resident, helper, resident], start=1):
            send(sender, conversation, f"第{number}条")
        fifth = conversation.messages.get(body="第5条")
        message_delete(actor=resident, conversation_id=conversation.pk, message_id=fifth.pk)
        held = send(resident, conversation, HELD)
        client.force_login(committee)

        page = client.get(reverse("committee:held"), HTTP_ACCEPT_LANGUAGE="en")

        # Then it is listed with the three published messages just before it, oldest first
        assert page.status_code == 200
        [listed] = page.context["queue"].messages
        assert listed == held
        assert [m.body for m in listed.context] == ["第2条", "第3条", "第4条"]
        html = page.content.decode()
        with translation.override("en"):
            kind = str(Conversation.Kind.CLAIM.label)
        assert conversation.title in html and kind in html
        assert f"Held for: {WORD}" in html
        assert reverse("committee:held_release", args=[held.pk]) in html
        assert reverse("committee:held_reject", args=[held.pk]) in html

    def test_oldest_first_and_only_the_communitys_own(
        self, client, committee, conversation, resident, helper, send, sensitive_word, outsider
    ):
        first = send(resident, conversation, HELD)
        second = send(helper, conversation, f"{WORD}不靠谱")
        client.force_login(committee)
        assert page_messages(client) == [first, second]
        client.force_login(outsider)
        assert client.get(reverse("committee:held")).status_code == 403

    def test_the_page_takes_the_same_queries_for_2_and_10_held_messages(
        self, client, committee, conversation, resident, helper, send, sensitive_word
    ):
        def hold(count):
            for number in range(count):
                rate_limits_reset()  # many messages in a moment: the limit is not what this is about
                send(helper, conversation, f"好的 {number}")
                send(resident, conversation, HELD)

        client.force_login(committee)
        hold(2)
        with CaptureQueriesContext(connection) as few:
            assert len(page_messages(client)) == 2
        hold(8)
        with CaptureQueriesContext(connection) as many:
            messages = page_messages(client)
        assert len(messages) == 10
        assert all(message.context for message in messages)
        assert len(many.captured_queries) == len(few.captured_queries)


def page_messages(client) -> list[Message]:
    return client.get(reverse("committee:held")).context["queue"].messages


class TestRelease:
    @pytest.mark.parametrize("staff", ["committee", "grid_worker"])
    def test_release_publishes_it_to_the_others(self, request, client, held, helper, staff):
        reviewer = request.getfixturevalue(staff)
        assert message_in(held.conversation, held.pk, helper) is None
        client.force_login(reviewer)

        response = release(client, held)

        assert flashed(response) == ["The message is published in its conversation."]
        held.refresh_from_db()
        assert (held.status, held.reviewed_by) == (Message.Status.VISIBLE, reviewer)
        # The helper, catching up from before it, now gets it
        payloads, _more = message_payloads_after(held.conversation_id, 0, viewer_id=helper.pk)
        assert [p["body"] for p in payloads] == [HELD]
        assert page_messages(client) == []

    def test_release_twice_is_a_clear_error(self, client, committee, grid_worker, held):
        held_message_release(actor=grid_worker, message=held)
        held.refresh_from_db()
        with pytest.raises(ValidationError, match="already been reviewed"), translation.override("en"):
            held_message_release(actor=committee, message=held)

        client.force_login(committee)
        response = release(client, held)
        assert response.status_code == 200
        assert flashed(response) == ["This message has already been reviewed."]
        held.refresh_from_db()
        assert (held.status, held.reviewed_by) == (Message.Status.VISIBLE, grid_worker)

    @pytest.mark.parametrize("who", ["other_committee", "other_grid_worker", "resident", "helper", "outsider"])
    def test_nobody_else_can_release(self, request, client, held, who):
        someone = request.getfixturevalue(who)
        with pytest.raises(PermissionDenied):
            held_message_release(actor=someone, message=held)

        client.force_login(someone)
        assert client.post(reverse("committee:held_release", args=[held.pk])).status_code == 404
        assert client.post(reverse("committee:held_reject", args=[held.pk]), {"reason": "x"}).status_code == 404
        held.refresh_from_db()
        assert held.status == Message.Status.HELD

    def test_a_message_that_was_never_held_is_404(self, client, committee, conversation, resident, send):
        published = send(resident, conversation, "你好")
        client.force_login(committee)
        assert client.post(reverse("committee:held_release", args=[published.pk])).status_code == 404
        assert client.post(reverse("committee:held_release", args=[2_147_483_647])).status_code == 404

    def test_staff_do_not_review_their_own_held_message(
        self, client, committee, grid_worker, community, resident, send, sensitive_word
    ):
        # Given the committee member writes to a resident, and the list holds it
        talk = committee_conversation_open(actor=committee, community=community, member=resident)
        own = send(committee, talk, HELD)
        client.force_login(committee)

        # Then it is not in their queue, and they cannot release it
        assert page_messages(client) == []
        assert client.post(reverse("committee:held_release", args=[own.pk])).status_code == 404
        own.refresh_from_db()
        assert own.status == Message.Status.HELD
        # Someone else of the community can
        client.force_login(grid_worker)
        assert page_messages(client) == [own]

    def test_release_only_by_post(self, client, committee, held):
        client.force_login(committee)
        assert client.get(reverse("committee:held_release", args=[held.pk])).status_code == 405


class TestReject:
    def test_reject_tells_the_sender_why_and_keeps_it_from_the_others(self, client, committee, held, resident, helper):
        client.force_login(committee)

        response = reject(client, held, "含有借贷推广")

        assert flashed(response) == ["The message stays unpublished; its sender is told why."]
        held.refresh_from_db()
        assert (held.status, held.review_reason) == (Message.Status.REJECTED, "含有借贷推广")
        told = Notification.objects.get(user=resident, kind=Notification.Kind.DECISION)
        assert told.body == "含有借贷推广"
        assert message_in(held.conversation, held.pk, helper) is None
        payloads, _more = message_payloads_after(held.conversation_id, 0, viewer_id=helper.pk)
        assert payloads == []
        assert not Notification.objects.filter(user=helper).exists()

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_a_reason_is_required(self, client, committee, held, reason):
        client.force_login(committee)
        response = reject(client, held, reason)
        assert flashed(response) == ["Say why, so that the sender understands."]
        held.refresh_from_db()
        assert held.status == Message.Status.HELD

    def test_a_reason_too_long_is_refused(self, client, committee, held):
        client.force_login(committee)
        response = reject(client, held, "长" * 301)
        assert response.status_code == 200
        assert len(flashed(response)) == 1
        held.refresh_from_db()
        assert held.status == Message.Status.HELD

    def test_reject_after_release_is_a_clear_error(self, client, committee, held):
        held_message_release(actor=committee, message=held)
        held.refresh_from_db()
        with pytest.raises(ValidationError, match="already been reviewed"), translation.override("en"):
            held_message_reject(actor=committee, message=held, reason="晚了")
        client.force_login(committee)
        assert flashed(reject(client, held)) == ["This message has already been reviewed."]
        held.refresh_from_db()
        assert held.status == Message.Status.VISIBLE

    def test_an_outsider_with_no_reason_still_gets_404(self, client, other_committee, held):
        client.force_login(other_committee)
        assert client.post(reverse("committee:held_reject", args=[held.pk]), {"reason": ""}).status_code == 404


@pytest.fixture
def held_post(resident, community, building, sensitive_word):
    post = aid_post_create(
        **window(),
        actor=resident,
        community=community,
        category=skill(),
        title="想借钱",
        description=f"谁认识放{WORD}的人？",
        place=building,
    )
    assert post.status == AidPost.Status.HELD
    return post


def release_post(client, post):
    url = reverse("committee:held_post_release", args=[post.pk])
    return client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")


def reject_post(client, post, reason="含有借贷推广"):
    url = reverse("committee:held_post_reject", args=[post.pk])
    return client.post(url, {"reason": reason}, follow=True, HTTP_ACCEPT_LANGUAGE="en")


class TestHeldPosts:
    def test_the_page_shows_the_request_with_its_author_category_and_words(self, client, committee, held_post):
        client.force_login(committee)
        page = client.get(reverse("committee:held"), HTTP_ACCEPT_LANGUAGE="en")
        assert page.context["queue"].posts == [held_post]
        html = page.content.decode()
        assert "Held for review" in html
        assert held_post.title in html and held_post.description in html
        assert str(held_post.author.profile) in html and held_post.community.name in html
        assert f"Held for: {WORD}" in html
        assert reverse("committee:held_post_release", args=[held_post.pk]) in html
        assert reverse("committee:held_post_reject", args=[held_post.pk]) in html

    def test_oldest_first_and_not_the_decided_ones(self, client, committee, grid_worker, held_post, resident):
        later = aid_post_create(
            **window(),
            actor=resident,
            community=held_post.community,
            category=skill(),
            title="再问一次",
            description=WORD,
            place=held_post.place,
        )
        client.force_login(committee)
        assert client.get(reverse("committee:held")).context["queue"].posts == [held_post, later]
        post_release(actor=grid_worker, post=held_post)
        assert client.get(reverse("committee:held")).context["queue"].posts == [later]

    @pytest.mark.parametrize("staff", ["committee", "grid_worker"])
    def test_release_from_the_page(self, request, client, held_post, helper, staff):
        reviewer = request.getfixturevalue(staff)
        client.force_login(reviewer)

        response = release_post(client, held_post)

        assert flashed(response) == ["The request is published, and the matching talents are asked to help."]
        held_post.refresh_from_db()
        assert held_post.status == AidPost.Status.OPEN
        entry = AuditEntry.objects.get()
        assert (entry.actor, entry.action) == (reviewer, AuditEntry.Action.HELD_RELEASED)
        client.force_login(helper)
        assert client.get(reverse("aid_posts:detail", args=[held_post.pk])).status_code == 200

    def test_reject_from_the_page_tells_the_author(self, client, committee, held_post, resident):
        client.force_login(committee)

        response = reject_post(client, held_post, "请勿发布借贷信息")

        assert flashed(response) == ["The request stays unpublished; its author is told why."]
        told = Notification.objects.get(user=resident, kind=Notification.Kind.DECISION)
        assert told.body == "请勿发布借贷信息"
        assert AuditEntry.objects.get().reason == "请勿发布借贷信息"

    def test_twice_is_a_clear_message(self, client, committee, grid_worker, held_post):
        client.force_login(committee)
        release_post(client, held_post)
        client.force_login(grid_worker)
        assert flashed(reject_post(client, held_post)) == ["This request has already been reviewed."]
        assert flashed(release_post(client, held_post)) == ["This request has already been reviewed."]
        assert AuditEntry.objects.count() == 1

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_a_reason_is_required(self, client, committee, held_post, reason):
        client.force_login(committee)
        assert len(flashed(reject_post(client, held_post, reason))) == 1
        held_post.refresh_from_db()
        assert held_post.status == AidPost.Status.HELD
        assert not AuditEntry.objects.exists()

    @pytest.mark.parametrize("who", ["resident", "helper", "outsider", "other_committee", "other_grid_worker"])
    def test_nobody_else_decides_not_even_the_author(self, request, client, held_post, who):
        client.force_login(request.getfixturevalue(who))
        assert client.post(reverse("committee:held_post_release", args=[held_post.pk])).status_code == 404
        assert (
            client.post(reverse("committee:held_post_reject", args=[held_post.pk]), {"reason": ""}).status_code == 404
        )
        held_post.refresh_from_db()
        assert held_post.status == AidPost.Status.HELD
        assert not AuditEntry.objects.exists()

    def test_an_open_request_and_a_missing_one_are_404(self, client, committee, post):
        client.force_login(committee)
        assert client.post(reverse("committee:held_post_release", args=[post.pk])).status_code == 404
        assert client.post(reverse("committee:held_post_release", args=[2_147_483_647])).status_code == 404

    def test_only_by_post(self, client, committee, held_post):
        client.force_login(committee)
        assert client.get(reverse("committee:held_post_release", args=[held_post.pk])).status_code == 405

    def test_the_page_takes_the_same_queries_for_2_and_10_held_requests(self, client, committee, resident, held_post):
        def hold(count):
            for number in range(count):
                aid_post_create(
                    **window(),
                    actor=resident,
                    community=held_post.community,
                    category=skill(),
                    title=f"问题 {number}",
                    description=WORD,
                    place=held_post.place,
                )

        client.force_login(committee)
        hold(1)
        with CaptureQueriesContext(connection) as few:
            assert len(client.get(reverse("committee:held")).context["queue"].posts) == 2
        hold(8)
        with CaptureQueriesContext(connection) as many:
            assert len(client.get(reverse("committee:held")).context["queue"].posts) == 10
        assert len(many.captured_queries) == len(few.captured_queries)


class TestAudit:
    def test_release_and_reject_of_a_message_are_recorded(self, committee, grid_worker, held, conversation, send):
        second = send(held.sender, conversation, f"{WORD}!")

        held_message_release(actor=committee, message=held)
        held_message_reject(actor=grid_worker, message=second, reason="  借贷推广 ")

        released, rejected = AuditEntry.objects.order_by("pk")
        assert (released.actor, released.action, released.subject, released.target, released.reason) == (
            committee,
            AuditEntry.Action.HELD_RELEASED,
            held.sender,
            f"message:{held.pk}",
            "",
        )
        assert released.community == conversation.community and released.detail == {"words": WORD}
        assert (rejected.actor, rejected.action, rejected.target, rejected.reason) == (
            grid_worker,
            AuditEntry.Action.HELD_REJECTED,
            f"message:{second.pk}",
            "借贷推广",
        )

    def test_a_refused_decision_writes_nothing(self, committee, held):
        held_message_release(actor=committee, message=held)
        held.refresh_from_db()
        with pytest.raises(ValidationError):
            held_message_release(actor=committee, message=held)
        with pytest.raises(ValidationError):
            held_message_reject(actor=committee, message=held, reason="晚了")
        assert AuditEntry.objects.count() == 1

    def test_without_its_record_the_decision_is_not_kept(self, committee, held, monkeypatch):
        from committee.services import reports

        def broken(**kwargs):
            raise RuntimeError("the audit trail could not be written")

        monkeypatch.setattr(reports, "audit_record", broken)
        with pytest.raises(RuntimeError):
            held_message_release(actor=committee, message=held)
        held.refresh_from_db()
        assert held.status == Message.Status.HELD
