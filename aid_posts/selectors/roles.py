from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from neighbors.models import User
from neighbors.permissions import committee_communities

from ..models import Duty, RoleClaim, WelfareRole
from ..permissions import duties_confirmable_by, role_claims_decidable_by, roles_visible_to


def _count_per_role(model: type[RoleClaim] | type[Duty], status: str) -> Coalesce:
    """A subquery count per role, so that two counts never multiply each other's rows."""
    counted = (
        model.objects.filter(role=OuterRef("pk"), status=status)
        .order_by()
        .values("role")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counted), 0)


def _holders() -> Prefetch:
    approved = RoleClaim.objects.filter(status=RoleClaim.Status.APPROVED).select_related("holder__profile")
    return Prefetch("claims", queryset=approved, to_attr="holdings")


def role_list(user: User, *, today: date) -> QuerySet[WelfareRole]:
    """The roles of the user's communities whose term is not over, with seats taken and holders;
    not those the committee hid (its staff find them among the hidden content)."""
    return (
        roles_visible_to(user)
        .filter(term_end__gte=today, hidden_at__isnull=True)
        .select_related("community", "place", "skill")
        .annotate(seats_taken=_count_per_role(RoleClaim, RoleClaim.Status.APPROVED))
        .annotate(seats_free=F("seats") - F("seats_taken"))
        .prefetch_related(_holders())
    )


def roles_needing_attention(user: User, *, today: date) -> QuerySet[WelfareRole]:
    """The roles of the user's committee communities that ask for a decision or a new holder.

    A term ending within settings.ROLE_TERM_ENDING_DAYS, a free seat in a term not yet
    over, or claims or duties waiting (those still count after the term ends).
    """
    ending_by = today + timedelta(days=settings.ROLE_TERM_ENDING_DAYS)
    current = Q(term_end__gte=today)
    return (
        WelfareRole.objects.filter(community__in=committee_communities(user))
        .select_related("community", "place", "skill")
        .annotate(
            seats_taken=_count_per_role(RoleClaim, RoleClaim.Status.APPROVED),
            pending_claims=_count_per_role(RoleClaim, RoleClaim.Status.PENDING),
            pending_duties=_count_per_role(Duty, Duty.Status.PENDING),
        )
        .annotate(seats_free=F("seats") - F("seats_taken"))
        .filter(
            (current & Q(term_end__lte=ending_by))
            | (current & Q(seats_free__gt=0))
            | Q(pending_claims__gt=0)
            | Q(pending_duties__gt=0)
        )
    )


def role_holders(role: WelfareRole) -> QuerySet[RoleClaim]:
    return role.claims.filter(status=RoleClaim.Status.APPROVED).select_related("holder__profile")


def role_claim_of(user: User, role: WelfareRole) -> RoleClaim | None:
    """The user's latest claim on the role, live or not: its status is theirs to see."""
    return role.claims.filter(holder=user.pk).order_by("-created_at", "-id").first()


def role_claims_to_decide(user: User, role: WelfareRole) -> QuerySet[RoleClaim]:
    """The claims on the role waiting for this committee member (never their own)."""
    return (
        role_claims_decidable_by(user)
        .filter(role=role, status=RoleClaim.Status.PENDING)
        .select_related("holder__profile")
    )


def duties_of(user: User, role: WelfareRole) -> QuerySet[Duty]:
    return role.duties.filter(holder=user.pk)


def duties_to_confirm(user: User, role: WelfareRole) -> QuerySet[Duty]:
    """The duties on the role waiting for this committee member's confirmation (never their own)."""
    return (
        duties_confirmable_by(user)
        .filter(role=role, status=Duty.Status.PENDING)
        .select_related("holder__profile")
        .order_by("served_on", "id")
    )
