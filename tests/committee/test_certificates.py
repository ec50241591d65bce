"""Volunteer-hours certificates: the hours a period holds (from the ledger, in the site's
calendar, never spending), who may issue, see and revoke one, and every refusal."""

import zoneinfo
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext

from committee.models import Certificate
from committee.permissions import (
    can_issue_certificate,
    can_manage_certificate,
    can_view_certificate,
    certificates_managed_by,
    certificates_visible_to,
    memberships_certifiable_by,
)
from committee.selectors.certificates import (
    certificate_breakdown,
    certificate_by_code,
    certificates_issued_for,
    certificates_of,
    certified_hours,
    code_grouped,
    hours_breakdown,
)
from committee.services.certificates import (
    ChecksLimited,
    certificate_check_count,
    certificate_checks_reset,
    certificate_issue,
    certificate_revoke,
)
from messaging.models import Notification
from neighbors.models import AuditEntry, Membership
from tests.factories import ledger_entry_at

pytestmark = pytest.mark.django_db

XIAMEN = zoneinfo.ZoneInfo("Asia/Shanghai")
YEAR_2024 = {"period_start": date(2024, 1, 1), "period_end": date(2024, 12, 31)}


def at(year, month, day, hour=12, minute=0):
    """An instant on the site's (Xiamen's) clock."""
    return datetime(year, month, day, hour, minute, tzinfo=XIAMEN)


@pytest.fixture(autouse=True)
def _fresh_checks():
    certificate_checks_reset()
    yield


@pytest.fixture
def membership(helper, community):
    return Membership.objects.get(user=helper, community=community)


@pytest.fixture
def served(helper, community):
    """The helper's 2024 in the ledger: 7.5 hours earned and corrected to 7, points spent."""
    entries = [
        ledger_entry_at(at(2024, 3, 10), user=helper, community=community, hours="3", reason="help_confirmed"),
        ledger_entry_at(at(2024, 3, 20), user=helper, community=community, hours="2.5", reason="duty_confirmed"),
        ledger_entry_at(at(2024, 7, 1), user=helper, community=community, hours="2", reason="committee_award"),
        ledger_entry_at(at(2024, 7, 2), user=helper, community=community, hours="-0.5", reason="correction"),
        # Spending moves no hours, whatever such a row says: never counted.
        ledger_entry_at(at(2024, 8, 1), user=helper, community=community, hours="4", reason="redemption", points=-50),
        ledger_entry_at(
            at(2024, 8, 2), user=helper, community=community, hours="4", reason="redemption_refund", points=50
        ),
    ]
    return entries


@pytest.fixture
def issued(committee, membership, served):
    return certificate_issue(actor=committee, membership=membership, **YEAR_2024)


# --- Hours from the ledger ------------------------------------------------------------------


class TestHours:
    def test_earned_and_corrected_hours_count_and_spending_never_does(self, helper, community, served):
        assert certified_hours(user=helper, community=community, **YEAR_2024) == Decimal("7.00")

    def test_only_the_members_hours_in_that_community_count(self, helper, resident, community, outsider, served):
        # Given hours of someone else in the community, and of the helper in another community
        other_community = outsider.memberships.get().community
        ledger_entry_at(at(2024, 5, 1), user=resident, community=community, hours="9")
        ledger_entry_at(at(2024, 5, 1), user=helper, community=other_community, hours="9")

        # Then neither is the helper's in this community
        assert certified_hours(user=helper, community=community, **YEAR_2024) == Decimal("7.00")
        assert certified_hours(user=resident, community=community, **YEAR_2024) == Decimal("9.00")

    def test_a_period_is_whole_days_on_the_sites_clock(self, helper, community):
        # Given hours just either side of midnight, Xiamen time, on the last of February (when
        # it is still afternoon of the 28th in UTC for both)
        ledger_entry_at(at(2024, 2, 29, 23, 59), user=helper, community=community, hours="1")
        ledger_entry_at(at(2024, 3, 1, 0, 1), user=helper, community=community, hours="10")

        # Then February has the first, March the second, and each period includes its last day
        february = {"period_start": date(2024, 2, 1), "period_end": date(2024, 2, 29)}
        march = {"period_start": date(2024, 3, 1), "period_end": date(2024, 3, 31)}
        assert certified_hours(user=helper, community=community, **february) == Decimal("1")
        assert certified_hours(user=helper, community=community, **march) == Decimal("10")
        one_day = {"period_start": date(2024, 3, 1), "period_end": date(2024, 3, 1)}
        assert certified_hours(user=helper, community=community, **one_day) == Decimal("10")

    def test_the_breakdown_is_by_reason_and_by_month_of_the_sites_calendar(self, helper, community, served):
        # Given one more hour early on 1 July in Xiamen, still 30 June in UTC
        ledger_entry_at(at(2024, 7, 1, 1, 0), user=helper, community=community, hours="1", reason="help_confirmed")

        with translation.override("en"):
            breakdown = hours_breakdown(user=helper, community=community, **YEAR_2024)

        assert breakdown.total == Decimal("8.00")
        assert breakdown.by_reason == [
            ("Help confirmed", Decimal("4.00")),
            ("Duty confirmed", Decimal("2.50")),
            ("Committee award", Decimal("2.00")),
            ("Correction", Decimal("-0.50")),
        ]
        assert breakdown.by_month == [(date(2024, 3, 1), Decimal("5.50")), (date(2024, 7, 1), Decimal("2.50"))]

    def test_a_certificates_breakdown_is_the_ledger_as_it_stood_when_issued(self, helper, community, issued):
        # Given hours added to the same period after the certificate was issued
        ledger_entry_at(timezone.now() + timedelta(minutes=1), user=helper, community=community, hours="5")

        # Then its breakdown still adds up to the hours printed on it
        assert certificate_breakdown(issued).total == issued.hours == Decimal("7.00")


# --- Issuing -------------------------------------------------------------------------------


class TestIssue:
    def test_the_committee_certifies_a_members_hours_recorded_and_told(
        self, committee, membership, helper, community, served, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            certificate = certificate_issue(actor=committee, membership=membership, **YEAR_2024)

        certificate.refresh_from_db()
        assert (certificate.user, certificate.community, certificate.issued_by) == (helper, community, committee)
        assert (certificate.period_start, certificate.period_end) == (date(2024, 1, 1), date(2024, 12, 31))
        assert certificate.hours == Decimal("7.00")
        assert certificate.display_name == helper.profile.display_name
        assert certificate.revoked_at is None
        assert len(certificate.code) == 12
        assert certificate_by_code(certificate.code) == certificate

        audit = AuditEntry.objects.get(action=AuditEntry.Action.CERTIFICATE_ISSUED)
        assert (audit.actor, audit.subject, audit.community, audit.target) == (
            committee,
            helper,
            community,
            f"certificate:{certificate.pk}",
        )
        assert audit.detail == {"hours": "7.00", "period_start": "2024-01-01", "period_end": "2024-12-31"}

        # The member is told in their own language (the profile's default), with the hours
        told = Notification.objects.get(user=helper)
        with translation.override("zh-hans"):
            title = gettext("The committee issued you a certificate of %(hours)s volunteer hours") % {"hours": "7"}
        assert (told.kind, told.title, told.url) == (
            Notification.Kind.DECISION,
            title,
            f"/rewards/certificates/{certificate.pk}/",
        )

    def test_the_name_printed_stays_as_it_was_on_the_day(self, issued, helper):
        helper.profile.display_name = "改了名字"
        helper.profile.save()

        issued.refresh_from_db()
        assert issued.display_name == "li"

    def test_a_period_ending_today_is_over_enough(self, committee, membership, helper, community):
        ledger_entry_at(timezone.now() - timedelta(minutes=5), user=helper, community=community, hours="1.25")
        today = timezone.localdate()

        certificate = certificate_issue(actor=committee, membership=membership, period_start=today, period_end=today)

        assert certificate.hours == Decimal("1.25")

    @pytest.mark.parametrize(
        ("period", "message"),
        [
            (
                {"period_start": date(2024, 12, 31), "period_end": date(2024, 1, 1)},
                "The period must end on or after the day it starts.",
            ),
            ("future", "The period must be over by today: a certificate states hours already served."),
            (
                {"period_start": date(1999, 12, 31), "period_end": date(2000, 6, 30)},
                "The period cannot start before 2000-01-01.",
            ),
            (
                {"period_start": date(2019, 1, 1), "period_end": date(2024, 1, 1)},
                "A certificate covers at most 5 years.",
            ),
        ],
    )
    def test_a_period_not_over_reversed_too_early_or_too_long_is_refused_clearly(
        self, period, message, committee, membership, served
    ):
        if period == "future":
            today = timezone.localdate()
            period = {"period_start": today - timedelta(days=30), "period_end": today + timedelta(days=1)}

        with translation.override("en"), pytest.raises(ValidationError) as refused:
            certificate_issue(actor=committee, membership=membership, **period)

        assert refused.value.messages == [message]
        assert not Certificate.objects.exists()
        assert not AuditEntry.objects.filter(action=AuditEntry.Action.CERTIFICATE_ISSUED).exists()

    def test_five_years_less_a_day_is_long_enough(self, committee, membership, helper, community):
        ledger_entry_at(at(2019, 6, 1), user=helper, community=community, hours="2")

        certificate = certificate_issue(
            actor=committee, membership=membership, period_start=date(2019, 1, 1), period_end=date(2023, 12, 31)
        )

        assert certificate.hours == Decimal("2.00")

    def test_no_hours_no_certificate(self, committee, membership, helper, community):
        # Given a member who only spent points in the period
        ledger_entry_at(at(2024, 8, 1), user=helper, community=community, hours="4", reason="redemption", points=-50)

        with translation.override("en"), pytest.raises(ValidationError) as refused:
            certificate_issue(actor=committee, membership=membership, **YEAR_2024)

        assert refused.value.messages == [
            "li has no volunteer hours recorded in this community for that period: there is nothing to certify."
        ]
        assert not Certificate.objects.exists()

    def test_the_same_period_twice_is_refused_until_the_first_is_revoked(self, committee, membership, issued):
        with translation.override("en"), pytest.raises(ValidationError) as refused:
            certificate_issue(actor=committee, membership=membership, **YEAR_2024)
        assert issued.code in refused.value.messages[0]
        assert Certificate.objects.count() == 1

        certificate_revoke(actor=committee, certificate=issued, reason="时长录入有误")
        again = certificate_issue(actor=committee, membership=membership, **YEAR_2024)

        assert again.code != issued.code
        assert Certificate.objects.count() == 2

    def test_nobody_certifies_themselves(self, committee, community, served):
        own = Membership.objects.get(user=committee, community=community)
        ledger_entry_at(at(2024, 5, 1), user=committee, community=community, hours="3")

        assert not can_issue_certificate(committee, own)
        with pytest.raises(PermissionDenied):
            certificate_issue(actor=committee, membership=own, **YEAR_2024)
        assert not Certificate.objects.exists()

    @pytest.mark.parametrize("who", ["grid_worker", "resident", "other_committee"])
    def test_only_the_members_committee_issues(self, who, request, membership, served):
        # Grid workers do not issue: the certificate carries the committee's word.
        actor = request.getfixturevalue(who)

        assert not can_issue_certificate(actor, membership)
        assert not memberships_certifiable_by(actor).filter(pk=membership.pk).exists()
        with pytest.raises(PermissionDenied):
            certificate_issue(actor=actor, membership=membership, **YEAR_2024)
        assert not Certificate.objects.exists()

    def test_the_committee_may_issue_to_its_approved_members_only(self, committee, membership, resident, community):
        certifiable = set(memberships_certifiable_by(committee))
        assert membership in certifiable
        assert Membership.objects.get(user=resident, community=community) in certifiable
        assert not any(m.user_id == committee.pk for m in certifiable)

        membership.status = Membership.Status.LEFT
        membership.save()
        assert not can_issue_certificate(committee, membership)


# --- Revoking -------------------------------------------------------------------------------


class TestRevoke:
    def test_the_committee_revokes_with_a_reason_recorded_and_told(
        self, committee, helper, issued, community, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            revoked = certificate_revoke(actor=committee, certificate=issued, reason=" 时长录入有误 ")

        assert revoked.revoked_at is not None
        assert revoked.revoked_reason == "时长录入有误"
        audit = AuditEntry.objects.get(action=AuditEntry.Action.CERTIFICATE_REVOKED)
        assert (audit.actor, audit.subject, audit.community, audit.target, audit.reason) == (
            committee,
            helper,
            community,
            f"certificate:{issued.pk}",
            "时长录入有误",
        )
        with translation.override("zh-hans"):
            title = gettext("The committee revoked your certificate of %(hours)s volunteer hours") % {"hours": "7"}
        assert Notification.objects.filter(user=helper, kind=Notification.Kind.DECISION, title=title).exists()

    def test_revoking_twice_is_refused_and_keeps_the_first(self, committee, issued):
        first = certificate_revoke(actor=committee, certificate=issued, reason="第一次")

        with translation.override("en"), pytest.raises(ValidationError) as refused:
            certificate_revoke(actor=committee, certificate=issued, reason="第二次")

        assert refused.value.messages == ["This certificate has already been revoked."]
        issued.refresh_from_db()
        assert (issued.revoked_at, issued.revoked_reason) == (first.revoked_at, "第一次")
        assert AuditEntry.objects.filter(action=AuditEntry.Action.CERTIFICATE_REVOKED).count() == 1

    def test_a_reason_is_required(self, committee, issued):
        with translation.override("en"), pytest.raises(ValidationError) as refused:
            certificate_revoke(actor=committee, certificate=issued, reason="  ")

        assert refused.value.message_dict == {
            "reason": ["Say why the certificate is revoked; the member will read it."]
        }
        issued.refresh_from_db()
        assert issued.revoked_at is None

    @pytest.mark.parametrize("who", ["grid_worker", "helper", "resident", "other_committee"])
    def test_only_the_committee_revokes(self, who, request, issued):
        actor = request.getfixturevalue(who)

        assert not can_manage_certificate(actor, issued)
        with pytest.raises(PermissionDenied):
            certificate_revoke(actor=actor, certificate=issued, reason="不对")
        issued.refresh_from_db()
        assert issued.revoked_at is None

    def test_a_committee_member_does_not_revoke_their_own(self, committee, make_member, community):
        # Given a certificate issued to a committee member by a colleague
        colleague = make_member(role=Membership.Role.COMMITTEE, username="zhou")
        ledger_entry_at(at(2024, 5, 1), user=committee, community=community, hours="3")
        own = certificate_issue(
            actor=colleague, membership=Membership.objects.get(user=committee, community=community), **YEAR_2024
        )

        assert not certificates_managed_by(committee).filter(pk=own.pk).exists()
        with pytest.raises(PermissionDenied):
            certificate_revoke(actor=committee, certificate=own, reason="不对")
        assert can_manage_certificate(colleague, own)


# --- Who sees which -------------------------------------------------------------------------


class TestVisibility:
    @pytest.mark.parametrize(
        ("who", "sees"),
        [
            ("helper", True),
            ("committee", True),
            ("grid_worker", True),
            ("resident", False),
            ("outsider", False),
            ("other_committee", False),
            ("other_grid_worker", False),
        ],
    )
    def test_the_member_and_their_communitys_staff_see_a_certificate(self, who, sees, request, issued):
        viewer = request.getfixturevalue(who)

        assert can_view_certificate(viewer, issued) is sees
        assert (issued in certificates_visible_to(viewer)) is sees

    def test_nobody_logged_out_sees_one_privately(self, issued):
        from django.contrib.auth.models import AnonymousUser

        assert not can_view_certificate(AnonymousUser(), issued)
        assert not certificates_visible_to(AnonymousUser()).exists()

    def test_the_lists(self, committee, grid_worker, helper, resident, issued, other_committee):
        assert list(certificates_of(helper)) == [issued]
        assert not certificates_of(resident).exists()
        assert list(certificates_issued_for(committee)) == [issued]
        # The committee's list is the committee's: a grid worker reads a certificate, not the list
        assert not certificates_issued_for(grid_worker).exists()
        assert not certificates_issued_for(other_committee).exists()


# --- Codes and the count of public checks ---------------------------------------------------


class TestCodes:
    def test_a_code_is_found_as_typed_from_paper(self, issued):
        grouped = code_grouped(issued.code)

        assert grouped.count("-") == 2
        for typed in (issued.code, issued.code.lower(), grouped.lower(), f"  {grouped.replace('-', ' ')} "):
            assert certificate_by_code(typed) == issued

    def test_a_code_that_cannot_be_one_matches_nothing(self, issued):
        assert certificate_by_code(issued.code[:-1]) is None
        assert certificate_by_code(issued.code[:-1] + "0") is None
        assert certificate_by_code("") is None

    def test_checks_are_counted_per_address(self, settings):
        settings.CERTIFICATE_CHECK_RATE_LIMITS = "2 per minute"

        certificate_check_count(client="203.0.113.5")
        certificate_check_count(client="203.0.113.5")
        with pytest.raises(ChecksLimited) as limited:
            certificate_check_count(client="203.0.113.5")

        assert 1 <= limited.value.retry_after <= 61
        with translation.override("en"):
            assert "Too many certificates were checked from your connection" in limited.value.text
        # Another address is not held back by the first
        certificate_check_count(client="198.51.100.7")
