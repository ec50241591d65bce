"""Reads for volunteer-hours certificates: the hours a period holds and the lists of them.
Who may see, issue and revoke which certificate is committee/permissions.py's."""

import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import DateField, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth

from neighbors.models import Community, LedgerEntry, User
from neighbors.permissions import AnyUser, committee_communities

from ..models import Certificate
from ..permissions import certificates_visible_to

# What a certificate counts: hours earned by helping, by serving a duty, or awarded by the
# committee, and the committee's corrections of them. Spending points (a redemption and its
# refund) moves no hours and is never counted.
CERTIFIED_REASONS = (
    LedgerEntry.Reason.HELP_CONFIRMED,
    LedgerEntry.Reason.DUTY_CONFIRMED,
    LedgerEntry.Reason.COMMITTEE_AWARD,
    LedgerEntry.Reason.CORRECTION,
)
HUNDREDTH = Decimal("0.01")
CODE_LENGTH = 12
# The alphabet of `certificate_code`; a typed code made of anything else matches nothing.
_CODE_SHAPE = re.compile(rf"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{{{CODE_LENGTH}}}")
# What people type between the groups of a code read from paper.
_CODE_SEPARATORS = re.compile(r"[\s\-_.·]+")


def _active(user: AnyUser) -> bool:
    return user.is_authenticated and user.is_active


# --- Hours ----------------------------------------------------------------------------------


def _hundredths(hours: Decimal) -> Decimal:
    # Sums come back as 7 from SQLite and 7.00 from PostgreSQL: the same figure everywhere.
    return hours.quantize(HUNDREDTH)


def _site_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def period_bounds(period_start: date, period_end: date) -> tuple[datetime, datetime]:
    """The period's first and last days, both included, as the instants [from, until) in the
    site's time zone: an hour confirmed at 07:30 in Xiamen on 1 March is March's, although it
    is still February in UTC."""
    zone = _site_zone()
    return (
        datetime.combine(period_start, time.min, tzinfo=zone),
        datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=zone),
    )


def certified_entries(
    *, user: User, community: Community, period_start: date, period_end: date, as_of: datetime | None = None
) -> QuerySet[LedgerEntry]:
    """The ledger entries a certificate for the period counts. `as_of` stops at an instant (the
    certificate's issue): the ledger is append-only, so the entries up to it never change, and
    a certificate's breakdown always adds up to the hours printed on it."""
    starts, ends = period_bounds(period_start, period_end)
    entries = LedgerEntry.objects.filter(
        user=user, community=community, reason__in=CERTIFIED_REASONS, created_at__gte=starts, created_at__lt=ends
    )
    if as_of is not None:
        entries = entries.filter(created_at__lte=as_of)
    return entries


def certified_hours(*, user: User, community: Community, period_start: date, period_end: date) -> Decimal:
    """The volunteer hours of a member in a community over a period, from the ledger."""
    entries = certified_entries(user=user, community=community, period_start=period_start, period_end=period_end)
    return _hundredths(entries.aggregate(hours=Coalesce(Sum("hours"), Decimal("0")))["hours"])


@dataclass(frozen=True)
class HoursBreakdown:
    """A period's hours: the total, by what earned them (label, hours) and by month (first day
    of the month, hours). Reasons and months with no hours are left out."""

    total: Decimal
    by_reason: list[tuple[str, Decimal]]
    by_month: list[tuple[date, Decimal]]


def hours_breakdown(
    *, user: User, community: Community, period_start: date, period_end: date, as_of: datetime | None = None
) -> HoursBreakdown:
    entries = certified_entries(
        user=user, community=community, period_start=period_start, period_end=period_end, as_of=as_of
    )
    labels = dict(LedgerEntry.Reason.choices)
    reasons = {
        reason: _hundredths(hours)
        for reason, hours in entries.order_by().values_list("reason").annotate(hours=Sum("hours"))
    }
    # Months as the site's calendar has them, counted by the database whatever the row count.
    month = TruncMonth("created_at", tzinfo=_site_zone(), output_field=DateField())
    months = entries.order_by().annotate(month=month).values_list("month").annotate(hours=Sum("hours"))
    by_month = sorted((first_day, _hundredths(hours)) for first_day, hours in months if hours)
    return HoursBreakdown(
        total=sum(reasons.values(), Decimal("0")),
        by_reason=[(str(labels[reason]), reasons[reason]) for reason in CERTIFIED_REASONS if reasons.get(reason)],
        by_month=by_month,
    )


def certificate_breakdown(certificate: Certificate) -> HoursBreakdown:
    """The breakdown of the hours a certificate states, as the ledger stood when it was issued."""
    return hours_breakdown(
        user=certificate.user,
        community=certificate.community,
        period_start=certificate.period_start,
        period_end=certificate.period_end,
        as_of=certificate.issued_at,
    )


# --- Lists and look-ups ---------------------------------------------------------------------


def certificates_of(user: User) -> QuerySet[Certificate]:
    """The person's own certificates, newest first."""
    return Certificate.objects.filter(user=user).select_related("community").order_by("-issued_at", "-pk")


def certificates_issued_for(user: AnyUser) -> QuerySet[Certificate]:
    """The committee's list: every certificate of the communities the person sits on the
    committee of (their own included, shown without a revoke button), newest first."""
    if not _active(user):
        return Certificate.objects.none()
    return (
        Certificate.objects.filter(community__in=committee_communities(user).values("pk"))
        .select_related("community", "issued_by__profile")
        .order_by("-issued_at", "-pk")
    )


def certificate_visible(user: AnyUser, pk: int) -> Certificate | None:
    """One certificate for its private page, or None when it is not the person's to see."""
    return certificates_visible_to(user).select_related("community", "issued_by__profile", "user").filter(pk=pk).first()


def hours_text(hours: Decimal) -> str:
    """Hours as printed: 12.5, 3, 0.25 (no trailing zeros, never an exponent)."""
    return f"{hours.normalize():f}" if hours else "0"


def code_normalised(typed: str) -> str:
    """A code as typed (lower case, in groups, with spaces or hyphens) in its stored form."""
    return _CODE_SEPARATORS.sub("", typed).upper()


def code_well_formed(code: str) -> bool:
    return bool(_CODE_SHAPE.fullmatch(code))


def code_grouped(code: str) -> str:
    """The code as printed, in groups of four, to be read aloud and typed back from paper."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def certificate_by_code(typed: str) -> Certificate | None:
    """The certificate a typed code names, for the public check; None for one that names none
    (a code that cannot be one is not looked up)."""
    code = code_normalised(typed)
    if not code_well_formed(code):
        return None
    return Certificate.objects.select_related("community").filter(code=code).first()
