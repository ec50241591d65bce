"""The committee's dashboard: the figures of a community (or of the communities of a street)
over a period, within what the viewer answers for.

What is counted, and where it comes from:

- requests: those posted in the period (local days, `posts_posted_between`), every figure from
  `aid_posts.selectors.measures.request_measures` (its docstring defines each), beside the same
  figures for the period of the same length just before, so that a change shows;
- hours and active volunteers by month, from the ledger of the communities: hours are the sum
  of the hours of every entry entered in the month (corrections included, as in a balance;
  spending carries no hours), active volunteers the people with at least one earning entry
  (help, duty or award) in it. Months are local calendar months, cut to the period at its ends;
- open escalations and open reports: as they stand now, whatever the period.

With a grid chosen (and always for a grid worker, who reads only their grids), requests are
those of the grid's buildings, and hours are those of the people whose home building in the
community is in the grid: the ledger does not record where help was given, and a volunteer's
hours belong to the grid where they live, as a grid worker counts their people. Reports name
no building, so they are counted for the whole community.

Every figure is read in a fixed number of queries whatever the number of requests, entries or
months (see the tests).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DateField, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from aid_posts.models import AidPost
from aid_posts.selectors.measures import RequestMeasures, posts_posted_between, request_measures
from neighbors.models import Community, Grid, LedgerEntry, Membership, Street, User

from ..models import Report
from ..permissions import (
    can_view_dashboard,
    dashboard_grid_limit,
    reports_reviewable_by,
    street_dashboard_communities,
)

# Two years and a day (a leap day): the longest period a dashboard or an export covers.
MAX_PERIOD_DAYS = 731


@dataclass(frozen=True)
class Period:
    """Local calendar days, both ends included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """[local midnight of the first day, local midnight after the last): consecutive periods
        neither overlap nor leave a gap, as `posts_posted_between` expects."""
        zone = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def months(self) -> list[date]:
        """The first day of each calendar month the period touches."""
        month = self.start.replace(day=1)
        months = []
        while month <= self.end:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months


def months_back(today: date, count: int) -> Period:
    """This calendar month and the `count - 1` before it, up to today."""
    month = today.replace(day=1)
    for _step in range(count - 1):
        month = (month - timedelta(days=1)).replace(day=1)
    return Period(start=month, end=today)


@dataclass(frozen=True)
class DashboardScope:
    """What a dashboard adds up: its communities, and within them every building (grids None)
    or only the buildings of some grids."""

    communities: tuple[Community, ...]
    grids: tuple[Grid, ...] | None

    @property
    def community_ids(self) -> list[int]:
        return [community.pk for community in self.communities]


@dataclass(frozen=True)
class DashboardAccess:
    """What the viewer may read of a community or a street: the communities, the grids they may
    pick from, and the grids they are held to when they pick none (None: the whole communities)."""

    communities: tuple[Community, ...]
    grid_choices: tuple[Grid, ...]
    limit: tuple[Grid, ...] | None
    street: Street | None = None

    def scope(self, grid: Grid | None = None) -> DashboardScope:
        """The scope with `grid` picked; a grid outside the choices is refused, never widened."""
        if grid is not None:
            if grid not in self.grid_choices:
                raise ValueError(f"grid {grid.pk} is not one the viewer may pick")
            return DashboardScope(communities=self.communities, grids=(grid,))
        return DashboardScope(communities=self.communities, grids=self.limit)


def _grids_of(communities: list[Community]) -> QuerySet[Grid]:
    return (
        Grid.objects.filter(community__in=[community.pk for community in communities])
        .select_related("community")
        .order_by("community__name", "name")
    )


def community_access(viewer: User, community: Community) -> DashboardAccess | None:
    """None where the viewer may not read the community's dashboard."""
    if not can_view_dashboard(viewer, community):
        return None
    limit = dashboard_grid_limit(viewer, community)
    if limit is None:
        return DashboardAccess(communities=(community,), grid_choices=tuple(_grids_of([community])), limit=None)
    own = tuple(limit.select_related("community").order_by("name"))
    return DashboardAccess(communities=(community,), grid_choices=own, limit=own)


def street_access(viewer: User, street: Street) -> DashboardAccess | None:
    """The street's communities where the viewer is on the committee; None where there are none."""
    communities = list(street_dashboard_communities(viewer, street).order_by("name"))
    if not communities:
        return None
    return DashboardAccess(
        communities=tuple(communities), grid_choices=tuple(_grids_of(communities)), limit=None, street=street
    )


def scope_posts(scope: DashboardScope) -> QuerySet[AidPost]:
    """Every request of the scope, in any state (held and hidden ones too, as in the queue)."""
    posts = AidPost.objects.filter(community__in=scope.community_ids)
    if scope.grids is not None:
        posts = posts.filter(place__grid__in=[grid.pk for grid in scope.grids])
    return posts


def scope_ledger(scope: DashboardScope) -> QuerySet[LedgerEntry]:
    """The ledger entries of the scope's communities; with grids, those of the people whose home
    building in the entry's community is in one of them (see the module's docstring)."""
    entries = LedgerEntry.objects.filter(community__in=scope.community_ids)
    if scope.grids is not None:
        lives_there = Membership.objects.filter(
            user=OuterRef("user"),
            community=OuterRef("community"),
            home_place__grid__in=[grid.pk for grid in scope.grids],
        )
        entries = entries.filter(Exists(lives_there))
    return entries


@dataclass(frozen=True)
class MonthFigures:
    month: date
    hours: Decimal
    volunteers: int


def hours_by_month(scope: DashboardScope, period: Period) -> tuple[MonthFigures, ...]:
    """Every month the period touches, empty months included, in one query."""
    start, end = period.bounds()
    rows = (
        scope_ledger(scope)
        .filter(created_at__gte=start, created_at__lt=end)
        .annotate(month=TruncMonth("created_at", output_field=DateField(), tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("month")
        .annotate(
            hours=Coalesce(Sum("hours"), Decimal("0")),
            volunteers=Count("user", distinct=True, filter=Q(reason__in=LedgerEntry.EARNING)),
        )
    )
    found = {row["month"]: row for row in rows}
    return tuple(
        MonthFigures(
            month=month,
            hours=found[month]["hours"] if month in found else Decimal("0"),
            volunteers=found[month]["volunteers"] if month in found else 0,
        )
        for month in period.months()
    )


def active_volunteers(scope: DashboardScope, period: Period) -> int:
    start, end = period.bounds()
    earning = scope_ledger(scope).filter(created_at__gte=start, created_at__lt=end, reason__in=LedgerEntry.EARNING)
    return earning.aggregate(people=Count("user", distinct=True))["people"]


@dataclass(frozen=True)
class Dashboard:
    scope: DashboardScope
    period: Period
    measures: RequestMeasures
    # The same figures for the period of the same length just before.
    previous: RequestMeasures
    months: tuple[MonthFigures, ...]
    # People with an earning entry in the period: not the sum of the months, where one person
    # active in two months counts in each.
    volunteers: int
    # Live requests that were escalated to the committee's queue, now.
    open_escalations: int
    # Open reports the viewer may review, now.
    open_reports: int

    @property
    def total_hours(self) -> Decimal:
        return sum((month.hours for month in self.months), Decimal("0"))


def dashboard_for(viewer: User, scope: DashboardScope, period: Period) -> Dashboard:
    """The dashboard of a scope the viewer may read (from `community_access` or `street_access`)."""
    posts = scope_posts(scope)
    return Dashboard(
        scope=scope,
        period=period,
        measures=request_measures(posts_posted_between(posts, *period.bounds())),
        previous=request_measures(posts_posted_between(posts, *period.previous().bounds())),
        months=hours_by_month(scope, period),
        volunteers=active_volunteers(scope, period),
        # A hidden request is off everyone's list: nobody waits on it any more.
        open_escalations=posts.filter(
            status__in=AidPost.LIVE, escalated_at__isnull=False, hidden_at__isnull=True
        ).count(),
        open_reports=reports_reviewable_by(viewer)
        .filter(community__in=scope.community_ids, status=Report.Status.OPEN)
        .count(),
    )
