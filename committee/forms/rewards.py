import uuid
from decimal import Decimal

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from neighbors.models import Community
from neighbors.services.ledger import (
    AWARD_MAX_HOURS,
    AWARD_MAX_POINTS,
    CORRECTION_MAX_HOURS,
    CORRECTION_MAX_POINTS,
)
from neighbors.services.reasons import REASON_MAX_LENGTH

from ..models import REWARD_MAX_POINTS, REWARD_MAX_STOCK, Reward
from ..services.rewards import DESCRIPTION_MAX_LENGTH


def _whole_number(message: str) -> dict[str, str]:
    """One message for every way a number can be wrong ("abc", "1e9", "-5", 10**20)."""
    return {key: message for key in ("required", "invalid", "min_value", "max_value")}


class _HiddenErrorsShown(forms.Form):
    """A hidden field's error (a page left open too long, or tampered with) said above the form:
    the form's own rendering shows errors beside visible fields only."""

    def clean(self) -> dict:
        cleaned = super().clean()
        for name, field in self.fields.items():
            if field.widget.is_hidden and name in self._errors:
                del self._errors[name]
                self.add_error(None, _("This page is out of date: open it again and send the form from there."))
        return cleaned


class _LedgerForm(_HiddenErrorsShown):
    """What an award and a correction share: the why, and the form's token, which makes a form
    sent twice (a double click, a reload) add one entry, not two."""

    note = forms.CharField(
        label=_("Why"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("The member reads this, with the change."),
        error_messages={"required": _("Say why, so that the person understands the change.")},
    )
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4())

    def clean_hours(self) -> Decimal:
        return self.cleaned_data.get("hours") or Decimal("0")


class AwardForm(_LedgerForm):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=1,
        max_value=AWARD_MAX_POINTS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages=_whole_number(_("Award a whole number of points from 1 to 1000.")),
    )
    hours = forms.DecimalField(
        label=_("Volunteer hours (optional)"),
        required=False,
        min_value=Decimal("0"),
        max_value=AWARD_MAX_HOURS,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal"}),
        error_messages={
            **_whole_number(_("Award from 0 to 24 hours, e.g. 1.5.")),
            "max_decimal_places": _("Give hours to at most two decimal places, e.g. 1.25."),
        },
    )
    field_order = ["points", "hours", "note"]


class CorrectionForm(_LedgerForm):
    points = forms.IntegerField(
        label=_("Change in points"),
        min_value=-CORRECTION_MAX_POINTS,
        max_value=CORRECTION_MAX_POINTS,
        initial=0,
        help_text=_("Negative to take points away, e.g. -20."),
        error_messages=_whole_number(_("Enter a whole number of points from -10000 to 10000.")),
    )
    hours = forms.DecimalField(
        label=_("Change in hours"),
        required=False,
        min_value=-CORRECTION_MAX_HOURS,
        max_value=CORRECTION_MAX_HOURS,
        decimal_places=2,
        initial=0,
        help_text=_("Negative to take hours away, e.g. -1.5."),
        error_messages={
            **_whole_number(_("Enter hours from -1000 to 1000, e.g. -1.5.")),
            "max_decimal_places": _("Give hours to at most two decimal places, e.g. 1.25."),
        },
    )
    field_order = ["points", "hours", "note"]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("points") == 0 and cleaned.get("hours") == 0:
            raise forms.ValidationError(_("A correction must change the points, the hours or both."))
        return cleaned


class RewardForm(_HiddenErrorsShown):
    community = forms.ModelChoiceField(
        label=_("Community"), queryset=Community.objects.none(), empty_label=None, to_field_name="pk"
    )
    title = forms.CharField(label=_("Title"), max_length=100)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What it is, where and when it is handed over, any conditions."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Reward.Kind.choices, widget=forms.RadioSelect)
    points = forms.IntegerField(
        label=_("Price in points"),
        min_value=1,
        max_value=REWARD_MAX_POINTS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages=_whole_number(_("Enter a whole number of points from 1 to 100000.")),
    )
    stock = forms.IntegerField(
        label=_("In stock"),
        min_value=0,
        max_value=REWARD_MAX_STOCK,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("How many can still be redeemed. Each redemption takes one; a cancelled one puts it back."),
        error_messages=_whole_number(_("Enter a whole number from 0 to 10000.")),
    )
    active = forms.BooleanField(label=_("Offered to members"), required=False, initial=True)
    # The stock the form showed when editing: the save refuses if a redemption changed it since.
    stock_seen = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, communities, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities


class RedeemForm(forms.Form):
    # The price the member was shown: if the committee changes it meanwhile, nothing is spent.
    price = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class RedemptionCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is cancelled"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text=_("The member reads this. Their points and the unit of stock come back."),
    )


# How a month is written in the leaderboard's address: 2025-06.
MONTH_FORMAT = "%Y-%m"


class LeaderboardForm(forms.Form):
    """Which community's board, and which month: the viewer's communities, this month and the
    twelve before it. Anything else is a form error, not a page of someone else's."""

    community = forms.TypedChoiceField(label=_("Community"), coerce=int)
    month = forms.ChoiceField(label=_("Month"))

    def __init__(self, *args, communities, months, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [(c.pk, c.name) for c in communities]
        self.fields["month"].choices = [(m.strftime(MONTH_FORMAT), date_format(m, "YEAR_MONTH_FORMAT")) for m in months]


class LeaderboardOptOutForm(forms.Form):
    opt_out = forms.TypedChoiceField(
        choices=[("1", _("Leave me off")), ("0", _("Show me"))], coerce=lambda value: value == "1"
    )
