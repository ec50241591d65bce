import os

import pytest
from django.conf import settings
from django.core.cache import cache

from aid_posts.services import aid_post_create
from messaging.services import rate_limits_reset
from neighbors.models import Grid, Membership

from .factories import CommunityFactory, MembershipFactory, PlaceFactory, UserFactory, skill, window

IN_CI = os.environ.get("CI") == "true"


def require_service(name: str, configured: bool, reachable) -> None:
    """Skip when the service is not part of this run; under CI, fail if it was meant to be."""
    if not configured:
        pytest.skip(f"{name} is not configured for this run (set its URL to include this test)")
    error = reachable()
    if error:
        message = f"{name} is configured but unreachable: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def cache_clear() -> None:
    """Empty this run's cache. On Redis only this run's keys go (settings/test.py gives them a
    prefix of their own): a FLUSHDB would empty the cache of `make run-prod` and of other runs."""
    if settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth's rate limits live in the cache (e.g. one confirmation mail per address
    per 3 minutes): without a clear, one test's sign-up would throttle the next one's."""
    cache_clear()
    yield
    cache_clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The site's rate limits count per person across tests otherwise (user ids repeat)."""
    rate_limits_reset()
    yield


@pytest.fixture
def community():
    return CommunityFactory(name="莲兴社区")


@pytest.fixture
def building(community):
    return PlaceFactory(community=community, name="2号楼")


def _member(community, building, role=Membership.Role.RESIDENT, **user_kwargs):
    user = UserFactory(**user_kwargs)
    MembershipFactory(user=user, community=community, home_place=building, role=role)
    return user


@pytest.fixture
def make_member(community, building):
    """make_member() -> a new approved resident of the community."""

    def make(role=Membership.Role.RESIDENT, **kwargs):
        return _member(community, building, role=role, **kwargs)

    return make


@pytest.fixture
def resident(make_member):
    return make_member(username="wang")


@pytest.fixture
def helper(make_member):
    return make_member(username="li")


@pytest.fixture
def committee(make_member):
    return make_member(role=Membership.Role.COMMITTEE, username="chen")


@pytest.fixture
def grid(community, building):
    """A grid of the community with `building` in it."""
    grid = Grid.objects.create(community=community, name="第一网格")
    building.grid = grid
    building.save(update_fields=["grid"])
    return grid


@pytest.fixture
def grid_worker(grid, make_member):
    """The grid worker of `grid`."""
    worker = make_member(role=Membership.Role.GRID_WORKER, username="grid-worker")
    worker.memberships.get().grids.add(grid)
    return worker


@pytest.fixture
def outsider():
    """A signed-up person in another community."""
    other = CommunityFactory(name="别的社区")
    return _member(other, PlaceFactory(community=other), username="outsider")


@pytest.fixture
def other_committee(outsider):
    """A committee member of the outsider's community, not of ours."""
    user = UserFactory(username="other-committee")
    MembershipFactory(user=user, community=outsider.memberships.get().community, role=Membership.Role.COMMITTEE)
    return user


@pytest.fixture
def post(resident, community, building):
    """An open help request by `resident`, posted through the service."""
    return aid_post_create(
        **window(),
        actor=resident,
        community=community,
        category=skill(),
        title="厨房水龙头漏水",
        description="水龙头一直滴水，想请懂维修的邻居帮忙看看。",
        place=building,
    )
