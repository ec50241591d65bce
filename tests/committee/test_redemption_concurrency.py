"""Many members press "Redeem" at once for the last units, and one member spends the same points
on several rewards at once: stock and balances never go below zero, and exactly the right number
of redemptions succeed."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models import Sum
from django.utils import translation

from committee.models import Redemption, Reward
from committee.services.rewards import reward_redeem
from neighbors.models import LedgerEntry
from neighbors.selectors import ledger_totals
from tests.conftest import require_service
from tests.factories import RewardFactory, points_earned

THREADS = 10


def race(attempts: list[tuple]) -> list[str]:
    """Run reward_redeem(actor=user, reward=Reward(pk)) for each (user, reward_id) at once."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(user, reward_id: int) -> None:
        try:
            barrier.wait()
            # A thread starts in the site's default language: the outcomes are read in English.
            with translation.override("en"):
                reward_redeem(actor=user, reward=Reward.objects.get(pk=reward_id))
            result = "redeemed"
        except ValidationError as error:
            with translation.override("en"):
                message = error.messages[0]
            result = "out of stock" if message.startswith("Out of stock") else message
        except Exception as error:  # noqa: BLE001 - any other failure is what the test reports
            result = f"error: {error!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=attempt_args) for attempt_args in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def last_units(community, committee, make_member, *, units: int) -> tuple[Reward, list]:
    reward = RewardFactory(community=community, created_by=committee, points=10, stock=units)
    members = [make_member() for _ in range(THREADS)]
    for member in members:
        points_earned(member, community, 10)
    return reward, members


def assert_the_last_units_went_once(reward, members, outcomes, units: int) -> None:
    assert outcomes.count("redeemed") == units, outcomes
    assert outcomes.count("out of stock") == THREADS - units, outcomes
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Redemption.objects.filter(reward=reward).count() == units
    # Exactly the winners paid, once each
    spent = LedgerEntry.objects.filter(
        reason=LedgerEntry.Reason.REDEMPTION, source__in=[r.subject for r in Redemption.objects.filter(reward=reward)]
    )
    assert spent.count() == units
    assert sorted(ledger_totals(member)["points"] for member in members) == [0] * units + [10] * (THREADS - units)


@pytest.mark.django_db(transaction=True)
def test_the_last_units_go_once_on_the_configured_database(community, committee, make_member):
    reward, members = last_units(community, committee, make_member, units=2)

    outcomes = race([(member, reward.pk) for member in members])

    assert_the_last_units_went_once(reward, members, outcomes, units=2)


@pytest.mark.django_db(transaction=True)
def test_the_same_points_are_spent_once_on_the_configured_database(community, committee, resident):
    # Given a member with 30 points, and several rewards of 30 each, plenty in stock
    points_earned(resident, community, 30, hours=Decimal("3"))
    rewards = [RewardFactory(community=community, created_by=committee, points=30, stock=5) for _ in range(THREADS)]

    # When they redeem all of them at once
    outcomes = race([(resident, reward.pk) for reward in rewards])

    # Then one redemption is paid for, the rest are told what they have, and nothing is overdrawn
    assert outcomes.count("redeemed") == 1, outcomes
    assert outcomes.count("Not enough points: you have 0, this costs 30.") == THREADS - 1, outcomes
    assert ledger_totals(resident)["points"] == 0
    assert Redemption.objects.filter(user=resident).count() == 1
    assert Reward.objects.aggregate(stock=Sum("stock"))["stock"] == 5 * THREADS - 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_stock_and_points_hold_on_postgresql_over_many_trials(community, committee, make_member, resident):
    require_service("PostgreSQL", connection.vendor == "postgresql", lambda: None)
    for units in (1, 3, 5):
        reward, members = last_units(community, committee, make_member, units=units)
        assert_the_last_units_went_once(reward, members, race([(member, reward.pk) for member in members]), units)
    for _trial in range(3):
        points_earned(resident, community, 20)
        rewards = [RewardFactory(community=community, created_by=committee, points=20, stock=1) for _ in range(THREADS)]
        outcomes = race([(resident, reward.pk) for reward in rewards])
        assert outcomes.count("redeemed") == 1, outcomes
        assert ledger_totals(resident)["points"] == 0
