from django import forms
from django.utils.translation import gettext_lazy as _

from neighbors.services.reasons import REASON_MAX_LENGTH

from ..models import NOTE_MAX_LENGTH, Report


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong with it?"), choices=Report.Reason.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Tell the committee more"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Needed when you choose “Something else”. Only the committee reads it."),
    )
    # Where to go back to afterwards; checked to be a page of this site before use.
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class HeldRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is not published"),
        max_length=REASON_MAX_LENGTH,
        error_messages={"required": _("Say why, so that the sender understands.")},
    )
