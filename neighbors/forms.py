from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Community, Place, Profile


class SignupForm(AllauthSignupForm):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=40,
        help_text=_("What neighbours will call you, e.g. 王阿姨."),
    )
    consent = forms.BooleanField(
        label=_("I have read and agree to the privacy notice."),
        error_messages={"required": _("You need to agree to the privacy notice to create an account.")},
    )
    # The version the person saw; a stale form is refused rather than recorded wrongly.
    notice_version = forms.CharField(widget=forms.HiddenInput, initial=settings.PRIVACY_NOTICE_VERSION)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(["email", "display_name", "password1", "password2", "consent"])

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter a display name."))
        return name

    def clean_notice_version(self) -> str:
        version = self.cleaned_data["notice_version"]
        if version != settings.PRIVACY_NOTICE_VERSION:
            raise forms.ValidationError(_("The privacy notice has changed; please read it again."))
        return version


class JoinCommunityForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    home_place = forms.ModelChoiceField(label=_("Your building"), queryset=Place.objects.none())

    def __init__(self, *args, communities, places, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        self.fields["home_place"].queryset = places

    def clean(self) -> dict:
        data = super().clean()
        community, place = data.get("community"), data.get("home_place")
        if community and place and place.community_id != community.pk:
            self.add_error("home_place", _("That building is not in the chosen community."))
        return data


class DeclineMembershipForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name", "phone", "language"]
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})}
