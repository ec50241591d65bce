"""posts_near: exactly the open requests within the radius, in order, a page at a time."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from geopy.distance import geodesic

from aid_posts.models import AidPost
from aid_posts.selectors.nearby import SORT_DISTANCE, SORT_URGENCY, posts_near
from neighbors.geo import distance_m
from neighbors.models import Membership, Place
from tests.factories import CommunityFactory, MembershipFactory, PlaceFactory, UserFactory, skill

pytestmark = pytest.mark.django_db

SIX_PLACES = Decimal("0.000001")
Urgency = AidPost.Urgency


def quantized(latitude: float, longitude: float) -> tuple[Decimal, Decimal]:
    """As the columns store it: six decimals, longitude folded into [-180, 180]."""
    longitude = (longitude + 180) % 360 - 180
    return Decimal(latitude).quantize(SIX_PLACES), Decimal(longitude).quantize(SIX_PLACES)


def point_at(origin: Place, metres: float, bearing: float) -> tuple[Decimal, Decimal]:
    there = geodesic(meters=metres).destination((float(origin.latitude), float(origin.longitude)), bearing)
    return quantized(there.latitude, there.longitude)


def exactly_on_the_circle(origin: Place, radius_m: int, bearing: float) -> list[tuple[Decimal, Decimal]]:
    """The stored points nearest the circle along a bearing, one on either side: the farthest
    still within the radius and the nearest beyond it (each within about 0.1 m of it)."""
    start = (origin.latitude, origin.longitude)
    points = {point_at(origin, radius_m + centimetres / 100, bearing) for centimetres in range(-30, 31)}
    measured = [(geodesic(start, point).meters, point) for point in points]
    inside = max(item for item in measured if item[0] <= radius_m)
    outside = min(item for item in measured if item[0] > radius_m)
    assert radius_m - inside[0] < 0.2 and outside[0] - radius_m < 0.2
    return [inside[1], outside[1]]


class District:
    """A viewer, their community and buildings, and a helper to post requests in bulk."""

    def __init__(self, latitude: str = "24.478100", longitude: str = "118.145300") -> None:
        self.community = CommunityFactory()
        self.origin = PlaceFactory(community=self.community, latitude=Decimal(latitude), longitude=Decimal(longitude))
        self.viewer = UserFactory()
        MembershipFactory(user=self.viewer, community=self.community, home_place=self.origin)
        self.author = UserFactory()
        MembershipFactory(user=self.author, community=self.community, home_place=self.origin)
        self._names = 0

    def buildings(self, points, community=None) -> list[Place]:
        community = community or self.community
        places = []
        for latitude, longitude in points:
            self._names += 1
            places.append(Place(community=community, name=f"楼{self._names}", latitude=latitude, longitude=longitude))
        return Place.objects.bulk_create(places)

    def building_at(self, metres: float, bearing: float = 45.0, community=None) -> Place:
        return self.buildings([point_at(self.origin, metres, bearing)], community=community)[0]

    def requests(self, places, *, per_place: int = 1, **fields) -> list[AidPost]:
        now = timezone.now()
        community_id = fields.get("community_id")
        posts = [
            AidPost(
                community_id=community_id or place.community_id,
                author=self.author,
                category=fields.get("category") or skill(),
                title=f"请帮忙 {place.name} {n}",
                description="需要帮忙",
                urgency=fields.get("urgency", Urgency.NORMAL),
                status=fields.get("status", AidPost.Status.OPEN),
                place=place,
                window_starts_at=now + timedelta(hours=1),
                window_ends_at=now + timedelta(hours=4),
                expires_at=fields.get("expires_at", now + timedelta(hours=4)),
            )
            for place in places
            for n in range(per_place)
        ]
        return AidPost.objects.bulk_create(posts)


def all_pages(viewer, **kwargs) -> list:
    """Every row, page after page, as a person following "next" would see them."""
    rows, page = [], 1
    while True:
        result = posts_near(viewer, page=page, **kwargs)
        rows.extend(result.rows)
        if not result.has_next:
            assert page == result.num_pages
            return rows
        page += 1


def brute_force(district: District, radius_m: int) -> set[int]:
    """The definition: every open, unexpired, visible request, its building's geodesic ≤ radius."""
    now = timezone.now()
    posts = AidPost.objects.filter(
        community=district.community, status=AidPost.Status.OPEN, expires_at__gt=now
    ).select_related("place")
    return {post.pk for post in posts if distance_m(district.origin, post.place) <= radius_m}


# Xiamen; both sides of the antimeridian, north and south; near the north pole, with the
# pole inside the circle; far north without it; near the south pole.
ORIGINS = [
    ("24.478100", "118.145300"),
    ("10.000000", "179.995000"),
    ("-35.000000", "-179.990000"),
    ("89.990000", "30.000000"),
    ("84.500000", "-120.000000"),
    ("-89.985000", "0.000000"),
]


class TestExactness:
    @pytest.mark.parametrize(("latitude", "longitude"), ORIGINS)
    @pytest.mark.parametrize("radius_m", [2000])
    def test_the_same_requests_as_a_brute_force_geodesic_scan(self, latitude, longitude, radius_m):
        # Given random buildings in and around the circle, and pairs straddling its edge
        district = District(latitude, longitude)
        rng = random.Random(f"{latitude},{longitude}")
        scattered = [point_at(district.origin, rng.uniform(0, 1.6 * radius_m), rng.uniform(0, 360)) for _ in range(160)]
        bearings = [0, 45, 90, 135, 180, 225, 270, 315, rng.uniform(0, 360)]
        just_inside = [point_at(district.origin, radius_m - 0.5, bearing) for bearing in bearings]
        just_outside = [point_at(district.origin, radius_m + 0.5, bearing) for bearing in bearings]
        on_the_edge = [
            point for bearing in bearings for point in exactly_on_the_circle(district.origin, radius_m, bearing)
        ]
        places = district.buildings(scattered + just_inside + just_outside + on_the_edge)
        district.requests(places)
        expected = brute_force(district, radius_m)
        # (the edge cases are what they claim to be)
        edge = places[len(scattered) :]
        inside_count = len(bearings) + len(on_the_edge) // 2
        assert sum(distance_m(district.origin, place) <= radius_m for place in edge) == inside_count

        # When the viewer pages through everything within the radius, 7 at a time
        rows = all_pages(district.viewer, origin=district.origin, radius_m=radius_m, page_size=7)

        # Then exactly the brute force's requests, each once, and the total says so
        ids = [row.post.pk for row in rows]
        assert len(ids) == len(set(ids))
        assert set(ids) == expected
        assert posts_near(district.viewer, origin=district.origin, radius_m=radius_m).total == len(expected)
        assert 0 < len(expected) < len(places)

    def test_the_box_is_cut_to_the_circle_with_few_geodesics(self):
        district = District()
        rng = random.Random(7)
        district.requests(
            district.buildings(point_at(district.origin, rng.uniform(0, 1500), rng.uniform(0, 360)) for _ in range(300))
        )
        result = posts_near(district.viewer, origin=district.origin, radius_m=1000)
        assert result.buildings_in_box > result.buildings_in_radius > 0
        # Only the thin band around the edge needs the geodesic.
        assert result.geodesic_checks < result.buildings_in_box // 10


class TestOrder:
    def test_nearest_first_with_rounded_distances(self):
        district = District()
        far, near, middle = (district.building_at(m, bearing) for m, bearing in [(1840, 10), (260, 200), (1210, 300)])
        district.requests([far, near, middle])
        result = posts_near(district.viewer, origin=district.origin, radius_m=2000)
        assert [row.post.place for row in result.rows] == [near, middle, far]
        assert [row.distance_m for row in result.rows] == [300, 1200, 1800]
        assert [row.distance_km for row in result.rows] == [0.3, 1.2, 1.8]

    def test_the_origin_building_itself_is_at_zero(self):
        district = District()
        district.requests([district.origin])
        (row,) = posts_near(district.viewer, origin=district.origin, radius_m=500).rows
        assert row.distance_m == 0

    def test_within_a_building_most_urgent_then_newest_first(self):
        district = District()
        building = district.building_at(400)
        old, new = district.requests([building], per_place=2)
        AidPost.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=2))
        (urgent,) = district.requests([building], urgency=Urgency.URGENT)
        AidPost.objects.filter(pk=urgent.pk).update(created_at=timezone.now() - timedelta(days=1))
        rows = posts_near(district.viewer, origin=district.origin, radius_m=500).rows
        assert [row.post for row in rows] == [urgent, new, old]

    def test_most_urgent_first_then_nearest(self):
        district = District()
        near, far = district.building_at(200), district.building_at(900, 180)
        (near_normal,) = district.requests([near])
        (far_urgent,) = district.requests([far], urgency=Urgency.URGENT)
        (near_soon,) = district.requests([near], urgency=Urgency.SOON)
        (far_soon,) = district.requests([far], urgency=Urgency.SOON)
        rows = posts_near(district.viewer, origin=district.origin, radius_m=1000, sort=SORT_URGENCY).rows
        assert [row.post for row in rows] == [far_urgent, near_soon, far_soon, near_normal]
        by_distance = posts_near(district.viewer, origin=district.origin, radius_m=1000, sort=SORT_DISTANCE).rows
        assert [row.post for row in by_distance] == [near_soon, near_normal, far_urgent, far_soon]

    @pytest.mark.parametrize("sort", [SORT_DISTANCE, SORT_URGENCY])
    def test_pages_follow_each_other_and_each_page_reads_in_order(self, sort):
        district = District()
        rng = random.Random(sort)
        places = district.buildings(
            point_at(district.origin, rng.uniform(0, 2000), rng.uniform(0, 360)) for _ in range(60)
        )
        for level in Urgency.values:
            district.requests(rng.sample(places, 25), urgency=level)
        pages = [
            posts_near(district.viewer, origin=district.origin, radius_m=2000, sort=sort, page=page, page_size=9)
            for page in range(1, 10)
        ]
        rows = [row for page in pages for row in page.rows]
        assert len(rows) == len({row.post.pk for row in rows}) == pages[0].total == 75
        for page in pages:
            keys = [(-row.post.urgency if sort == SORT_URGENCY else 0, row.distance_m) for row in page.rows]
            assert keys == sorted(keys)
        # Across pages the ranking is the great circle's: within 1.2 % of the geodesic order.
        for before, after in zip(rows, rows[1:], strict=False):
            if sort == SORT_URGENCY and before.post.urgency != after.post.urgency:
                assert before.post.urgency > after.post.urgency
                continue
            assert distance_m(district.origin, after.post.place) >= 0.988 * distance_m(
                district.origin, before.post.place
            )


class TestFilters:
    def test_category_and_urgency(self):
        district = District()
        building = district.building_at(300)
        plumbing, legal = skill("home-repair"), skill("legal-aid")
        (leak,) = district.requests([building], category=plumbing)
        (dispute,) = district.requests([building], category=legal, urgency=Urgency.URGENT)
        (lease,) = district.requests([building], category=legal)
        near = {"origin": district.origin, "radius_m": 500}

        def ids(**kwargs) -> set[int]:
            return {row.post.pk for row in posts_near(district.viewer, **near, **kwargs).rows}

        assert ids() == {leak.pk, dispute.pk, lease.pk}
        assert ids(category=legal) == {dispute.pk, lease.pk}
        assert ids(urgency=Urgency.URGENT) == {dispute.pk}
        assert ids(category=plumbing, urgency=Urgency.URGENT) == set()
        assert posts_near(district.viewer, **near, category=legal).total == 2

    def test_only_open_unexpired_requests_of_the_viewers_communities(self):
        # Given an open request, and around it every kind that must not be listed
        district = District()
        building = district.building_at(300)
        (listed,) = district.requests([building])
        for status in set(AidPost.Status.values) - {AidPost.Status.OPEN}:
            district.requests([building], status=status)
        district.requests([building], expires_at=timezone.now() - timedelta(seconds=1))
        stranger = CommunityFactory()
        next_door = district.building_at(300, community=stranger)
        district.requests([next_door])
        # (a row breaking the rule that a request's building is in its community stays hidden too)
        district.requests([building], community_id=stranger.pk)
        pending = CommunityFactory()
        MembershipFactory(
            user=district.viewer, community=pending, home_place=PlaceFactory(community=pending), status="pending"
        )
        district.requests([district.building_at(300, community=pending)])

        result = posts_near(district.viewer, origin=district.origin, radius_m=500)

        assert [row.post for row in result.rows] == [listed]
        assert result.total == 1

    def test_a_request_just_outside_is_not_listed(self):
        district = District()
        district.requests([district.building_at(1000.5)])
        assert posts_near(district.viewer, origin=district.origin, radius_m=1000).total == 0
        assert posts_near(district.viewer, origin=district.origin, radius_m=2000).total == 1


class TestPaging:
    def test_pagination_covers_every_row_once(self):
        district = District()
        places = [district.building_at(100 * n, 37 * n) for n in range(1, 9)]
        district.requests(places, per_place=3)
        for page_size in (1, 4, 5, 24, 25):
            rows = all_pages(district.viewer, origin=district.origin, radius_m=1000, page_size=page_size)
            assert sorted(row.post.pk for row in rows) == sorted(AidPost.objects.values_list("pk", flat=True))

    def test_page_properties_and_a_page_past_the_end(self):
        district = District()
        district.requests([district.building_at(200)], per_place=5)
        second = posts_near(district.viewer, origin=district.origin, radius_m=500, page=2, page_size=2)
        assert (second.total, second.num_pages, second.has_previous, second.has_next) == (5, 3, True, True)
        assert (second.start_index, second.end_index) == (3, 4)
        past = posts_near(district.viewer, origin=district.origin, radius_m=500, page=4, page_size=2)
        assert (past.rows, past.has_next, past.start_index) == ((), False, 0)

    def test_nothing_nearby(self):
        district = District()
        result = posts_near(district.viewer, origin=district.origin, radius_m=500)
        assert (result.rows, result.total, result.num_pages, result.has_next) == ((), 0, 1, False)

    def test_query_count_does_not_grow_with_page_size(self, django_assert_num_queries):
        # Given 60 requests over 20 buildings, some sharing a building and urgency
        district = District()
        places = [district.building_at(40 * n, 17 * n) for n in range(1, 21)]
        district.requests(places, per_place=2)
        district.requests(places, urgency=Urgency.SOON)
        near = {"origin": district.origin, "radius_m": 1000}
        with CaptureQueriesContext(connection) as small:
            assert len(posts_near(district.viewer, **near, page_size=5).rows) == 5
        # Then 50 rows (over many groups and buildings) take the same queries as 5
        with django_assert_num_queries(len(small.captured_queries)):
            page = posts_near(district.viewer, **near, page_size=50)
            assert len(page.rows) == 50
            # What the page shows comes with the rows
            assert {(row.post.category.code, row.post.community.name, row.post.place.name) for row in page.rows}
        assert len(small.captured_queries) <= 5


class TestRefused:
    def test_an_origin_outside_the_viewers_communities(self):
        district = District()
        stranger = CommunityFactory()
        their_building = district.building_at(100, community=stranger)
        district.requests([their_building])
        with pytest.raises(PermissionDenied):
            posts_near(district.viewer, origin=their_building, radius_m=500)

    @pytest.mark.parametrize("status", [Membership.Status.PENDING, Membership.Status.LEFT, Membership.Status.DECLINED])
    def test_an_origin_in_a_community_the_viewer_is_not_a_member_of_now(self, status):
        district = District()
        Membership.objects.filter(user=district.viewer).update(status=status)
        with pytest.raises(PermissionDenied):
            posts_near(district.viewer, origin=district.origin, radius_m=500)

    def test_an_anonymous_or_deactivated_viewer(self):
        district = District()
        with pytest.raises(PermissionDenied):
            posts_near(AnonymousUser(), origin=district.origin, radius_m=500)
        district.viewer.is_active = False
        district.viewer.save()
        with pytest.raises(PermissionDenied):
            posts_near(district.viewer, origin=district.origin, radius_m=500)

    @pytest.mark.parametrize("radius_m", [0, 99, 20_001, 1_000_000, -500, 1000.0, "1000", True, None])
    def test_a_radius_out_of_range_or_not_whole_metres(self, radius_m):
        district = District()
        with pytest.raises(ValueError):
            posts_near(district.viewer, origin=district.origin, radius_m=radius_m)

    @pytest.mark.parametrize("radius_m", [100, 20_000])
    def test_the_ends_of_the_range_are_allowed(self, radius_m):
        district = District()
        assert posts_near(district.viewer, origin=district.origin, radius_m=radius_m).total == 0

    @pytest.mark.parametrize(
        ("sort", "page", "page_size"), [("newest", 1, 20), ("distance", 0, 20), ("distance", 1, 0)]
    )
    def test_an_unknown_sort_or_an_impossible_page(self, sort, page, page_size):
        district = District()
        with pytest.raises(ValueError):
            posts_near(district.viewer, origin=district.origin, radius_m=500, sort=sort, page=page, page_size=page_size)
