"""The figures a committee is judged by, over any set of help requests.

Callers choose the set (a community, a street, a grid, the posts one person manages, a
period with `posts_posted_between`) and pass it as a queryset; `request_measures` reads it
in three queries whatever its size:

1. one aggregate over the posts, each annotated with subqueries (first claim, whether its
   helper had been dispatched or invited, confirmation time, latest follow-up): every count,
   both means;
2. one query for the categories with their counts;
3. one query for the start, first-claim and confirmation times of the posts that have one,
   from which the medians are taken in Python (the same on SQLite and PostgreSQL).

Definitions (each figure is None when it would divide by zero):

- time to first claim: over the posts with at least one claim, the median of the first
  claim's time less the posting time. The first offer of help counts even when it was
  later withdrawn or declined: it measures how fast neighbours answer.
- time to resolution: over confirmed posts, the median of the time of the event that moved
  the post into "confirmed" (the poster's confirmation, or the committee's decision of a
  dispute for the helpers) less the posting time.
- resolution rate: confirmed ÷ settled, where settled = confirmed + closed (the committee found
  after a dispute that the help was not given) + expired (nobody helped in time). Posts still
  under way do not count yet; cancelled posts count on neither side, because a cancellation is
  the poster's own decision (help found elsewhere, no longer needed) and the record cannot
  tell it from a failure. Cancellations are in the counts by status for anyone who wants them.
- satisfaction: the mean of the posters' ratings (one per post), and the mean of the follow-up
  (回访) satisfaction, taking the latest follow-up of each post, so that a request followed
  up twice counts once and with the resident's latest word; each with its count.
- dispatch rate: over the posts with at least one claim, the share whose first claim came from
  a talent the site dispatched (ranked) or staff invited (direct) for that post at or before
  the moment of the claim.
- resolved within the grid: over confirmed posts, the share that were never escalated to the
  committee's queue (escalated_at is null).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Avg,
    BooleanField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from talent_pool.models import Skill

from ..models import AidPost, Claim, Dispatch, FollowUp, PostEvent

# Where a post's outcome is known, for the resolution rate (see the module's docstring).
SETTLED = (AidPost.Status.CONFIRMED, AidPost.Status.CLOSED, AidPost.Status.EXPIRED)


@dataclass(frozen=True)
class CategoryCount:
    category: Skill
    count: int


@dataclass(frozen=True)
class RequestMeasures:
    total: int
    # Every status, zero included, in the order of AidPost.Status.
    by_status: dict[str, int]
    # Most requested first.
    by_category: tuple[CategoryCount, ...]
    # Posts with at least one claim, and the median wait for the first.
    claimed: int
    time_to_first_claim: timedelta | None
    confirmed: int
    time_to_resolution: timedelta | None
    # Confirmed, closed or expired: the resolution rate's denominator.
    settled: int
    rating_mean: float | None
    rating_count: int
    follow_up_mean: float | None
    follow_up_count: int
    # Claimed posts whose first claim came from a talent dispatched or invited beforehand.
    dispatched_first: int
    # Confirmed posts never escalated.
    confirmed_in_grid: int

    @property
    def resolution_rate(self) -> float | None:
        return _share(self.confirmed, self.settled)

    @property
    def dispatch_rate(self) -> float | None:
        return _share(self.dispatched_first, self.claimed)

    @property
    def in_grid_rate(self) -> float | None:
        return _share(self.confirmed_in_grid, self.confirmed)

    @property
    def status_rows(self) -> list[tuple[str, str, int]]:
        """(status, its label, count) for a table."""
        return [(status, str(AidPost.Status(status).label), count) for status, count in self.by_status.items()]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _median(durations: list[timedelta]) -> timedelta | None:
    if not durations:
        return None
    ordered = sorted(durations)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def posts_posted_between(posts: QuerySet[AidPost], start: datetime, end: datetime) -> QuerySet[AidPost]:
    """Posts posted in [start, end): consecutive periods neither overlap nor leave a gap."""
    return posts.filter(created_at__gte=start, created_at__lt=end)


def _moved_into(status: str) -> QuerySet[PostEvent]:
    """The events that moved the outer post into `status`, first first."""
    return (
        PostEvent.objects.filter(post=OuterRef("pk"), to_status=status)
        .exclude(from_status=status)
        .order_by("created_at", "pk")
    )


def _with_timings(posts: QuerySet[AidPost]) -> QuerySet[AidPost]:
    first_claim = Claim.objects.filter(post=OuterRef("pk")).order_by("created_at", "pk")
    dispatched_before = Dispatch.objects.filter(
        post=OuterRef("post"), talent=OuterRef("helper"), created_at__lte=OuterRef("created_at")
    )
    first_claim_dispatched = first_claim.annotate(dispatched=Exists(dispatched_before)).values("dispatched")[:1]
    latest_follow_up = FollowUp.objects.filter(post=OuterRef("pk")).order_by("-created_at", "-pk")
    return posts.annotate(
        first_claim_at=Subquery(first_claim.values("created_at")[:1]),
        first_claim_dispatched=Subquery(first_claim_dispatched, output_field=BooleanField()),
        confirmed_at=Subquery(_moved_into(AidPost.Status.CONFIRMED).values("created_at")[:1]),
        follow_up_satisfaction=Subquery(latest_follow_up.values("satisfaction")[:1]),
    )


def _by_category(posts: QuerySet[AidPost]) -> tuple[CategoryCount, ...]:
    """One GROUP BY over the posts, then their skills: a count per skill as a correlated subquery
    walked the category's index over the whole table for each skill, twice (bench/growth.py:
    the dashboard went from 34 to 205 ms between 1k and 1M requests for the same period)."""
    counts = dict(posts.order_by().values("category").annotate(n=Count("pk")).values_list("category", "n"))
    skills = Skill.objects.filter(pk__in=list(counts)) if counts else Skill.objects.none()
    ordered = sorted(skills, key=lambda skill: (-counts[skill.pk], skill.code))
    return tuple(CategoryCount(category=skill, count=counts[skill.pk]) for skill in ordered)


def request_measures(posts: QuerySet[AidPost]) -> RequestMeasures:
    timed = _with_timings(posts.order_by())
    confirmed = Q(status=AidPost.Status.CONFIRMED)
    figures = timed.aggregate(
        total=Count("pk"),
        settled=Count("pk", filter=Q(status__in=SETTLED)),
        claimed=Count("pk", filter=Q(first_claim_at__isnull=False)),
        dispatched_first=Count("pk", filter=Q(first_claim_dispatched=True)),
        confirmed_in_grid=Count("pk", filter=confirmed & Q(escalated_at__isnull=True)),
        rating_mean=Avg("feedback__rating"),
        rating_count=Count("feedback"),
        follow_up_mean=Avg("follow_up_satisfaction"),
        follow_up_count=Count("follow_up_satisfaction"),
        **{f"status_{status}": Count("pk", filter=Q(status=status)) for status in AidPost.Status.values},
    )
    first_claims: list[timedelta] = []
    resolutions: list[timedelta] = []
    rows = timed.filter(Q(first_claim_at__isnull=False) | (confirmed & Q(confirmed_at__isnull=False))).values_list(
        "created_at", "first_claim_at", "status", "confirmed_at"
    )
    for created_at, first_claim_at, status, confirmed_at in rows:
        if first_claim_at is not None:
            first_claims.append(first_claim_at - created_at)
        if status == AidPost.Status.CONFIRMED and confirmed_at is not None:
            resolutions.append(confirmed_at - created_at)
    return RequestMeasures(
        total=figures["total"],
        by_status={status: figures[f"status_{status}"] for status in AidPost.Status.values},
        by_category=_by_category(posts),
        claimed=figures["claimed"],
        time_to_first_claim=_median(first_claims),
        confirmed=figures[f"status_{AidPost.Status.CONFIRMED}"],
        time_to_resolution=_median(resolutions),
        settled=figures["settled"],
        rating_mean=figures["rating_mean"],
        rating_count=figures["rating_count"],
        follow_up_mean=figures["follow_up_mean"],
        follow_up_count=figures["follow_up_count"],
        dispatched_first=figures["dispatched_first"],
        confirmed_in_grid=figures["confirmed_in_grid"],
    )
