from datetime import date
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from neighbors.models import Community, Place
from talent_pool.models import Skill

from .models import WelfareRole


class AidPostForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    category = forms.ModelChoiceField(label=_("What kind of help"), queryset=Skill.objects.none())
    title = forms.CharField(label=_("Title"), max_length=100, help_text=_("e.g. 帮忙换一个灯泡"))
    description = forms.CharField(
        label=_("What is needed"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Say what, when and anything a helper should know. Do not write your phone number here."),
    )
    place = forms.ModelChoiceField(label=_("Building"), queryset=Place.objects.none())

    def __init__(self, *args, communities, places, categories, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        self.fields["place"].queryset = places
        self.fields["category"].queryset = categories

    def clean(self) -> dict:
        data = super().clean()
        community, place = data.get("community"), data.get("place")
        if community and place and place.community_id != community.pk:
            self.add_error("place", _("That building is not in the chosen community."))
        return data


class MarkDoneForm(forms.Form):
    hours = forms.DecimalField(
        label=_("Hours spent"),
        min_value=Decimal("0.25"),
        max_value=Decimal("24"),
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25", "inputmode": "decimal"}),
    )


class WelfareRoleForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    title = forms.CharField(label=_("Title"), max_length=100, help_text=_("e.g. Legal-aid mediation duty"))
    description = forms.CharField(
        label=_("What the role does"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What a holder does on duty, for whom, and what they should bring."),
    )
    skill = forms.ModelChoiceField(
        label=_("Required skill"),
        queryset=Skill.objects.none(),
        help_text=_("Where the skill needs a certificate, only talents with a verified, valid one can claim."),
    )
    seats = forms.IntegerField(label=_("Seats"), min_value=1, max_value=50, initial=1)
    weekday = forms.TypedChoiceField(label=_("Day"), choices=WelfareRole.Weekday.choices, coerce=int)
    starts_at = forms.TimeField(
        label=pgettext_lazy("time of day", "From"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    ends_at = forms.TimeField(
        label=pgettext_lazy("time of day", "To"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    term_start = forms.DateField(
        label=_("Term starts"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    term_end = forms.DateField(label=_("Term ends"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    place = forms.ModelChoiceField(label=_("Place"), queryset=Place.objects.none())

    def __init__(self, *args, communities, places, skills, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        self.fields["place"].queryset = places
        self.fields["skill"].queryset = skills

    def clean(self) -> dict:
        data = super().clean()
        community, place = data.get("community"), data.get("place")
        if community and place and place.community_id != community.pk:
            self.add_error("place", _("That place is not in the chosen community."))
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The duty has to end after it starts."))
        term_start, term_end = data.get("term_start"), data.get("term_end")
        if term_start and term_end and term_end < term_start:
            self.add_error("term_end", _("The term has to end on or after the day it starts."))
        return data


class RoleClaimForm(forms.Form):
    conflict_of_interest = forms.CharField(
        label=_("Conflicts of interest"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "The committee reads this before deciding. Say if anything could make you less than impartial, "
            "e.g. a relative among the people involved, or a case of theirs in your own court. "
            "Leave it empty if there is none."
        ),
    )


class DutyForm(forms.Form):
    served_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    hours = forms.DecimalField(
        label=_("Hours"),
        min_value=Decimal("0.25"),
        max_value=Decimal("12"),
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25", "inputmode": "decimal"}),
    )
    summary = forms.CharField(
        label=_("What was done"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("e.g. Mediated a parking dispute between two neighbours; answered three tenancy questions."),
    )

    def __init__(self, *args, first_day: date, last_day: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only a hint for the browser's date picker; the service decides which days count.
        self.fields["served_on"].widget.attrs.update(min=first_day.isoformat(), max=last_day.isoformat())


class DecisionReasonForm(forms.Form):
    """Why a claim or a duty was declined: the person reads it and learns what to do next."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give a reason, so that they know what to do next.")},
    )
