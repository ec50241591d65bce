"""智能派发: ranking the talent pool for one help request, and what the committee sees of it.

The ranking runs six queries whatever the size of the pool, none of them once a talent:

1. the buildings of the post's community within the widest service radius allowed, whose
   distances are then computed once each (homes and requests are building-level);
2. the few people never to rank: the author, the one relaying for them, those offering help
   already, those blocked either way with the author;
3. and 4. the live claims on live requests, and the dispatches of the fairness window (load and
   fairness: bounded by the site's activity, not by the pool);
5. the talents offering the category, cut in SQL by community, a coarse reach (buildings in
   distance bands, each needing a radius at least the band's edge), taking requests, active,
   and a valid credential where the category needs one; with level, verification, location
   consent, smoothed rating and availability as columns;
6. the users (with their profiles) of the candidates returned.

Python then checks each talent's exact distance against their own radius and adds up the
score. Scores are absolute, not relative to the other candidates, so the parts of one talent do
not depend on who else is in the pool (dispatch_invite relies on that). Figures: bench/README.md.
"""

import heapq
import operator
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from neighbors.geo import ROUNDING_M, bounding_box_q, great_circle_m
from neighbors.models import Block, Membership, Place, User
from neighbors.permissions import AnyUser, users_sharing_location
from talent_pool.models import AvailabilitySlot, Credential, HelpRecord, TalentProfile, TalentSkill

from ..models import AidPost, Claim, Dispatch
from ..permissions import can_manage_post

# The parts of a score, in the order the committee reads them, with their names on the page.
PART_LABELS = {
    "skill": _("Skill"),
    "distance": _("Distance"),
    "availability": _("Availability"),
    "load": _("Current load"),
    "rating": _("Rating"),
    "fairness": _("Asked recently"),
}
# How much a skill level is worth before verification; a verified skill earns the rest.
LEVEL_VALUE = {
    TalentSkill.Level.BEGINNER: 0.4,
    TalentSkill.Level.EXPERIENCED: 0.7,
    TalentSkill.Level.PROFESSIONAL: 1.0,
}
VERIFIED_SHARE = 0.2
# A talent who has declared no weekly times at all is unknown, not unavailable: half marks.
# One who declared times, none of them in the window, told us they are busy then: none.
AVAILABILITY_UNDECLARED = 0.5
# Ratings are smoothed towards a prior, as if every talent had RATING_PRIOR_WEIGHT ratings of
# RATING_PRIOR already: a newcomer ranks like an ordinary helper, and one five-star rating does
# not lift anyone above a helper with twenty 4.8s.
RATING_PRIOR = 4.0
RATING_PRIOR_WEIGHT = 2
# Dispatches within the fairness window, up to this many, take away the whole fairness weight.
FAIRNESS_CAP = 3

# From a TalentSkill row to the talent's memberships.
MEMBERSHIP = "talent__user__memberships__"
# The SQL cut by reach: buildings in bands of distance, each needing at least the band's lower edge.
REACH_BANDS_M = (250, 500, 1000, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000)
# The first SQL cut: nobody may serve further than the model allows.
MAX_SERVICE_RADIUS_M: int = min(
    validator.limit_value
    for validator in TalentProfile._meta.get_field("service_radius_m").validators
    if isinstance(validator, MaxValueValidator)
)


@dataclass(frozen=True)
class Candidate:
    """A talent ranked for a request: the score and its weighted parts (which sum to it)."""

    user: User
    score: float
    parts: dict[str, float]
    # Rounded like every distance a page shows, so that nobody can triangulate a home.
    distance_m: int


def dispatch_weights() -> dict[str, float]:
    """The weights of settings.DISPATCH_WEIGHTS; fairness is a penalty, the others add up."""
    weights = settings.DISPATCH_WEIGHTS
    missing = set(PART_LABELS) - set(weights)
    if missing:
        raise ValueError(f"DISPATCH_WEIGHTS lacks {sorted(missing)}")
    return {name: float(weights[name]) for name in PART_LABELS}


def _local_zone() -> ZoneInfo:
    # Weekly slots are wall-clock times in the district, whatever language or zone a page uses.
    return ZoneInfo(settings.TIME_ZONE)


def window_slots_q(starts_at: datetime, ends_at: datetime) -> Q | None:
    """Slots (AvailabilitySlot rows) overlapping the window, in local time; None when none can.

    The window may span days: the first day counts from its start time, the last until its end
    time, and the days between count whole. A window of a week or more takes in every slot.
    """
    zone = _local_zone()
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if end <= start:
        return None
    if end - start >= timedelta(days=7):
        return Q()
    overlapping = None
    day = start.date()
    while day <= end.date():
        midnight = datetime.combine(day, time.min, zone)
        next_midnight = datetime.combine(day + timedelta(days=1), time.min, zone)
        day_start, day_end = max(start, midnight), min(end, next_midnight)
        if day_end > day_start:
            condition = Q(weekday=day.weekday())
            if day_start > midnight:
                condition &= Q(ends_at__gt=day_start.time())
            if day_end < next_midnight:
                condition &= Q(starts_at__lt=day_end.time())
            overlapping = condition if overlapping is None else overlapping | condition
        day += timedelta(days=1)
    return overlapping


def _building_distances(post: AidPost) -> dict[int, float]:
    """Metres from the post's building to each building of its community that anyone could serve
    it from. Homes and requests are building-level, so this is one distance per building, however
    many talents live there. Great circle, not the geodesic the pages show: within 20 km they
    differ by under 0.5 %, and the geodesic costs ~100 µs a pair."""
    origin = post.place
    origin_point = (float(origin.latitude), float(origin.longitude))
    places = Place.objects.filter(community_id=post.community_id).filter(bounding_box_q(origin, MAX_SERVICE_RADIUS_M))
    distances = {}
    for pk, latitude, longitude in places.values_list("pk", "latitude", "longitude"):
        distance = great_circle_m(origin_point, (float(latitude), float(longitude)))
        if distance <= MAX_SERVICE_RADIUS_M:
            distances[pk] = distance
    return distances


def _reach_q(distances: dict[int, float], prefix: str) -> Q | None:
    """SQL's coarse half of "home within the talent's own radius", so that the database does not
    read scores for people too far away: buildings in distance bands, each band with the least
    radius that could reach it. Python checks the exact distance afterwards."""
    bands: list[Q] = []
    lower = 0
    for upper in REACH_BANDS_M:
        in_band = [pk for pk, distance in distances.items() if (lower < distance or lower == 0) and distance <= upper]
        if in_band:
            bands.append(Q(**{f"{prefix}home_place_id__in": in_band, "talent__service_radius_m__gte": lower}))
        lower = upper
    return reduce(operator.or_, bands) if bands else None


def _eligible(post: AidPost, today: date, reach: Q, user_ids: Collection[int] | None) -> QuerySet[TalentSkill]:
    """One row per talent offering the post's category, with what the score needs as columns.

    Based on TalentSkill, which is unique per (talent, skill), joined to the one membership a
    person can have in the post's community: so each talent is one row without DISTINCT. The
    columns are plain integers, floats and strings, which the ORM hands over without converting.
    """
    category = post.category
    membership = MEMBERSHIP
    conditions = []
    if user_ids is not None:
        conditions.append(Q(talent__user_id__in=list(user_ids)))
    if category.requires_credential:
        conditions.append(
            Exists(
                Credential.objects.filter(
                    talent_skill_id=OuterRef("pk"), status=Credential.Status.VERIFIED, expires_on__gte=today
                )
            )
        )
        verified = Value(1)
    else:
        verified = Cast(ExpressionWrapper(Q(verified_at__isnull=False), output_field=BooleanField()), IntegerField())
    # One filter() call: across the multi-valued memberships each call would join them again (and
    # the reach could then be another community's home); and each call copies the whole query.
    rows = TalentSkill.objects.filter(
        Q(**{f"{membership}community_id": post.community_id, f"{membership}status": Membership.Status.APPROVED})
        & reach,
        *conditions,
        skill_id=category.pk,
        talent__accepting_requests=True,
        # Deleting an account deactivates it (neighbors' account_delete): no separate profile check.
        talent__user__is_active=True,
    )

    # Aggregates without GROUP BY (Func, not Sum/Count, with which Django would group): SQLite then
    # runs no sorter for each talent. No ratings gives NULL, which the ranking reads as the prior.
    ratings = (
        HelpRecord.objects.filter(user_id=OuterRef("talent__user_id"), rating__isnull=False)
        .order_by()
        .annotate(
            smoothed=(Func(Cast("rating", FloatField()), function="SUM") + RATING_PRIOR * RATING_PRIOR_WEIGHT)
            / (Func("rating", function="COUNT", output_field=FloatField()) + RATING_PRIOR_WEIGHT)
        )
    )
    # One pass over the talent's weekly slots: NULL when they declared none, else 2 when one
    # overlaps the window, else 1.
    overlapping = window_slots_q(post.window_starts_at, post.window_ends_at)
    if overlapping is None:
        in_window = Value(1)
    elif not overlapping:  # an empty Q: the window is a week or more, every slot is in it
        in_window = Value(2)
    else:
        in_window = Case(When(overlapping, then=Value(2)), default=Value(1))
    slots = (
        AvailabilitySlot.objects.filter(talent_id=OuterRef("talent_id"))
        .order_by()
        .annotate(best=Func(in_window, function="MAX", output_field=IntegerField()))
    )
    return rows.annotate(
        user_id=F("talent__user_id"),
        radius_m=F("talent__service_radius_m"),
        home_place_id=F(f"{membership}home_place_id"),
        is_verified=verified,
        # Location consent (which also leaves out children): no distance, no dispatch. A column the
        # ranking checks rather than a WHERE term: SQLite evaluates a column only for the rows left
        # by every other condition, where it might test a WHERE term on each of a community's members.
        sharing=Cast(Exists(users_sharing_location().filter(pk=OuterRef("talent__user_id"))), IntegerField()),
        rating=Subquery(ratings.values("smoothed")[:1], output_field=FloatField()),
        slots=Subquery(slots.values("best")[:1], output_field=IntegerField()),
    ).values_list("user_id", "radius_m", "home_place_id", "level", "is_verified", "sharing", "rating", "slots")


def _excluded_people(post: AidPost) -> set[int]:
    """Never the person asking, nor the one relaying for them, nor anyone already offering help,
    nor anyone blocked either way with the author. A handful of ids in one query: checked in
    Python, the database does not probe three lists for every talent."""
    offering = Claim.objects.filter(post_id=post.pk, status__in=Claim.LIVE).order_by().values_list("helper_id")
    blocked = Block.objects.filter(blocker_id=post.author_id).order_by().values_list("blocked_id")
    blocking = Block.objects.filter(blocked_id=post.author_id).order_by().values_list("blocker_id")
    excluded = {pk for (pk,) in offering.union(blocked, blocking)}
    return excluded | {pk for pk in (post.author_id, post.assisted_by_id) if pk}


def _live_loads() -> dict[int, int]:
    """Live claims (pending or accepted) on live requests, per helper: bounded by the live
    requests of the site, not by the size of the pool."""
    loads = (
        Claim.objects.filter(status__in=Claim.LIVE, post__status__in=AidPost.LIVE)
        .order_by()
        .values_list("helper_id")
        .annotate(count=Count("pk"))
    )
    return dict(loads)


def _recent_dispatches(now: datetime) -> dict[int, int]:
    """Dispatches per talent within the fairness window, read through the index on created_at."""
    since = now - timedelta(days=settings.DISPATCH_FAIRNESS_DAYS)
    recent = (
        Dispatch.objects.filter(created_at__gte=since).order_by().values_list("talent_id").annotate(count=Count("pk"))
    )
    return dict(recent)


def rank_talents(
    post: AidPost, *, now: datetime | None = None, limit: int | None = None, user_ids: Collection[int] | None = None
) -> list[Candidate]:
    """The talents who could help with `post`, best first (ties: lower user id first).

    Eligible: approved members of the post's community with a talent profile taking requests,
    offering the post's category (with a verified, unexpired credential where the category
    requires one), sharing their location and not a child, whose home building is within their
    own service radius of the post's building; never the author or the one relaying for them,
    nobody blocked either way with the author, nobody already offering help on the post.

    Each part is weighted by settings.DISPATCH_WEIGHTS and lies between 0 and its weight
    (fairness between minus its weight and 0), rounded to 4 places; the score is their sum:

    - skill: the level (beginner 0.4, experienced 0.7, professional 1.0) for 80 %, verified
      (a committee's word, or a valid credential) for 20 %;
    - distance: 1 − distance / the talent's own radius;
    - availability: 1 when a weekly slot overlaps the window (local time), 0.5 when the talent
      declared no slots at all, 0 when they declared slots and none overlaps;
    - load: 1 / (1 + live claims on live requests);
    - rating: the average rating smoothed towards 4.0, mapped from 1–5 to 0–1;
    - fairness: − min(dispatches in the last DISPATCH_FAIRNESS_DAYS days, 3) / 3.

    `user_ids` restricts the ranking to those people (their parts are the same as in the full
    ranking, scores being absolute). `limit` keeps the best that many.
    """
    now = now or timezone.now()
    today = timezone.localdate(now, _local_zone())
    weights = dispatch_weights()
    distances = _building_distances(post)
    reach = _reach_q(distances, prefix=MEMBERSHIP)
    if reach is None:
        return []
    excluded = _excluded_people(post)
    loads = _live_loads()
    recent = _recent_dispatches(now)

    # The parts that take few values, weighed and rounded once rather than once a talent.
    skill_part = {
        (level, verified): round(weights["skill"] * (value * (1 - VERIFIED_SHARE) + VERIFIED_SHARE * verified), 4)
        for level, value in LEVEL_VALUE.items()
        for verified in (0, 1)
    }
    availability_part = {
        2: round(weights["availability"], 4),
        1: 0.0,
        None: round(weights["availability"] * AVAILABILITY_UNDECLARED, 4),
    }
    load_part = {count: round(weights["load"] / (1 + count), 4) for count in set(loads.values()) | {0}}
    fairness_part = {
        count: -round(weights["fairness"] * min(count, FAIRNESS_CAP) / FAIRNESS_CAP, 4) or 0.0
        for count in set(recent.values()) | {0}
    }
    distance_weight, rating_weight = weights["distance"], weights["rating"] / 4
    no_load, no_recent = load_part[0], fairness_part[0]
    no_rating = round(rating_weight * (RATING_PRIOR - 1), 4)

    scored: list[tuple[float, int, float, tuple[float, ...]]] = []
    eligible = _eligible(post, today, reach, user_ids)
    # The ORM built the query; the rows are read straight from the cursor. Every column is
    # already a plain int, float or str, and the ORM's per-value converters would cost more
    # (~5 µs a talent) than the whole score.
    sql, params = eligible.query.sql_with_params()
    with connections[eligible.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for user_id, radius_m, home_place_id, level, verified, sharing, rating, slots in rows:
        distance = distances[home_place_id]
        if not sharing or distance > radius_m or user_id in excluded:
            continue
        parts = (
            skill_part[level, verified],
            round(distance_weight * (1 - distance / radius_m), 4),
            availability_part[slots],
            load_part[loads[user_id]] if user_id in loads else no_load,
            no_rating if rating is None else round(rating_weight * (rating - 1), 4),
            fairness_part[recent[user_id]] if user_id in recent else no_recent,
        )
        scored.append((-round(sum(parts), 4), user_id, distance, parts))

    # Best first, then the lower user id: the order never depends on the database's row order.
    best = heapq.nsmallest(limit, scored) if limit is not None else sorted(scored)
    # One query however many (in_bulk would split a long list into batches of 999 on SQLite).
    users = {user.pk: user for user in User.objects.select_related("profile").filter(pk__in=[row[1] for row in best])}
    return [
        Candidate(
            user=users[user_id],
            score=-negative_score,
            parts=dict(zip(PART_LABELS, parts, strict=True)),
            distance_m=round(distance / ROUNDING_M) * ROUNDING_M,
        )
        for negative_score, user_id, distance, parts in best
    ]


def dispatches_seen_by(user: AnyUser, post: AidPost) -> QuerySet[Dispatch]:
    """Who was asked to help with the post and why: only for its committee and grid worker."""
    if not can_manage_post(user, post):
        return Dispatch.objects.none()
    return (
        Dispatch.objects.filter(post=post)
        .select_related("talent__profile", "invited_by__profile")
        .order_by("created_at", "rank", "pk")
    )


def candidates_for_invite(user: AnyUser, post: AidPost, limit: int = 10) -> list[Candidate]:
    """The best talents not yet asked, for the committee's invite form, while the post seeks help."""
    if post.status != AidPost.Status.OPEN or post.live_claims >= post.seats or not can_manage_post(user, post):
        return []
    asked = set(Dispatch.objects.filter(post=post).values_list("talent_id", flat=True))
    ranked = rank_talents(post, limit=limit + len(asked))
    return [candidate for candidate in ranked if candidate.user.pk not in asked][:limit]
