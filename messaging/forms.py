from django import forms
from django.utils.translation import gettext_lazy as _

from neighbors.images import PipelineImageField
from neighbors.models import ContactMethod

from .models import MESSAGE_MAX_LENGTH, Notification

CLIENT_ID_MAX_LENGTH = 64


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
    )
    # Chosen by the page so that a resent form is stored once (see message_send).
    client_id = forms.CharField(max_length=CLIENT_ID_MAX_LENGTH, required=False, widget=forms.HiddenInput)


class MessageImageForm(forms.Form):
    image = PipelineImageField(label=_("Photo"))
    body = forms.CharField(
        label=_("Caption (optional)"),
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    client_id = forms.CharField(max_length=CLIENT_ID_MAX_LENGTH, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        # The page has the text composer's "body" too: ids must stay unique (the names need not).
        kwargs.setdefault("auto_id", "photo-%s")
        super().__init__(*args, **kwargs)


class ShareContactForm(forms.Form):
    contact_kind = forms.ChoiceField(label=_("Share my"), choices=())

    def __init__(self, *args, kinds: list[str], **kwargs) -> None:
        """`kinds`: the contact details the person has; only those can be shared."""
        super().__init__(*args, **kwargs)
        self.fields["contact_kind"].choices = [
            (kind, label) for kind, label in ContactMethod.Kind.choices if kind in kinds
        ]


class MessageEditForm(forms.Form):
    body = forms.CharField(
        label=_("New text"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
    )


class EmailPreferencesForm(forms.Form):
    emailed = forms.MultipleChoiceField(
        label=_("Email me about"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(kind.value, kind.label) for kind in Notification.EMAILED_KINDS],
        help_text=_("Only while you are not on the site; you always see them here."),
    )

    @property
    def opted_out(self) -> list[str]:
        """The emailed kinds left unticked: what email_opt_outs_set takes."""
        chosen = set(self.cleaned_data["emailed"])
        return [kind.value for kind in Notification.EMAILED_KINDS if kind.value not in chosen]
