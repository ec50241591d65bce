"""Reports: anyone may report what they can see (never their own), once while it is open; the
committee of its community reads the reports and dismisses what is fine."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from committee.models import Report
from committee.services.reports import report_dismiss, report_file
from messaging.models import Notification
from messaging.services import conversation_ask_committee, message_delete, message_edit, rate_limits_reset
from tests.factories import MembershipFactory, UserFactory

from .conftest import WORD

pytestmark = pytest.mark.django_db

THANKS = "Thank you. The committee will look at it."


def report_url(kind: str, pk: int, next_url: str = "") -> str:
    url = reverse("committee:report", args=[kind, pk])
    return f"{url}?next={next_url}" if next_url else url


@pytest.fixture
def message(conversation, resident, send):
    return send(resident, conversation, "明天上午十点可以来修吗？")


@pytest.fixture
def targets(message, post, role, resident):
    """Each kind of target, with what its report's snapshot should say."""
    return {
        Report.TargetKind.MESSAGE: (message.pk, "明天上午十点可以来修吗？"),
        Report.TargetKind.REQUEST: (post.pk, f"{post.title}\n\n{post.description}"),
        Report.TargetKind.ROLE: (role.pk, f"{role.title}\n\n{role.description}"),
        Report.TargetKind.PROFILE: (resident.pk, resident.profile.display_name),
    }


class TestFiling:
    @pytest.mark.parametrize("kind", Report.TargetKind.values)
    def test_a_member_reports_what_they_see_and_the_committee_is_told(
        self, kind, targets, helper, resident, committee, community, django_capture_on_commit_callbacks
    ):
        # Given something of the community the helper can see
        target_id, snapshot = targets[kind]

        # When they report it, on a page in English
        with django_capture_on_commit_callbacks(execute=True), translation.override("en"):
            report = report_file(actor=helper, target_kind=kind, target_id=target_id, reason="fraud", note=" 可疑 ")

        # Then the community's committee has it, as it was said, and is told without names, in
        # the committee member's own language (the profile's default), not the reporter's
        assert (report.status, report.community, report.reporter, report.note) == ("open", community, helper, "可疑")
        assert report.snapshot == snapshot
        assert report.author == (None if kind == Report.TargetKind.ROLE else resident)
        with translation.override("zh-hans"):
            needs_review = gettext("A report needs review")
        told = Notification.objects.get(user=committee)
        assert (told.kind, told.title, told.url) == (Notification.Kind.ESCALATION, needs_review, "/committee/reports/")
        for name in ("li", "wang", helper.profile.display_name, resident.profile.display_name):
            assert name not in told.title + told.body
        # And nobody else is
        assert Notification.objects.filter(kind=Notification.Kind.ESCALATION).count() == 1

    def test_through_the_page_it_thanks_and_goes_back(self, client, helper, post):
        client.force_login(helper)
        back = reverse("aid_posts:detail", args=[post.pk])

        page = client.get(report_url("request", post.pk, back))
        assert page.status_code == 200
        assert post.title in page.content.decode()

        response = client.post(
            report_url("request", post.pk), {"reason": "spam", "note": "", "next": back}, HTTP_ACCEPT_LANGUAGE="en"
        )

        assert response.status_code == 302
        assert response.url == back
        assert [str(m) for m in response.wsgi_request._messages] == [THANKS]
        assert Report.objects.get().reason == Report.Reason.SPAM

    @pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""])
    def test_a_next_elsewhere_goes_home(self, client, helper, post, next_url):
        client.force_login(helper)
        response = client.post(report_url("request", post.pk), {"reason": "spam", "next": next_url})
        assert response.status_code == 302
        assert response.url == reverse("home")

    def test_the_snapshot_keeps_what_was_said_after_an_edit_and_a_delete(self, message, resident, helper):
        report = report_file(actor=helper, target_kind="message", target_id=message.pk, reason="harassment")

        message_edit(actor=resident, conversation_id=message.conversation_id, message_id=message.pk, body="算了")
        message_delete(actor=resident, conversation_id=message.conversation_id, message_id=message.pk)

        report.refresh_from_db()
        assert report.snapshot == "明天上午十点可以来修吗？"

    def test_a_profile_report_goes_to_a_community_both_share(self, helper, resident, community, outsider):
        # Given the resident also belongs to a community the helper is not in
        MembershipFactory(user=resident, community=outsider.memberships.get().community)
        report = report_file(actor=helper, target_kind="profile", target_id=resident.pk, reason="fraud")
        assert report.community == community

    def test_once_dismissed_the_same_person_may_report_again(self, post, helper, committee):
        first = report_file(actor=helper, target_kind="request", target_id=post.pk, reason="spam")
        report_dismiss(actor=committee, report=first)
        again = report_file(actor=helper, target_kind="request", target_id=post.pk, reason="fraud")
        assert Report.objects.filter(status="open").get() == again


class TestRefused:
    @pytest.mark.parametrize("kind", Report.TargetKind.values)
    def test_what_the_reporter_cannot_see_is_refused_and_looks_missing(self, kind, targets, outsider, client):
        target_id, _snapshot = targets[kind]
        with pytest.raises(PermissionDenied):
            report_file(actor=outsider, target_kind=kind, target_id=target_id, reason="spam")

        client.force_login(outsider)
        assert client.get(report_url(kind, target_id)).status_code == 404
        assert client.post(report_url(kind, target_id), {"reason": "spam"}).status_code == 404
        # Exactly as something that does not exist
        assert client.get(report_url(kind, 2_147_483_647)).status_code == 404
        assert not Report.objects.exists()

    def test_a_member_who_is_not_in_the_conversation_cannot_report_its_messages(self, message, make_member):
        neighbour = make_member()
        with pytest.raises(PermissionDenied):
            report_file(actor=neighbour, target_kind="message", target_id=message.pk, reason="spam")

    def test_someone_elses_held_message_is_not_there_to_report(
        self, conversation, resident, helper, send, sensitive_word
    ):
        held = send(resident, conversation, f"借{WORD}吗")
        assert held.status == "held"
        with pytest.raises(PermissionDenied):
            report_file(actor=helper, target_kind="message", target_id=held.pk, reason="fraud")

    @pytest.mark.parametrize("kind", [Report.TargetKind.MESSAGE, Report.TargetKind.REQUEST, Report.TargetKind.PROFILE])
    def test_nobody_reports_their_own(self, kind, targets, resident, client):
        target_id, _snapshot = targets[kind]
        with pytest.raises(ValidationError, match="what you wrote yourself"), translation.override("en"):
            report_file(actor=resident, target_kind=kind, target_id=target_id, reason="spam")

        client.force_login(resident)
        response = client.post(report_url(kind, target_id), {"reason": "spam"}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert "You cannot report what you wrote yourself." in response.content.decode()
        assert not Report.objects.exists()

    def test_the_committee_member_who_posted_for_a_resident_cannot_report_that_request(self, committee, resident, post):
        post.assisted_by = committee
        post.assisted_consent = "in_person"
        post.save(update_fields=["assisted_by", "assisted_consent"])
        with pytest.raises(ValidationError):
            report_file(actor=committee, target_kind="request", target_id=post.pk, reason="spam")

    def test_a_second_open_report_is_refused_clearly(self, client, helper, post):
        client.force_login(helper)
        client.post(report_url("request", post.pk), {"reason": "spam"})

        response = client.post(report_url("request", post.pk), {"reason": "fraud"}, HTTP_ACCEPT_LANGUAGE="en")

        assert response.status_code == 400
        assert "You have already reported this. The committee will look at it." in response.content.decode()
        assert Report.objects.count() == 1
        assert Report.objects.get().reason == "spam"

    def test_something_else_needs_a_note(self, client, helper, post):
        with pytest.raises(ValidationError) as refused:
            report_file(actor=helper, target_kind="request", target_id=post.pk, reason="other", note="  ")
        assert "note" in refused.value.message_dict

        client.force_login(helper)
        response = client.post(
            report_url("request", post.pk), {"reason": "other", "note": ""}, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.status_code == 400
        assert "Say what is wrong when you choose" in response.content.decode()
        assert not Report.objects.exists()

    def test_a_note_too_long_is_refused(self, helper, post):
        with pytest.raises(ValidationError) as refused:
            report_file(actor=helper, target_kind="request", target_id=post.pk, reason="fraud", note="长" * 1001)
        assert "note" in refused.value.message_dict
        assert not Report.objects.exists()

    @pytest.mark.parametrize("reason", ["", "rude", None])
    def test_an_unknown_reason_is_a_form_error(self, client, helper, post, reason):
        client.force_login(helper)
        data = {} if reason is None else {"reason": reason}
        assert client.post(report_url("request", post.pk), data).status_code == 400
        assert not Report.objects.exists()

    def test_an_unknown_reason_is_refused_by_the_service(self, helper, post):
        with pytest.raises(ValidationError):
            report_file(actor=helper, target_kind="request", target_id=post.pk, reason="rude")

    @pytest.mark.parametrize("kind", ["post", "messages", "user", "MESSAGE"])
    def test_an_unknown_kind_is_404(self, client, helper, post, kind):
        client.force_login(helper)
        assert client.get(report_url(kind, post.pk)).status_code == 404
        assert client.post(report_url(kind, post.pk), {"reason": "spam"}).status_code == 404

    def test_a_deleted_message_has_nothing_left_to_report(self, message, resident, helper):
        message_delete(actor=resident, conversation_id=message.conversation_id, message_id=message.pk)
        with pytest.raises(ValidationError, match="deleted"), translation.override("en"):
            report_file(actor=helper, target_kind="message", target_id=message.pk, reason="harassment")

    def test_the_page_needs_a_login(self, client, post):
        response = client.get(report_url("request", post.pk))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


class TestQueue:
    def test_plain_members_are_refused_the_page(self, client, resident):
        client.force_login(resident)
        response = client.get(reverse("committee:reports"))
        assert response.status_code == 403
        assert 'id="workspace-denied"' in response.content.decode()

    def test_the_committee_reads_open_reports_oldest_first_with_a_link(self, client, committee, helper, message, post):
        first = report_file(actor=helper, target_kind="request", target_id=post.pk, reason="fraud", note="要求先转账")
        second = report_file(actor=helper, target_kind="message", target_id=message.pk, reason="harassment")
        client.force_login(committee)

        page = client.get(reverse("committee:reports"))

        assert page.status_code == 200
        assert [r.pk for r in page.context["queue"].reports] == [first.pk, second.pk]
        html = page.content.decode()
        assert "要求先转账" in html and post.title in html
        assert reverse("aid_posts:detail", args=[post.pk]) in html
        # The committee is not in this request's conversation: no link that would be a 404
        assert page.context["queue"].reports[1].target_url == ""

    def test_a_message_links_to_its_conversation_once_the_committee_is_in_it(
        self, client, committee, helper, resident, message, conversation
    ):
        report_file(actor=helper, target_kind="message", target_id=message.pk, reason="harassment")
        conversation_ask_committee(actor=resident, conversation=conversation)
        client.force_login(committee)
        [listed] = client.get(reverse("committee:reports")).context["queue"].reports
        assert listed.target_url == reverse("messaging:conversation", args=[conversation.pk])

    def test_a_reported_message_comes_with_what_was_said_before_it(
        self, client, committee, helper, resident, conversation, send
    ):
        send(resident, conversation, "周六上午九点可以吗？")
        send(helper, conversation, "可以，我带工具过来。")
        send(resident, conversation, "另外你要不要兼职？")
        reported = send(resident, conversation, "日结三百，加我QQ")
        report_file(actor=helper, target_kind="message", target_id=reported.pk, reason="spam")
        client.force_login(committee)

        page = client.get(reverse("committee:reports"))

        [listed] = page.context["queue"].reports
        assert [message.body for message in listed.context] == [
            "周六上午九点可以吗？",
            "可以，我带工具过来。",
            "另外你要不要兼职？",
        ]
        assert "可以，我带工具过来。" in page.content.decode()
        # Not a participant: the committee reads the context here, not the conversation.
        assert listed.target_url == ""

    def test_reports_of_another_community_are_not_listed(self, client, other_committee, helper, post):
        report_file(actor=helper, target_kind="request", target_id=post.pk, reason="fraud")
        client.force_login(other_committee)
        assert list(client.get(reverse("committee:reports")).context["queue"].reports) == []

    def test_a_report_about_a_staff_member_goes_to_the_others(self, client, committee, grid_worker, helper):
        report = report_file(actor=helper, target_kind="profile", target_id=committee.pk, reason="harassment")
        client.force_login(committee)
        assert list(client.get(reverse("committee:reports")).context["queue"].reports) == []
        assert client.post(reverse("committee:report_dismiss", args=[report.pk])).status_code == 404
        client.force_login(grid_worker)
        assert [r.pk for r in client.get(reverse("committee:reports")).context["queue"].reports] == [report.pk]

    def test_the_page_takes_the_same_queries_for_2_and_10_reports(
        self, client, committee, community, building, post, role, conversation, resident, helper, send
    ):
        conversation_ask_committee(actor=resident, conversation=conversation)

        def file_reports(count):
            for _n in range(count):
                reporter = UserFactory()
                MembershipFactory(user=reporter, community=community, home_place=building)
                for kind, pk in (("request", post.pk), ("role", role.pk), ("profile", post.author_id)):
                    report_file(actor=reporter, target_kind=kind, target_id=pk, reason="spam")
                rate_limits_reset()  # ten messages in a moment: the limit is not what this is about
                message = send(resident, conversation, "加我好友")
                report_file(actor=helper, target_kind="message", target_id=message.pk, reason="spam")

        client.force_login(committee)
        send(helper, conversation, "你好")  # so that even the first reported message has context
        file_reports(1)
        client.get(reverse("committee:reports"))  # the session and the like settle
        with CaptureQueriesContext(connection) as few:
            reports = client.get(reverse("committee:reports")).context["queue"].reports
        assert len(reports) == 4
        assert all(report.target_url for report in reports)
        file_reports(9)
        with CaptureQueriesContext(connection) as many:
            assert len(client.get(reverse("committee:reports")).context["queue"].reports) == 40
        assert len(many.captured_queries) == len(few.captured_queries)


class TestDismiss:
    @pytest.fixture
    def report(self, helper, post):
        return report_file(actor=helper, target_kind="request", target_id=post.pk, reason="spam")

    @pytest.mark.parametrize("staff", ["committee", "grid_worker"])
    def test_staff_of_the_community_dismiss_with_a_record(self, request, client, report, staff):
        decider = request.getfixturevalue(staff)
        client.force_login(decider)

        response = client.post(reverse("committee:report_dismiss", args=[report.pk]))

        assert response.status_code == 302
        report.refresh_from_db()
        assert (report.status, report.decided_by) == (Report.Status.DISMISSED, decider)
        assert report.decided_at is not None
        assert list(client.get(reverse("committee:reports")).context["queue"].reports) == []

    @pytest.mark.parametrize("who", ["other_committee", "other_grid_worker", "resident", "outsider"])
    def test_nobody_else_can(self, request, client, report, who):
        someone = request.getfixturevalue(who)
        with pytest.raises(PermissionDenied):
            report_dismiss(actor=someone, report=report)
        client.force_login(someone)
        assert client.post(reverse("committee:report_dismiss", args=[report.pk])).status_code == 404
        report.refresh_from_db()
        assert report.status == Report.Status.OPEN

    def test_twice_is_a_clear_error(self, client, committee, report):
        report_dismiss(actor=committee, report=report)
        with pytest.raises(ValidationError, match="already been decided"), translation.override("en"):
            report_dismiss(actor=committee, report=report)

        client.force_login(committee)
        url = reverse("committee:report_dismiss", args=[report.pk])
        response = client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert "This report has already been decided." in response.content.decode()

    def test_dismiss_only_by_post(self, client, committee, report):
        client.force_login(committee)
        assert client.get(reverse("committee:report_dismiss", args=[report.pk])).status_code == 405


def test_the_site_admin_lists_reports_but_cannot_change_them_or_read_what_was_said(client, helper, post):
    report = report_file(actor=helper, target_kind="request", target_id=post.pk, reason="fraud", note="先转账")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert client.get(reverse("admin:committee_report_changelist")).status_code == 200
    page = client.get(reverse("admin:committee_report_change", args=[report.pk]))
    assert page.status_code == 200
    assert post.description not in page.content.decode()
    assert "先转账" not in page.content.decode()
    assert client.get(reverse("admin:committee_report_add")).status_code == 403
    assert client.post(reverse("admin:committee_report_delete", args=[report.pk]), {"post": "yes"}).status_code == 403
    assert (
        client.post(reverse("admin:committee_report_change", args=[report.pk]), {"status": "dismissed"}).status_code
        == 403
    )
    report.refresh_from_db()
    assert report.status == Report.Status.OPEN


def test_the_report_link_under_every_message_leads_to_the_report_form():
    """messaging builds the link as a path (it may not import this app): the two must agree."""
    from messaging.views import REPORT_PATH

    assert REPORT_PATH.format(id=12) == reverse("committee:report", args=["message", 12])
