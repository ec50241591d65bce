from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .images import ACCEPTED_CONTENT_TYPES, PipelineImageField
from .models import Community, Consent, ContactMethod, Grid, GuardianConsent, Membership, Place, SpokenLanguage


class SignupForm(AllauthSignupForm):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=40,
        help_text=_("What neighbours will call you, e.g. 王阿姨."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    age_group = forms.ChoiceField(
        label=_("Your age"),
        choices=[("adult", _("14 or older")), ("minor", _("Under 14"))],
        widget=forms.RadioSelect,
        help_text=_("Children under 14 can join only after a parent or guardian agrees at the community committee."),
    )
    consent = forms.BooleanField(
        label=_("I have read and agree to the privacy notice."),
        error_messages={"required": _("You need to agree to the privacy notice to create an account.")},
    )
    # The version the person saw; a stale form is refused rather than recorded wrongly.
    notice_version = forms.CharField(widget=forms.HiddenInput, initial=settings.PRIVACY_NOTICE_VERSION)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(["email", "display_name", "age_group", "password1", "password2", "consent"])

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
    tenure = forms.ChoiceField(
        label=_("How do you live there?"), choices=Membership.Tenure.choices, widget=forms.RadioSelect
    )

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


class GuardianForm(forms.Form):
    # Typed by committee staff about someone else: the browser must not offer their own name.
    guardian_name = forms.CharField(
        label=_("Guardian's name"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    relation = forms.CharField(label=_("Relation to the child"), max_length=40)
    method = forms.ChoiceField(label=_("How the guardian agreed"), choices=GuardianConsent.Method.choices)


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
    grids = forms.ModelMultipleChoiceField(
        label=_("Grids (for a grid worker)"),
        queryset=Grid.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, grids, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grids"].queryset = grids


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "nickname"})
    )
    # A plain file input: removing the photo is its own box below, not the widget's "clear".
    avatar = PipelineImageField(
        label=_("Photo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": ACCEPTED_CONTENT_TYPES}),
        help_text=_("JPEG, PNG or WebP. Location and camera details are removed."),
    )
    remove_avatar = forms.BooleanField(label=_("Remove my photo"), required=False)
    bio = forms.CharField(label=_("About me"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    spoken_languages = forms.MultipleChoiceField(
        label=_("Languages I speak"),
        choices=SpokenLanguage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(label=_("Language of the site"), choices=settings.LANGUAGES)
    large_text = forms.BooleanField(label=_("Large text"), required=False)


class ContactMethodForm(forms.Form):
    """One contact detail and who may see it; the form is shown once per kind."""

    # type, autocomplete and inputmode (the phone's keypad) of each kind's value.
    INPUT_TYPES = {
        ContactMethod.Kind.PHONE: ("tel", "tel", "tel"),
        ContactMethod.Kind.WECHAT: ("text", "off", "text"),
        ContactMethod.Kind.EMAIL: ("email", "email", "email"),
        ContactMethod.Kind.ADDRESS: ("text", "address-line2", "text"),
    }

    value = forms.CharField(max_length=200, required=False)
    scope = forms.ChoiceField(label=_("Who may see it"), choices=ContactMethod.Scope.choices, widget=forms.RadioSelect)
    share_consent = forms.BooleanField(
        label=_("I agree that the people chosen above may see this detail (each time is recorded)."),
        required=False,
    )

    def __init__(self, *args, kind: str, **kwargs) -> None:
        super().__init__(*args, prefix=kind, **kwargs)
        self.kind = kind
        input_type, autocomplete, inputmode = self.INPUT_TYPES[kind]
        self.fields["value"].label = ContactMethod.Kind(kind).label
        self.fields["value"].widget = forms.TextInput(
            attrs={"type": input_type, "autocomplete": autocomplete, "inputmode": inputmode, "maxlength": 200}
        )


class RevealContactForm(forms.Form):
    kind = forms.ChoiceField(choices=ContactMethod.Kind.choices)
    subject = forms.CharField(max_length=100)
    reason = forms.CharField(label=_("Why do you need it?"), max_length=300, required=False)


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(choices=Consent.Kind.choices)
    action = forms.ChoiceField(choices=[("grant", _("Give consent")), ("withdraw", _("Withdraw consent"))])


class AccountDeleteForm(forms.Form):
    """Deleting an account asks for the password again, so that an unattended session cannot do it."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I have read what happens above. Delete my account; this cannot be undone."),
        error_messages={"required": _("Tick the box to confirm that you want to delete your account.")},
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password
