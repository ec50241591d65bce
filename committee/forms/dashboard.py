from collections.abc import Sequence

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from neighbors.models import Grid

from ..selectors.dashboard import MAX_PERIOD_DAYS, Period, months_back
from ..selectors.exports import Dataset

# The dashboard's period when none is given: this month and the two before.
DEFAULT_MONTHS = 3


class DateInput(forms.DateInput):
    # The browser's date picker reads and writes ISO dates, whatever the page's language.
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class _PeriodForm(forms.Form):
    start = forms.DateField(label=pgettext_lazy("period", "From"), widget=DateInput())
    end = forms.DateField(label=_("To (included)"), widget=DateInput())
    grid = forms.ChoiceField(label=_("Grid"), required=False)

    def __init__(self, *args, grids: Sequence[Grid], every_building: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._grids = {str(grid.pk): grid for grid in grids}
        self.fields["grid"].choices = [("", every_building)] + [(key, str(grid)) for key, grid in self._grids.items()]

    def clean_grid(self) -> Grid | None:
        # The choices already refused any other value; an empty one is every building allowed.
        return self._grids.get(self.cleaned_data["grid"])

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None or end is None:
            return cleaned
        if start > end:
            raise forms.ValidationError(_("The period must end on or after its first day."))
        period = Period(start=start, end=end)
        if period.days > MAX_PERIOD_DAYS:
            raise forms.ValidationError(_("Choose a period of at most two years."))
        cleaned["period"] = period
        return cleaned


class DashboardFilterForm(_PeriodForm):
    """The dashboard's filters, read from the address (GET): with no dates, the last three months."""

    def __init__(self, *args, grids: Sequence[Grid], limited: bool, **kwargs) -> None:
        every = _("Every grid of mine") if limited else _("Every building")
        super().__init__(*args, grids=grids, every_building=every, **kwargs)
        self.fields["start"].required = False
        self.fields["end"].required = False

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None and end is None and "start" not in self.errors and "end" not in self.errors:
            cleaned["period"] = months_back(timezone.localdate(), DEFAULT_MONTHS)
        elif (start is None) != (end is None) and not self.errors:
            raise forms.ValidationError(_("Give both dates, or neither for the last three months."))
        return cleaned


class ExportForm(_PeriodForm):
    """One dataset's export: its period, grid and columns. Prefixed with the dataset's key, so
    that the four forms on the page keep their fields apart."""

    columns = forms.MultipleChoiceField(
        label=_("Columns"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one column.")},
    )

    def __init__(self, *args, dataset: Dataset, grids: Sequence[Grid], **kwargs) -> None:
        kwargs.setdefault("prefix", dataset.key)
        super().__init__(*args, grids=grids, every_building=_("The whole community"), **kwargs)
        self.dataset = dataset
        self.fields["columns"].choices = [(column.key, column.header) for column in dataset.columns]
        self.fields["columns"].initial = dataset.column_keys
        default = months_back(timezone.localdate(), 1)
        self.fields["start"].initial = default.start
        self.fields["end"].initial = default.end
