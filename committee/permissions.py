"""Who may use the committee's workspace and review what in it, and who may see and decide
which reward, redemption and certificate.

The committee's selectors and services import these rules; this module imports none of them."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from neighbors.models import Community, Grid, Membership, Street, User
from neighbors.permissions import (
    committee_communities,
    communities_visible_to,
    is_committee,
    memberships_managed_by,
    staff_communities,
)

from .models import Certificate, Redemption, Report, Reward

AnyUser = User | AnonymousUser


def _active(user: AnyUser) -> bool:
    return user.is_authenticated and user.is_active


def can_use_workspace(user: AnyUser) -> bool:
    """Committee members and grid workers, of any community."""
    return _active(user) and staff_communities(user).exists()


def reports_reviewable_by(user: AnyUser) -> QuerySet[Report]:
    """Reports handled by the communities the person works for, never those about themselves.
    Any state: the services' conditional updates tell "already decided" apart from "not yours"."""
    if not _active(user):
        return Report.objects.none()
    return Report.objects.filter(community__in=staff_communities(user).values("pk")).exclude(author=user)


def can_review_report(user: AnyUser, report: Report) -> bool:
    return reports_reviewable_by(user).filter(pk=report.pk).exists()


# --- The dashboard and the exports -------------------------------------------------------------


def dashboard_communities(user: AnyUser) -> QuerySet[Community]:
    """Communities whose dashboard the person reads: those they work for, on the committee or as
    a grid worker (the grid worker's figures are then limited by `dashboard_grid_limit`)."""
    return staff_communities(user)


def can_view_dashboard(user: AnyUser, community: Community) -> bool:
    return dashboard_communities(user).filter(pk=community.pk).exists()


def dashboard_grid_limit(user: AnyUser, community: Community) -> QuerySet[Grid] | None:
    """The grids whose figures the person may read in the community, or None for all of it
    (the committee, including the buildings in no grid). A grid worker reads only the grids they
    look after: that is what they answer for, and the rest is the committee's. (Anyone who may
    not read the dashboard at all gets no grid: check `can_view_dashboard` first.)"""
    if is_committee(user, community):
        return None
    return Grid.objects.filter(
        community=community,
        grid_workers__user=user,
        grid_workers__community=community,
        grid_workers__status=Membership.Status.APPROVED,
        grid_workers__role=Membership.Role.GRID_WORKER,
    ).distinct()


def street_dashboard_communities(user: AnyUser, street: Street) -> QuerySet[Community]:
    """The communities of the street a street dashboard adds up for the person: those where they
    are on the committee. Grid workers have no street view: they answer for grids, not streets."""
    return committee_communities(user).filter(street=street)


def dashboard_streets(user: AnyUser) -> QuerySet[Street]:
    """The queryset twin of can_view_street_dashboard."""
    return Street.objects.filter(communities__in=committee_communities(user).values("pk")).distinct()


def can_view_street_dashboard(user: AnyUser, street: Street) -> bool:
    return street_dashboard_communities(user, street).exists()


def export_communities(user: AnyUser) -> QuerySet[Community]:
    """Communities whose data the person may export (一表通): committee members only. An export
    leaves the site with people's names and hours, beyond the audit trail and the site's own
    access rules, so it is the committee's decision, not a grid worker's; grid workers read
    their grids' figures on the dashboard."""
    return committee_communities(user)


def can_export(user: AnyUser, community: Community) -> bool:
    return export_communities(user).filter(pk=community.pk).exists()


# --- Rewards and redemptions ---------------------------------------------------------------


def rewards_visible_to(user: AnyUser) -> QuerySet[Reward]:
    """The catalogues of the user's communities, offered or withdrawn (the pages and the
    redemption service tell the two apart)."""
    return Reward.objects.filter(community__in=communities_visible_to(user).values("pk"))


def rewards_managed_by(user: AnyUser) -> QuerySet[Reward]:
    """The committee prices and stocks its community's catalogue; grid workers hand rewards
    over but do not set them."""
    return Reward.objects.filter(community__in=committee_communities(user).values("pk"))


def can_manage_rewards(user: AnyUser, community: Community) -> bool:
    return committee_communities(user).filter(pk=community.pk).exists()


def redemptions_decidable_by(user: AnyUser) -> QuerySet[Redemption]:
    """Redemptions of the rewards of the communities the user works for (committee member or
    grid worker), never their own: someone else hands a staff member their reward. Any state:
    the services' conditional updates tell "already decided" apart from "not yours"."""
    if not user.is_authenticated:
        return Redemption.objects.none()
    return Redemption.objects.filter(reward__community__in=staff_communities(user).values("pk")).exclude(user=user)


def can_decide_redemption(user: AnyUser, redemption: Redemption) -> bool:
    return redemptions_decidable_by(user).filter(pk=redemption.pk).exists()


def redemptions_cancellable_by(user: AnyUser) -> QuerySet[Redemption]:
    """Those the user may decide, and their own: a member may take back a redemption that is
    still waiting."""
    if not user.is_authenticated:
        return Redemption.objects.none()
    return redemptions_decidable_by(user) | Redemption.objects.filter(user=user)


def can_cancel_redemption(user: AnyUser, redemption: Redemption) -> bool:
    return redemptions_cancellable_by(user).filter(pk=redemption.pk).exists()


# --- Volunteer-hours certificates ----------------------------------------------------------


def memberships_certifiable_by(user: AnyUser) -> QuerySet[Membership]:
    """Approved members a person may issue a certificate to: those of the communities whose
    committee they sit on, never themselves. Grid workers do not issue: the certificate carries
    the committee's word. (The same people as a role change: neighbors' rule, reused.)"""
    return memberships_managed_by(user)


def can_issue_certificate(user: AnyUser, membership: Membership) -> bool:
    return memberships_certifiable_by(user).filter(pk=membership.pk).exists()


def certificates_visible_to(user: AnyUser) -> QuerySet[Certificate]:
    """The person's own certificates, and those of the communities they work for (committee and
    grid workers: they answer a member's questions about one)."""
    if not _active(user):
        return Certificate.objects.none()
    return Certificate.objects.filter(Q(user=user) | Q(community__in=staff_communities(user).values("pk")))


def can_view_certificate(user: AnyUser, certificate: Certificate) -> bool:
    return certificates_visible_to(user).filter(pk=certificate.pk).exists()


def certificates_managed_by(user: AnyUser) -> QuerySet[Certificate]:
    """Certificates a person may revoke: their committee's, never one of their own."""
    if not _active(user):
        return Certificate.objects.none()
    return Certificate.objects.filter(community__in=committee_communities(user).values("pk")).exclude(user=user)


def can_manage_certificate(user: AnyUser, certificate: Certificate) -> bool:
    return certificates_managed_by(user).filter(pk=certificate.pk).exists()
