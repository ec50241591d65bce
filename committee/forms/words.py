from django import forms
from django.utils.translation import gettext_lazy as _

from ..services.words import WORD_MAX_LENGTH


class SensitiveWordForm(forms.Form):
    word = forms.CharField(
        label=_("Add a word or phrase"),
        max_length=WORD_MAX_LENGTH,
        help_text=_("Spaces, punctuation, letter case and full-width forms do not matter: “微 信” is “微信”."),
        error_messages={
            "required": _("Write the word or phrase to add."),
            "max_length": _("Keep it under %(limit_value)d characters: a long phrase is rarely written the same way."),
        },
    )
