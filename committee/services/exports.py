"""The record of every export: who took which data of which community out of the site, when,
for which period and grid, with which columns and how many rows."""

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from neighbors.models import AuditEntry, Community, Grid, User
from neighbors.services import audit_record

from ..permissions import can_export
from ..selectors.dashboard import MAX_PERIOD_DAYS, Period
from ..selectors.exports import DATASETS


@transaction.atomic
def export_log(
    *,
    actor: User,
    community: Community,
    dataset: str,
    columns: Sequence[str],
    period: Period,
    rows: int,
    grid: Grid | None = None,
) -> AuditEntry:
    """Record an export about to be sent, before its first byte: a file that leaves the site
    is on the record even if the download is cut, and even when it has no rows."""
    if not can_export(actor, community):
        raise PermissionDenied
    known = DATASETS.get(dataset)
    if known is None:
        raise ValidationError(_("Choose one of the datasets listed."))
    if not columns or not set(columns) <= set(known.column_keys):
        raise ValidationError(_("Choose columns from the list."))
    if period.start > period.end or period.days > MAX_PERIOD_DAYS:
        raise ValidationError(_("Choose a period of at most two years, ending on or after its first day."))
    if grid is not None and grid.community_id != community.pk:
        raise ValidationError(_("Choose a grid of this community."))
    return audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORTED,
        community=community,
        detail={
            "dataset": dataset,
            # In the registry's order, as the file has them.
            "columns": [column.key for column in known.chosen(columns)],
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "rows": rows,
            "grid": grid.pk if grid is not None else None,
        },
    )
