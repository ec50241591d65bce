from django import forms
from django.utils.translation import gettext_lazy as _

from neighbors.services.reasons import REASON_MAX_LENGTH

from ..selectors.certificates import CODE_LENGTH, code_normalised, code_well_formed

# A code typed with its hyphens and a few stray spaces: 12 characters and up to a dozen more.
CODE_TYPED_MAX_LENGTH = 30


class DateInput(forms.DateInput):
    """The browser's date picker; it sends ISO dates whatever the language of the page."""

    input_type = "date"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class CertificateIssueForm(forms.Form):
    period_start = forms.DateField(
        label=_("From (first day included)"),
        widget=DateInput,
        error_messages={"required": _("Give the first day of the period.")},
    )
    period_end = forms.DateField(
        label=_("To (last day included)"),
        widget=DateInput,
        error_messages={"required": _("Give the last day of the period.")},
    )


class CertificateRevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is revoked"),
        max_length=REASON_MAX_LENGTH,
        error_messages={"required": _("Say why the certificate is revoked; the member will read it.")},
    )


class CertificateCheckForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=CODE_TYPED_MAX_LENGTH,
        help_text=_("The 12 letters and digits printed on the certificate, e.g. ABCD-EFGH-JKMN."),
        error_messages={"required": _("Type the code printed on the certificate.")},
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        """The code in its stored form: typed in lower case or in groups, it is still the code."""
        code = code_normalised(self.cleaned_data["code"])
        if not code_well_formed(code):
            raise forms.ValidationError(
                _("A code has %(length)d letters and digits (no 0, 1, I, L or O). Check it against the paper."),
                params={"length": CODE_LENGTH},
            )
        return code
