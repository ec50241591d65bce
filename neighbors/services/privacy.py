"""Consents, partnerships and the one path by which a contact value reaches another person."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Consent, ContactDisclosure, ContactMethod, ContactShare, Partnership, User
from ..permissions import blocked_between, community_of_subject, contact_ground, is_minor
from .reasons import decision_reason

# A child's consent to these does not count; the features stay off for them.
ADULT_CONSENTS = frozenset({Consent.Kind.LOCATION, Consent.Kind.CONTACT_SHARING})


@transaction.atomic
def consent_grant(*, actor: User, kind: str) -> Consent:
    """Consent to the current version of `kind`'s text (again, if it was withdrawn)."""
    if kind not in Consent.Kind.values:
        raise ValidationError(_("Unknown consent."))
    if kind in ADULT_CONSENTS and is_minor(actor):
        raise ValidationError(_("Contact and location features are turned off for residents under 14."))
    consent, _created = Consent.objects.get_or_create(
        user=actor, kind=kind, version=settings.CONSENT_VERSIONS[kind], withdrawn_at=None
    )
    return consent


@transaction.atomic
def consent_withdraw(*, actor: User, kind: str) -> int:
    """Withdraw at once; what needed the consent stops working on the next check."""
    if kind not in Consent.Kind.values:
        raise ValidationError(_("Unknown consent."))
    if kind == Consent.Kind.PRIVACY_NOTICE:
        raise ValidationError(
            _("The privacy notice is what the site runs on. To withdraw it, delete your account on the My data page.")
        )
    return Consent.objects.filter(user=actor, kind=kind, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())


@transaction.atomic
def partnership_open(*, user_a: User, user_b: User, subject: str, title: str = "") -> None:
    """Let two people see each other's partner-scoped details while `subject` is open."""
    if user_a.pk == user_b.pk:
        raise ValidationError(_("A partnership needs two different people."))
    if community_of_subject(subject) is not None:
        raise ValidationError(_("A partnership is about a post or a role, not a whole community."))
    for user, partner in ((user_a, user_b), (user_b, user_a)):
        Partnership.objects.update_or_create(
            user=user, partner=partner, subject=subject, defaults={"until": None, "title": title[:200]}
        )


@transaction.atomic
def partnership_close(*, subject: str, user: User | None = None) -> int:
    """Start the grace period for every grant about `subject` (only those to and from `user`,
    when given: one helper leaving a request with several); returns how many closed."""
    until = timezone.now() + timedelta(days=settings.PARTNERSHIP_GRACE_DAYS)
    grants = Partnership.objects.filter(subject=subject, until__isnull=True)
    if user is not None:
        grants = grants.filter(Q(user=user) | Q(partner=user))
    return grants.update(until=until)


@transaction.atomic
def contact_reveal(
    *, viewer: User, owner: User, kind: str, subject: str, subject_title: str = "", reason: str = ""
) -> str:
    """The one path by which a contact value reaches another person. Logged, every time.

    `subject` is the viewer's ground for looking: a post they share with the owner, or
    "community:N" for the committee and (if the owner allows) fellow members. A
    committee member must say why.
    """
    if kind not in ContactMethod.Kind.values:
        raise ValidationError(_("Unknown contact field."))
    method = ContactMethod.objects.filter(user=owner, kind=kind).first()
    ground = contact_ground(viewer, owner, scope=method.scope, subject=subject, kind=kind) if method else None
    if ground is None:
        raise PermissionDenied
    # A committee member says why; a partner or neighbour may.
    missing = _("Say why you need this detail; the resident will see it.") if ground == "committee" else None
    reason = decision_reason(reason, missing=missing)
    if ground != "self":
        ContactDisclosure.objects.create(
            viewer=viewer, owner=owner, field=kind, subject=subject, subject_title=subject_title[:200], reason=reason
        )
    return method.value


@transaction.atomic
def contact_share(*, owner: User, viewers: list[User], kind: str, subject: str) -> int:
    """The owner shows one of their own contact details to these people about `subject` (e.g.
    "share my phone" in a conversation): their choice, by name, so the detail's scope does not
    apply, but each reveal still goes through contact_reveal and is logged. For
    CONTACT_SHARE_DAYS; sharing again renews it. Returns how many people it reaches."""
    if kind not in ContactMethod.Kind.values:
        raise ValidationError(_("Unknown contact field."))
    if is_minor(owner):
        raise ValidationError(_("Accounts of children cannot share contact details; a guardian can."))
    if not ContactMethod.objects.filter(user=owner, kind=kind).exists():
        raise ValidationError(_("Add this contact detail to your profile first."))
    until = timezone.now() + timedelta(days=settings.CONTACT_SHARE_DAYS)
    reached = 0
    for viewer in viewers:
        if viewer.pk == owner.pk or blocked_between(owner, viewer):
            continue
        ContactShare.objects.update_or_create(
            owner=owner, viewer=viewer, kind=kind, subject=subject, defaults={"until": until}
        )
        reached += 1
    return reached
