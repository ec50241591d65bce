"""Who may do what in a community. Each rule lives here once, with its queryset twin."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import (
    Block,
    Community,
    Consent,
    ContactMethod,
    ContactShare,
    Membership,
    Partnership,
    Place,
    Profile,
    Suspension,
    User,
)

AnyUser = User | AnonymousUser

STAFF_ROLES = (Membership.Role.COMMITTEE, Membership.Role.GRID_WORKER)
# Who each contact scope reaches, besides the owner. Scopes widen in this order.
SCOPE_AUDIENCES: dict[str, frozenset[str]] = {
    ContactMethod.Scope.PRIVATE: frozenset(),
    ContactMethod.Scope.PARTNERS: frozenset({"partners"}),
    ContactMethod.Scope.COMMITTEE: frozenset({"partners", "committee"}),
    ContactMethod.Scope.COMMUNITY: frozenset({"partners", "committee", "community"}),
}
# Showing a resident's details to another resident is giving them to a third party
# (PIPL art. 23): without that consent only the committee, which runs the site, may look.
NEEDS_SHARING_CONSENT = frozenset({"partners", "community"})
COMMUNITY_SUBJECT_PREFIX = "community:"


def _active(user: AnyUser) -> bool:
    return user.is_authenticated and user.is_active


def communities_visible_to(user: AnyUser) -> QuerySet[Community]:
    """A member sees only the communities they belong to."""
    if not _active(user):
        return Community.objects.none()
    return Community.objects.filter(memberships__user=user, memberships__status=Membership.Status.APPROVED).distinct()


def is_member(user: AnyUser, community: Community) -> bool:
    return communities_visible_to(user).filter(pk=community.pk).exists()


def _communities_with_role(user: AnyUser, roles) -> QuerySet[Community]:
    if not _active(user):
        return Community.objects.none()
    return Community.objects.filter(
        memberships__user=user, memberships__status=Membership.Status.APPROVED, memberships__role__in=roles
    ).distinct()


def committee_communities(user: AnyUser) -> QuerySet[Community]:
    return _communities_with_role(user, [Membership.Role.COMMITTEE])


def is_committee(user: AnyUser, community: Community) -> bool:
    return committee_communities(user).filter(pk=community.pk).exists()


def staff_communities(user: AnyUser) -> QuerySet[Community]:
    """Communities where the user works for the committee: as a member of it or as a grid worker."""
    return _communities_with_role(user, STAFF_ROLES)


def looks_after(user: AnyUser, membership: Membership) -> bool:
    """The committee of the member's community, or the grid worker of their building's grid."""
    if not _active(user):
        return False
    staff = Membership.objects.filter(
        user=user, community_id=membership.community_id, status=Membership.Status.APPROVED
    ).first()
    if staff is None or staff.pk == membership.pk:
        return False
    if staff.role == Membership.Role.COMMITTEE:
        return True
    return (
        staff.role == Membership.Role.GRID_WORKER
        and Place.objects.filter(pk=membership.home_place_id, grid__in=staff.grids.all()).exists()
    )


def memberships_looked_after_by(user: AnyUser) -> QuerySet[Membership]:
    """The queryset twin of looks_after: approved members of the user's committee communities,
    or living in the buildings of the grids they work, never themselves."""
    if not _active(user):
        return Membership.objects.none()
    staff = Membership.objects.filter(user=user, status=Membership.Status.APPROVED)
    committee = staff.filter(role=Membership.Role.COMMITTEE).values("community")
    grids = staff.filter(role=Membership.Role.GRID_WORKER).values("grids")
    return (
        Membership.objects.filter(status=Membership.Status.APPROVED)
        .filter(Q(community__in=committee) | Q(home_place__grid__in=grids))
        .exclude(user=user)
    )


def memberships_decidable_by(user: AnyUser) -> QuerySet[Membership]:
    """Pending requests the user may decide: all of their committee's, or, for a grid
    worker, those whose home building is in one of their grids. Never their own."""
    if not _active(user):
        return Membership.objects.none()
    own_grids = Membership.objects.filter(
        user=user, status=Membership.Status.APPROVED, role=Membership.Role.GRID_WORKER
    ).values("grids")
    return (
        Membership.objects.filter(status=Membership.Status.PENDING)
        .filter(Q(community__in=committee_communities(user)) | Q(home_place__grid__in=own_grids))
        .exclude(user=user)
        .distinct()
    )


def can_decide_membership(user: AnyUser, membership: Membership) -> bool:
    return memberships_decidable_by(user).filter(pk=membership.pk).exists()


def memberships_managed_by(user: AnyUser) -> QuerySet[Membership]:
    """Approved members whose role the user may change: in their committee's communities, not themselves."""
    if not _active(user):
        return Membership.objects.none()
    return Membership.objects.filter(
        status=Membership.Status.APPROVED, community__in=committee_communities(user)
    ).exclude(user=user)


def can_change_role(user: AnyUser, membership: Membership) -> bool:
    return memberships_managed_by(user).filter(pk=membership.pk).exists()


def can_leave(user: AnyUser, membership: Membership) -> bool:
    return (
        _active(user)
        and membership.user_id == user.pk
        and membership.status in (Membership.Status.PENDING, Membership.Status.APPROVED)
    )


def blocked_between(a: AnyUser, b: AnyUser) -> bool:
    """Either has blocked the other: no messages, no claims between them."""
    if not (a.is_authenticated and b.is_authenticated):
        return False
    return Block.objects.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a)).exists()


def blocked_with_any(user: AnyUser, people: QuerySet) -> bool:
    """Whether the user and any of `people` (a queryset of user ids) have blocked one another."""
    if not user.is_authenticated:
        return False
    return Block.objects.filter(Q(blocker=user, blocked__in=people) | Q(blocker__in=people, blocked=user)).exists()


def people_visible_to(user: AnyUser) -> QuerySet[User]:
    """People who share an approved community with the user and have not blocked them."""
    if not _active(user):
        return User.objects.none()
    shared = Membership.objects.filter(
        status=Membership.Status.APPROVED, community__in=communities_visible_to(user)
    ).values("user")
    return (
        User.objects.filter(pk__in=shared, is_active=True)
        .exclude(blocks__blocked=user)
        .exclude(profile__deleted_at__isnull=False)
    )


def can_view_person(viewer: AnyUser, person: User) -> bool:
    return people_visible_to(viewer).filter(pk=person.pk).exists()


def has_consent(user: AnyUser, kind: str) -> bool:
    """A live consent to the current version of that kind's text."""
    if not user.is_authenticated:
        return False
    return Consent.objects.filter(
        user=user, kind=kind, version=settings.CONSENT_VERSIONS[kind], withdrawn_at__isnull=True
    ).exists()


def is_minor(user: AnyUser) -> bool:
    return user.is_authenticated and Profile.objects.filter(user=user, is_minor=True).exists()


def users_sharing_location() -> QuerySet[User]:
    """The queryset twin of can_use_location: live consent to the current text, and not a child."""
    return User.objects.filter(
        consents__kind=Consent.Kind.LOCATION,
        consents__version=settings.CONSENT_VERSIONS[Consent.Kind.LOCATION],
        consents__withdrawn_at__isnull=True,
        profile__is_minor=False,
    )


def can_use_location(user: AnyUser) -> bool:
    """Distances from the user's home building: with their consent, and never for a child."""
    return has_consent(user, Consent.Kind.LOCATION) and not is_minor(user)


def active_partnerships(*, user: AnyUser, partner: AnyUser) -> QuerySet[Partnership]:
    """Grants by which `partner` may see `user`'s partner-scoped details now."""
    if not (user.is_authenticated and partner.is_authenticated):
        return Partnership.objects.none()
    return Partnership.objects.filter(user=user, partner=partner).filter(
        Q(until__isnull=True) | Q(until__gt=timezone.now())
    )


def active_contact_shares(*, owner: User, viewer: AnyUser, kind: str, subject: str) -> bool:
    """Whether `owner` shared their `kind` with `viewer` about `subject`, and it has not run out."""
    return ContactShare.objects.filter(
        owner=owner, viewer=viewer, kind=kind, subject=subject, until__gt=timezone.now()
    ).exists()


def community_subject(community_id: int) -> str:
    return f"{COMMUNITY_SUBJECT_PREFIX}{community_id}"


def community_of_subject(subject: str) -> int | None:
    """The community a "community:N" subject names; None for a post or a role."""
    if not subject.startswith(COMMUNITY_SUBJECT_PREFIX):
        return None
    number = subject.removeprefix(COMMUNITY_SUBJECT_PREFIX)
    return int(number) if number.isdecimal() else -1


def contact_audiences(owner: User, scope: str) -> frozenset[str]:
    """Who the owner's chosen scope reaches today, after their consents and age."""
    if is_minor(owner):
        return frozenset()
    audiences = SCOPE_AUDIENCES[scope]
    if not has_consent(owner, Consent.Kind.CONTACT_SHARING):
        audiences -= NEEDS_SHARING_CONSENT
    return audiences


def contact_ground(viewer: AnyUser, owner: User, *, scope: str, subject: str, kind: str = "") -> str | None:
    """Which audience lets `viewer` see a detail of `owner` about `subject`, or None.

    The subject is what the viewer gives as the reason to look: a post they share an
    accepted claim on ("aid_post:12"), or a community both belong to ("community:3").
    With `kind`, a detail the owner shared with the viewer by name about that subject
    ("shared") opens it whatever its scope; never a child's.
    """
    if not _active(viewer):
        return None
    if viewer.pk == owner.pk:
        return "self"
    if blocked_between(viewer, owner):
        return None
    if kind and not is_minor(owner) and active_contact_shares(owner=owner, viewer=viewer, kind=kind, subject=subject):
        return "shared"
    audiences = contact_audiences(owner, scope)
    community_id = community_of_subject(subject)
    if community_id is None:
        if "partners" in audiences and active_partnerships(user=owner, partner=viewer).filter(subject=subject).exists():
            return "partners"
        return None
    owner_membership = Membership.objects.filter(
        user=owner, community_id=community_id, status=Membership.Status.APPROVED
    ).first()
    if owner_membership is None:
        return None
    if "committee" in audiences and looks_after(viewer, owner_membership):
        return "committee"
    if "community" in audiences and communities_visible_to(viewer).filter(pk=community_id).exists():
        return "community"
    return None


def can_view_contact(viewer: AnyUser, owner: User, *, kind: str, subject: str) -> bool:
    method = ContactMethod.objects.filter(user=owner, kind=kind).only("scope").first()
    if method is None:
        return False
    return contact_ground(viewer, owner, scope=method.scope, subject=subject, kind=kind) is not None


def suspensions_in_force(user: AnyUser) -> QuerySet[Suspension]:
    """The person's suspensions that have not ended and were not lifted, in any community."""
    if not user.is_authenticated:
        return Suspension.objects.none()
    return Suspension.objects.filter(user=user, lifted_at__isnull=True, ends_at__gt=timezone.now())


def suspension_in(user: AnyUser, community_id: int | None) -> Suspension | None:
    """The suspension that stops the person posting, claiming and messaging in that community
    now (the latest-ending, where there are several), or None."""
    if community_id is None:
        return None
    return suspensions_in_force(user).filter(community_id=community_id).order_by("-ends_at").first()


def is_suspended(user: AnyUser, community_id: int | None) -> bool:
    return suspension_in(user, community_id) is not None


def memberships_ledger_adjustable_by(user: AnyUser) -> QuerySet[Membership]:
    """Approved members whose points and hours the user may award or correct: those of the
    communities where the user sits on the committee (grid workers may not), never themselves."""
    if not _active(user):
        return Membership.objects.none()
    return Membership.objects.filter(
        status=Membership.Status.APPROVED, community__in=committee_communities(user)
    ).exclude(user=user)


def can_adjust_ledger(user: AnyUser, membership: Membership) -> bool:
    return memberships_ledger_adjustable_by(user).filter(pk=membership.pk).exists()


# --- Moderation: who may warn, suspend, remove, and see what the committee hid ----------------


def memberships_moderated_by(user: AnyUser) -> QuerySet[Membership]:
    """Approved members the user may warn or suspend, or whose profile they may hide: anyone in
    their committee's communities but themselves; for a grid worker, the residents and volunteers
    of their grids. A grid worker never disciplines the committee or another grid worker: they
    work together, and one of them acting on the other is for the committee to decide."""
    if not _active(user):
        return Membership.objects.none()
    staff = Membership.objects.filter(user=user, status=Membership.Status.APPROVED)
    committee = staff.filter(role=Membership.Role.COMMITTEE).values("community")
    grids = staff.filter(role=Membership.Role.GRID_WORKER).values("grids")
    return (
        Membership.objects.filter(status=Membership.Status.APPROVED)
        .filter(
            Q(community__in=committee)
            | Q(home_place__grid__in=grids, role__in=[Membership.Role.RESIDENT, Membership.Role.VOLUNTEER])
        )
        .exclude(user=user)
    )


def can_moderate_member(user: AnyUser, membership: Membership) -> bool:
    return memberships_moderated_by(user).filter(pk=membership.pk).exists()


def memberships_removable_by(user: AnyUser) -> QuerySet[Membership]:
    """Removing someone from the community is the committee's alone: any approved member of its
    communities, a committee member too, never oneself (one leaves instead)."""
    return memberships_managed_by(user)


def can_remove_member(user: AnyUser, membership: Membership) -> bool:
    return memberships_removable_by(user).filter(pk=membership.pk).exists()


def profiles_shown_in_full_to(user: AnyUser) -> QuerySet[Profile]:
    """Profiles whose photo and "about me" the user may see: every one the committee has not
    hidden; a hidden one only by its owner and the staff of a community they belong to."""
    if not _active(user):
        return Profile.objects.filter(hidden_at__isnull=True)
    staff_of = staff_communities(user).values("pk")
    members_there = Membership.objects.filter(community__in=staff_of, status=Membership.Status.APPROVED)
    return Profile.objects.filter(Q(hidden_at__isnull=True) | Q(user=user) | Q(user__in=members_there.values("user")))


def can_see_profile_in_full(user: AnyUser, person: User) -> bool:
    return profiles_shown_in_full_to(user).filter(user=person).exists()
