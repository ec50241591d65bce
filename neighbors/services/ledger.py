from decimal import Decimal

from django.db import IntegrityError, transaction

from ..models import Community, LedgerEntry, User


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
