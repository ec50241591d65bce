from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from neighbors.models import AuditEntry


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        profile = getattr(obj, "profile", None)
        return profile.display_name if profile is not None and profile.display_name else obj.get_username()


class AuditFilterForm(forms.Form):
    """The audit page's filters, read from the query string; every one may be left empty."""

    action = forms.ChoiceField(
        label=_("What"), required=False, choices=[("", _("Every kind of decision")), *AuditEntry.Action.choices]
    )
    date_from = forms.DateField(
        label=pgettext_lazy("period", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    subject = PersonChoiceField(
        label=_("About whom"), required=False, queryset=None, empty_label=_("Anyone"), to_field_name="pk"
    )

    def __init__(self, *args, subjects, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only the people the viewer's own entries are about: no list of everyone on the site.
        self.fields["subject"].queryset = subjects
        self.fields["subject"].error_messages["invalid_choice"] = _("Choose a person from the list.")
        self.fields["action"].error_messages["invalid_choice"] = _("Choose a kind of decision from the list.")
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = _("Enter a date such as 2025-03-01.")

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("date_from"), cleaned.get("date_to")
        if starts and ends and ends < starts:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned
