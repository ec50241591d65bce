"""The queue of the committee and the grid workers: what waits for staff, oldest first.

Every section reads only the posts the user manages (permissions.posts_managed_by, read once),
in one query each whatever the number of rows, plus the measures of those posts.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from neighbors.models import User
from neighbors.permissions import committee_communities

from ..models import AidPost, Dispatch, FollowUp, PostEvent
from ..permissions import posts_managed_by
from .measures import RequestMeasures, posts_posted_between, request_measures

# How far back finished requests wait for a follow-up (回访), and the period of the recent measures.
QUEUE_RECENT_DAYS = 30
# Rows shown per section; the page says when more are waiting beyond them.
QUEUE_SECTION_LIMIT = 100
FOLLOWED_UP = (AidPost.Status.CONFIRMED, AidPost.Status.CLOSED)


@dataclass(frozen=True)
class QueueSection:
    posts: list[AidPost]
    # More rows wait beyond the ones shown.
    more: bool


@dataclass(frozen=True)
class RequestQueue:
    escalated: QueueSection
    disputed: QueueSection
    # None for someone on no committee: follow-ups are the committee's.
    to_follow_up: QueueSection | None
    # The communities where the user is on the committee and so decides disputes.
    committee_community_ids: frozenset[int]
    recent_days: int
    measures_recent: RequestMeasures
    measures_all: RequestMeasures


def _rows(posts: QuerySet[AidPost]) -> QuerySet[AidPost]:
    return posts.select_related("community", "category", "place__grid", "author__profile")


def _section(posts: QuerySet[AidPost]) -> QueueSection:
    rows = list(posts[: QUEUE_SECTION_LIMIT + 1])
    return QueueSection(posts=rows[:QUEUE_SECTION_LIMIT], more=len(rows) > QUEUE_SECTION_LIMIT)


def _entered(statuses: tuple[str, ...]) -> Subquery:
    """When the outer post last moved into one of `statuses`."""
    events = (
        PostEvent.objects.filter(post=OuterRef("pk"), to_status__in=statuses)
        .exclude(from_status__in=statuses)
        .order_by("-created_at", "-pk")
    )
    return Subquery(events.values("created_at")[:1])


def _managed(user: User, managed: QuerySet[AidPost] | None) -> QuerySet[AidPost]:
    """The caller's scope when it read one already (request_queue reads it once for every section)."""
    return posts_managed_by(user) if managed is None else managed


def escalated_unclaimed(
    user: User, *, now: datetime | None = None, managed: QuerySet[AidPost] | None = None
) -> QuerySet[AidPost]:
    """Escalated requests nobody has a live offer on, still before their expiry: waiting for
    staff to invite a talent or take them on. Oldest first, each with `asked_count`, the
    talents already dispatched or invited, so that two staff do not ask the same ones again.
    One hidden after it escalated stays (a hidden one never escalates): still unanswered, it
    is the staff's to know of; the page marks it and offers no invite or take-on, which would
    only be refused while it is hidden."""
    now = now or timezone.now()
    waiting = _managed(user, managed).filter(
        status=AidPost.Status.OPEN, live_claims=0, escalated_at__isnull=False, expires_at__gt=now
    )
    asked = Dispatch.objects.filter(post=OuterRef("pk")).order_by().values("post").annotate(n=Count("pk")).values("n")
    return (
        _rows(waiting)
        .annotate(asked_count=Coalesce(Subquery(asked, output_field=IntegerField()), 0))
        .order_by("created_at", "pk")
    )


def disputes_waiting(user: User, *, managed: QuerySet[AidPost] | None = None) -> QuerySet[AidPost]:
    """Disputed requests waiting for the committee's decision, longest waiting first; each
    with `disputed_at`. Grid workers see those of their grids, the committee decides."""
    disputed = _managed(user, managed).filter(status=AidPost.Status.DISPUTED)
    return _rows(disputed).annotate(disputed_at=_entered((AidPost.Status.DISPUTED,))).order_by("disputed_at", "pk")


def follow_ups_due(
    user: User, *, now: datetime | None = None, managed: QuerySet[AidPost] | None = None
) -> QuerySet[AidPost]:
    """Requests of the user's committee communities finished with help given (confirmed, or
    closed after a dispute) in the last QUEUE_RECENT_DAYS days and not yet followed up; each
    with `finished_at`, oldest first (the ones about to fall out of the window)."""
    now = now or timezone.now()
    finished = (
        _managed(user, managed)
        .filter(community__in=committee_communities(user), status__in=FOLLOWED_UP)
        .annotate(finished_at=_entered(FOLLOWED_UP))
        .filter(finished_at__gte=now - timedelta(days=QUEUE_RECENT_DAYS))
        .exclude(Exists(FollowUp.objects.filter(post=OuterRef("pk"))))
    )
    return _rows(finished).select_related("feedback").order_by("finished_at", "pk")


def request_queue(user: User, *, now: datetime | None = None) -> RequestQueue:
    now = now or timezone.now()
    committee_ids = frozenset(committee_communities(user).values_list("pk", flat=True))
    managed = posts_managed_by(user)
    return RequestQueue(
        escalated=_section(escalated_unclaimed(user, now=now, managed=managed)),
        disputed=_section(disputes_waiting(user, managed=managed)),
        to_follow_up=_section(follow_ups_due(user, now=now, managed=managed)) if committee_ids else None,
        committee_community_ids=committee_ids,
        recent_days=QUEUE_RECENT_DAYS,
        measures_recent=request_measures(posts_posted_between(managed, now - timedelta(days=QUEUE_RECENT_DAYS), now)),
        measures_all=request_measures(managed),
    )
