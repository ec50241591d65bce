from datetime import date, datetime, timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from neighbors.images import PipelineImagesField
from neighbors.models import Community, Membership, Place
from talent_pool.models import Skill

from .models import AidPost, FollowUp, WelfareRole


def _datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AidPostForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    category = forms.ModelChoiceField(label=_("What kind of help"), queryset=Skill.objects.none())
    title = forms.CharField(label=_("Title"), max_length=100, help_text=_("e.g. 帮忙换一个灯泡"))
    description = forms.CharField(
        label=_("What is needed"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Say what, and anything a helper should know. Do not write your phone number here."),
    )
    urgency = forms.TypedChoiceField(
        label=_("How urgent"),
        choices=AidPost.Urgency.choices,
        coerce=int,
        initial=AidPost.Urgency.NORMAL,
        widget=forms.RadioSelect,
    )
    window_starts_at = forms.DateTimeField(label=_("Help needed from"), widget=_datetime_input())
    window_ends_at = forms.DateTimeField(label=_("Help needed until"), widget=_datetime_input())
    expires_at = forms.DateTimeField(
        label=_("Stop looking for help at"),
        required=False,
        widget=_datetime_input(),
        help_text=_("Leave empty to keep looking until the end of the time window."),
    )
    seats = forms.IntegerField(
        label=_("Helpers needed"),
        min_value=1,
        max_value=AidPost.MAX_SEATS,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("e.g. 3 to carry a wardrobe downstairs."),
    )
    place = forms.ModelChoiceField(label=_("Building"), queryset=Place.objects.none())
    photos = PipelineImagesField(
        label=_("Photos (up to 4)"),
        max_count=AidPost.MAX_PHOTOS,
        required=False,
        help_text=_("JPEG, PNG or WebP. Location data in the photo is removed."),
    )
    sensitive_details = forms.CharField(
        label=_("Private details for the helper (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "e.g. health conditions the helper should know. Only the helpers you accept can read this; "
            "not the neighbours, not the committee."
        ),
    )
    grant_health_consent = forms.BooleanField(
        label=_("I agree that the helpers I accept may read these health details"),
        required=False,
    )

    def __init__(self, *args, communities, places, categories, now: datetime | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        self.fields["place"].queryset = places
        self.fields["category"].queryset = categories
        # Sensible defaults for a first-time (often elderly) user: from the next hour, for three hours.
        start = timezone.localtime(now or timezone.now()).replace(minute=0, second=0, microsecond=0)
        start += timedelta(hours=1)
        self.fields["window_starts_at"].initial = start
        self.fields["window_ends_at"].initial = start + timedelta(hours=3)

    def clean(self) -> dict:
        data = super().clean()
        community, place = data.get("community"), data.get("place")
        if community and place and place.community_id != community.pk:
            self.add_error("place", _("That building is not in the chosen community."))
        starts, ends = data.get("window_starts_at"), data.get("window_ends_at")
        if starts and ends and ends <= starts:
            self.add_error("window_ends_at", _("The time window must end after it starts."))
        return data

    def service_arguments(self) -> dict:
        """The cleaned data as aid_post_create takes it."""
        return dict(self.cleaned_data)


class AssistedPostForm(AidPostForm):
    """代办: a committee member or grid worker posts for a resident without a smartphone."""

    resident = forms.ModelChoiceField(
        label=_("For which resident"),
        queryset=Membership.objects.none(),
        help_text=_("Residents you look after: the whole community for the committee, your grids for a grid worker."),
    )
    assisted_consent = forms.ChoiceField(
        label=_("How the resident agreed"), choices=AidPost.AssistedConsent.choices, widget=forms.RadioSelect
    )
    assisted_note = forms.CharField(
        label=_("Note on the agreement (optional)"),
        max_length=300,
        required=False,
        help_text=_("e.g. Agreed at the door on Monday morning, with her daughter present."),
    )
    field_order = ["resident", "assisted_consent", "assisted_note"]

    def __init__(self, *args, residents, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resident"].queryset = residents
        self.fields["resident"].label_from_instance = lambda membership: (
            _("%(name)s, %(building)s")
            % {
                "name": membership.user.profile,
                "building": membership.home_place.name,
            }
        )
        # The resident's community and building come from their membership.
        for name in ("community", "place"):
            self.fields[name].required = False
            self.fields[name].widget = forms.HiddenInput()
        del self.fields["grant_health_consent"]

    def clean(self) -> dict:
        membership = self.cleaned_data.get("resident")
        if membership is not None:
            self.cleaned_data["community"] = membership.community
            self.cleaned_data["place"] = membership.home_place
        return super().clean()

    def service_arguments(self) -> dict:
        data = super().service_arguments()
        data["resident"] = data["resident"].user
        return data


class MarkDoneForm(forms.Form):
    hours = forms.DecimalField(
        label=_("Hours spent"),
        min_value=Decimal("0.25"),
        max_value=Decimal("24"),
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25", "inputmode": "decimal"}),
    )


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=_("What went wrong"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what went wrong, so that the committee can look into it.")},
    )


class DisputeResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("confirm", _("The help was given: confirm it, with points and hours")),
            ("close", _("It was not: close the request without points or hours")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give a reason: the poster and the helpers read it.")},
    )


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How was the help?"),
        choices=[(5, "★★★★★"), (4, "★★★★"), (3, "★★★"), (2, "★★"), (1, "★")],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Comment (optional)"), max_length=500, required=False)


class FollowUpForm(forms.Form):
    method = forms.ChoiceField(label=_("How"), choices=FollowUp.Method.choices, widget=forms.RadioSelect)
    satisfaction = forms.TypedChoiceField(
        label=_("The resident's satisfaction"),
        choices=[(5, _("5 – very satisfied")), (4, "4"), (3, "3"), (2, "2"), (1, _("1 – very dissatisfied"))],
        coerce=int,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False)


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
    seats = forms.IntegerField(
        label=_("Seats"),
        min_value=1,
        max_value=50,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
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
