"""Who may do what in a community. Each rule lives here once, with its queryset twin."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Community, Membership, Partnership, User

AnyUser = User | AnonymousUser


def communities_visible_to(user: AnyUser) -> QuerySet[Community]:
    """A member sees only the communities they belong to."""
    if not user.is_authenticated:
        return Community.objects.none()
    return Community.objects.filter(memberships__user=user, memberships__status=Membership.Status.APPROVED).distinct()


def is_member(user: AnyUser, community: Community) -> bool:
    return communities_visible_to(user).filter(pk=community.pk).exists()


def committee_communities(user: AnyUser) -> QuerySet[Community]:
    if not user.is_authenticated:
        return Community.objects.none()
    return Community.objects.filter(
        memberships__user=user,
        memberships__status=Membership.Status.APPROVED,
        memberships__role=Membership.Role.COMMITTEE,
    ).distinct()


def is_committee(user: AnyUser, community: Community) -> bool:
    return committee_communities(user).filter(pk=community.pk).exists()


def memberships_decidable_by(user: AnyUser) -> QuerySet[Membership]:
    """Pending requests the user may approve: in their committee's communities, not their own."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(
        status=Membership.Status.PENDING, community__in=committee_communities(user)
    ).exclude(user=user)


def can_decide_membership(user: AnyUser, membership: Membership) -> bool:
    return memberships_decidable_by(user).filter(pk=membership.pk).exists()


def active_partnerships(*, user: AnyUser, partner: AnyUser) -> QuerySet[Partnership]:
    """Grants by which `partner` may see `user`'s partner-scoped details now."""
    if not (user.is_authenticated and partner.is_authenticated):
        return Partnership.objects.none()
    return Partnership.objects.filter(user=user, partner=partner).filter(
        Q(until__isnull=True) | Q(until__gt=timezone.now())
    )


def can_view_contact(viewer: AnyUser, owner: User, *, subject: str) -> bool:
    """The owner, or someone who shares an accepted claim about `subject` with them."""
    if not viewer.is_authenticated:
        return False
    if viewer.pk == owner.pk:
        return True
    return active_partnerships(user=owner, partner=viewer).filter(subject=subject).exists()
