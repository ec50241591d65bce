"""The moderation pages: the report queue's actions, the hidden content (restore), the suspensions
(lift early) and a member's page; refusals as 404 for what is not one's business, 403 for a page
not meant for one, and a clear message for a bad form or a role that may not."""

import pytest
from django.test import Client
from django.urls import reverse

from committee.models import Report
from committee.services.moderation import report_hide
from committee.services.reports import report_file
from messaging.models import Message
from neighbors.models import AuditEntry, Membership, Suspension
from neighbors.permissions import is_suspended
from neighbors.services import suspension_start

pytestmark = pytest.mark.django_db

REASON = "冒充居委会收费"
REPORTS = reverse("committee:reports")


def logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def flashed(response) -> list[str]:
    """The messages the response leaves to show (with any earlier ones the client has not read)."""
    return [str(message) for message in response.wsgi_request._messages]


def last_flash(response) -> str:
    return flashed(response)[-1]


def action_url(name: str, report: Report) -> str:
    return reverse(f"committee:{name}", args=[report.pk])


@pytest.fixture
def message(conversation, resident, send):
    return send(resident, conversation, "交五十元管理费到我这里")


@pytest.fixture
def report(message, helper):
    return report_file(actor=helper, target_kind="message", target_id=message.pk, reason="fraud")


@pytest.fixture
def colleague(make_member):
    return make_member(role=Membership.Role.COMMITTEE, username="colleague")


class TestReportActions:
    def test_the_queue_shows_each_action_with_labelled_fields_and_the_authors_record(self, report, committee, resident):
        suspension_start(actor=committee, membership=resident.memberships.get(), days=3, reason="先前的事")
        page = logged_in(committee).get(REPORTS)
        text = page.content.decode()
        assert page.status_code == 200
        for name in ("report_hide", "report_warn", "report_suspend", "report_remove", "report_dismiss"):
            assert action_url(name, report) in text
        for field in ("hide-reason", "warn-reason", "suspend-days", "suspend-reason", "remove-reason"):
            assert f'<label for="{field}-{report.pk}">' in text
        assert "The author has 0 warnings in this community." in text
        assert "Suspended until" in text
        assert reverse("committee:member", args=[resident.memberships.get().pk]) in text

    def test_hiding_from_the_queue(self, report, message, committee):
        response = logged_in(committee).post(action_url("report_hide", report), {"reason": REASON})
        assert (response.status_code, response.url) == (302, REPORTS)
        assert flashed(response) == ["It is hidden, and its author is told why. Every report about it is closed."]
        assert Message.objects.get(pk=message.pk).hidden_reason == REASON
        report.refresh_from_db()
        assert report.status == Report.Status.ACTIONED

    def test_warning_and_removing_from_the_queue(self, report, resident, committee, post, helper):
        client = logged_in(committee)
        client.post(action_url("report_warn", report), {"reason": REASON})
        assert AuditEntry.objects.filter(action=AuditEntry.Action.MEMBER_WARNED, subject=resident).exists()
        other = report_file(actor=helper, target_kind="request", target_id=post.pk, reason="spam")
        response = client.post(action_url("report_remove", other), {"reason": REASON})
        assert response.status_code == 302
        assert resident.memberships.get().status == Membership.Status.REMOVED

    def test_suspending_from_the_queue(self, report, resident, committee, community):
        response = logged_in(committee).post(action_url("report_suspend", report), {"days": "7", "reason": REASON})
        assert response.status_code == 302
        assert is_suspended(resident, community.pk)

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            ({"days": "0", "reason": REASON}, "Suspend for 1 to 365 days."),
            ({"days": "400", "reason": REASON}, "Suspend for 1 to 365 days."),
            ({"days": "abc", "reason": REASON}, "Give the number of days as a whole number, 1 to 365."),
            ({"days": "", "reason": REASON}, "Say for how many days the suspension lasts."),
            ({"days": "7", "reason": "  "}, "Give a reason: the person reads it, and it is kept in the record."),
            ({"days": "7", "reason": "长" * 301}, "Keep the reason under 300 characters."),
        ],
    )
    def test_a_bad_suspension_form_says_why_and_changes_nothing(self, report, committee, data, expected):
        response = logged_in(committee).post(action_url("report_suspend", report), data)
        assert (response.status_code, response.url) == (302, REPORTS)
        assert expected in " ".join(flashed(response))
        assert not Suspension.objects.exists()
        report.refresh_from_db()
        assert report.status == Report.Status.OPEN

    @pytest.mark.parametrize("name", ["report_hide", "report_warn", "report_remove"])
    def test_a_missing_reason_says_why(self, report, committee, name):
        response = logged_in(committee).post(action_url(name, report), {"reason": ""})
        assert flashed(response) == ["Give a reason: the person reads it, and it is kept in the record."]
        report.refresh_from_db()
        assert report.status == Report.Status.OPEN

    def test_a_grid_worker_suspending_a_committee_member_is_told_why_not(
        self, colleague, helper, grid_worker, community
    ):
        report = report_file(actor=helper, target_kind="profile", target_id=colleague.pk, reason="harassment")
        text = logged_in(grid_worker).get(REPORTS).content.decode()
        assert action_url("report_suspend", report) not in text
        assert "is for the committee" in text

        response = logged_in(grid_worker).post(action_url("report_suspend", report), {"days": "3", "reason": REASON})

        assert flashed(response) == ["A grid worker cannot suspend a committee member."]
        assert not is_suspended(colleague, community.pk)

    def test_acting_twice_says_it_was_decided(self, report, committee, grid_worker):
        logged_in(committee).post(action_url("report_hide", report), {"reason": REASON})
        response = logged_in(grid_worker).post(action_url("report_warn", report), {"reason": REASON})
        assert last_flash(response) == "This report has already been decided."
        assert not AuditEntry.objects.filter(action=AuditEntry.Action.MEMBER_WARNED).exists()

    @pytest.mark.parametrize("someone", ["resident", "helper", "other_committee", "other_grid_worker"])
    @pytest.mark.parametrize("name", ["report_hide", "report_warn", "report_suspend", "report_remove"])
    def test_others_and_the_reported_get_404(self, request, report, someone, name):
        response = logged_in(request.getfixturevalue(someone)).post(
            action_url(name, report), {"reason": REASON, "days": "3"}
        )
        assert response.status_code == 404
        report.refresh_from_db()
        assert report.status == Report.Status.OPEN

    def test_a_reviewer_gets_404_for_a_report_about_themselves(self, colleague, helper):
        report = report_file(actor=helper, target_kind="profile", target_id=colleague.pk, reason="harassment")
        assert logged_in(colleague).post(action_url("report_hide", report), {"reason": REASON}).status_code == 404

    def test_actions_are_posts(self, report, committee):
        assert logged_in(committee).get(action_url("report_hide", report)).status_code == 405


class TestHiddenContent:
    def test_the_committee_restores_what_was_hidden(self, report, message, committee):
        report_hide(actor=committee, report=report, reason=REASON)
        client = logged_in(committee)

        page = client.get(reverse("committee:hidden"))
        assert page.status_code == 200
        assert "交五十元管理费到我这里" in page.content.decode() and REASON in page.content.decode()

        response = client.post(reverse("committee:content_restore", args=["message", message.pk]))
        assert response.url == reverse("committee:hidden")
        assert flashed(response) == ["It is shown again, and its author is told."]
        assert not Message.objects.get(pk=message.pk).is_hidden

        again = client.post(reverse("committee:content_restore", args=["message", message.pk]))
        assert last_flash(again) == "This message is not hidden."

    def test_residents_get_the_page_for_staff(self, resident):
        response = logged_in(resident).get(reverse("committee:hidden"))
        assert response.status_code == 403
        assert 'id="workspace-denied"' in response.content.decode()

    @pytest.mark.parametrize(
        ("someone", "kind"), [("resident", "message"), ("other_committee", "message"), ("committee", "poll")]
    )
    def test_restoring_what_is_not_theirs_or_no_kind_is_404(self, request, report, message, committee, someone, kind):
        report_hide(actor=committee, report=report, reason=REASON)
        url = reverse("committee:content_restore", args=[kind, message.pk])
        assert logged_in(request.getfixturevalue(someone)).post(url).status_code == 404
        assert Message.objects.get(pk=message.pk).is_hidden


class TestSuspensions:
    @pytest.fixture
    def suspension(self, committee, resident):
        return suspension_start(actor=committee, membership=resident.memberships.get(), days=7, reason=REASON)

    def test_listed_and_lifted_early(self, suspension, committee, resident):
        client = logged_in(committee)
        page = client.get(reverse("committee:suspensions")).content.decode()
        assert f'id="suspension-{suspension.pk}"' in page and REASON in page

        url = reverse("committee:suspension_lift", args=[suspension.pk])
        missing = client.post(url, {"reason": ""})
        assert flashed(missing) == ["Give a reason: the person reads it, and it is kept in the record."]
        response = client.post(url, {"reason": "已调解"})
        assert last_flash(response) == "The suspension is lifted; the member is told."
        suspension.refresh_from_db()
        assert suspension.lifted_by == committee
        assert f'id="suspension-{suspension.pk}"' not in client.get(reverse("committee:suspensions")).content.decode()

    def test_the_suspended_and_other_communities_get_404_and_residents_the_page_for_staff(
        self, suspension, resident, other_committee
    ):
        url = reverse("committee:suspension_lift", args=[suspension.pk])
        for someone in (resident, other_committee):
            assert logged_in(someone).post(url, {"reason": "放了我"}).status_code == 404
        assert logged_in(resident).get(reverse("committee:suspensions")).status_code == 403
        suspension.refresh_from_db()
        assert suspension.lifted_at is None


class TestMemberPage:
    def page_url(self, person, name: str = "member") -> str:
        return reverse(f"committee:{name}", args=[person.memberships.get().pk])

    def test_from_the_members_list_to_a_suspension(self, committee, resident, community):
        members = logged_in(committee).get(reverse("neighbors:members")).content.decode()
        assert self.page_url(resident) in members

        client = logged_in(committee)
        page = client.get(self.page_url(resident))
        assert page.status_code == 200
        assert "0 warnings." in page.content.decode()

        response = client.post(
            self.page_url(resident, "member_suspend"), {"suspend-days": "10", "suspend-reason": REASON}
        )
        assert response.url == self.page_url(resident)
        assert is_suspended(resident, community.pk)
        assert REASON in client.get(self.page_url(resident)).content.decode()

    def test_lifting_from_the_members_page_goes_back_to_it(self, committee, resident, community):
        suspension = suspension_start(actor=committee, membership=resident.memberships.get(), days=3, reason=REASON)
        client = logged_in(committee)
        page = client.get(self.page_url(resident)).content.decode()
        lift = reverse("committee:suspension_lift", args=[suspension.pk])
        assert lift in page and 'for="lift_reason"' in page

        response = client.post(lift, {"back": "member", "reason": "提前解除"})

        assert response.url == self.page_url(resident)
        assert not is_suspended(resident, community.pk)

    @pytest.mark.parametrize(
        ("days", "expected"),
        [("0", "Suspend for 1 to 365 days."), ("400", "Suspend for 1 to 365 days."), ("abc", "whole number")],
    )
    def test_bad_days_show_the_form_again_with_why(self, committee, resident, days, expected):
        response = logged_in(committee).post(
            self.page_url(resident, "member_suspend"), {"suspend-days": days, "suspend-reason": REASON}
        )
        assert response.status_code == 400
        assert expected in response.content.decode()
        assert not Suspension.objects.exists()

    def test_warn_hide_restore_and_remove(self, committee, resident):
        client = logged_in(committee)
        client.post(self.page_url(resident, "member_warn"), {"warn-reason": "注意言辞"})
        assert "1 warning." in client.get(self.page_url(resident)).content.decode()

        client.post(self.page_url(resident, "member_profile_hide"), {"hide-reason": "头像不当"})
        resident.profile.refresh_from_db()
        assert resident.profile.hidden_reason == "头像不当"
        client.post(self.page_url(resident, "member_profile_restore"))
        resident.profile.refresh_from_db()
        assert not resident.profile.is_hidden

        url = self.page_url(resident, "member_remove")
        response = client.post(url, {"remove-reason": REASON})
        assert response.url == reverse("neighbors:members")
        assert resident.memberships.get().status == Membership.Status.REMOVED
        # Removed, they are nobody's page in the workspace any more
        assert client.get(self.page_url(resident)).status_code == 404

    def test_a_grid_worker_sees_a_committee_member_but_is_told_why_not(self, grid_worker, colleague, community):
        client = logged_in(grid_worker)
        page = client.get(self.page_url(colleague)).content.decode()
        assert 'id="not-yours"' in page
        assert self.page_url(colleague, "member_suspend") not in page

        response = client.post(
            self.page_url(colleague, "member_suspend"), {"suspend-days": "3", "suspend-reason": REASON}
        )
        assert (response.status_code, response.url) == (302, self.page_url(colleague))
        assert flashed(response) == ["A grid worker cannot suspend a committee member."]
        assert not is_suspended(colleague, community.pk)

    def test_a_committee_member_is_told_they_cannot_act_on_themselves(self, committee):
        response = logged_in(committee).post(self.page_url(committee, "member_warn"), {"warn-reason": "自我批评"})
        assert flashed(response) == ["You cannot warn yourself."]
        assert not AuditEntry.objects.filter(action=AuditEntry.Action.MEMBER_WARNED).exists()

    @pytest.mark.parametrize("someone", ["resident", "helper", "other_committee"])
    def test_people_outside_the_communitys_staff_get_404(self, request, someone, resident):
        client = logged_in(request.getfixturevalue(someone))
        target = resident if someone != "resident" else request.getfixturevalue("helper")
        assert client.get(self.page_url(target)).status_code == 404
        response = client.post(self.page_url(target, "member_suspend"), {"suspend-days": "3", "suspend-reason": "x"})
        assert response.status_code == 404
        assert not Suspension.objects.exists()
