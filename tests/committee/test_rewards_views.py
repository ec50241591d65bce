"""The rewards pages: my points, the catalogue and redeeming, the leaderboard (members); a
member's ledger with award and correction, the catalogue kept, the redemptions queue (committee)."""

import random
import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from committee.models import Redemption, Reward
from committee.services.rewards import redemption_cancel, redemption_fulfil, reward_redeem
from neighbors.models import LedgerEntry, Membership, Profile
from neighbors.selectors import ledger_totals
from neighbors.services import ledger_adjust
from tests.factories import MembershipFactory, RewardFactory, points_earned

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def text_of(response) -> str:
    return response.content.decode()


def figure(response, element_id: str) -> Decimal:
    """The number a page shows in the element with that id."""
    found = re.search(rf'id="{element_id}">([-\d.]+)<', text_of(response))
    assert found, f"no #{element_id} on the page"
    return Decimal(found.group(1))


@pytest.fixture
def reward(community, committee):
    return RewardFactory(community=community, created_by=committee, title="社区理发", points=10, stock=3)


@pytest.fixture
def membership(resident):
    return resident.memberships.get()


def ledger_url(membership, action: str = "") -> str:
    return reverse(f"committee:{action or 'member_ledger'}", args=[membership.pk])


def award_data(token=None, **values) -> dict:
    data = {"points": "20", "hours": "1.5", "note": "组织中秋活动", "token": str(token or uuid.uuid4())} | values
    return {f"award-{key}": value for key, value in data.items()}


def correction_data(**values) -> dict:
    data = {"points": "-5", "hours": "0", "note": "重复记分", "token": str(uuid.uuid4())} | values
    return {f"correct-{key}": value for key, value in data.items()}


class TestMyPoints:
    def test_balance_badges_history_with_reasons_and_redemptions(self, resident, committee, community, reward):
        points_earned(resident, community, 40, hours=Decimal("2"))
        ledger_adjust(
            actor=committee,
            user=resident,
            community=community,
            reason=LedgerEntry.Reason.COMMITTEE_AWARD,
            points=15,
            hours=Decimal("0"),
            note="组织中秋活动",
        )
        redemption = reward_redeem(actor=resident, reward=reward)

        response = logged_in(resident).get(reverse("rewards:overview"))

        assert response.status_code == 200
        assert figure(response, "points-balance") == 45
        assert figure(response, "hours-balance") == 2
        page = text_of(response)
        assert "First help" in page
        assert "组织中秋活动" in page and "Committee award" in page and "Redemption" in page
        assert reverse("rewards:redemption_cancel", args=[redemption.pk]) in page

    def test_a_member_cancels_their_own_pending_redemption(self, resident, community, reward):
        points_earned(resident, community, 10)
        redemption = reward_redeem(actor=resident, reward=reward)

        response = logged_in(resident).post(reverse("rewards:redemption_cancel", args=[redemption.pk]), follow=True)

        assert "Cancelled: your points are back." in text_of(response)
        assert ledger_totals(resident)["points"] == 10
        assert Reward.objects.get(pk=reward.pk).stock == 3

    def test_nobody_cancels_someone_elses_from_here(self, resident, helper, community, reward, committee):
        points_earned(resident, community, 10)
        redemption = reward_redeem(actor=resident, reward=reward)

        for other in (helper, committee):
            response = logged_in(other).post(reverse("rewards:redemption_cancel", args=[redemption.pk]))
            assert response.status_code == 404
        assert Redemption.objects.get().status == Redemption.Status.PENDING

    def test_the_old_points_page_leads_here(self, resident):
        response = logged_in(resident).get(reverse("neighbors:points"))

        for name in ("rewards:overview", "rewards:catalogue", "rewards:leaderboard"):
            assert reverse(name) in text_of(response)


class TestCatalogueAndRedeem:
    def test_the_catalogue_shows_my_communities_offered_rewards_only(
        self, resident, reward, community, outsider, committee
    ):
        withdrawn = RewardFactory(community=community, created_by=committee, title="已下架", active=False)
        elsewhere = RewardFactory(community=outsider.memberships.get().community, title="别处的券")
        points_earned(resident, community, 10)

        page = text_of(logged_in(resident).get(reverse("rewards:catalogue")))

        assert "社区理发" in page and reverse("rewards:redeem", args=[reward.pk]) in page
        assert withdrawn.title not in page and elsewhere.title not in page

    def test_confirm_then_redeem(self, resident, reward, community):
        points_earned(resident, community, 25)
        client = logged_in(resident)

        confirm = client.get(reverse("rewards:redeem", args=[reward.pk]))
        assert confirm.status_code == 200
        assert 'name="price" value="10"' in text_of(confirm)

        response = client.post(reverse("rewards:redeem", args=[reward.pk]), {"price": "10"})

        assert response.status_code == 302
        assert response.url == reverse("rewards:overview")
        assert ledger_totals(resident)["points"] == 15
        assert Reward.objects.get(pk=reward.pk).stock == 2

    @pytest.mark.parametrize(
        ("scene", "price", "message"),
        [
            ("poor", "10", "Not enough points: you have 3, this costs 10."),
            ("empty", "10", "Out of stock"),
            ("withdrawn", "10", "This reward is no longer offered."),
            ("repriced", "10", "The price has changed to 12 points. Look again before you redeem."),
            ("rich", "abc", "Open the reward again and confirm its price."),
            ("rich", "", "Open the reward again and confirm its price."),
        ],
    )
    def test_refusals_are_explained_and_nothing_is_spent(self, resident, reward, community, scene, price, message):
        points_earned(resident, community, 3 if scene == "poor" else 50)
        changes = {"empty": {"stock": 0}, "withdrawn": {"active": False}, "repriced": {"points": 12}}
        Reward.objects.filter(pk=reward.pk).update(**changes.get(scene, {}))

        response = logged_in(resident).post(reverse("rewards:redeem", args=[reward.pk]), {"price": price})

        assert response.status_code == 400
        assert message in text_of(response)
        assert not Redemption.objects.exists()
        assert ledger_totals(resident)["points"] == (3 if scene == "poor" else 50)

    def test_another_communitys_reward_is_a_404(self, outsider, reward, community):
        points_earned(outsider, outsider.memberships.get().community, 50)
        client = logged_in(outsider)

        assert client.get(reverse("rewards:redeem", args=[reward.pk])).status_code == 404
        assert client.post(reverse("rewards:redeem", args=[reward.pk]), {"price": "10"}).status_code == 404
        assert client.get(reverse("rewards:redeem", args=[reward.pk + 1000])).status_code == 404
        assert not Redemption.objects.exists()

    def test_a_double_submit_redeems_once(self, resident, reward, community):
        points_earned(resident, community, 50)
        client = logged_in(resident)

        client.post(reverse("rewards:redeem", args=[reward.pk]), {"price": "10"})
        second = client.post(reverse("rewards:redeem", args=[reward.pk]), {"price": "10"})

        assert second.status_code == 400
        assert "You have already redeemed this" in text_of(second)
        assert ledger_totals(resident)["points"] == 40


class TestLeaderboardPage:
    def test_members_see_their_communitys_board_with_a_month_picker(self, resident, helper, community):
        points_earned(helper, community, 30)
        points_earned(resident, community, 20)

        response = logged_in(resident).get(reverse("rewards:leaderboard"))

        assert response.status_code == 200
        rows = re.findall(r'<th scope="row">(\w+)', text_of(response))
        assert rows == ["li", "wang"]
        assert text_of(response).count('<option value="20') == 13

    @pytest.mark.parametrize("query", [{"month": "1999-01"}, {"month": "abc"}, {"community": "abc"}])
    def test_a_month_or_community_not_on_offer_is_a_form_error(self, resident, query):
        response = logged_in(resident).get(reverse("rewards:leaderboard"), query)

        assert response.status_code == 400
        assert "Select a valid choice" in text_of(response)

    def test_another_communitys_board_is_not_shown(self, resident, outsider):
        other = outsider.memberships.get().community
        points_earned(outsider, other, 30)

        response = logged_in(resident).get(reverse("rewards:leaderboard"), {"community": other.pk})

        assert response.status_code == 400
        assert "outsider" not in text_of(response)

    def test_the_viewer_leaves_the_board_and_comes_back(self, resident, community):
        points_earned(resident, community, 20)
        client = logged_in(resident)

        response = client.post(reverse("rewards:leaderboard_opt_out"), {"opt_out": "1"}, follow=True)

        assert "Your name is left off the leaderboards." in text_of(response)
        assert not re.findall(r'<th scope="row">', text_of(response))
        assert Profile.objects.get(user=resident).leaderboard_opt_out is True
        client.post(reverse("rewards:leaderboard_opt_out"), {"opt_out": "0"})
        assert Profile.objects.get(user=resident).leaderboard_opt_out is False

    def test_a_bad_toggle_changes_nothing(self, resident):
        response = logged_in(resident).post(reverse("rewards:leaderboard_opt_out"), {"opt_out": "maybe"}, follow=True)

        assert "Choose whether your name appears on the leaderboard." in text_of(response)
        assert Profile.objects.get(user=resident).leaderboard_opt_out is False

    def test_the_page_costs_the_same_whatever_the_board(self, resident, community, make_member):
        def queries_for_board() -> int:
            client = logged_in(resident)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse("rewards:leaderboard")).status_code == 200
            return len(queries)

        points_earned(make_member(), community, 10)
        few = queries_for_board()
        for _ in range(8):
            points_earned(make_member(), community, 10, hours=Decimal("12"))
        assert queries_for_board() == few


class TestMemberLedgerPage:
    def test_the_committee_opens_it_from_the_members_list(self, committee, membership):
        response = logged_in(committee).get(reverse("neighbors:members"))

        assert ledger_url(membership) in text_of(response)
        assert logged_in(committee).get(ledger_url(membership)).status_code == 200

    def test_nobody_else_sees_it(self, grid_worker, helper, resident, membership, committee, outsider):
        other_committee = MembershipFactory(
            community=outsider.memberships.get().community, role=Membership.Role.COMMITTEE
        ).user
        for user in (grid_worker, helper, resident, other_committee):
            assert logged_in(user).get(ledger_url(membership)).status_code == 404
        # Nor the committee member's own
        assert logged_in(committee).get(ledger_url(committee.memberships.get())).status_code == 404

    def test_an_award(self, committee, resident, membership):
        response = logged_in(committee).post(ledger_url(membership, "ledger_award"), award_data())

        assert response.status_code == 302
        assert ledger_totals(resident) == {"points": 20, "hours": Decimal("1.5")}

    @pytest.mark.parametrize(
        ("values", "message"),
        [
            ({"points": "-5"}, "Award a whole number of points from 1 to 1000."),
            ({"points": "0"}, "Award a whole number of points from 1 to 1000."),
            ({"points": "1e9"}, "Award a whole number of points from 1 to 1000."),
            ({"points": "abc"}, "Award a whole number of points from 1 to 1000."),
            ({"points": "99999999999999999999999"}, "Award a whole number of points from 1 to 1000."),
            ({"hours": "25"}, "Award from 0 to 24 hours, e.g. 1.5."),
            ({"hours": "1.255"}, "Give hours to at most two decimal places, e.g. 1.25."),
            ({"note": " "}, "Say why, so that the person understands the change."),
            ({"token": "not-a-token"}, "This page is out of date: open it again and send the form from there."),
        ],
    )
    def test_bad_awards_are_refused_on_the_form(self, committee, resident, membership, values, message):
        response = logged_in(committee).post(ledger_url(membership, "ledger_award"), award_data(**values))

        assert response.status_code == 400
        assert message in text_of(response)
        assert not LedgerEntry.objects.exists()

    def test_a_double_submitted_award_adds_one_entry(self, committee, resident, membership):
        client, data = logged_in(committee), award_data()

        client.post(ledger_url(membership, "ledger_award"), data)
        client.post(ledger_url(membership, "ledger_award"), data)

        assert LedgerEntry.objects.filter(user=resident).count() == 1

    def test_a_correction_below_zero_is_refused_with_what_they_have(self, committee, resident, membership, community):
        points_earned(resident, community, 3)

        response = logged_in(committee).post(ledger_url(membership, "ledger_correct"), correction_data())

        assert response.status_code == 400
        assert "This would take their points below zero: they have 3." in text_of(response)
        assert ledger_totals(resident)["points"] == 3

    def test_a_correction_of_nothing_is_refused(self, committee, membership):
        response = logged_in(committee).post(
            ledger_url(membership, "ledger_correct"), correction_data(points="0", hours="")
        )

        assert response.status_code == 400
        assert "A correction must change the points, the hours or both." in text_of(response)

    def test_grid_workers_and_others_may_not_award(self, grid_worker, helper, membership, committee):
        for user in (grid_worker, helper):
            response = logged_in(user).post(ledger_url(membership, "ledger_award"), award_data())
            assert response.status_code == 404
        own = committee.memberships.get()
        assert logged_in(committee).post(ledger_url(own, "ledger_award"), award_data()).status_code == 404
        assert not LedgerEntry.objects.exists()


class TestBalancesAgreeWithTheLedger:
    def test_a_random_history_shows_sums_of_its_entries_everywhere(
        self, community, committee, grid_worker, make_member, outsider
    ):
        # Given members with a random-ish history: help, duties, awards, redemptions, refunds,
        # hand-overs and corrections, in two communities
        chance = random.Random(7)
        members = [make_member() for _ in range(4)]
        other = outsider.memberships.get().community
        MembershipFactory(user=members[0], community=other)
        rewards = [
            RewardFactory(community=community, created_by=committee, points=points, stock=50) for points in (5, 12, 30)
        ]
        for _step in range(60):
            person = chance.choice(members)
            move = chance.choice(["help", "duty", "award", "redeem", "cancel", "fulfil", "correct", "elsewhere"])
            if move in ("help", "duty"):
                reason = LedgerEntry.Reason.HELP_CONFIRMED if move == "help" else LedgerEntry.Reason.DUTY_CONFIRMED
                points_earned(
                    person, community, chance.randint(5, 40), hours=Decimal(chance.randint(1, 8)), reason=reason
                )
            elif move == "elsewhere" and person == members[0]:
                points_earned(person, other, chance.randint(5, 40), hours=Decimal("1"))
            elif move == "award":
                ledger_adjust(
                    actor=committee,
                    user=person,
                    community=community,
                    reason=LedgerEntry.Reason.COMMITTEE_AWARD,
                    points=chance.randint(1, 50),
                    hours=Decimal(chance.randint(0, 3)),
                    note="奖励",
                )
            elif move == "correct" and ledger_totals(person)["points"] >= 10:
                ledger_adjust(
                    actor=committee,
                    user=person,
                    community=community,
                    reason=LedgerEntry.Reason.CORRECTION,
                    points=-chance.randint(1, 10),
                    hours=Decimal("0"),
                    note="更正",
                )
            elif move == "redeem":
                reward = chance.choice(rewards)
                if ledger_totals(person)["points"] >= reward.points and not Redemption.objects.filter(
                    user=person, reward=reward, status=Redemption.Status.PENDING
                ):
                    reward_redeem(actor=person, reward=reward)
            elif move in ("cancel", "fulfil"):
                waiting = Redemption.objects.filter(user=person, status=Redemption.Status.PENDING).first()
                if waiting is not None and move == "cancel":
                    redemption_cancel(actor=grid_worker, redemption=waiting, reason="暂缺")
                elif waiting is not None:
                    redemption_fulfil(actor=grid_worker, redemption=waiting)
        assert LedgerEntry.objects.filter(reason=LedgerEntry.Reason.REDEMPTION_REFUND).exists()
        assert LedgerEntry.objects.filter(reason=LedgerEntry.Reason.CORRECTION).exists()

        for person in members:
            entries = LedgerEntry.objects.filter(user=person)
            in_community = entries.filter(community=community)
            # Then the member's own page shows the sums of their entries
            mine = logged_in(person).get(reverse("rewards:overview"))
            assert figure(mine, "points-balance") == sum(e.points for e in entries)
            assert figure(mine, "hours-balance") == sum(e.hours for e in entries)
            assert figure(logged_in(person).get(reverse("rewards:catalogue")), "points-balance") == sum(
                e.points for e in entries
            )
            # And so does the committee's page of the member, whole and for the community
            page = logged_in(committee).get(ledger_url(person.memberships.get(community=community)))
            assert figure(page, "member-points") == sum(e.points for e in entries)
            assert figure(page, "member-hours") == sum(e.hours for e in entries)
            assert figure(page, "community-points") == sum(e.points for e in in_community)
            assert figure(page, "community-hours") == sum(e.hours for e in in_community)
            # And no balance ever went below zero
            assert in_community.aggregate(total=Sum("points"))["total"] >= 0
            # And every redemption's points left and (when cancelled) came back through the ledger
            for redemption in Redemption.objects.filter(user=person):
                moved = entries.filter(source=redemption.subject).aggregate(total=Sum("points"))["total"]
                assert moved == (0 if redemption.status == Redemption.Status.CANCELLED else -redemption.points)
        # And the stock is what was not redeemed, or was given back
        for reward in rewards:
            taken = Redemption.objects.filter(reward=reward).exclude(status=Redemption.Status.CANCELLED).count()
            assert Reward.objects.get(pk=reward.pk).stock == 50 - taken


class TestCatalogueManagement:
    def reward_data(self, community, **values) -> dict:
        return {
            "community": str(community.pk),
            "title": "家电清洗",
            "description": "上门清洗空调一台",
            "kind": "service",
            "points": "50",
            "stock": "4",
            "active": "on",
        } | values

    def test_the_committee_adds_and_edits_a_reward(self, committee, community):
        client = logged_in(committee)

        created = client.post(reverse("committee:reward_create"), self.reward_data(community))

        assert created.status_code == 302
        reward = Reward.objects.get()
        assert (reward.title, reward.points, reward.stock, reward.active) == ("家电清洗", 50, 4, True)
        listing = text_of(client.get(reverse("committee:rewards")))
        assert "家电清洗" in listing and reverse("committee:reward_edit", args=[reward.pk]) in listing

        edit = client.get(reverse("committee:reward_edit", args=[reward.pk]))
        assert 'name="stock_seen" value="4"' in text_of(edit)
        data = self.reward_data(community, points="60", stock_seen="4")
        del data["active"]
        assert client.post(reverse("committee:reward_edit", args=[reward.pk]), data).status_code == 302
        reward.refresh_from_db()
        assert (reward.points, reward.active) == (60, False)

    @pytest.mark.parametrize(
        ("values", "message"),
        [
            ({"points": "0"}, "Enter a whole number of points from 1 to 100000."),
            ({"points": "-5"}, "Enter a whole number of points from 1 to 100000."),
            ({"points": "1e9"}, "Enter a whole number of points from 1 to 100000."),
            ({"stock": "-1"}, "Enter a whole number from 0 to 10000."),
            ({"stock": "10001"}, "Enter a whole number from 0 to 10000."),
            ({"title": ""}, "This field is required."),
        ],
    )
    def test_bad_values_are_form_errors(self, committee, community, values, message):
        response = logged_in(committee).post(reverse("committee:reward_create"), self.reward_data(community, **values))

        assert response.status_code == 400
        assert message in text_of(response)
        assert not Reward.objects.exists()

    def test_an_edit_over_a_redemption_made_meanwhile_is_refused_then_offered_again(
        self, committee, community, reward, resident
    ):
        client = logged_in(committee)
        points_earned(resident, community, 10)
        reward_redeem(actor=resident, reward=reward)

        response = client.post(
            reverse("committee:reward_edit", args=[reward.pk]),
            self.reward_data(community, title=reward.title, points="10", stock="20", stock_seen="3"),
        )

        assert response.status_code == 400
        assert "Someone redeemed this reward while you were editing: 2 are in stock now." in text_of(response)
        assert 'name="stock_seen" value="2"' in text_of(response)
        assert Reward.objects.get(pk=reward.pk).stock == 2

    def test_not_for_grid_workers_or_members(self, grid_worker, resident, reward, community):
        for user in (grid_worker, resident):
            client = logged_in(user)
            listing = client.get(reverse("committee:rewards"))
            assert listing.status_code == 403
            assert "This page is for the community committee" in text_of(listing)
            assert client.get(reverse("committee:reward_create")).status_code == 403
            assert client.post(reverse("committee:reward_create"), self.reward_data(community)).status_code == 403
            assert client.get(reverse("committee:reward_edit", args=[reward.pk])).status_code == 404
        assert Reward.objects.count() == 1

    def test_another_communitys_committee_cannot_pick_our_community(self, reward, community, outsider):
        other_committee = MembershipFactory(
            community=outsider.memberships.get().community, role=Membership.Role.COMMITTEE
        ).user
        client = logged_in(other_committee)

        response = client.post(reverse("committee:reward_create"), self.reward_data(community))

        assert response.status_code == 400
        assert "Select a valid choice" in text_of(response)
        assert client.get(reverse("committee:reward_edit", args=[reward.pk])).status_code == 404


class TestRedemptionQueue:
    @pytest.fixture
    def redemption(self, resident, community, reward):
        points_earned(resident, community, 10)
        return reward_redeem(actor=resident, reward=reward)

    @pytest.mark.parametrize("who", ["committee", "grid_worker"])
    def test_staff_see_it_and_hand_over_once(self, request, who, redemption):
        client = logged_in(request.getfixturevalue(who))

        queue = client.get(reverse("committee:redemptions"))
        assert f'id="redemption-{redemption.pk}"' in text_of(queue)

        first = client.post(reverse("committee:redemption_fulfil", args=[redemption.pk]), follow=True)
        assert "Recorded as handed over." in text_of(first)
        again = client.post(reverse("committee:redemption_fulfil", args=[redemption.pk]), follow=True)
        assert "This redemption has already been decided." in text_of(again)
        assert Redemption.objects.get().status == Redemption.Status.FULFILLED

    def test_cancel_needs_a_reason_and_gives_the_points_back(self, committee, redemption, resident):
        client = logged_in(committee)

        without = client.post(reverse("committee:redemption_cancel", args=[redemption.pk]), {"reason": ""}, follow=True)
        assert "Tell the member why, so that they understand." in text_of(without)
        assert ledger_totals(resident)["points"] == 0

        client.post(reverse("committee:redemption_cancel", args=[redemption.pk]), {"reason": "理发师休假"})
        assert ledger_totals(resident)["points"] == 10

    def test_members_get_a_403_saying_who_it_is_for_and_others_a_404(self, resident, helper, outsider, redemption):
        response = logged_in(helper).get(reverse("committee:redemptions"))
        assert response.status_code == 403
        assert "This page is for the community committee and grid workers" in text_of(response)
        other_grid_worker = MembershipFactory(
            community=outsider.memberships.get().community, role=Membership.Role.GRID_WORKER
        ).user
        for user in (helper, resident, other_grid_worker):
            client = logged_in(user)
            assert client.post(reverse("committee:redemption_fulfil", args=[redemption.pk])).status_code == 404
            assert (
                client.post(reverse("committee:redemption_cancel", args=[redemption.pk]), {"reason": "x"}).status_code
                == 404
            )
        assert Redemption.objects.get().status == Redemption.Status.PENDING

    def test_the_queue_costs_the_same_whatever_its_length(self, committee, community, reward, make_member):
        def queries_for_queue() -> int:
            client = logged_in(committee)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse("committee:redemptions")).status_code == 200
            return len(queries)

        Reward.objects.filter(pk=reward.pk).update(stock=20)
        person = make_member()
        points_earned(person, community, 10)
        reward_redeem(actor=person, reward=reward)
        few = queries_for_queue()
        for _ in range(5):
            person = make_member()
            points_earned(person, community, 10)
            reward_redeem(actor=person, reward=reward)
        assert queries_for_queue() == few
