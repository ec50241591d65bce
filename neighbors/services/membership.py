"""Joining, leaving and roles in a community."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import AuditEntry, Community, Grid, GuardianConsent, Membership, Place, Profile, RoleChange, User
from ..notices import notice_send
from ..permissions import can_change_role, can_decide_membership, can_leave
from .audit import audit_record
from .reasons import decision_reason


@dataclass(frozen=True)
class Guardian:
    """What the committee writes down when a guardian agrees for a child under 14."""

    name: str
    relation: str
    method: str


@transaction.atomic
def membership_request(*, actor: User, community: Community, home_place: Place, tenure: str) -> Membership:
    """Ask to join; a committee member (or the building's grid worker) decides."""
    if home_place.community_id != community.pk:
        raise ValidationError({"home_place": _("That building is not in the chosen community.")})
    membership = Membership.objects.select_for_update().filter(user=actor, community=community).first()
    if membership is None:
        membership = Membership(user=actor, community=community)
    elif membership.status not in (Membership.Status.DECLINED, Membership.Status.LEFT):
        raise ValidationError(_("You have already asked to join this community."))
    membership.home_place = home_place
    membership.tenure = tenure
    membership.role = Membership.Role.RESIDENT
    membership.status = Membership.Status.PENDING
    membership.decided_by = None
    membership.decided_at = None
    membership.decision_reason = ""
    membership.left_at = None
    membership.full_clean(validate_constraints=False)
    membership.save()
    membership.grids.clear()
    return membership


def _membership_decide(*, actor: User, membership: Membership, status: str, reason: str) -> Membership:
    if not can_decide_membership(actor, membership):
        raise PermissionDenied
    # Only one decision wins, even if two committee members click at once.
    decided = Membership.objects.filter(pk=membership.pk, status=Membership.Status.PENDING).update(
        status=status, decided_by=actor, decided_at=timezone.now(), decision_reason=reason
    )
    if not decided:
        raise ValidationError(_("This request has already been decided."))
    membership.refresh_from_db()
    return membership


@transaction.atomic
def membership_approve(*, actor: User, membership: Membership, guardian: Guardian | None = None) -> Membership:
    """Approve a join request. A child under 14 joins only with their guardian's consent on record."""
    if not can_decide_membership(actor, membership):
        raise PermissionDenied
    if Profile.objects.filter(user=membership.user_id, is_minor=True).exists():
        recorded = GuardianConsent.objects.filter(minor=membership.user_id, community=membership.community_id)
        if guardian is not None and not recorded.exists():
            consent = GuardianConsent(
                minor_id=membership.user_id,
                community_id=membership.community_id,
                guardian_name=guardian.name.strip(),
                relation=guardian.relation.strip(),
                method=guardian.method,
                recorded_by=actor,
            )
            consent.full_clean(validate_constraints=False)
            consent.save()
        elif not recorded.exists():
            raise ValidationError(_("This resident is under 14. Record their guardian's consent before approving."))
    membership = _membership_decide(actor=actor, membership=membership, status=Membership.Status.APPROVED, reason="")
    audit_record(
        actor=actor,
        action=AuditEntry.Action.MEMBERSHIP_APPROVED,
        community=membership.community_id,
        subject=membership.user_id,
        target=f"membership:{membership.pk}",
    )
    notice_send(
        user=membership.user,
        title=gettext_lazy("You are now a member of %(community)s"),
        params={"community": membership.community.name},
        url=reverse("neighbors:communities"),
    )
    return membership


@transaction.atomic
def membership_decline(*, actor: User, membership: Membership, reason: str) -> Membership:
    reason = decision_reason(reason, missing=_("Tell the resident why, so they know what to do next."))
    membership = _membership_decide(
        actor=actor, membership=membership, status=Membership.Status.DECLINED, reason=reason
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.MEMBERSHIP_DECLINED,
        community=membership.community_id,
        subject=membership.user_id,
        target=f"membership:{membership.pk}",
        reason=reason,
    )
    notice_send(
        user=membership.user,
        title=gettext_lazy("Your request to join %(community)s was declined"),
        params={"community": membership.community.name},
        body=reason,
        url=reverse("neighbors:communities"),
    )
    return membership


@transaction.atomic
def membership_leave(*, actor: User, membership: Membership) -> Membership:
    """One click: a pending request is withdrawn, a membership ends. Role goes back to resident."""
    if not can_leave(actor, membership):
        raise PermissionDenied
    left = Membership.objects.filter(
        pk=membership.pk, status__in=[Membership.Status.PENDING, Membership.Status.APPROVED]
    ).update(status=Membership.Status.LEFT, left_at=timezone.now(), role=Membership.Role.RESIDENT)
    if not left:
        raise ValidationError(_("You are no longer in this community."))
    membership.grids.clear()
    membership.refresh_from_db()
    return membership


@transaction.atomic
def membership_role_change(
    *, actor: User, membership: Membership, role: str, reason: str, grids: list[Grid] | None = None
) -> Membership:
    """Change a member's role, recording who did it, when, from what, to what and why."""
    if not can_change_role(actor, membership):
        raise PermissionDenied
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Choose a role from the list.")})
    reason = decision_reason(reason, missing=_("Say why the role changes; it is kept in the record."))
    grids = list(grids or [])
    if role == Membership.Role.GRID_WORKER:
        if not grids:
            raise ValidationError({"grids": _("Choose the grids this grid worker looks after.")})
        if any(grid.community_id != membership.community_id for grid in grids):
            raise ValidationError({"grids": _("Choose grids of this community.")})
    elif grids:
        raise ValidationError({"grids": _("Only grid workers look after grids.")})
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.role == role and role != Membership.Role.GRID_WORKER:
        raise ValidationError({"role": _("This member already has that role.")})
    RoleChange.objects.create(
        community_id=locked.community_id,
        user_id=locked.user_id,
        changed_by=actor,
        from_role=locked.role,
        to_role=role,
        reason=reason,
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.ROLE_CHANGED,
        community=locked.community_id,
        subject=locked.user_id,
        target=f"membership:{locked.pk}",
        reason=reason,
        detail={"from": locked.role, "to": role, "grids": [grid.pk for grid in grids]},
    )
    locked.role = role
    locked.save(update_fields=["role"])
    locked.grids.set(grids)
    return locked
