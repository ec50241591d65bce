"""Issuing and revoking volunteer-hours certificates, and counting the public checks of them."""

import logging
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from messaging.models import Notification
from messaging.services import notification_send_translated
from neighbors import ratelimits
from neighbors.models import AuditEntry, Membership, User
from neighbors.services import audit_record, decision_reason

from ..models import Certificate
from ..permissions import can_issue_certificate, can_manage_certificate
from ..selectors.certificates import certified_hours, hours_text

logger = logging.getLogger(__name__)

# No certificate reaches back before the site's records could (and a typo of 1925 for 2025
# is caught); none spans more than five years, the longest a reference usually asks about.
EARLIEST_PERIOD_START = date(2000, 1, 1)
LONGEST_PERIOD_YEARS = 5


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year without one
        return day.replace(year=day.year + years, day=28)


def _period_check(period_start: date, period_end: date) -> None:
    if period_end < period_start:
        raise ValidationError({"period_end": _("The period must end on or after the day it starts.")})
    if period_end > timezone.localdate():
        raise ValidationError(
            {"period_end": _("The period must be over by today: a certificate states hours already served.")}
        )
    if period_start < EARLIEST_PERIOD_START:
        raise ValidationError(
            {"period_start": _("The period cannot start before %(day)s.") % {"day": EARLIEST_PERIOD_START.isoformat()}}
        )
    if period_end >= _years_after(period_start, LONGEST_PERIOD_YEARS):
        raise ValidationError(
            {"period_end": _("A certificate covers at most %(years)d years.") % {"years": LONGEST_PERIOD_YEARS}}
        )


def _member_tell(certificate: Certificate, title: Promise) -> None:
    notification_send_translated(
        user=certificate.user,
        kind=Notification.Kind.DECISION,
        title=title,
        params={"hours": hours_text(certificate.hours)},
        url=reverse("rewards:certificate", args=[certificate.pk]),
    )


@transaction.atomic
def certificate_issue(*, actor: User, membership: Membership, period_start: date, period_end: date) -> Certificate:
    """The committee certifies the hours a member served in their community over a period
    (first and last days included), as the ledger has them now. The name printed and the hours
    are kept as issued, so that the paper and the public check always agree."""
    # Locked (the membership row only), so that two clicks, or two committee members at once,
    # wait for each other and the second finds the first's certificate. SQLite has no row locks:
    # there a double click can still give two identical certificates, each true and revocable.
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user__profile", "community")
        .filter(pk=membership.pk)
        .first()
    )
    if membership is None or not can_issue_certificate(actor, membership):
        raise PermissionDenied
    _period_check(period_start, period_end)
    person = membership.user
    hours = certified_hours(
        user=person, community=membership.community, period_start=period_start, period_end=period_end
    )
    if hours <= 0:
        raise ValidationError(
            _(
                "%(name)s has no volunteer hours recorded in this community for that period: there is nothing to certify."
            )
            % {"name": person.profile.display_name}
        )
    same = Certificate.objects.filter(
        user=person,
        community=membership.community,
        period_start=period_start,
        period_end=period_end,
        revoked_at__isnull=True,
    ).first()
    if same is not None:
        raise ValidationError(
            _(
                "A valid certificate for this member and period already exists (%(code)s). Revoke it first to issue a new one."
            )
            % {"code": same.code}
        )
    certificate = Certificate(
        user=person,
        community=membership.community,
        display_name=person.profile.display_name,
        period_start=period_start,
        period_end=period_end,
        hours=hours,
        issued_by=actor,
    )
    certificate.full_clean(exclude=["user", "community", "issued_by"])
    certificate.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CERTIFICATE_ISSUED,
        community=membership.community_id,
        subject=person,
        target=f"certificate:{certificate.pk}",
        detail={"hours": str(hours), "period_start": period_start.isoformat(), "period_end": period_end.isoformat()},
    )
    transaction.on_commit(
        lambda: _member_tell(
            certificate, gettext_lazy("The committee issued you a certificate of %(hours)s volunteer hours")
        )
    )
    return certificate


@transaction.atomic
def certificate_revoke(*, actor: User, certificate: Certificate, reason: str) -> Certificate:
    """Withdraw a certificate issued in error: the public check says so from then on, with the
    day. It is kept (the paper exists), never deleted or edited otherwise."""
    if not can_manage_certificate(actor, certificate):
        raise PermissionDenied
    reason = decision_reason(reason, missing=_("Say why the certificate is revoked; the member will read it."))
    revoked = Certificate.objects.filter(pk=certificate.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
    if not revoked:
        raise ValidationError(_("This certificate has already been revoked."))
    certificate.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CERTIFICATE_REVOKED,
        community=certificate.community_id,
        subject=certificate.user_id,
        target=f"certificate:{certificate.pk}",
        reason=reason,
        detail={"hours": str(certificate.hours)},
    )
    transaction.on_commit(
        lambda: _member_tell(
            certificate, gettext_lazy("The committee revoked your certificate of %(hours)s volunteer hours")
        )
    )
    return certificate


# --- The public check, counted per client address ----------------------------------------


class ChecksLimited(Exception):
    """Too many certificate checks from one address: refused before the look-up, so that codes
    cannot be tried one after another. `retry_after` in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def text(self) -> str:
        return ngettext(
            "Too many certificates were checked from your connection. Wait %(seconds)d second and try again.",
            "Too many certificates were checked from your connection. Wait %(seconds)d seconds and try again.",
            self.retry_after,
        ) % {"seconds": self.retry_after}


def certificate_check_count(*, client: str) -> None:
    """Count one public check from a client address; raise ChecksLimited when over
    CERTIFICATE_CHECK_RATE_LIMITS. Every check counts, found or not: it is the guessing that is
    slowed. If the store is down checks go on unlimited (a code has 60 bits) rather than refusing
    an employer holding a real certificate."""
    wait = ratelimits.rate_limit_hit("certificate-check", client, settings.CERTIFICATE_CHECK_RATE_LIMITS)
    if wait is not None:
        raise ChecksLimited(wait)


def certificate_checks_reset() -> None:
    """Forget every count (tests start each case clean)."""
    ratelimits.rate_limits_reset()
