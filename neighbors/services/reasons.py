from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

REASON_MAX_LENGTH = 300


def decision_reason(reason: str, *, missing: str | None) -> str:
    """The reason given with a decision someone else will read (a decline, a rejection, a
    committee look at a phone number): stripped, at most 300 characters, and required
    with the message `missing` unless that is None."""
    reason = reason.strip()
    if not reason and missing is not None:
        raise ValidationError({"reason": missing})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("Keep the reason under 300 characters.")})
    return reason
