"""Many neighbours press "I can help" at once: exactly one gets the seat."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from aid_posts.models import AidPost, Claim
from aid_posts.services import aid_post_claim, aid_post_create
from tests.conftest import require_service
from tests.factories import skill, window

CLAIMANTS = 12


def race(post_id: int, users) -> list[str]:
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(user) -> None:
        try:
            barrier.wait()
            aid_post_claim(actor=user, post=AidPost.objects.get(pk=post_id))
            result = "won"
        except ValidationError:
            result = "refused"
        except Exception as error:  # noqa: BLE001 - any other failure is what the test reports
            result = f"error: {error!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def make_post(resident, community, building) -> AidPost:
    return aid_post_create(
        **window(),
        actor=resident,
        community=community,
        category=skill(),
        title="搬柜子",
        description="一人即可",
        place=building,
    )


@pytest.mark.django_db(transaction=True)
def test_exactly_one_winner_on_the_configured_database(resident, community, building, make_member):
    post = make_post(resident, community, building)
    outcomes = race(post.pk, [make_member() for _ in range(CLAIMANTS)])

    assert sorted(outcomes) == ["refused"] * (CLAIMANTS - 1) + ["won"]
    assert Claim.objects.filter(post=post).count() == 1
    assert AidPost.objects.get(pk=post.pk).status == AidPost.Status.CLAIMED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_exactly_one_winner_on_postgresql_over_many_trials(resident, community, building, make_member):
    require_service("PostgreSQL", connection.vendor == "postgresql", lambda: None)
    claimants = [make_member() for _ in range(CLAIMANTS)]
    for _trial in range(5):
        post = make_post(resident, community, building)
        outcomes = race(post.pk, claimants)
        assert outcomes.count("won") == 1, outcomes
        assert outcomes.count("refused") == CLAIMANTS - 1, outcomes
        assert Claim.objects.filter(post=post).count() == 1
