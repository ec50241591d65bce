from datetime import date

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from neighbors.models import Consent, Membership, User
from neighbors.permissions import (
    STAFF_ROLES,
    blocked_between,
    committee_communities,
    communities_visible_to,
    has_consent,
    is_committee,
    is_member,
    looks_after,
    staff_communities,
)
from talent_pool.models import TalentSkill, verified_skill_q

from .models import AidPost, Claim, Duty, RoleClaim, WelfareRole

AnyUser = User | AnonymousUser


def _active(user: AnyUser) -> bool:
    return user.is_authenticated and user.is_active


def posts_visible_to(user: AnyUser) -> QuerySet[AidPost]:
    """Members see the posts of their communities; nobody else learns a post exists.

    A post the committee hid, or one held for its review (a listed word), is seen only by its
    author, whoever posted it for them, and the community's committee and grid workers: to
    anyone else it is as if it did not exist, so nobody lists, opens, claims or reports it.
    """
    if not _active(user):
        return AidPost.objects.none()
    shown_to_all = Q(hidden_at__isnull=True) & ~Q(status=AidPost.Status.HELD)
    return AidPost.objects.filter(community__in=communities_visible_to(user)).filter(
        shown_to_all | Q(author=user) | Q(assisted_by=user) | Q(community__in=staff_communities(user))
    )


def can_view_post(user: AnyUser, post: AidPost) -> bool:
    return posts_visible_to(user).filter(pk=post.pk).exists()


def acts_for(user: AnyUser, post: AidPost) -> bool:
    """The resident the request is for, or, while they have not taken it over, the committee
    member or grid worker who posted it for them (代办) and relays for them."""
    if not user.is_authenticated:
        return False
    return post.author_id == user.pk or (post.is_relayed and post.assisted_by_id == user.pk)


def _staff_membership(user: AnyUser, community_id: int) -> Membership | None:
    if not user.is_authenticated or not user.is_active:
        return None
    return Membership.objects.filter(
        user=user, community_id=community_id, status=Membership.Status.APPROVED, role__in=STAFF_ROLES
    ).first()


def can_manage_post(user: AnyUser, post: AidPost) -> bool:
    """The committee of the post's community, or the grid worker of its building's grid: the
    people whose queue an escalated request reaches, who can invite a talent or take it on."""
    staff = _staff_membership(user, post.community_id)
    if staff is None:
        return False
    if staff.role == Membership.Role.COMMITTEE:
        return True
    return post.place.grid_id is not None and staff.grids.filter(pk=post.place.grid_id).exists()


def posts_managed_by(user: AnyUser) -> QuerySet[AidPost]:
    """The queryset twin of can_manage_post.

    The communities and buildings are read first (one query) and go in as literal lists: with
    them PostgreSQL ORs two index scans, on the community and on the building. As subqueries
    joined through the building's grid it could use neither and filtered every request in the
    district: the committee's queue took 16 s at 1M requests (bench/growth.py)."""
    if not user.is_authenticated or not user.is_active:
        return AidPost.objects.none()
    rows = Membership.objects.filter(
        user=user,
        status=Membership.Status.APPROVED,
        role__in=(Membership.Role.COMMITTEE, Membership.Role.GRID_WORKER),
    ).values_list("role", "community_id", "grids__places")
    communities = sorted({community for role, community, _place in rows if role == Membership.Role.COMMITTEE})
    places = sorted(
        {place for role, _community, place in rows if role == Membership.Role.GRID_WORKER and place is not None}
    )
    scope = Q(pk__in=[])
    if communities:
        scope |= Q(community_id__in=communities)
    if places:
        scope |= Q(place_id__in=places)
    return AidPost.objects.filter(scope)


def can_post_for(user: AnyUser, membership: Membership) -> bool:
    """Assisted posting: staff who look after an approved member may post on their behalf."""
    return membership.status == Membership.Status.APPROVED and looks_after(user, membership)


def has_live_claim(user: AnyUser, post: AidPost) -> bool:
    return user.is_authenticated and post.claims.filter(helper=user.pk, status__in=Claim.LIVE).exists()


def can_claim_post(user: AnyUser, post: AidPost) -> bool:
    """Open with a seat free, not expired, not hidden, someone else's (and not one the user
    relays), visible, not already offered, and neither has blocked the other. A suspension
    is the service's to refuse, in words that say until when and why."""
    return (
        user.is_authenticated
        and post.status == AidPost.Status.OPEN
        and post.hidden_at is None
        and post.live_claims < post.seats
        and post.expires_at > timezone.now()
        and post.author_id != user.pk
        and post.assisted_by_id != user.pk
        and can_view_post(user, post)
        and not has_live_claim(user, post)
        and not blocked_between(user, post.author)
    )


def can_decide_claim(user: AnyUser, claim: Claim) -> bool:
    return claim.status == Claim.Status.PENDING and acts_for(user, claim.post)


def can_withdraw_claim(user: AnyUser, claim: Claim) -> bool:
    return claim.status == Claim.Status.PENDING and claim.helper_id == user.pk


def can_start(user: AnyUser, post: AidPost, accepted_count: int) -> bool:
    """Go ahead with the helpers accepted so far, giving up the seats still free."""
    return post.status in AidPost.SEEKING and accepted_count > 0 and acts_for(user, post)


def can_mark_done(user: AnyUser, post: AidPost, claim: Claim | None) -> bool:
    """An accepted helper marks their own part done, once, while the request is in progress."""
    return (
        post.status == AidPost.Status.IN_PROGRESS
        and claim is not None
        and claim.status == Claim.Status.ACCEPTED
        and claim.helper_id == user.pk
        and claim.done_at is None
    )


def can_confirm(user: AnyUser, post: AidPost) -> bool:
    return post.status == AidPost.Status.DONE and acts_for(user, post)


def can_dispute(user: AnyUser, post: AidPost) -> bool:
    return post.status == AidPost.Status.DONE and acts_for(user, post)


# A request may be called off while it seeks help, and while it is held for the committee's
# review: its author need not wait for a decision on what they no longer want posted.
CANCELLABLE = (*AidPost.SEEKING, AidPost.Status.HELD)


def can_cancel(user: AnyUser, post: AidPost) -> bool:
    return post.status in CANCELLABLE and acts_for(user, post)


def can_take_over(user: AnyUser, post: AidPost) -> bool:
    """The resident takes a request posted for them into their own hands."""
    return user.is_authenticated and post.author_id == user.pk and post.is_relayed and post.status in AidPost.LIVE


def is_helper_on(user: AnyUser, post: AidPost) -> bool:
    return user.is_authenticated and post.claims.filter(helper=user.pk, status=Claim.Status.ACCEPTED).exists()


def can_resolve_dispute(user: AnyUser, post: AidPost) -> bool:
    """The committee decides a dispute, never one of the people in it."""
    return (
        post.status == AidPost.Status.DISPUTED
        and is_committee(user, post.community)
        and not acts_for(user, post)
        and post.author_id != user.pk
        and not is_helper_on(user, post)
    )


def can_rate(user: AnyUser, post: AidPost) -> bool:
    return post.status == AidPost.Status.CONFIRMED and acts_for(user, post) and not hasattr(post, "feedback")


def can_follow_up(user: AnyUser, post: AidPost) -> bool:
    """回访 after a request is finished with help given: confirmed, or closed after a dispute."""
    return post.status in (AidPost.Status.CONFIRMED, AidPost.Status.CLOSED) and is_committee(user, post.community)


def can_view_sensitive(user: AnyUser, post: AidPost) -> bool:
    """The private details: while the author's health consent stands, for those who act for
    the author and the accepted helpers, nobody else (not even the committee)."""
    if not post.sensitive_details or not has_consent(post.author, Consent.Kind.HEALTH):
        return False
    return acts_for(user, post) or is_helper_on(user, post)


# --- Welfare roles -----------------------------------------------------------------


def roles_visible_to(user: AnyUser) -> QuerySet[WelfareRole]:
    """Members see the roles of their communities; nobody else learns a role exists. One the
    committee hid only the community's committee and grid workers (and its creator) see."""
    if not _active(user):
        return WelfareRole.objects.none()
    return WelfareRole.objects.filter(community__in=communities_visible_to(user)).filter(
        Q(hidden_at__isnull=True) | Q(created_by=user) | Q(community__in=staff_communities(user))
    )


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
    """Not hidden, in its term, a member, qualified, no live claim yet; a suspension is the
    service's to refuse, with its reason."""
    return (
        role.hidden_at is None
        and role.term_end >= day
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


# --- Moderation --------------------------------------------------------------------


def posts_moderated_by(user: AnyUser) -> QuerySet[AidPost]:
    """Requests the user may hide and restore: those of the communities they work for (the
    committee's and grid workers' report queue), never one they wrote or posted for someone."""
    if not _active(user):
        return AidPost.objects.none()
    return (
        AidPost.objects.filter(community__in=staff_communities(user).values("pk"))
        .exclude(author=user)
        .exclude(assisted_by=user)
    )


def can_moderate_post(user: AnyUser, post: AidPost) -> bool:
    return posts_moderated_by(user).filter(pk=post.pk).exists()


def posts_reviewable_by(user: AnyUser) -> QuerySet[AidPost]:
    """Requests the filter held (now or before a decision) in the communities the person works
    for, never those they wrote or posted for a resident. Any state: the services' conditional
    updates tell "already decided" apart from "not yours"."""
    if not _active(user):
        return AidPost.objects.none()
    return (
        AidPost.objects.filter(community__in=staff_communities(user).values("pk"))
        .exclude(held_for="")
        .exclude(author=user)
        .exclude(assisted_by=user)
    )


def can_review_post(user: AnyUser, post: AidPost) -> bool:
    return posts_reviewable_by(user).filter(pk=post.pk).exists()


def roles_moderated_by(user: AnyUser) -> QuerySet[WelfareRole]:
    """Welfare roles are the committee's own: only it hides and restores them."""
    if not _active(user):
        return WelfareRole.objects.none()
    return WelfareRole.objects.filter(community__in=committee_communities(user).values("pk"))


def can_moderate_role(user: AnyUser, role: WelfareRole) -> bool:
    return roles_moderated_by(user).filter(pk=role.pk).exists()
