from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce

from .models import Community, ContactDisclosure, LedgerEntry, Membership, Place, Profile, User
from .permissions import memberships_decidable_by


def memberships_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("community__street", "home_place", "decided_by__profile")


def communities_open_to_join(user: User) -> QuerySet[Community]:
    """Communities the user has no live request or membership in (a declined one may ask again)."""
    return (
        Community.objects.exclude(
            memberships__user=user,
            memberships__status__in=[Membership.Status.PENDING, Membership.Status.APPROVED],
        )
        .select_related("street")
        .order_by("name")
    )


def places_in(communities: QuerySet[Community]) -> QuerySet[Place]:
    return (
        Place.objects.filter(community__in=communities).select_related("community").order_by("community__name", "name")
    )


def pending_memberships_for(user: User) -> QuerySet[Membership]:
    return (
        memberships_decidable_by(user)
        .select_related("user__profile", "community", "home_place")
        .order_by("created_at", "pk")
    )


def profile_of(user: User) -> Profile:
    return Profile.objects.get(user=user)


def ledger_of(user: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(user=user).select_related("community")


def ledger_totals(user: User) -> dict[str, Decimal | int]:
    """Balances are derived from the ledger, never stored beside it."""
    return LedgerEntry.objects.filter(user=user).aggregate(
        points=Coalesce(Sum("points"), 0),
        hours=Coalesce(Sum("hours"), Decimal("0")),
    )


def disclosures_about(owner: User) -> QuerySet[ContactDisclosure]:
    return ContactDisclosure.objects.filter(owner=owner).select_related("viewer__profile")
