from datetime import timedelta
from decimal import Decimal

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from neighbors.images import ACCEPTED_CONTENT_TYPES, PipelineImageField
from neighbors.models import Place

from .models import AvailabilitySlot, Skill, TalentProfile, TalentSkill
from .selectors import SORT_BY_DISTANCE, SORT_BY_RATING


class TalentProfileForm(forms.Form):
    headline = forms.CharField(
        label=_("Headline"),
        max_length=100,
        required=False,
        help_text=_("One line neighbours see first, e.g. retired lawyer, happy to mediate."),
    )
    accepting_requests = forms.BooleanField(label=_("I take requests now"), required=False)
    service_radius_m = forms.IntegerField(
        label=_("How far I go (metres)"),
        min_value=100,
        max_value=20_000,
        widget=forms.NumberInput(attrs={"step": 100, "inputmode": "numeric"}),
        help_text=_("From 100 to 20000 metres from your home building."),
    )

    @classmethod
    def for_profile(cls, profile: TalentProfile | None) -> "TalentProfileForm":
        if profile is None:
            return cls(initial={"accepting_requests": True, "service_radius_m": 1000})
        return cls(
            initial={
                "headline": profile.headline,
                "accepting_requests": profile.accepting_requests,
                "service_radius_m": profile.service_radius_m,
            }
        )


class TalentSkillForm(forms.Form):
    """Offer a skill, or change the level and description of one already offered."""

    skill = forms.ModelChoiceField(label=_("Skill"), queryset=Skill.objects.none())
    level = forms.ChoiceField(
        label=_("Level"), choices=TalentSkill.Level.choices, initial=TalentSkill.Level.EXPERIENCED
    )
    description = forms.CharField(
        label=_("What I can do"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("A sentence or two, e.g. tenancy and neighbour disputes; weekends only."),
    )

    def __init__(self, *args, skills: QuerySet[Skill], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["skill"]
        field.queryset = skills
        # Shown grouped by area; the queryset still decides what is a valid choice.
        groups: dict[str, list[tuple[int, str]]] = {}
        for skill in skills:
            area = str(skill.area) if skill.area_id else str(_("Other skills"))
            groups.setdefault(area, []).append((skill.pk, str(skill)))
        field.choices = [("", _("Choose a skill")), *groups.items()]


class AvailabilityForm(forms.Form):
    """Up to ROWS weekly times; a row left empty is no time. Posting replaces them all."""

    ROWS = 7

    def __init__(self, *args, slots: list[AvailabilitySlot] | tuple = (), **kwargs) -> None:
        initial = {}
        for row, slot in enumerate(list(slots)[: self.ROWS]):
            initial[f"weekday_{row}"] = slot.weekday
            initial[f"starts_at_{row}"] = slot.starts_at
            initial[f"ends_at_{row}"] = slot.ends_at
        super().__init__(*args, initial=initial, **kwargs)
        for row in range(self.ROWS):
            self.fields[f"weekday_{row}"] = forms.TypedChoiceField(
                label=_("Day"),
                choices=[("", "—"), *AvailabilitySlot.Weekday.choices],
                coerce=int,
                empty_value=None,
                required=False,
            )
            self.fields[f"starts_at_{row}"] = forms.TimeField(
                label=pgettext_lazy("time of day", "From"),
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )
            self.fields[f"ends_at_{row}"] = forms.TimeField(
                label=pgettext_lazy("time of day", "To"),
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [(self[f"weekday_{row}"], self[f"starts_at_{row}"], self[f"ends_at_{row}"]) for row in range(self.ROWS)]

    def clean(self) -> dict:
        data = super().clean()
        slots = []
        for row in range(self.ROWS):
            names = [f"weekday_{row}", f"starts_at_{row}", f"ends_at_{row}"]
            if any(name in self.errors for name in names):
                continue
            day, start, end = (data.get(name) for name in names)
            if day is None and start is None and end is None:
                continue
            if day is None or start is None or end is None:
                for name, value in zip(names, (day, start, end), strict=True):
                    if value is None:
                        self.add_error(name, _("Fill in the day, from and to, or leave the whole row empty."))
                continue
            if end <= start:
                self.add_error(names[2], _("The end must be later than the start."))
                continue
            slots.append((day, start, end))
        data["slots"] = slots
        return data


class CredentialForm(forms.Form):
    image = PipelineImageField(
        label=_("Photo of the certificate"),
        widget=forms.FileInput(attrs={"accept": ACCEPTED_CONTENT_TYPES}),
        help_text=_("JPEG, PNG or WebP. Only you and your community committee can see it."),
    )
    number = forms.CharField(label=_("Certificate number"), max_length=60)
    expires_on = forms.DateField(
        label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A hint for the date picker only; the service refuses an expired certificate.
        self.fields["expires_on"].widget.attrs["min"] = (timezone.localdate() + timedelta(days=1)).isoformat()


class CredentialRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        max_length=300,
        help_text=_("The talent reads it, so say what to do next, e.g. the photo is unreadable."),
    )


class DirectorySearchForm(forms.Form):
    """The directory's search, sent by GET; every field may be left empty."""

    skill = forms.ModelChoiceField(label=_("Skill"), queryset=Skill.objects.none(), required=False)
    verified_only = forms.BooleanField(
        label=_("Verified skills only"),
        required=False,
        help_text=_("Vouched for by the community committee, or backed by a valid certificate."),
    )
    origin = forms.ModelChoiceField(
        label=_("Distance from"),
        queryset=Place.objects.none(),
        required=False,
        empty_label=_("No building (no distances)"),
        help_text=_("A building in your communities. Distances are rounded to 100 m."),
    )
    radius_km = forms.TypedChoiceField(
        label=_("How far"),
        choices=[
            ("", _("Any distance")),
            ("0.5", _("Within 500 m")),
            ("1", _("Within 1 km")),
            ("2", _("Within 2 km")),
            ("5", _("Within 5 km")),
        ],
        coerce=Decimal,
        empty_value=None,
        required=False,
    )
    weekday = forms.TypedChoiceField(
        label=_("Free on"),
        choices=[("", _("Any day")), *AvailabilitySlot.Weekday.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    sort = forms.ChoiceField(
        label=_("Order"),
        choices=[(SORT_BY_DISTANCE, _("Nearest first")), (SORT_BY_RATING, _("Best rated first"))],
        required=False,
    )

    def __init__(self, *args, skills: QuerySet[Skill], places: QuerySet[Place], with_distance: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["skill"]
        field.queryset = skills
        # Shown grouped by area, by name within one; the queryset still decides what is a valid choice.
        groups: dict[str, list[tuple[int, str]]] = {}
        for skill in skills:
            area = str(skill.area) if skill.area_id else str(_("Other skills"))
            groups.setdefault(area, []).append((skill.pk, str(skill)))
        field.choices = [("", _("All skills"))] + [
            (area, sorted(choices, key=lambda choice: choice[1])) for area, choices in groups.items()
        ]
        if with_distance:
            self.fields["origin"].queryset = places
        else:
            del self.fields["origin"], self.fields["radius_km"]

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or SORT_BY_DISTANCE

    def clean(self) -> dict:
        data = super().clean()
        if data.get("radius_km") is not None and data.get("origin") is None and "origin" not in self.errors:
            self.add_error("radius_km", _("Choose a building to measure the distance from."))
        return data

    def search(self) -> dict:
        """The valid form as keyword arguments of selectors.talent_search."""
        data = self.cleaned_data
        radius_km = data.get("radius_km")
        return {
            "skill": data["skill"],
            "verified_only": data["verified_only"],
            "origin": data.get("origin"),
            "radius_m": None if radius_km is None else int(radius_km * 1000),
            "weekday": data["weekday"],
            "sort": data["sort"],
        }
