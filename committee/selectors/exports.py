"""The committee's exports (一表通): four datasets of one community over a period, each with a
registry of the columns it may give, so that the form offers exactly these and the file holds
exactly the chosen ones, in the registry's order.

What an export holds is what the committee may see, and less: requests never carry the private
details for the helper (the column is not even read) nor anyone's contact details; people are
named by their display name only (never their login, email or phone).

Grids: requests are those of the grid's buildings; the datasets about people (hours, duties,
the ledger) take the people whose home building in the community is in the grid, as the
dashboard does (see committee.selectors.dashboard).
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aid_posts.models import AidPost, Claim, Duty, PostEvent
from neighbors.models import Community, Grid, LedgerEntry, Membership, User

from .dashboard import Period

# Spending: what points buy, and its refund. Not part of what a volunteer gave.
SPENDING = (LedgerEntry.Reason.REDEMPTION, LedgerEntry.Reason.REDEMPTION_REFUND)
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection): text from
# the site that starts with one is written after an apostrophe, which the spreadsheet hides.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    header: Promise
    value: Callable[[Any], object]


@dataclass(frozen=True)
class Dataset:
    key: str
    label: Promise
    description: Promise
    columns: tuple[Column, ...]
    rows: Callable[[Community, Period, Grid | None], QuerySet]

    @property
    def column_keys(self) -> list[str]:
        return [column.key for column in self.columns]

    def chosen(self, keys: Iterable[str]) -> tuple[Column, ...]:
        """The chosen columns in the registry's order, whatever the order they were given in."""
        wanted = set(keys)
        return tuple(column for column in self.columns if column.key in wanted)


def _lives_in(grid: Grid, person_field: str) -> Exists:
    """The outer row's person (`person_field`) has their home building in the grid, in its community."""
    return Exists(
        Membership.objects.filter(user=OuterRef(person_field), community=grid.community_id, home_place__grid=grid)
    )


def display_name(user: User) -> str:
    profile = getattr(user, "profile", None)
    return str(profile) if profile is not None else gettext("Unknown person")


def _yes_no(flag: bool) -> str:
    return gettext("Yes") if flag else gettext("No")


# --- Requests ----------------------------------------------------------------------------------


def request_rows(community: Community, period: Period, grid: Grid | None) -> QuerySet[AidPost]:
    """The requests posted in the period, oldest first, with their first claim and confirmation
    times as request_measures counts them (the first offer, even withdrawn; the move into
    "confirmed")."""
    start, end = period.bounds()
    first_claim = Claim.objects.filter(post=OuterRef("pk")).order_by("created_at", "pk")
    confirmed = (
        PostEvent.objects.filter(post=OuterRef("pk"), to_status=AidPost.Status.CONFIRMED)
        .exclude(from_status=AidPost.Status.CONFIRMED)
        .order_by("created_at", "pk")
    )
    posts = AidPost.objects.filter(community=community, created_at__gte=start, created_at__lt=end)
    if grid is not None:
        posts = posts.filter(place__grid=grid)
    return (
        posts.select_related("category", "place__grid")
        # Never read what the export must not hold.
        .defer("description", "sensitive_details", "held_for", "assisted_note")
        .annotate(
            first_claim_at=Subquery(first_claim.values("created_at")[:1]),
            confirmed_at=Subquery(confirmed.values("created_at")[:1]),
            rating=F("feedback__rating"),
        )
        .order_by("created_at", "pk")
    )


REQUESTS = Dataset(
    key="requests",
    label=_("Help requests"),
    description=_("One row per request posted in the period. Never the private details for the helper."),
    columns=(
        Column("id", _("Number"), lambda post: post.pk),
        Column("created", _("Posted on"), lambda post: post.created_at),
        Column("title", _("Title"), lambda post: post.title),
        Column("category", _("Category"), lambda post: str(post.category)),
        Column("status", _("Status"), lambda post: post.get_status_display()),
        Column("urgency", _("Urgency"), lambda post: post.get_urgency_display()),
        Column("building", _("Building"), lambda post: post.place.name),
        Column("grid", _("Grid"), lambda post: post.place.grid.name if post.place.grid else ""),
        Column("first_claim", _("First offer of help"), lambda post: post.first_claim_at),
        Column("confirmed", _("Confirmed"), lambda post: post.confirmed_at),
        Column("rating", _("Poster's rating"), lambda post: post.rating),
        Column("escalated", _("Escalated to the committee"), lambda post: _yes_no(post.escalated_at is not None)),
        Column("assisted", _("Posted for the resident (代办)"), lambda post: _yes_no(post.assisted_by_id is not None)),
    ),
    rows=request_rows,
)


# --- Volunteers' hours -------------------------------------------------------------------------


def hours_rows(community: Community, period: Period, grid: Grid | None) -> QuerySet[LedgerEntry]:
    """One row per person with ledger entries in the period other than spending, most hours
    first: hours and points are those entries' sums (corrections included, as in a balance)."""
    start, end = period.bounds()
    entries = LedgerEntry.objects.filter(community=community, created_at__gte=start, created_at__lt=end).exclude(
        reason__in=SPENDING
    )
    if grid is not None:
        entries = entries.filter(_lives_in(grid, "user"))
    return (
        entries.order_by()
        .values("user", "user__profile__display_name", "user__profile__deleted_at")
        .annotate(
            hours=Coalesce(Sum("hours"), Decimal("0")),
            points=Coalesce(Sum("points"), 0),
            helps=Count("pk", filter=Q(reason=LedgerEntry.Reason.HELP_CONFIRMED)),
            duties=Count("pk", filter=Q(reason=LedgerEntry.Reason.DUTY_CONFIRMED)),
        )
        .order_by("-hours", "user__profile__display_name", "user")
    )


def _row_person(row: dict) -> str:
    if row["user__profile__deleted_at"] is not None:
        return gettext("Deleted user")
    return row["user__profile__display_name"] or gettext("Unknown person")


HOURS = Dataset(
    key="hours",
    label=_("Volunteers' hours"),
    description=_("One row per volunteer: hours and points earned in the period, and how many helps and duties."),
    columns=(
        Column("person", _("Volunteer"), _row_person),
        Column("hours", _("Hours"), lambda row: row["hours"]),
        Column("points", _("Points earned"), lambda row: row["points"]),
        Column("helps", _("Requests helped"), lambda row: row["helps"]),
        Column("duties", _("Duties served"), lambda row: row["duties"]),
    ),
    rows=hours_rows,
)


# --- Welfare roles and duties ------------------------------------------------------------------


def duty_rows(community: Community, period: Period, grid: Grid | None) -> QuerySet[Duty]:
    """The duties of the community's welfare roles served in the period, in date order."""
    duties = Duty.objects.filter(role__community=community, served_on__gte=period.start, served_on__lte=period.end)
    if grid is not None:
        duties = duties.filter(_lives_in(grid, "holder"))
    return duties.select_related("role", "holder__profile").order_by("served_on", "role__title", "pk")


ROLES = Dataset(
    key="roles",
    label=_("Welfare roles and duties"),
    description=_("One row per duty served in the period, with its role and holder."),
    columns=(
        Column("role", _("Welfare role"), lambda duty: duty.role.title),
        Column("holder", _("Holder"), lambda duty: display_name(duty.holder)),
        Column("served_on", _("Served on"), lambda duty: duty.served_on),
        Column("hours", _("Hours"), lambda duty: duty.hours),
        Column("status", _("Status"), lambda duty: duty.get_status_display()),
    ),
    rows=duty_rows,
)


# --- The ledger --------------------------------------------------------------------------------


def ledger_rows(community: Community, period: Period, grid: Grid | None) -> QuerySet[LedgerEntry]:
    start, end = period.bounds()
    entries = LedgerEntry.objects.filter(community=community, created_at__gte=start, created_at__lt=end)
    if grid is not None:
        entries = entries.filter(_lives_in(grid, "user"))
    return entries.select_related("user__profile").order_by("created_at", "pk")


LEDGER = Dataset(
    key="ledger",
    label=_("Points and hours ledger"),
    description=_("Every entry of the period: earnings, awards, redemptions and corrections."),
    columns=(
        Column("date", _("Date"), lambda entry: entry.created_at),
        Column("person", _("Person"), lambda entry: display_name(entry.user)),
        Column("reason", _("Reason"), lambda entry: entry.get_reason_display()),
        Column("points", _("Points"), lambda entry: entry.points),
        Column("hours", _("Hours"), lambda entry: entry.hours),
        Column("note", _("Why"), lambda entry: entry.note),
    ),
    rows=ledger_rows,
)


DATASETS: dict[str, Dataset] = {dataset.key: dataset for dataset in (REQUESTS, HOURS, ROLES, LEDGER)}


def cell_text(value: object) -> str:
    """A value as a spreadsheet cell: local times to the minute, dates as yyyy-mm-dd, numbers
    as plain numbers, yes/no in words, and text that could start a formula neutralised.

    Numbers are never neutralised: a negative number of points is a number the site wrote, not
    text someone typed, and must stay a number in the spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def export_table(columns: Sequence[Column], rows: Iterable[Any]) -> Iterator[list[str]]:
    """The header (in the active language), then one list of cells per row."""
    yield [str(column.header) for column in columns]
    for row in rows:
        yield [cell_text(column.value(row)) for column in columns]
