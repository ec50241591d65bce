"""Reads for moderation: what each open report lets the reviewer do, the hidden content they may
restore, the suspensions in force they may lift, and one member's record.

Every list is a fixed number of queries whatever its length: the rules are the permissions'
queryset twins (messages_moderated_by, posts_moderated_by, memberships_moderated_by…) asked
once for all the rows on the page.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from aid_posts.models import AidPost, WelfareRole
from aid_posts.permissions import posts_moderated_by, roles_moderated_by
from messaging.models import Message
from messaging.permissions import messages_moderated_by
from neighbors.models import AuditEntry, Membership, Profile, Suspension, User
from neighbors.permissions import (
    can_moderate_member,
    can_remove_member,
    memberships_moderated_by,
    memberships_removable_by,
    staff_communities,
)

from ..models import Report
from .reports import ReportQueue, open_reports_for

# Rows per section of the hidden-content and suspension pages, newest decisions first.
LIST_SIZE = 100


def _hideable_ids(user: User, reports: list[Report]) -> set[tuple[str, int]]:
    """(kind, id) of the report targets the user may hide now: one query per kind present."""
    ids: dict[str, set[int]] = defaultdict(set)
    for report in reports:
        ids[report.target_kind].add(report.target_id)
    hideable: set[tuple[str, int]] = set()
    if ids[Report.TargetKind.MESSAGE]:
        rows = messages_moderated_by(user).filter(
            pk__in=ids[Report.TargetKind.MESSAGE],
            status=Message.Status.VISIBLE,
            hidden_at__isnull=True,
            deleted_at__isnull=True,
        )
        hideable |= {(Report.TargetKind.MESSAGE, pk) for pk in rows.values_list("pk", flat=True)}
    if ids[Report.TargetKind.REQUEST]:
        rows = posts_moderated_by(user).filter(pk__in=ids[Report.TargetKind.REQUEST], hidden_at__isnull=True)
        hideable |= {(Report.TargetKind.REQUEST, pk) for pk in rows.values_list("pk", flat=True)}
    if ids[Report.TargetKind.ROLE]:
        rows = roles_moderated_by(user).filter(pk__in=ids[Report.TargetKind.ROLE], hidden_at__isnull=True)
        hideable |= {(Report.TargetKind.ROLE, pk) for pk in rows.values_list("pk", flat=True)}
    if ids[Report.TargetKind.PROFILE]:
        rows = Profile.objects.filter(
            user_id__in=ids[Report.TargetKind.PROFILE],
            hidden_at__isnull=True,
            user__memberships__in=memberships_moderated_by(user),
        )
        hideable |= {(Report.TargetKind.PROFILE, pk) for pk in rows.values_list("user_id", flat=True)}
    return hideable


def report_queue_for(user: User) -> ReportQueue:
    """The open reports (selectors.reports.open_reports_for), each with what the reviewer may do:

    `can_hide`; `author_membership_id` when they may warn or suspend its author (None otherwise,
    e.g. a grid worker and a committee member), `can_remove_author`; and about the author in the
    report's community, `author_warnings` (how many warnings so far) and `author_suspended_until`.
    """
    queue = open_reports_for(user)
    reports = queue.reports
    hideable = _hideable_ids(user, reports)
    authors = {report.author_id for report in reports if report.author_id is not None}
    communities = {report.community_id for report in reports if report.community_id is not None}
    moderated: dict[tuple[int, int], int] = {}
    removable: set[tuple[int, int]] = set()
    warnings: dict[tuple[int, int], int] = {}
    suspended: dict[tuple[int, int], datetime] = {}
    if authors and communities:
        pairs = {"user__in": authors, "community__in": communities}
        for user_id, community_id, pk in (
            memberships_moderated_by(user).filter(**pairs).values_list("user_id", "community_id", "pk")
        ):
            moderated[user_id, community_id] = pk
        removable = set(memberships_removable_by(user).filter(**pairs).values_list("user_id", "community_id"))
        counted = (
            AuditEntry.objects.filter(
                action=AuditEntry.Action.MEMBER_WARNED, subject__in=authors, community__in=communities
            )
            .values("subject", "community")
            .annotate(count=Count("pk"))
            .values_list("subject", "community", "count")
        )
        warnings = {(subject, community): count for subject, community, count in counted}
        in_force = (
            Suspension.objects.filter(
                user__in=authors, community__in=communities, lifted_at__isnull=True, ends_at__gt=timezone.now()
            )
            .values("user", "community")
            .annotate(until=Max("ends_at"))
            .values_list("user", "community", "until")
        )
        suspended = {(user_id, community): until for user_id, community, until in in_force}
    for report in reports:
        key = (report.author_id, report.community_id)
        report.can_hide = (report.target_kind, report.target_id) in hideable
        report.author_membership_id = moderated.get(key)
        report.can_remove_author = key in removable
        report.author_warnings = warnings.get(key, 0)
        report.author_suspended_until = suspended.get(key)
    return queue


@dataclass(frozen=True)
class HiddenContent:
    messages: list[Message]
    posts: list[AidPost]
    roles: list[WelfareRole]
    profiles: list[Profile]

    @property
    def empty(self) -> bool:
        return not (self.messages or self.posts or self.roles or self.profiles)


def hidden_content_for(user: User) -> HiddenContent:
    """What the committee hid that the user may restore, most recently hidden first. A request
    the held-content review rejected is not here: it was never published, and restoring it would
    publish what the review refused."""
    messages = (
        messages_moderated_by(user)
        .filter(hidden_at__isnull=False)
        .select_related("sender__profile", "conversation__community", "hidden_by__profile")
        .order_by("-hidden_at", "-pk")
    )
    posts = (
        posts_moderated_by(user)
        .filter(hidden_at__isnull=False)
        .exclude(status=AidPost.Status.CANCELLED, held_for__gt="")
        .select_related("author__profile", "community", "hidden_by__profile")
        .order_by("-hidden_at", "-pk")
    )
    roles = (
        roles_moderated_by(user)
        .filter(hidden_at__isnull=False)
        .select_related("community", "hidden_by__profile")
        .order_by("-hidden_at", "-pk")
    )
    profiles = (
        Profile.objects.filter(hidden_at__isnull=False, user__in=memberships_moderated_by(user).values("user"))
        .select_related("user", "hidden_by__profile")
        .order_by("-hidden_at", "-pk")
    )
    return HiddenContent(
        messages=list(messages[:LIST_SIZE]),
        posts=list(posts[:LIST_SIZE]),
        roles=list(roles[:LIST_SIZE]),
        profiles=list(profiles[:LIST_SIZE]),
    )


def suspensions_in_force_for(user: User) -> list[Suspension]:
    """Suspensions in force that the user may lift (of the members they may suspend), the
    soonest to end first; each with `membership_id`, for the link to the member's page."""
    moderated = memberships_moderated_by(user).filter(user=OuterRef("user"), community=OuterRef("community"))
    return list(
        Suspension.objects.filter(lifted_at__isnull=True, ends_at__gt=timezone.now())
        .filter(Exists(moderated))
        .annotate(membership_id=Subquery(moderated.values("pk")[:1]))
        .select_related("user__profile", "community", "created_by__profile")
        .order_by("ends_at", "pk")[:LIST_SIZE]
    )


def memberships_seen_by_staff(user: User) -> QuerySet[Membership]:
    """Approved members of the communities the user works for: whose page they may open. What
    they may do there is the services' rule, which says why not in a sentence."""
    return Membership.objects.filter(
        community__in=staff_communities(user).values("pk"), status=Membership.Status.APPROVED
    ).select_related("user__profile", "community", "home_place")


def suspensions_seen_by_staff(user: User) -> QuerySet[Suspension]:
    """Suspensions in the communities the user works for: which one a lift may name."""
    return Suspension.objects.filter(community__in=staff_communities(user).values("pk")).select_related(
        "community", "user__profile"
    )


@dataclass(frozen=True)
class MemberRecord:
    """One member's moderation record in one community, and what the viewer may do about it."""

    membership: Membership
    warnings: list[AuditEntry]
    suspensions: list[Suspension]
    current: Suspension | None
    can_moderate: bool
    can_remove: bool


def member_record(user: User, membership: Membership) -> MemberRecord:
    """Warnings (newest first) and suspensions (newest first) of the member in the community."""
    warnings = list(
        AuditEntry.objects.filter(
            action=AuditEntry.Action.MEMBER_WARNED, subject=membership.user_id, community=membership.community_id
        ).select_related("actor__profile")
    )
    suspensions = list(
        Suspension.objects.filter(user=membership.user_id, community=membership.community_id).select_related(
            "created_by__profile", "lifted_by__profile"
        )
    )
    now = timezone.now()
    current = max(
        (item for item in suspensions if item.lifted_at is None and item.ends_at > now),
        key=lambda item: item.ends_at,
        default=None,
    )
    return MemberRecord(
        membership=membership,
        warnings=warnings,
        suspensions=suspensions,
        current=current,
        can_moderate=can_moderate_member(user, membership),
        can_remove=can_remove_member(user, membership),
    )
