"""Who may see and decide what in the talent pool."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from neighbors.models import Membership, User
from neighbors.permissions import committee_communities, people_visible_to

from .models import Credential, TalentSkill

AnyUser = User | AnonymousUser


def credentials_decidable_by(user: AnyUser) -> QuerySet[Credential]:
    """Credentials of members of the user's committee communities, never their own. Any state:
    the services' conditional updates tell "already decided" apart from "not yours"."""
    if not (user.is_authenticated and user.is_active):
        return Credential.objects.none()
    members = Membership.objects.filter(
        community__in=committee_communities(user), status=Membership.Status.APPROVED
    ).values("user")
    return Credential.objects.filter(talent_skill__talent__user__in=members).exclude(talent_skill__talent__user=user)


def can_decide_credential(user: AnyUser, credential: Credential) -> bool:
    return credentials_decidable_by(user).filter(pk=credential.pk).exists()


def credentials_visible_to(user: AnyUser) -> QuerySet[Credential]:
    """The talent's own, and those the user's committee may decide or has decided. The
    certificate carries ID numbers: no neighbour sees it, only the badge it earns."""
    if not (user.is_authenticated and user.is_active):
        return Credential.objects.none()
    members = Membership.objects.filter(
        community__in=committee_communities(user), status=Membership.Status.APPROVED
    ).values("user")
    own = Credential.objects.filter(talent_skill__talent__user=user)
    return own | Credential.objects.filter(talent_skill__talent__user__in=members)


def can_view_credential(user: AnyUser, credential: Credential) -> bool:
    return credentials_visible_to(user).filter(pk=credential.pk).exists()


def can_vouch_for(user: AnyUser, talent_skill: TalentSkill) -> bool:
    """A committee member of one of the talent's communities, not the talent, for a skill without credentials."""
    if not (user.is_authenticated and user.is_active) or talent_skill.skill.requires_credential:
        return False
    talent_user_id = talent_skill.talent.user_id
    if talent_user_id == user.pk:
        return False
    return (
        committee_communities(user)
        .filter(memberships__user_id=talent_user_id, memberships__status=Membership.Status.APPROVED)
        .exists()
    )


def talent_visible_to(user: AnyUser, talent_user: User) -> bool:
    return people_visible_to(user).filter(pk=talent_user.pk).exists()
