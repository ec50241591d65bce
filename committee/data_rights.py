"""The committee app's part of a person's data rights (registered in apps.py; see neighbors/data_rights.py)."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from neighbors.data_rights import isoformat
from neighbors.models import User

from .models import Report


def user_data_export(user: User) -> dict:
    """The reports the person filed; reports about them are the committee's record of its work."""
    filed = list(Report.objects.filter(reporter=user).order_by("created_at", "pk"))
    return {
        "summary": [
            ngettext("You filed %(count)d report.", "You filed %(count)d reports.", len(filed)) % {"count": len(filed)}
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
    if not Report.objects.filter(reporter=user).exists():
        return []
    return [_("The reports you filed stay with the committee, from “Deleted user”.")]


@transaction.atomic
def user_data_erase(*, user: User) -> None:
    """A report about the person's profile kept their name and self-description as the
    snapshot: that goes with the profile. Reports they filed stay (the committee's record),
    naming the deleted user."""
    Report.objects.filter(author=user, target_kind=Report.TargetKind.PROFILE).update(snapshot="")
