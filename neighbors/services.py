"""Every write in the neighbors app. Services check permission themselves."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    Community,
    ContactDisclosure,
    LedgerEntry,
    Membership,
    Partnership,
    Place,
    PrivacyConsent,
    Profile,
    User,
)
from .permissions import can_decide_membership, can_view_contact


@transaction.atomic
def user_signup_complete(*, user: User, display_name: str, notice_version: str) -> Profile:
    """What sign-up adds to allauth's user: a profile and the recorded consent."""
    if notice_version != settings.PRIVACY_NOTICE_VERSION:
        raise ValidationError(_("The privacy notice has changed; please read it again."))
    profile = Profile(user=user, display_name=display_name.strip())
    profile.full_clean()
    profile.save()
    consent_record(user=user, notice_version=notice_version)
    return profile


def consent_record(*, user: User, notice_version: str) -> PrivacyConsent:
    consent, _created = PrivacyConsent.objects.get_or_create(user=user, notice_version=notice_version)
    return consent


@transaction.atomic
def profile_update(*, actor: User, profile: Profile, display_name: str, phone: str, language: str) -> Profile:
    if actor.pk != profile.user_id:
        raise PermissionDenied
    profile.display_name = display_name.strip()
    profile.phone = phone.strip()
    profile.language = language
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def membership_request(*, actor: User, community: Community, home_place: Place) -> Membership:
    """Ask to join; a committee member of that community decides."""
    if home_place.community_id != community.pk:
        raise ValidationError({"home_place": _("That building is not in the chosen community.")})
    membership = Membership.objects.select_for_update().filter(user=actor, community=community).first()
    if membership is None:
        membership = Membership(user=actor, community=community)
    elif membership.status != Membership.Status.DECLINED:
        raise ValidationError(_("You have already asked to join this community."))
    membership.home_place = home_place
    membership.role = Membership.Role.RESIDENT
    membership.status = Membership.Status.PENDING
    membership.decided_by = None
    membership.decided_at = None
    membership.decision_reason = ""
    membership.full_clean(validate_constraints=False)
    membership.save()
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
def membership_approve(*, actor: User, membership: Membership) -> Membership:
    return _membership_decide(actor=actor, membership=membership, status=Membership.Status.APPROVED, reason="")


@transaction.atomic
def membership_decline(*, actor: User, membership: Membership, reason: str) -> Membership:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Tell the resident why, so they know what to do next.")})
    if len(reason) > 300:
        raise ValidationError({"reason": _("Keep the reason under 300 characters.")})
    return _membership_decide(actor=actor, membership=membership, status=Membership.Status.DECLINED, reason=reason)


@transaction.atomic
def partnership_open(*, user_a: User, user_b: User, subject: str) -> None:
    """Let two people see each other's partner-scoped details while `subject` is open."""
    if user_a.pk == user_b.pk:
        raise ValidationError(_("A partnership needs two different people."))
    for user, partner in ((user_a, user_b), (user_b, user_a)):
        Partnership.objects.update_or_create(user=user, partner=partner, subject=subject, defaults={"until": None})


@transaction.atomic
def partnership_close(*, subject: str) -> int:
    """Start the grace period for every grant about `subject`; returns how many closed."""
    until = timezone.now() + timedelta(days=settings.PARTNERSHIP_GRACE_DAYS)
    return Partnership.objects.filter(subject=subject, until__isnull=True).update(until=until)


@transaction.atomic
def contact_reveal(*, viewer: User, owner: User, field: str, subject: str, subject_title: str = "") -> str:
    """The one path by which a contact value reaches another person. Logged, every time."""
    if field not in ContactDisclosure.Field.values:
        raise ValidationError(_("Unknown contact field."))
    if not can_view_contact(viewer, owner, subject=subject):
        raise PermissionDenied
    value = Profile.objects.values_list(field, flat=True).get(user=owner)
    if not value:
        raise ValidationError(_("This person has not given a phone number."))
    if viewer.pk != owner.pk:
        ContactDisclosure.objects.create(
            viewer=viewer, owner=owner, field=field, subject=subject, subject_title=subject_title[:200]
        )
    return value


def ledger_award(
    *, user: User, community: Community, points: int, hours: Decimal, reason: str, source: str
) -> LedgerEntry | None:
    """Append an award; returns None when this source already paid (the constraint decides)."""
    entry = LedgerEntry(user=user, community=community, points=points, hours=hours, reason=reason, source=source)
    entry.full_clean(validate_constraints=False)
    try:
        # A savepoint, so that a duplicate leaves the caller's transaction usable.
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        if LedgerEntry.objects.filter(user=user, reason=reason, source=source).exists():
            return None
        raise
    return entry
