from django import forms
from django.utils.translation import gettext_lazy as _

from neighbors.services.moderation import SUSPENSION_MAX_DAYS
from neighbors.services.reasons import REASON_MAX_LENGTH


class ModerationReasonForm(forms.Form):
    """Hide, warn, remove, lift: every decision carries a reason, read by the person it is about
    and kept in the audit trail."""

    reason = forms.CharField(
        label=_("Reason (the person reads it)"),
        max_length=REASON_MAX_LENGTH,
        error_messages={
            "required": _("Give a reason: the person reads it, and it is kept in the record."),
            "max_length": _("Keep the reason under 300 characters."),
        },
    )


class SuspendForm(ModerationReasonForm):
    days = forms.IntegerField(
        label=_("For how many days (1–365)"),
        min_value=1,
        max_value=SUSPENSION_MAX_DAYS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("Say for how many days the suspension lasts."),
            "invalid": _("Give the number of days as a whole number, 1 to 365."),
            "min_value": _("Suspend for 1 to 365 days."),
            "max_value": _("Suspend for 1 to 365 days."),
        },
    )

    field_order = ["days", "reason"]
