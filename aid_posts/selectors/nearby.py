"""Open requests near a building: the nearby list and its map.

Requests sit at building level, so every distance here is a distance between two
buildings, computed once per building whatever the number of requests in it:

1. the buildings of the viewer's communities inside an indexed bounding box;
2. great-circle distances to sort them out: clearly inside, clearly outside, and a
   thin band between that only the geodesic decides, so that membership is exactly
   the geodesic one at a fraction of its cost;
3. one grouped count of the open requests in the buildings left, per building and
   urgency (the partial index `aidpost_open_by_place` holds the open rows);
4. the groups ordered, the few the page spans read for their ids, and the page's
   requests fetched in one query;
5. the geodesic distance, rounded to 100 m, for the page's buildings only.

The number of queries is the same whatever the page size and however many rows match.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, FloatField, Q, QuerySet
from django.db.models.functions import Cast
from django.db.models.lookups import In
from django.utils import timezone
from geopy.distance import geodesic

from neighbors.geo import bounding_box_q, great_circle_m, rounded_distance_m
from neighbors.models import Place
from neighbors.permissions import AnyUser, communities_visible_to
from talent_pool.models import Skill

from ..models import AidPost

SORT_DISTANCE = "distance"
SORT_URGENCY = "urgency"
SORTS = (SORT_DISTANCE, SORT_URGENCY)
# Below a building's own size a radius means nothing, and tiny radii would let a
# viewer probe distances finer than the 100 m the page rounds to.
MIN_RADIUS_M = 100
# geopy's great circle (a sphere of 6,371 km) differs from the WGS-84 geodesic by at most
# 0.56 % (north–south at the equator). Within 1 % of the radius either way the sphere
# cannot tell inside from outside, so those buildings, and only those, get a geodesic.
SPHERE_ERROR_MARGIN = 0.01


@dataclass(frozen=True)
class NearbyRow:
    post: AidPost
    # Geodesic from the origin building, rounded to neighbors.geo.ROUNDING_M: what a page may show.
    distance_m: int

    @property
    def distance_km(self) -> float:
        return self.distance_m / 1000

    @property
    def seats_left(self) -> int:
        return max(self.post.seats - self.post.live_claims, 0)

    @property
    def window_within_a_day(self) -> bool:
        """Starts and ends on the same local date: the end needs only its time."""
        starts, ends = self.post.window_starts_at, self.post.window_ends_at
        return timezone.localtime(starts).date() == timezone.localtime(ends).date()


@dataclass(frozen=True)
class NearbyPage:
    rows: tuple[NearbyRow, ...]
    total: int
    page: int
    page_size: int
    # How much work the query did, for the benchmark and for tuning the box.
    buildings_in_box: int
    buildings_in_radius: int
    geodesic_checks: int

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total

    @property
    def start_index(self) -> int:
        """The 1-based position of the page's first row ("21–40 of 57"), 0 when empty."""
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.rows) - 1 if self.rows else 0


class _InArray(In):
    """`IN (...)`, which PostgreSQL receives as `= ANY(%s)` with one array parameter: the count
    names some 300 buildings, and psycopg parsing 300 placeholders on every call cost more than
    the database's own work on them."""

    def as_postgresql(self, compiler, connection) -> tuple[str, tuple]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))


@dataclass(frozen=True)
class _Group:
    """The open requests of one building and one urgency: the unit the page is cut from."""

    place_id: int
    urgency: int
    count: int


def _inside(
    origin: Place, candidates: Iterable[tuple[int, float, float]], radius_m: int
) -> tuple[dict[int, float], int]:
    """{place id: great-circle metres} of the candidates within the radius by the geodesic,
    and how many needed the geodesic to decide."""
    sure_in, sure_out = radius_m * (1 - SPHERE_ERROR_MARGIN), radius_m * (1 + SPHERE_ERROR_MARGIN)
    start = (float(origin.latitude), float(origin.longitude))
    inside: dict[int, float] = {}
    checks = 0
    for place_id, latitude, longitude in candidates:
        sphere = great_circle_m(start, (latitude, longitude))
        if sphere > sure_out:
            continue
        if sphere > sure_in:
            checks += 1
            # The same measure as neighbors.geo.distance_m; inclusive, as "within" reads.
            if geodesic(start, (latitude, longitude)).meters > radius_m:
                continue
        inside[place_id] = sphere
    return inside, checks


def _open_posts(
    community_ids: list[int], *, now: datetime, category: Skill | None, urgency: int | None
) -> QuerySet[AidPost]:
    """posts_visible_to's rule with the viewer's communities as a list already read: a literal
    IN that the count checks inside its covering index, where the subquery cost a hash join
    (a quarter of the count's time at 1M open requests on PostgreSQL)."""
    posts = AidPost.objects.filter(
        community_id__in=community_ids, status=AidPost.Status.OPEN, hidden_at__isnull=True, expires_at__gt=now
    )
    if category is not None:
        posts = posts.filter(category=category)
    if urgency is not None:
        posts = posts.filter(urgency=urgency)
    return posts.order_by()


def posts_near(
    viewer: AnyUser,
    *,
    origin: Place,
    radius_m: int,
    category: Skill | None = None,
    urgency: int | None = None,
    sort: str = SORT_DISTANCE,
    page: int = 1,
    page_size: int = 20,
) -> NearbyPage:
    """Open, unexpired requests the viewer may see whose building lies within `radius_m`
    (geodesic, inclusive) of `origin`, nearest or most urgent first, one page of them.

    `origin` must be a building of one of the viewer's communities: distances from any
    other building would let a stranger's home be triangulated (PermissionDenied).
    Whether a distance may be shown at all (location consent) is the page's decision.
    """
    if isinstance(radius_m, bool) or not isinstance(radius_m, int):
        raise ValueError(f"The radius must be a whole number of metres, not {radius_m!r}")
    if not MIN_RADIUS_M <= radius_m <= settings.NEARBY_MAX_RADIUS_M:
        raise ValueError(f"The radius must be {MIN_RADIUS_M}–{settings.NEARBY_MAX_RADIUS_M} m, not {radius_m}")
    if sort not in SORTS:
        raise ValueError(f"Unknown sort {sort!r}")
    if page < 1 or page_size < 1:
        raise ValueError("Pages are numbered from 1 and hold at least one row")

    community_ids = list(communities_visible_to(viewer).values_list("pk", flat=True))
    if origin.community_id not in community_ids:
        raise PermissionDenied

    # As floats straight from the database: the same numbers float(Decimal) would give, without
    # building hundreds of Decimals first.
    candidates = list(
        Place.objects.filter(bounding_box_q(origin, radius_m), community_id__in=community_ids)
        .order_by()
        .values_list("pk", Cast("latitude", FloatField()), Cast("longitude", FloatField()))
    )
    inside, checks = _inside(origin, candidates, radius_m)

    now = timezone.now()
    posts = _open_posts(community_ids, now=now, category=category, urgency=urgency)
    groups: list[_Group] = []
    if inside:
        counted = (
            posts.filter(_InArray(F("place_id"), list(inside)))
            .values_list("place_id", "urgency")
            .annotate(count=Count("*"))
            .values_list("place_id", "urgency", "count")
        )
        groups = [_Group(place_id, level, count) for place_id, level, count in counted]

    # Ties broken by building id, so that every page cuts the same sequence.
    if sort == SORT_URGENCY:
        groups.sort(key=lambda group: (-group.urgency, inside[group.place_id], group.place_id))
    else:
        groups.sort(key=lambda group: (inside[group.place_id], group.place_id, -group.urgency))
    total = sum(group.count for group in groups)

    # The groups the page's slice [first, first + page_size) touches, and where the first begins.
    first = (page - 1) * page_size
    spanned: list[_Group] = []
    spanned_from = 0
    position = 0
    for group in groups:
        if position + group.count > first and position < first + page_size:
            if not spanned:
                spanned_from = position
            spanned.append(group)
        position += group.count
        if position >= first + page_size:
            break

    rows: tuple[NearbyRow, ...] = ()
    if spanned:
        rank = {(group.place_id, group.urgency): index for index, group in enumerate(spanned)}
        pairs = reduce(or_, (Q(place_id=group.place_id, urgency=group.urgency) for group in spanned))
        # Counted a moment ago: a request posted or taken in between shifts this page by a row
        # at most, and the page's live refresh follows.
        members = sorted(
            posts.filter(pairs).values_list("pk", "place_id", "urgency", "created_at"),
            # Within a group, newest first.
            key=lambda row: (rank[(row[1], row[2])], -row[3].timestamp(), -row[0]),
        )
        page_ids = [row[0] for row in members[first - spanned_from : first - spanned_from + page_size]]
        # Not the author: next to a building and a distance, a name would tell where they live.
        # The ids came from the visible queryset a moment ago, and a request never changes
        # community: only whether it is still open needs asking again (and without the
        # visibility subquery the join plans faster).
        fetched = AidPost.objects.filter(
            pk__in=page_ids, status=AidPost.Status.OPEN, hidden_at__isnull=True, expires_at__gt=now
        ).select_related("community", "place", "category")
        by_id = {post.pk: post for post in fetched}
        distances: dict[int, int] = {}
        built = []
        for pk in page_ids:
            post = by_id.get(pk)
            if post is None:
                continue  # claimed or closed between the two reads: no longer open, so not listed
            if post.place_id not in distances:
                distances[post.place_id] = rounded_distance_m(origin, post.place)
            built.append(NearbyRow(post=post, distance_m=distances[post.place_id]))
        # Ranked by the great circle, shown by the rounded geodesic: within the page, order by
        # what is shown, so that "1.3 km" never precedes "1.2 km" (the two measures can swap
        # buildings a few metres apart). Stable, so newest first still holds within a building.
        if sort == SORT_URGENCY:
            built.sort(key=lambda row: (-row.post.urgency, row.distance_m))
        else:
            built.sort(key=lambda row: row.distance_m)
        rows = tuple(built)

    return NearbyPage(
        rows=rows,
        total=total,
        page=page,
        page_size=page_size,
        buildings_in_box=len(candidates),
        buildings_in_radius=len(inside),
        geodesic_checks=checks,
    )
