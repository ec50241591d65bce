"""The rewards catalogue and redemptions (services), badges and the monthly leaderboard (selectors)."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from PIL import Image

from committee.models import Redemption, Reward
from committee.permissions import (
    can_cancel_redemption,
    can_decide_redemption,
    redemptions_cancellable_by,
    redemptions_decidable_by,
)
from committee.selectors.rewards import badges_for, leaderboard, leaderboard_months, redemption_queue_for
from committee.services.rewards import redemption_cancel, redemption_fulfil, reward_redeem, reward_save
from messaging.models import Notification
from neighbors.images import image_process
from neighbors.models import AuditEntry, LedgerEntry, Membership, Profile, Suspension
from neighbors.selectors import ledger_totals
from neighbors.services import block_add, ledger_adjust
from talent_pool.models import Credential
from talent_pool.services import credential_submit, credential_verify, talent_skill_add
from tests.factories import MembershipFactory, RewardFactory, ledger_entry_at, points_earned, skill

pytestmark = pytest.mark.django_db

HELP = LedgerEntry.Reason.HELP_CONFIRMED
DUTY = LedgerEntry.Reason.DUTY_CONFIRMED


def refused(call) -> str:
    with translation.override("en"), pytest.raises(ValidationError) as error:
        call()
    return " ".join(error.value.messages)


@pytest.fixture
def reward(community, committee):
    return RewardFactory(community=community, created_by=committee, title="社区理发", points=10, stock=3)


@pytest.fixture
def rich(resident, community):
    """The resident, with 100 points to spend."""
    points_earned(resident, community, 100)
    return resident


def save(actor, community, **changes):
    fields = {"title": "家电清洗", "kind": Reward.Kind.SERVICE, "points": 50, "stock": 4} | changes
    return reward_save(actor=actor, community=community, **fields)


class TestCatalogue:
    def test_the_committee_adds_and_changes_a_reward_audited_field_by_field(self, committee, community):
        # When the committee adds a reward
        reward = save(committee, community, title=" 家电清洗 ", description="上门清洗空调一台")

        # Then it is in the catalogue, offered, and the audit keeps what it was
        assert (reward.title, reward.points, reward.stock, reward.active, reward.created_by) == (
            "家电清洗",
            50,
            4,
            True,
            committee,
        )
        created = AuditEntry.objects.get()
        assert (created.action, created.target, created.community) == (
            AuditEntry.Action.REWARD_SAVED,
            f"reward:{reward.pk}",
            community,
        )
        assert created.detail["created"]["points"] == 50

        # When it is repriced, restocked and withdrawn
        changed = reward_save(
            actor=committee,
            community=community,
            reward=reward,
            title="家电清洗",
            description="上门清洗空调一台",
            kind=Reward.Kind.SERVICE,
            points=60,
            stock=10,
            active=False,
        )

        # Then the row changed, and the audit says from what to what (and nothing else)
        assert (changed.pk, changed.points, changed.stock, changed.active) == (reward.pk, 60, 10, False)
        latest = AuditEntry.objects.order_by("-pk").first()
        assert latest.detail == {"changed": {"points": [50, 60], "stock": [4, 10], "active": [True, False]}}

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"points": 0}, "points"),
            ({"points": 100_001}, "points"),
            ({"stock": -1}, "stock"),
            ({"stock": 10_001}, "stock"),
            ({"title": "  "}, "title"),
            ({"kind": "cash"}, "kind"),
            ({"description": "字" * 1001}, "description"),
        ],
    )
    def test_bad_prices_and_stock_are_refused(self, committee, community, changes, field):
        with pytest.raises(ValidationError) as error:
            save(committee, community, **changes)

        assert field in error.value.message_dict
        assert not Reward.objects.exists()
        assert not AuditEntry.objects.exists()

    def test_only_the_committee_of_the_community(
        self, community, grid_worker, resident, other_committee, reward, committee
    ):
        for actor in (grid_worker, resident, other_committee):
            with pytest.raises(PermissionDenied):
                save(actor, community)
        # Nor moving another community's reward into one's own catalogue
        with pytest.raises(PermissionDenied):
            reward_save(
                actor=other_committee,
                community=other_committee.memberships.get().community,
                reward=reward,
                title="x",
                kind=Reward.Kind.SERVICE,
                points=1,
                stock=1,
            )
        assert Reward.objects.count() == 1

    def test_an_edit_made_on_stale_stock_is_refused(self, committee, community, reward, rich):
        # Given the committee opened the form with 3 in stock, and a member redeemed one since
        seen = reward.stock
        reward_redeem(actor=rich, reward=reward)

        # When it saves the form with stock 20
        message = refused(
            lambda: reward_save(
                actor=committee,
                community=community,
                reward=reward,
                title=reward.title,
                kind=reward.kind,
                points=reward.points,
                stock=20,
                stock_seen=seen,
            )
        )

        # Then it is told, and the unit taken stays taken
        assert message == (
            "Someone redeemed this reward while you were editing: 2 are in stock now. Check the number and save again."
        )
        assert Reward.objects.get(pk=reward.pk).stock == 2


class TestRedeem:
    def test_a_member_redeems_points_spent_and_stock_taken_together(self, rich, reward, community):
        # When the resident redeems
        redemption = reward_redeem(actor=rich, reward=reward, expected_points=10)

        # Then the redemption waits, the price is kept, one unit is taken and the points spent
        assert (redemption.status, redemption.points, redemption.user) == (Redemption.Status.PENDING, 10, rich)
        assert Reward.objects.get(pk=reward.pk).stock == 2
        spent = LedgerEntry.objects.get(reason=LedgerEntry.Reason.REDEMPTION)
        assert (spent.points, spent.source, spent.community, spent.note) == (
            -10,
            f"redemption:{redemption.pk}",
            community,
            "社区理发",
        )
        assert ledger_totals(rich)["points"] == 90

    def test_not_enough_points_says_how_many_and_changes_nothing(self, resident, reward, community):
        points_earned(resident, community, 7)

        message = refused(lambda: reward_redeem(actor=resident, reward=reward))

        assert message == "Not enough points: you have 7, this costs 10."
        assert Reward.objects.get(pk=reward.pk).stock == 3
        assert not Redemption.objects.exists()
        assert ledger_totals(resident)["points"] == 7

    def test_out_of_stock(self, rich, reward):
        Reward.objects.filter(pk=reward.pk).update(stock=0)

        message = refused(lambda: reward_redeem(actor=rich, reward=reward))

        assert message == "Out of stock: every one of these has been redeemed. The committee may add more."
        assert ledger_totals(rich)["points"] == 100
        assert not Redemption.objects.exists()

    def test_the_last_unit_goes_once(self, rich, reward, make_member, community):
        # Given one unit left and two members with points
        Reward.objects.filter(pk=reward.pk).update(stock=1)
        other = make_member()
        points_earned(other, community, 10)

        # When both redeem, one after the other
        reward_redeem(actor=rich, reward=reward)
        message = refused(lambda: reward_redeem(actor=other, reward=reward))

        # Then the second is told it is gone, and keeps its points
        assert message.startswith("Out of stock")
        assert Reward.objects.get(pk=reward.pk).stock == 0
        assert ledger_totals(other)["points"] == 10

    def test_a_withdrawn_reward_is_not_redeemed(self, rich, reward):
        Reward.objects.filter(pk=reward.pk).update(active=False)

        assert refused(lambda: reward_redeem(actor=rich, reward=reward)) == "This reward is no longer offered."

    def test_a_changed_price_is_not_charged_without_a_new_look(self, rich, reward):
        Reward.objects.filter(pk=reward.pk).update(points=15)

        message = refused(lambda: reward_redeem(actor=rich, reward=reward, expected_points=10))

        assert message == "The price has changed to 15 points. Look again before you redeem."
        assert ledger_totals(rich)["points"] == 100

    def test_another_communitys_reward_is_not_for_an_outsider(self, outsider, reward):
        points_earned(outsider, outsider.memberships.get().community, 100)

        with pytest.raises(PermissionDenied):
            reward_redeem(actor=outsider, reward=reward)
        assert not Redemption.objects.exists()

    def test_not_while_suspended_in_the_community(self, rich, reward, committee, community):
        Suspension.objects.create(
            community=community,
            user=rich,
            reason="spam",
            ends_at=timezone.now() + timedelta(days=3),
            created_by=committee,
        )

        message = refused(lambda: reward_redeem(actor=rich, reward=reward))

        assert message.startswith(f"You are suspended in {community.name} until ")
        assert not Redemption.objects.exists()

    def test_pressing_twice_redeems_once(self, rich, reward):
        reward_redeem(actor=rich, reward=reward)

        message = refused(lambda: reward_redeem(actor=rich, reward=reward))

        assert message.startswith("You have already redeemed this and it is waiting for the committee.")
        assert ledger_totals(rich)["points"] == 90
        assert Redemption.objects.count() == 1

    def test_a_child_may_redeem(self, make_member, reward, community):
        # Their points are theirs; only the leaderboard, which shows names, leaves them off
        child = make_member()
        Profile.objects.filter(user=child).update(is_minor=True)
        points_earned(child, community, 10)

        assert reward_redeem(actor=child, reward=reward).status == Redemption.Status.PENDING


class TestDecide:
    @pytest.fixture
    def redemption(self, rich, reward):
        return reward_redeem(actor=rich, reward=reward)

    @pytest.mark.parametrize("who", ["committee", "grid_worker"])
    def test_staff_hand_it_over_once_audited_and_the_member_told(self, request, who, redemption, rich):
        actor = request.getfixturevalue(who)

        done = redemption_fulfil(actor=actor, redemption=redemption)

        assert (done.status, done.decided_by) == (Redemption.Status.FULFILLED, actor)
        audit = AuditEntry.objects.get(action=AuditEntry.Action.REDEMPTION_FULFILLED)
        assert (audit.subject, audit.target) == (rich, f"redemption:{redemption.pk}")
        assert Notification.objects.filter(user=rich, kind=Notification.Kind.DECISION).count() == 1
        # And a second press says it is done, changing nothing
        assert (
            refused(lambda: redemption_fulfil(actor=actor, redemption=redemption))
            == "This redemption has already been decided."
        )
        assert ledger_totals(rich)["points"] == 90

    def test_who_may_not_decide(self, redemption, helper, other_committee, other_grid_worker, rich):
        for actor in (helper, other_committee, other_grid_worker, rich):
            with pytest.raises(PermissionDenied):
                redemption_fulfil(actor=actor, redemption=redemption)
        assert Redemption.objects.get().status == Redemption.Status.PENDING

    def test_staff_never_decide_their_own(self, committee, reward, community):
        points_earned(committee, community, 50)
        own = reward_redeem(actor=committee, reward=reward)

        assert not can_decide_redemption(committee, own)
        with pytest.raises(PermissionDenied):
            redemption_fulfil(actor=committee, redemption=own)

    def test_cancelling_returns_the_points_and_the_stock_once(self, committee, redemption, rich, reward):
        # When the committee cancels, saying why
        cancelled = redemption_cancel(actor=committee, redemption=redemption, reason="本月理发师休假")

        # Then the points and the unit are back, by a refund entry named after the redemption
        assert (cancelled.status, cancelled.decision_reason) == (Redemption.Status.CANCELLED, "本月理发师休假")
        refund = LedgerEntry.objects.get(reason=LedgerEntry.Reason.REDEMPTION_REFUND)
        assert (refund.points, refund.source) == (10, redemption.subject)
        assert ledger_totals(rich)["points"] == 100
        assert Reward.objects.get(pk=reward.pk).stock == 3
        audit = AuditEntry.objects.get(action=AuditEntry.Action.REDEMPTION_CANCELLED)
        assert (audit.reason, audit.detail["by_member"]) == ("本月理发师休假", False)
        assert Notification.objects.get(user=rich).body == "本月理发师休假"
        # And neither a second cancel nor a fulfil changes anything
        for again in (
            lambda: redemption_cancel(actor=committee, redemption=redemption, reason="再次"),
            lambda: redemption_fulfil(actor=committee, redemption=redemption),
        ):
            assert refused(again) == "This redemption has already been decided."
        assert ledger_totals(rich)["points"] == 100
        assert Reward.objects.get(pk=reward.pk).stock == 3

    def test_staff_must_say_why(self, committee, redemption):
        with pytest.raises(ValidationError) as error:
            redemption_cancel(actor=committee, redemption=redemption, reason="  ")

        assert "reason" in error.value.message_dict
        assert Redemption.objects.get().status == Redemption.Status.PENDING

    def test_a_member_cancels_their_own_without_a_reason(self, redemption, rich):
        redemption_cancel(actor=rich, redemption=redemption)

        assert ledger_totals(rich)["points"] == 100
        assert AuditEntry.objects.get(action=AuditEntry.Action.REDEMPTION_CANCELLED).detail["by_member"] is True
        # Nobody tells them what they did themselves
        assert not Notification.objects.filter(user=rich).exists()

    def test_a_handed_over_reward_is_not_cancelled(self, committee, redemption, rich):
        redemption_fulfil(actor=committee, redemption=redemption)

        assert refused(lambda: redemption_cancel(actor=rich, redemption=redemption)) == (
            "This redemption has already been decided."
        )
        assert ledger_totals(rich)["points"] == 90

    def test_another_member_may_not_cancel(self, helper, redemption):
        with pytest.raises(PermissionDenied):
            redemption_cancel(actor=helper, redemption=redemption, reason="不要了")

    def test_rules_and_their_querysets_agree(
        self, redemption, committee, grid_worker, helper, rich, other_committee, reward, community
    ):
        points_earned(committee, community, 50)
        own = reward_redeem(actor=committee, reward=reward)
        everyone = (committee, grid_worker, helper, rich, other_committee)

        for user in everyone:
            for r in (redemption, own):
                assert can_decide_redemption(user, r) == redemptions_decidable_by(user).filter(pk=r.pk).exists()
                assert can_cancel_redemption(user, r) == redemptions_cancellable_by(user).filter(pk=r.pk).exists()
        assert set(redemptions_decidable_by(grid_worker)) == {redemption, own}
        assert set(redemptions_decidable_by(committee)) == {redemption}
        assert set(redemptions_cancellable_by(committee)) == {redemption, own}
        assert set(redemptions_cancellable_by(rich)) == {redemption}
        assert not redemptions_decidable_by(other_committee).exists()

    def test_the_queue_is_pending_and_oldest_first(self, redemption, committee, make_member, reward, community):
        later = make_member()
        points_earned(later, community, 10)
        second = reward_redeem(actor=later, reward=reward)
        done = make_member()
        points_earned(done, community, 10)
        redemption_fulfil(actor=committee, redemption=reward_redeem(actor=done, reward=reward))

        assert redemption_queue_for(committee).redemptions == [redemption, second]


def certificate_of(user, talent_skill=None) -> Credential:
    """A certificate for a skill that needs one ("legal-mediation" is seeded so), submitted."""
    photo = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(photo, "JPEG")
    photo.seek(0)
    return credential_submit(
        actor=user,
        talent_skill=talent_skill or talent_skill_add(actor=user, skill=skill("legal-mediation")),
        image=image_process(photo),
        number="J-2024-001",
        expires_on=timezone.localdate() + timedelta(days=365),
    )


def at(days_ago: float) -> datetime:
    return timezone.now() - timedelta(days=days_ago)


class TestBadges:
    def codes(self, user) -> dict[str, date | None]:
        return {badge.code: badge.earned_on for badge in badges_for([user.pk])[user.pk]}

    def test_none_without_history(self, resident):
        assert self.codes(resident) == {}

    def test_first_help_hours_and_a_year_from_the_ledger_with_their_dates(self, resident, community):
        # Given a first help 400 days ago, a duty, then more hours
        ledger_entry_at(at(400), user=resident, community=community, hours="4", reason=HELP)
        ledger_entry_at(at(200), user=resident, community=community, hours="6", reason=DUTY)
        ledger_entry_at(at(10), user=resident, community=community, hours="45", reason=DUTY)
        # (Spending carries no hours and never counts.)
        ledger_entry_at(at(5), user=resident, community=community, hours="0", reason="redemption", points=-10)

        codes = self.codes(resident)

        # Then the badges say when they were earned: the day a total first reached each milestone
        assert codes == {
            "first_help": timezone.localdate(at(400)),
            "year_of_service": timezone.localdate(at(400) + timedelta(days=365)),
            "hours_10": timezone.localdate(at(200)),
            "hours_50": timezone.localdate(at(10)),
        }

    def test_a_correction_below_a_milestone_takes_the_badge_away(self, resident, committee, community):
        points_earned(resident, community, 10, hours=Decimal("10"))
        assert "hours_10" in self.codes(resident)

        ledger_adjust(
            actor=committee,
            user=resident,
            community=community,
            reason=LedgerEntry.Reason.CORRECTION,
            points=0,
            hours=Decimal("-0.5"),
            note="多记了半小时",
        )

        assert "hours_10" not in self.codes(resident)

    def test_not_a_year_yet(self, resident, community):
        ledger_entry_at(at(364), user=resident, community=community, hours="1", reason=DUTY)

        assert self.codes(resident) == {}

    def test_an_award_is_not_a_first_help(self, resident, committee, community):
        ledger_adjust(
            actor=committee,
            user=resident,
            community=community,
            reason=LedgerEntry.Reason.COMMITTEE_AWARD,
            points=100,
            hours=Decimal("12"),
            note="组织活动",
        )

        assert set(self.codes(resident)) == {"hours_10"}

    def test_a_verified_professional_holds_a_valid_verified_credential(self, helper, committee):
        # Given a certificate waiting for the committee: no badge yet
        credential = certificate_of(helper)
        assert "verified_professional" not in self.codes(helper)

        # When the committee verifies it, the badge is dated that day
        credential_verify(actor=committee, credential=credential)
        assert self.codes(helper)["verified_professional"] == timezone.localdate()

        # And when it expires the badge goes
        Credential.objects.filter(pk=credential.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
        assert "verified_professional" not in self.codes(helper)

    def test_the_date_is_that_of_a_credential_valid_now_not_of_an_expired_one(self, helper, committee):
        # Given a certificate verified two years ago that has expired, and its renewal verified today
        old = certificate_of(helper)
        credential_verify(actor=committee, credential=old)
        Credential.objects.filter(pk=old.pk).update(
            decided_at=timezone.now() - timedelta(days=730), expires_on=timezone.localdate() - timedelta(days=1)
        )
        credential_verify(actor=committee, credential=certificate_of(helper, old.talent_skill))

        # Then the badge dates from the renewal
        assert self.codes(helper)["verified_professional"] == timezone.localdate()

    def test_many_people_in_two_queries(self, community, make_member):
        people = [make_member() for _ in range(6)]
        for person in people:
            points_earned(person, community, 10, hours=Decimal("11"))

        with CaptureQueriesContext(connection) as queries:
            badges = badges_for(p.pk for p in people)

        assert len(queries) == 2
        assert all({b.code for b in badges[p.pk]} == {"first_help", "hours_10"} for p in people)


def local(year: int, month: int, day: int = 1, hour: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, 0, second, tzinfo=timezone.get_current_timezone())


class TestLeaderboard:
    @pytest.fixture
    def month(self) -> date:
        return timezone.localdate().replace(day=1)

    def test_more_points_first_then_more_hours_then_the_name_and_equals_share_a_place(
        self, community, make_member, month
    ):
        zhao, qian, sun, li = (make_member(username=name) for name in ("zhao", "qian", "sun", "li"))
        points_earned(zhao, community, 30, hours=Decimal("1"))
        points_earned(qian, community, 30, hours=Decimal("3"))
        points_earned(sun, community, 30, hours=Decimal("1"), reason=DUTY)
        points_earned(li, community, 40)

        rows = leaderboard(community, month)

        assert [(r.rank, r.name, r.points, r.hours) for r in rows] == [
            (1, "li", 40, Decimal("0")),
            (2, "qian", 30, Decimal("3")),
            (3, "sun", 30, Decimal("1")),
            (3, "zhao", 30, Decimal("1")),
        ]

    def test_what_counts_earnings_and_corrections_of_the_month_in_the_community(
        self, community, committee, make_member, outsider, reward, month
    ):
        # Given a resident who helped, served a duty and was awarded this month
        wang = make_member(username="wang2")
        points_earned(wang, community, 10, hours=Decimal("1"))
        points_earned(wang, community, 20, hours=Decimal("2"), reason=DUTY)
        ledger_adjust(
            actor=committee,
            user=wang,
            community=community,
            reason=LedgerEntry.Reason.COMMITTEE_AWARD,
            points=15,
            hours=Decimal("0"),
            note="组织活动",
        )
        # And whose points were corrected down, and who spent some, and had a spending refunded
        ledger_adjust(
            actor=committee,
            user=wang,
            community=community,
            reason=LedgerEntry.Reason.CORRECTION,
            points=-5,
            hours=Decimal("0"),
            note="重复记分",
        )
        redemption_cancel(actor=wang, redemption=reward_redeem(actor=wang, reward=reward))
        reward_redeem(actor=wang, reward=reward)
        # And who earned last month, and in another community this month
        previous = (month - timedelta(days=1)).replace(day=1)
        ledger_entry_at(
            timezone.make_aware(datetime.combine(month, datetime.min.time())) - timedelta(seconds=1),
            user=wang,
            community=community,
            hours="9",
            points=90,
        )
        other = outsider.memberships.get().community
        MembershipFactory(user=wang, community=other)
        points_earned(wang, other, 500)

        # Then this month's board counts 10 + 20 + 15 - 5, and last month's the 90
        assert [(r.name, r.points, r.hours) for r in leaderboard(community, month)] == [("wang2", 40, Decimal("3"))]
        assert [(r.name, r.points) for r in leaderboard(community, previous)] == [("wang2", 90)]
        assert [(r.name, r.points) for r in leaderboard(other, month)] == [("wang2", 500)]

    def test_who_never_appears(self, community, make_member, committee, month):
        shown, opted_out, child, deleted, departed, pending, negative = (
            make_member(username=name) for name in ("shown", "opted", "child", "deleted", "departed", "pending", "neg")
        )
        for person in (shown, opted_out, child, deleted, departed, pending, negative):
            points_earned(person, community, 10)
        Profile.objects.filter(user=opted_out).update(leaderboard_opt_out=True)
        Profile.objects.filter(user=child).update(is_minor=True)
        Profile.objects.filter(user=deleted).update(deleted_at=timezone.now(), display_name="")
        type(deleted).objects.filter(pk=deleted.pk).update(is_active=False)
        Membership.objects.filter(user=departed).update(status=Membership.Status.LEFT)
        Membership.objects.filter(user=pending).update(status=Membership.Status.PENDING)
        ledger_adjust(
            actor=committee,
            user=negative,
            community=community,
            reason=LedgerEntry.Reason.CORRECTION,
            points=-10,
            hours=Decimal("0"),
            note="记错了人",
        )

        assert [row.name for row in leaderboard(community, month)] == ["shown"]

    def test_nobody_sees_someone_who_blocked_them_on_it(self, community, make_member, month):
        first, blocker, viewer = (make_member(username=name) for name in ("first", "blocker", "viewer"))
        points_earned(first, community, 30)
        points_earned(blocker, community, 20)
        points_earned(viewer, community, 10)
        block_add(actor=blocker, person=viewer)

        assert [(r.rank, r.name) for r in leaderboard(community, month, viewer=viewer)] == [(1, "first"), (3, "viewer")]
        assert [r.name for r in leaderboard(community, month, viewer=first)] == ["first", "blocker", "viewer"]

    def test_the_top_twenty_in_three_queries_whatever_the_size(self, community, make_member, month):
        for number in range(23):
            points_earned(make_member(username=f"m{number:02d}"), community, 100 - number, hours=Decimal("10"))

        with CaptureQueriesContext(connection) as queries:
            rows = leaderboard(community, month)

        assert len(queries) == 3
        assert [row.name for row in rows] == [f"m{number:02d}" for number in range(20)]
        assert all([b.code for b in row.badges] == ["first_help", "hours_10"] for row in rows)

    def test_the_months_on_offer_are_this_one_and_the_twelve_before(self):
        months = leaderboard_months(date(2025, 1, 15))

        assert months[:3] == [date(2025, 1, 1), date(2024, 12, 1), date(2024, 11, 1)]
        assert months[-1] == date(2024, 1, 1)
        assert len(months) == 13

    def test_a_month_is_the_sites_local_month(self, community, make_member):
        early = make_member(username="early")
        # 00:00:01 on 1 March in Xiamen is still February in UTC: it counts for March
        ledger_entry_at(local(2025, 3, 1, second=1), user=early, community=community, hours="1")

        assert [row.name for row in leaderboard(community, date(2025, 3, 1))] == ["early"]
        assert leaderboard(community, date(2025, 2, 1)) == []
