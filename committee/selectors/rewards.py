"""Reads for points and hours, badges, the monthly leaderboard and the rewards catalogue.

Every figure is a sum of ledger entries taken when it is read: nothing here keeps a balance.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from neighbors.models import Community, LedgerEntry, Membership, User
from neighbors.permissions import communities_visible_to, memberships_ledger_adjustable_by, people_visible_to
from neighbors.selectors import ledger_totals
from talent_pool.models import TalentSkill, verified_skill_q

from ..models import Redemption, Reward
from ..permissions import redemptions_decidable_by, rewards_managed_by

AnyUser = User | AnonymousUser

# --- Badges ----------------------------------------------------------------------------------

HOUR_MILESTONES = (10, 50, 100)
SERVICE_YEAR = timedelta(days=365)
# What counts towards the hours badges and the leaderboard: what was earned, and the committee's
# corrections of it; never spending or its refunds, which carry no hours anyway.
EARNED_OR_CORRECTED = (*LedgerEntry.EARNING, LedgerEntry.Reason.CORRECTION)


@dataclass(frozen=True)
class Badge:
    code: str
    label: str
    description: str
    # The day it was earned; None where the records do not say.
    earned_on: date | None


def _first_help(earned_at: datetime) -> Badge:
    return Badge(
        "first_help",
        _("First help"),
        _("Helped a neighbour, and they confirmed it."),
        timezone.localdate(earned_at),
    )


def _hours(milestone: int, earned_at: datetime) -> Badge:
    return Badge(
        f"hours_{milestone}",
        _("%(hours)d hours") % {"hours": milestone},
        _("Gave %(hours)d hours or more of volunteer help.") % {"hours": milestone},
        timezone.localdate(earned_at),
    )


def _year_of_service(first_earned_at: datetime) -> Badge:
    return Badge(
        "year_of_service",
        _("A year of service"),
        _("Has been helping neighbours for a year or more."),
        timezone.localdate(first_earned_at + SERVICE_YEAR),
    )


def _verified_professional(verified_at: datetime | None) -> Badge:
    return Badge(
        "verified_professional",
        _("Verified professional"),
        _("Holds a professional credential the committee verified, still valid."),
        timezone.localdate(verified_at) if verified_at else None,
    )


def _badges_of(history: list[tuple[str, Decimal, datetime]], verified: bool, verified_at, now: datetime) -> list[Badge]:
    """One person's badges from their earning and correction entries, oldest first."""
    badges = []
    first_help = next((at for reason, _hours_, at in history if reason == LedgerEntry.Reason.HELP_CONFIRMED), None)
    if first_help is not None:
        badges.append(_first_help(first_help))
    first_earned = next((at for reason, _hours_, at in history if reason in LedgerEntry.EARNING), None)
    if first_earned is not None and now - first_earned >= SERVICE_YEAR:
        badges.append(_year_of_service(first_earned))
    # A milestone is held while the hours are at or above it; its date is the last time the
    # running total rose to it (a correction below it and back up again moves the date).
    running, reached = Decimal("0"), {}
    for _reason, hours, at in history:
        before, running = running, running + hours
        for milestone in HOUR_MILESTONES:
            if before < milestone <= running:
                reached[milestone] = at
    badges.extend(_hours(milestone, reached[milestone]) for milestone in HOUR_MILESTONES if running >= milestone)
    if verified:
        badges.append(_verified_professional(verified_at))
    return badges


def badges_for(user_ids: Iterable[int]) -> dict[int, list[Badge]]:
    """Each person's badges, computed from the ledger and the talent pool: two queries
    whatever the number of people."""
    ids = set(user_ids)
    if not ids:
        return {}
    now = timezone.now()
    history: dict[int, list[tuple[str, Decimal, datetime]]] = defaultdict(list)
    entries = (
        LedgerEntry.objects.filter(user__in=ids, reason__in=EARNED_OR_CORRECTED)
        .order_by("created_at", "pk")
        .values_list("user_id", "reason", "hours", "created_at")
    )
    for user_id, reason, hours, created_at in entries:
        history[user_id].append((reason, hours, created_at))
    # A skill that needs a credential, verified by one valid today (talent_pool's own rule);
    # the filter comes first, so the earliest decision is taken among those credentials only.
    verified = dict(
        TalentSkill.objects.filter(talent__user__in=ids, skill__requires_credential=True)
        .filter(verified_skill_q(timezone.localdate()))
        .values("talent__user")
        .annotate(since=Min("credentials__decided_at"))
        .values_list("talent__user", "since")
    )
    return {user_id: _badges_of(history[user_id], user_id in verified, verified.get(user_id), now) for user_id in ids}


# --- A person's points ---------------------------------------------------------------------

HISTORY_SIZE = 100


@dataclass(frozen=True)
class PointsOverview:
    """What the person sees of their own points: the whole balance, badges, the latest entries
    (`more` when older ones are not shown) and their redemptions."""

    totals: dict[str, Decimal | int]
    badges: list[Badge]
    entries: list[LedgerEntry]
    more: bool
    redemptions: list[Redemption]


def redemptions_of(user: User) -> QuerySet[Redemption]:
    """The person's own redemptions, newest first."""
    return Redemption.objects.filter(user=user).select_related("reward__community").order_by("-created_at", "-pk")


def points_overview(user: User) -> PointsOverview:
    entries = list(LedgerEntry.objects.filter(user=user).select_related("community")[: HISTORY_SIZE + 1])
    redemptions = list(redemptions_of(user))
    return PointsOverview(
        totals=ledger_totals(user),
        badges=badges_for([user.pk])[user.pk],
        entries=entries[:HISTORY_SIZE],
        more=len(entries) > HISTORY_SIZE,
        redemptions=redemptions,
    )


@dataclass(frozen=True)
class MemberLedger:
    """A member's ledger as their committee sees it: the whole balance (a correction may not
    take it below zero), and the entries and totals of this community only."""

    membership: Membership
    totals: dict[str, Decimal | int]
    community_totals: dict[str, Decimal | int]
    entries: list[LedgerEntry]
    more: bool
    badges: list[Badge]


def member_ledger_for(viewer: AnyUser, membership_id: int) -> MemberLedger | None:
    """None where the viewer may not adjust that member's points: a missing membership and
    someone else's look the same."""
    membership = (
        memberships_ledger_adjustable_by(viewer)
        .select_related("user__profile", "community")
        .filter(pk=membership_id)
        .first()
    )
    if membership is None:
        return None
    in_community = LedgerEntry.objects.filter(user=membership.user_id, community=membership.community_id)
    entries = list(in_community.select_related("created_by__profile")[: HISTORY_SIZE + 1])
    return MemberLedger(
        membership=membership,
        totals=ledger_totals(membership.user),
        community_totals=in_community.aggregate(
            points=Coalesce(Sum("points"), 0), hours=Coalesce(Sum("hours"), Decimal("0"))
        ),
        entries=entries[:HISTORY_SIZE],
        more=len(entries) > HISTORY_SIZE,
        badges=badges_for([membership.user_id])[membership.user_id],
    )


# --- The monthly leaderboard ------------------------------------------------------------------

LEADERBOARD_SIZE = 20
# The months one may look back on, besides the current one.
LEADERBOARD_MONTHS_BACK = 12


def leaderboard_months(today: date | None = None) -> list[date]:
    """The first day of this month and of each of the twelve before it, newest first."""
    month = (today or timezone.localdate()).replace(day=1)
    months = []
    for _step in range(LEADERBOARD_MONTHS_BACK + 1):
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return months


def _month_span(month: date) -> tuple[datetime, datetime]:
    """The month as an instant range in the site's time zone: a month is Xiamen's month."""
    following = (month.replace(day=1) + timedelta(days=32)).replace(day=1)
    return (
        timezone.make_aware(datetime.combine(month.replace(day=1), time.min)),
        timezone.make_aware(datetime.combine(following, time.min)),
    )


@dataclass(frozen=True)
class LeaderRow:
    rank: int
    user_id: int
    name: str
    points: int
    hours: Decimal
    badges: list[Badge]


def leaderboard(community: Community, month: date, *, viewer: AnyUser | None = None) -> list[LeaderRow]:
    """The community's top members by points earned in the month (earning entries and the
    committee's corrections dated in it, never spending), ties by hours, then name.

    Only approved members appear, and never a child, anyone who asked to be left off, or a
    deleted account. With `viewer`, nor anyone who blocked them (the others keep their places).
    Three queries, four with a viewer, whatever the size of the community.
    """
    start, end = _month_span(month)
    shown = Membership.objects.filter(
        community=community,
        status=Membership.Status.APPROVED,
        user__is_active=True,
        user__profile__is_minor=False,
        user__profile__leaderboard_opt_out=False,
        user__profile__deleted_at__isnull=True,
    ).values("user")
    top = list(
        LedgerEntry.objects.filter(
            community=community,
            created_at__gte=start,
            created_at__lt=end,
            reason__in=EARNED_OR_CORRECTED,
            user__in=shown,
        )
        .values("user", "user__profile__display_name")
        .annotate(month_points=Sum("points"), month_hours=Sum("hours"))
        .filter(month_points__gt=0)
        .order_by("-month_points", "-month_hours", "user__profile__display_name", "user")[:LEADERBOARD_SIZE]
    )
    badges = badges_for(row["user"] for row in top)
    rows: list[LeaderRow] = []
    for position, row in enumerate(top, start=1):
        # Equal points and hours share a place; the name only orders them on the page.
        tied = rows and (rows[-1].points, rows[-1].hours) == (row["month_points"], row["month_hours"])
        rows.append(
            LeaderRow(
                rank=rows[-1].rank if tied else position,
                user_id=row["user"],
                name=row["user__profile__display_name"],
                points=row["month_points"],
                hours=row["month_hours"],
                badges=badges[row["user"]],
            )
        )
    if viewer is not None and rows:
        seen = set(people_visible_to(viewer).filter(pk__in=[row.user_id for row in rows]).values_list("pk", flat=True))
        rows = [row for row in rows if row.user_id in seen]
    return rows


# --- The catalogue and redemptions ----------------------------------------------------------

QUEUE_SIZE = 50


@dataclass(frozen=True)
class Catalogue:
    community: Community
    rewards: list[Reward]


def catalogues_for(user: AnyUser) -> list[Catalogue]:
    """The offered rewards of each of the user's communities, cheapest first: two queries."""
    communities = list(communities_visible_to(user).order_by("name"))
    by_community: dict[int, list[Reward]] = defaultdict(list)
    for reward in Reward.objects.filter(community__in=[c.pk for c in communities], active=True):
        by_community[reward.community_id].append(reward)
    return [Catalogue(community=c, rewards=by_community[c.pk]) for c in communities]


def rewards_to_manage(user: AnyUser) -> QuerySet[Reward]:
    """The catalogues the user's committee keeps, with how many redemptions wait for each."""
    return (
        rewards_managed_by(user)
        .select_related("community")
        .annotate(waiting=Count("redemptions", filter=Q(redemptions__status=Redemption.Status.PENDING)))
        .order_by("community__name", "-active", "points", "title")
    )


@dataclass(frozen=True)
class RedemptionQueue:
    """Waiting redemptions, oldest first; `more` when there are more than shown."""

    redemptions: list[Redemption]
    more: bool


def redemption_queue_for(user: AnyUser) -> RedemptionQueue:
    waiting = list(
        redemptions_decidable_by(user)
        .filter(status=Redemption.Status.PENDING)
        .select_related("reward__community", "user__profile")
        .order_by("created_at", "pk")[: QUEUE_SIZE + 1]
    )
    return RedemptionQueue(redemptions=waiting[:QUEUE_SIZE], more=len(waiting) > QUEUE_SIZE)
