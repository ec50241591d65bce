from datetime import date

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from neighbors.models import User
from neighbors.permissions import (
    blocked_between,
    committee_communities,
    communities_visible_to,
    is_committee,
    is_member,
)
from talent_pool.models import TalentSkill, verified_skill_q

from .models import AidPost, Claim, Duty, RoleClaim, WelfareRole

AnyUser = User | AnonymousUser


def posts_visible_to(user: AnyUser) -> QuerySet[AidPost]:
    """Members see the posts of their communities; nobody else learns a post exists."""
    return AidPost.objects.filter(community__in=communities_visible_to(user))


def can_view_post(user: AnyUser, post: AidPost) -> bool:
    return posts_visible_to(user).filter(pk=post.pk).exists()


def can_claim_post(user: AnyUser, post: AidPost) -> bool:
    """Open, someone else's, visible, and neither has blocked the other."""
    return (
        post.status == AidPost.Status.OPEN
        and post.author_id != user.pk
        and can_view_post(user, post)
        and not blocked_between(user, post.author)
    )


def can_decide_claim(user: AnyUser, claim: Claim) -> bool:
    return claim.status == Claim.Status.PENDING and claim.post.author_id == user.pk


def can_withdraw_claim(user: AnyUser, claim: Claim) -> bool:
    return claim.status == Claim.Status.PENDING and claim.helper_id == user.pk


def can_mark_done(user: AnyUser, post: AidPost, accepted: Claim | None) -> bool:
    return post.status == AidPost.Status.IN_PROGRESS and accepted is not None and accepted.helper_id == user.pk


def can_confirm(user: AnyUser, post: AidPost) -> bool:
    return post.status == AidPost.Status.DONE and post.author_id == user.pk


def can_cancel(user: AnyUser, post: AidPost) -> bool:
    return post.status in (AidPost.Status.OPEN, AidPost.Status.CLAIMED) and post.author_id == user.pk


# --- Welfare roles -----------------------------------------------------------------


def roles_visible_to(user: AnyUser) -> QuerySet[WelfareRole]:
    """Members see the roles of their communities; nobody else learns a role exists."""
    return WelfareRole.objects.filter(community__in=communities_visible_to(user))


def can_manage_role(user: AnyUser, role: WelfareRole) -> bool:
    return is_committee(user, role.community)


def is_qualified_for(user: AnyUser, role: WelfareRole, day: date) -> bool:
    """Has the role's skill; verified that day when the skill needs a credential."""
    if not user.is_authenticated:
        return False
    skills = TalentSkill.objects.filter(talent__user=user, skill=role.skill)
    if role.skill.requires_credential:
        skills = skills.filter(verified_skill_q(day))
    return skills.exists()


def can_claim_role(user: AnyUser, role: WelfareRole, day: date) -> bool:
    return (
        role.term_end >= day
        and is_member(user, role.community)
        and is_qualified_for(user, role, day)
        and not role.claims.filter(holder=user.pk, status__in=RoleClaim.LIVE).exists()
    )


def role_claims_decidable_by(user: AnyUser) -> QuerySet[RoleClaim]:
    """Claims on the roles of the user's committee communities, never their own. Any state:
    the services' conditional updates tell "already decided" apart from "not yours"."""
    if not user.is_authenticated:
        return RoleClaim.objects.none()
    return RoleClaim.objects.filter(role__community__in=committee_communities(user)).exclude(holder=user)


def duties_confirmable_by(user: AnyUser) -> QuerySet[Duty]:
    """Duties on the roles of the user's committee communities, never their own; any state, as above."""
    if not user.is_authenticated:
        return Duty.objects.none()
    return Duty.objects.filter(role__community__in=committee_communities(user)).exclude(holder=user)


def holds_seat(user: AnyUser, role: WelfareRole) -> bool:
    return user.is_authenticated and role.claims.filter(holder=user, status=RoleClaim.Status.APPROVED).exists()
