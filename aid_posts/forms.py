from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from neighbors.models import Community, Place
from talent_pool.models import Skill


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
