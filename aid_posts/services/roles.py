"""Every write to welfare roles (公益岗位): creating them, claiming and holding seats, duties.

Seats are counted under a lock on the role row (PostgreSQL) or inside SQLite's
IMMEDIATE transaction, which takes the write lock before the count: two approvals
at once can never fill more seats than the role has.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from messaging.models import Conversation, Notification
from messaging.services import conversation_leave, conversation_open, notification_send_translated
from neighbors.models import AuditEntry, Community, LedgerEntry, Membership, Place, User
from neighbors.permissions import is_committee, is_member
from neighbors.services import audit_record, decision_reason, ledger_award, suspension_check
from talent_pool.models import Skill

from ..models import Duty, RoleClaim, WelfareRole
from ..permissions import (
    duties_confirmable_by,
    holds_seat,
    is_qualified_for,
    role_claims_decidable_by,
    roles_visible_to,
)


@transaction.atomic
def welfare_role_create(
    *,
    actor: User,
    community: Community,
    title: str,
    description: str,
    skill: Skill,
    seats: int,
    weekday: int,
    starts_at,
    ends_at,
    term_start,
    term_end,
    place: Place,
) -> WelfareRole:
    if not is_committee(actor, community):
        raise PermissionDenied
    if place.community_id != community.pk:
        raise ValidationError({"place": _("That place is not in the chosen community.")})
    if term_end < timezone.localdate():
        raise ValidationError({"term_end": _("The term would already be over; choose an end date from today on.")})
    role = WelfareRole(
        community=community,
        title=title.strip(),
        description=description.strip(),
        skill=skill,
        seats=seats,
        weekday=weekday,
        starts_at=starts_at,
        ends_at=ends_at,
        term_start=term_start,
        term_end=term_end,
        place=place,
        created_by=actor,
    )
    role.full_clean()
    role.save()
    return role


@transaction.atomic
def role_claim(*, actor: User, role: WelfareRole, conflict_of_interest: str = "") -> RoleClaim:
    """Ask for a seat, declaring any conflict of interest for the committee to read."""
    if not roles_visible_to(actor).filter(pk=role.pk).exists():
        raise PermissionDenied
    suspension_check(user=actor, community_id=role.community_id)
    if role.hidden_at is not None:
        raise ValidationError(_("The committee hid this role: it cannot be claimed."))
    today = timezone.localdate()
    if role.term_end < today:
        raise ValidationError(_("This role's term has ended."))
    if not is_qualified_for(actor, role, today):
        if role.skill.requires_credential:
            message = _("You need the skill “%(skill)s” with a verified, valid certificate to claim this role.")
        else:
            message = _("You need the skill “%(skill)s” on your talent profile to claim this role.")
        raise ValidationError(message % {"skill": role.skill})
    claim = RoleClaim(role=role, holder=actor, conflict_of_interest=conflict_of_interest.strip())
    claim.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError:
        raise ValidationError(_("You have already claimed this role.")) from None
    return claim


def _claim_decide(*, claim: RoleClaim, status: str, actor: User, reason: str) -> RoleClaim:
    decided = RoleClaim.objects.filter(pk=claim.pk, status=RoleClaim.Status.PENDING).update(
        status=status, decided_by=actor, decided_at=timezone.now(), decision_reason=reason
    )
    if not decided:
        raise ValidationError(_("This claim has already been decided."))
    claim.refresh_from_db()
    return claim


@transaction.atomic
def role_claim_approve(*, actor: User, claim: RoleClaim) -> RoleClaim:
    """Give the claimant a seat, if one is free and they are still qualified today."""
    if not role_claims_decidable_by(actor).filter(pk=claim.pk).exists():
        raise PermissionDenied
    role = WelfareRole.objects.select_for_update().get(pk=claim.role_id)
    today = timezone.localdate()
    if not RoleClaim.objects.filter(pk=claim.pk, status=RoleClaim.Status.PENDING).exists():
        raise ValidationError(_("This claim has already been decided."))
    if role.term_end < today:
        raise ValidationError(_("This role's term has ended."))
    if not is_member(claim.holder, role.community):
        raise ValidationError(_("The claimant is no longer a member of this community."))
    if role.claims.filter(status=RoleClaim.Status.APPROVED).count() >= role.seats:
        raise ValidationError(_("All seats of this role are taken."))
    if not is_qualified_for(claim.holder, role, today):
        raise ValidationError(_("The claimant's skill is no longer verified; they need a valid certificate first."))
    claim = _claim_decide(claim=claim, status=RoleClaim.Status.APPROVED, actor=actor, reason="")
    _claim_audit(claim=claim, actor=actor, action=AuditEntry.Action.ROLE_CLAIM_APPROVED)
    # The holders and the committee talk in the role's team conversation.
    conversation_open(
        kind=Conversation.Kind.ROLE_TEAM,
        subject=role.subject,
        title=role.title,
        participants=[claim.holder],
        community=role.community,
    )
    _holder_tell(claim, gettext_lazy("You hold a seat in “%(title)s” now"))
    return claim


def _claim_audit(*, claim: RoleClaim, actor: User, action: str, reason: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        community=claim.role.community_id,
        subject=claim.holder_id,
        target=f"role_claim:{claim.pk}",
        reason=reason,
        detail={"role": claim.role.title},
    )


def _holder_tell(claim: RoleClaim, title, body: str = "") -> None:
    notification_send_translated(
        user=claim.holder,
        kind=Notification.Kind.DECISION,
        title=title,
        params={"title": claim.role.title},
        body=body,
        url=reverse("aid_posts:role_detail", args=[claim.role_id]),
    )


@transaction.atomic
def role_claim_decline(*, actor: User, claim: RoleClaim, reason: str) -> RoleClaim:
    if not role_claims_decidable_by(actor).filter(pk=claim.pk).exists():
        raise PermissionDenied
    reason = decision_reason(reason, missing=_("Tell the claimant why, so they know what to do next."))
    claim = _claim_decide(claim=claim, status=RoleClaim.Status.DECLINED, actor=actor, reason=reason)
    _claim_audit(claim=claim, actor=actor, action=AuditEntry.Action.ROLE_CLAIM_DECLINED, reason=reason)
    _holder_tell(claim, gettext_lazy("Your claim on “%(title)s” was declined"), reason)
    return claim


@transaction.atomic
def role_claim_withdraw(*, actor: User, claim: RoleClaim) -> RoleClaim:
    if claim.holder_id != actor.pk:
        raise PermissionDenied
    if not RoleClaim.objects.filter(pk=claim.pk, status=RoleClaim.Status.PENDING).update(
        status=RoleClaim.Status.WITHDRAWN, ended_at=timezone.now()
    ):
        raise ValidationError(_("This claim has already been decided."))
    claim.refresh_from_db()
    return claim


@transaction.atomic
def role_step_down(*, actor: User, claim: RoleClaim) -> RoleClaim:
    """The holder leaves the role: the seat opens again and the committee hears of it."""
    if claim.holder_id != actor.pk:
        raise PermissionDenied
    if not RoleClaim.objects.filter(pk=claim.pk, status=RoleClaim.Status.APPROVED).update(
        status=RoleClaim.Status.STEPPED_DOWN, ended_at=timezone.now()
    ):
        raise ValidationError(_("You do not hold a seat in this role."))
    claim.refresh_from_db()
    conversation_leave(subject=claim.role.subject, user=claim.holder)
    _committee_tell_stepped_down(claim)
    return claim


def _committee_tell_stepped_down(claim: RoleClaim) -> None:
    role = claim.role
    committee = (
        Membership.objects.filter(
            community_id=role.community_id, role=Membership.Role.COMMITTEE, status=Membership.Status.APPROVED
        )
        .exclude(user=claim.holder_id)
        .select_related("user__profile")
    )
    for membership in committee:
        user = membership.user
        if not user.email:
            continue
        with override(user.profile.language):
            subject = _("A seat of “%(role)s” is free again") % {"role": role.title}
            body = _("%(name)s stepped down from “%(role)s”. The seat is open for qualified talents to claim.") % {
                "name": claim.holder,
                "role": role.title,
            }
        transaction.on_commit(lambda subject=subject, body=body, to=user.email: send_mail(subject, body, None, [to]))


@transaction.atomic
def duty_log(*, actor: User, role: WelfareRole, served_on, hours: Decimal, summary: str) -> Duty:
    """The holder records a duty served; the committee confirms it."""
    if not holds_seat(actor, role):
        raise PermissionDenied
    if served_on > timezone.localdate():
        raise ValidationError({"served_on": _("A duty is logged after it is served, not before.")})
    if not role.term_start <= served_on <= role.term_end:
        raise ValidationError({"served_on": _("That day is outside the role's term.")})
    duty = Duty(role=role, holder=actor, served_on=served_on, hours=hours, summary=summary.strip())
    duty.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            duty.save()
    except IntegrityError:
        raise ValidationError({"served_on": _("You have already logged a duty on that day.")}) from None
    return duty


@transaction.atomic
def duty_confirm(*, actor: User, duty: Duty) -> Duty:
    """Confirm a duty: its hours and points go into the ledger, once."""
    if not duties_confirmable_by(actor).filter(pk=duty.pk).exists():
        raise PermissionDenied
    if not Duty.objects.filter(pk=duty.pk, status=Duty.Status.PENDING).update(
        status=Duty.Status.CONFIRMED, decided_by=actor, decided_at=timezone.now()
    ):
        raise ValidationError(_("This duty has already been decided."))
    duty.refresh_from_db()
    points = (duty.hours * settings.POINTS_PER_DUTY_HOUR).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    ledger_award(
        user=duty.holder,
        community=duty.role.community,
        points=int(points),
        hours=duty.hours,
        reason=LedgerEntry.Reason.DUTY_CONFIRMED,
        source=duty.subject,
    )
    # The committee's confirmation is what pays: on the record as the award it is.
    audit_record(
        actor=actor,
        action=AuditEntry.Action.DUTY_CONFIRMED,
        community=duty.role.community_id,
        subject=duty.holder_id,
        target=duty.subject,
        detail={
            "points": int(points),
            "hours": str(duty.hours),
            "role": duty.role.title,
            "served_on": str(duty.served_on),
        },
    )
    return duty


@transaction.atomic
def duty_reject(*, actor: User, duty: Duty, reason: str) -> Duty:
    if not duties_confirmable_by(actor).filter(pk=duty.pk).exists():
        raise PermissionDenied
    reason = decision_reason(reason, missing=_("Tell the holder why, so they know what to do next."))
    if not Duty.objects.filter(pk=duty.pk, status=Duty.Status.PENDING).update(
        status=Duty.Status.REJECTED, decided_by=actor, decided_at=timezone.now(), decision_reason=reason
    ):
        raise ValidationError(_("This duty has already been decided."))
    duty.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.DUTY_REJECTED,
        community=duty.role.community_id,
        subject=duty.holder_id,
        target=duty.subject,
        reason=reason,
        detail={"hours": str(duty.hours), "role": duty.role.title, "served_on": str(duty.served_on)},
    )
    return duty


def role_claims_end_for(*, user: User) -> None:
    """For account deletion: pending claims are withdrawn and seats given up (the committee is told)."""
    RoleClaim.objects.filter(holder=user, status=RoleClaim.Status.PENDING).update(
        status=RoleClaim.Status.WITHDRAWN, ended_at=timezone.now()
    )
    for claim in RoleClaim.objects.filter(holder=user, status=RoleClaim.Status.APPROVED).select_related("role"):
        role_step_down(actor=user, claim=claim)
