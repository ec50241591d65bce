"""The committee app's part of a person's data rights (registered in apps.py; see neighbors/data_rights.py)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from neighbors.data_rights import decimal_text, isoformat
from neighbors.models import User

from .models import Certificate, Redemption, Report

# What a deleted person's certificates say at the public check instead of their name.
ERASED_REASON = "The holder deleted their account."


def user_data_export(user: User) -> dict:
    """The reports the person filed, their redemptions and their certificates; reports about
    them are the committee's record of its work."""
    filed = list(Report.objects.filter(reporter=user).order_by("created_at", "pk"))
    redemptions = list(
        Redemption.objects.filter(user=user).select_related("reward__community").order_by("created_at", "pk")
    )
    certificates = list(Certificate.objects.filter(user=user).select_related("community").order_by("issued_at"))
    return {
        "summary": [
            ngettext("You filed %(count)d report.", "You filed %(count)d reports.", len(filed)) % {"count": len(filed)},
            ngettext("You redeemed %(count)d reward.", "You redeemed %(count)d rewards.", len(redemptions))
            % {"count": len(redemptions)},
            ngettext(
                "The committee issued you %(count)d certificate.",
                "The committee issued you %(count)d certificates.",
                len(certificates),
            )
            % {"count": len(certificates)},
        ],
        "redemptions": [
            {
                "reward": redemption.reward.title,
                "community": redemption.reward.community.name,
                "points": redemption.points,
                "status": redemption.get_status_display(),
                "redeemed_at": isoformat(redemption.created_at),
                "decided_at": isoformat(redemption.decided_at),
            }
            for redemption in redemptions
        ],
        "certificates": [
            {
                "code": certificate.code,
                "community": certificate.community.name,
                "from": certificate.period_start.isoformat(),
                "to": certificate.period_end.isoformat(),
                "hours": decimal_text(certificate.hours),
                "issued_at": isoformat(certificate.issued_at),
                "revoked_at": isoformat(certificate.revoked_at),
            }
            for certificate in certificates
        ],
        "reports_filed": [
            {
                "about": report.get_target_kind_display(),
                "reason": report.get_reason_display(),
                "note": report.note,
                "status": report.get_status_display(),
                "filed_at": isoformat(report.created_at),
            }
            for report in filed
        ],
    }


def user_data_consequences(user: User) -> list[str]:
    consequences = []
    if Report.objects.filter(reporter=user).exists():
        consequences.append(_("The reports you filed stay with the committee, from “Deleted user”."))
    if Certificate.objects.filter(user=user, revoked_at__isnull=True).exists():
        consequences.append(
            _("Your certificates are withdrawn: their codes no longer confirm anything. Keep a copy if you need one.")
        )
    return consequences


@transaction.atomic
def user_data_erase(*, user: User) -> None:
    """A report about the person's profile kept their name and self-description as the
    snapshot: that goes with the profile. Reports they filed stay (the committee's record),
    naming the deleted user. Certificates print the person's name, and their public check
    would go on showing it: the name goes and the certificate is withdrawn. Redemptions stay
    (they spent ledger points, which stay too), naming the deleted user."""
    Report.objects.filter(author=user, target_kind=Report.TargetKind.PROFILE).update(snapshot="")
    Certificate.objects.filter(user=user).update(display_name="")
    Certificate.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=ERASED_REASON
    )
