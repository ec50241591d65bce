"""Committee awards and corrections: new ledger entries with a reason, never edits; only the
committee of the member's community, never for themselves; bounded amounts; never below zero.
Spending and refunds: the balance is checked under a lock, and a refund is paid once."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from messaging.models import Notification
from neighbors.models import AppendOnlyError, AuditEntry, LedgerEntry, Membership
from neighbors.permissions import can_adjust_ledger, memberships_ledger_adjustable_by
from neighbors.selectors import ledger_totals
from neighbors.services import leaderboard_opt_out_set, ledger_adjust, ledger_refund, ledger_spend
from tests.factories import MembershipFactory, points_earned

pytestmark = pytest.mark.django_db

AWARD = LedgerEntry.Reason.COMMITTEE_AWARD
CORRECTION = LedgerEntry.Reason.CORRECTION


def adjust(actor, user, community, *, reason=AWARD, points=20, hours="0", note="帮忙组织中秋活动", token=None):
    return ledger_adjust(
        actor=actor,
        user=user,
        community=community,
        reason=reason,
        points=points,
        hours=Decimal(hours),
        note=note,
        token=token,
    )


def refused(call) -> str:
    """The service's refusal, in English."""
    with translation.override("en"), pytest.raises(ValidationError) as error:
        call()
    return " ".join(error.value.messages)


class TestAward:
    def test_the_committee_awards_a_member_with_a_reason_recorded_audited_and_told(
        self, committee, resident, community
    ):
        # Given a resident of the committee's community
        # When the committee awards them points and hours with a reason
        entry = adjust(committee, resident, community, points=30, hours="2.5", note=" 组织中秋活动 ")

        # Then a new ledger entry holds it, with why and by whom
        assert (entry.reason, entry.points, entry.hours, entry.note, entry.created_by) == (
            AWARD,
            30,
            Decimal("2.5"),
            "组织中秋活动",
            committee,
        )
        assert entry.source.startswith("adjust:")
        assert ledger_totals(resident) == {"points": 30, "hours": Decimal("2.5")}
        # And the decision is in the audit trail, with the amounts
        audit = AuditEntry.objects.get()
        assert (audit.action, audit.actor, audit.subject, audit.community, audit.reason) == (
            AuditEntry.Action.POINTS_AWARDED,
            committee,
            resident,
            community,
            "组织中秋活动",
        )
        assert audit.detail == {"points": 30, "hours": "2.5"}
        # And the resident is told, with the reason
        notice = Notification.objects.get(user=resident)
        assert (notice.kind, notice.body) == (Notification.Kind.DECISION, "组织中秋活动")
        assert community.name in notice.title

    def test_the_same_form_sent_twice_adds_one_entry(self, committee, resident, community):
        # Given one award form's token
        token = uuid.uuid4()

        # When it is sent twice
        first = adjust(committee, resident, community, token=token)
        second = adjust(committee, resident, community, token=token)

        # Then there is one entry, one audit record and one notification
        assert first.pk == second.pk
        assert LedgerEntry.objects.filter(user=resident).count() == 1
        assert AuditEntry.objects.count() == 1
        assert Notification.objects.filter(user=resident).count() == 1
        # And another form (another token) is another award
        adjust(committee, resident, community, token=uuid.uuid4())
        assert ledger_totals(resident)["points"] == 40

    @pytest.mark.parametrize(
        ("points", "hours", "field"),
        [
            (0, "0", "points"),
            (-5, "0", "points"),
            (1001, "0", "points"),
            (10**9, "0", "points"),
            (10, "-1", "hours"),
            (10, "24.01", "hours"),
            (10, "NaN", "hours"),
            (10, "Infinity", "hours"),
        ],
    )
    def test_amounts_out_of_bounds_are_refused_and_nothing_is_written(
        self, committee, resident, community, points, hours, field
    ):
        with translation.override("en"), pytest.raises(ValidationError) as error:
            adjust(committee, resident, community, points=points, hours=hours)

        assert field in error.value.message_dict
        assert not LedgerEntry.objects.exists()
        assert not AuditEntry.objects.exists()

    def test_the_bounds_themselves_are_allowed(self, committee, resident, community):
        adjust(committee, resident, community, points=1, hours="0")
        adjust(committee, resident, community, points=1000, hours="24")

        assert ledger_totals(resident) == {"points": 1001, "hours": Decimal("24")}

    def test_hours_finer_than_a_hundredth_are_refused(self, committee, resident, community):
        with pytest.raises(ValidationError) as error:
            adjust(committee, resident, community, hours="1.255")

        assert "hours" in error.value.message_dict

    @pytest.mark.parametrize("note", ["", "   ", "长" * 301])
    def test_a_reason_is_required_and_short(self, committee, resident, community, note):
        with pytest.raises(ValidationError) as error:
            adjust(committee, resident, community, note=note)

        assert "note" in error.value.message_dict
        assert not LedgerEntry.objects.exists()

    def test_only_an_award_or_a_correction(self, committee, resident, community):
        message = refused(lambda: adjust(committee, resident, community, reason=LedgerEntry.Reason.REDEMPTION))

        assert message == "Choose an award or a correction."


class TestCorrection:
    def test_a_correction_may_take_away_down_to_zero_not_below(self, committee, resident, community):
        # Given a resident with 30 points and 3 hours
        points_earned(resident, community, 30, hours=Decimal("3"))

        # When the committee corrects 40 points away
        message = refused(lambda: adjust(committee, resident, community, reason=CORRECTION, points=-40))

        # Then it is refused, saying what they have, and nothing is written
        assert message == "This would take their points below zero: they have 30."
        # And the same for hours
        message = refused(lambda: adjust(committee, resident, community, reason=CORRECTION, points=0, hours="-3.5"))
        assert message == "This would take their hours below zero: they have 3.00."
        assert ledger_totals(resident) == {"points": 30, "hours": Decimal("3")}
        # But down to exactly zero is a correction like any other, audited as one
        entry = adjust(committee, resident, community, reason=CORRECTION, points=-30, hours="-3")
        assert entry.reason == CORRECTION
        assert ledger_totals(resident) == {"points": 0, "hours": Decimal("0")}
        assert AuditEntry.objects.get().action == AuditEntry.Action.LEDGER_CORRECTED

    def test_a_correction_upwards_needs_no_balance(self, committee, resident, community):
        adjust(committee, resident, community, reason=CORRECTION, points=5000, hours="0")

        assert ledger_totals(resident)["points"] == 5000

    @pytest.mark.parametrize(
        ("points", "hours", "field"),
        [(10_001, "0", "points"), (-10_001, "0", "points"), (0, "1000.01", "hours"), (0, "-1000.01", "hours")],
    )
    def test_bounds(self, committee, resident, community, points, hours, field):
        points_earned(resident, community, 20_000, hours=Decimal("2000"))

        with pytest.raises(ValidationError) as error:
            adjust(committee, resident, community, reason=CORRECTION, points=points, hours=hours)

        assert field in error.value.message_dict

    def test_a_correction_of_nothing_is_refused(self, committee, resident, community):
        message = refused(lambda: adjust(committee, resident, community, reason=CORRECTION, points=0, hours="0"))

        assert message == "A correction must change the points, the hours or both."

    def test_old_entries_are_never_edited(self, committee, resident, community):
        # Given an award
        entry = adjust(committee, resident, community)

        # Then neither the model nor the queryset nor the database lets it change
        entry.points = 1000
        with pytest.raises(AppendOnlyError):
            entry.save()
        with pytest.raises(AppendOnlyError):
            LedgerEntry.objects.filter(pk=entry.pk).update(points=1000)
        with pytest.raises(AppendOnlyError):
            entry.delete()
        assert LedgerEntry.objects.get(pk=entry.pk).points == 20


class TestWhoMayAdjust:
    def test_only_the_committee_of_the_members_community(
        self, committee, resident, grid_worker, helper, outsider, community
    ):
        other = outsider.memberships.get().community
        other_committee = MembershipFactory(community=other, role=Membership.Role.COMMITTEE).user

        for actor in (grid_worker, helper, other_committee):
            with pytest.raises(PermissionDenied):
                adjust(actor, resident, community)
        # Nor for someone who is not a member of the community named
        with pytest.raises(PermissionDenied):
            adjust(committee, outsider, community)
        with pytest.raises(PermissionDenied):
            adjust(other_committee, resident, other)
        assert not LedgerEntry.objects.exists()

    def test_not_a_pending_or_departed_member(self, committee, community, make_member):
        for status in (Membership.Status.PENDING, Membership.Status.LEFT, Membership.Status.REMOVED):
            person = make_member()
            Membership.objects.filter(user=person).update(status=status)
            with pytest.raises(PermissionDenied):
                adjust(committee, person, community)

    def test_never_for_oneself(self, committee, community, make_member):
        make_member(role=Membership.Role.COMMITTEE)

        message = refused(lambda: adjust(committee, committee, community))

        assert message == "You cannot award or correct your own points: ask another committee member."

    def test_the_rule_and_its_queryset_agree(self, committee, resident, grid_worker, outsider, community):
        memberships = Membership.objects.all()

        for user in (committee, grid_worker, resident, outsider):
            allowed = {m.pk for m in memberships if can_adjust_ledger(user, m)}
            assert allowed == set(memberships_ledger_adjustable_by(user).values_list("pk", flat=True))
        assert set(memberships_ledger_adjustable_by(committee).values_list("user", flat=True)) == {
            resident.pk,
            grid_worker.pk,
        }
        assert not memberships_ledger_adjustable_by(grid_worker).exists()


class TestSpendAndRefund:
    def test_spending_is_refused_beyond_the_balance_with_what_they_have(self, resident, community):
        points_earned(resident, community, 25)

        message = refused(lambda: ledger_spend(actor=resident, community=community, points=30, source="redemption:1"))

        assert message == "Not enough points: you have 25, this costs 30."
        # The whole balance may be spent, not a point more
        ledger_spend(actor=resident, community=community, points=25, source="redemption:1")
        assert ledger_totals(resident)["points"] == 0

    def test_a_refund_returns_exactly_what_was_spent_once(self, resident, committee, community):
        points_earned(resident, community, 25)
        ledger_spend(actor=resident, community=community, points=10, source="redemption:7", note="理发券")

        refund = ledger_refund(actor=committee, user=resident, source="redemption:7")
        again = ledger_refund(actor=committee, user=resident, source="redemption:7")

        assert (refund.points, refund.reason, refund.community) == (10, LedgerEntry.Reason.REDEMPTION_REFUND, community)
        assert again is None
        assert ledger_totals(resident)["points"] == 25

    def test_nothing_spent_nothing_refunded(self, resident, committee):
        message = refused(lambda: ledger_refund(actor=committee, user=resident, source="redemption:99"))

        assert message == "Nothing was spent on this, so there is nothing to give back."
        assert not LedgerEntry.objects.exists()


def test_the_leaderboard_opt_out_is_the_persons_own(resident):
    assert leaderboard_opt_out_set(actor=resident, opt_out=True).leaderboard_opt_out is True
    resident.profile.refresh_from_db()
    assert resident.profile.leaderboard_opt_out is True
    assert leaderboard_opt_out_set(actor=resident, opt_out=False).leaderboard_opt_out is False
