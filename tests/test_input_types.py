"""Every form field renders the input its kind of value needs, so that a phone shows a keypad,
a date a date picker, and the browser fills in what it may (and nothing it should not).

Every Form class of the apps is found and built here: a new form fails until it says how it is
built, and a new phone, date or number field with the wrong widget fails by its kind.
"""

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser

import pytest
from allauth.account import forms as allauth_forms
from django import forms
from django.urls import reverse
from django.utils import translation

from committee.selectors.exports import DATASETS
from neighbors.models import Community, ContactMethod, Grid, Membership, Place, User
from talent_pool.models import Skill

APPS = ["neighbors", "talent_pool", "aid_posts", "messaging", "committee"]

# The arguments each form needs beyond data; the querysets are empty because only the widgets
# matter here. A form missing from this table fails test_every_form_is_checked.
NO_ARGUMENTS: dict = {}
POST_ARGUMENTS = {
    "communities": Community.objects.none(),
    "places": Place.objects.none(),
    "categories": Skill.objects.none(),
}
ROLE_ARGUMENTS = {
    "communities": Community.objects.none(),
    "places": Place.objects.none(),
    "skills": Skill.objects.none(),
}
BUILD: dict[str, Callable[[], dict]] = {
    "aid_posts.forms.AidPostForm": lambda: POST_ARGUMENTS,
    "aid_posts.forms.AssistedPostForm": lambda: {**POST_ARGUMENTS, "residents": Membership.objects.none()},
    "aid_posts.forms.MarkDoneForm": lambda: NO_ARGUMENTS,
    "aid_posts.forms.DisputeForm": lambda: NO_ARGUMENTS,
    "aid_posts.forms.DisputeResolveForm": lambda: NO_ARGUMENTS,
    "aid_posts.forms.FeedbackForm": lambda: NO_ARGUMENTS,
    "aid_posts.forms.FollowUpForm": lambda: NO_ARGUMENTS,
    "aid_posts.forms.WelfareRoleForm": lambda: ROLE_ARGUMENTS,
    "aid_posts.forms.RoleClaimForm": lambda: NO_ARGUMENTS,
    "aid_posts.forms.DutyForm": lambda: {"first_day": date(2026, 11, 1), "last_day": date(2026, 11, 30)},
    "aid_posts.forms.DecisionReasonForm": lambda: NO_ARGUMENTS,
    "neighbors.forms.SignupForm": lambda: NO_ARGUMENTS,
    "neighbors.forms.JoinCommunityForm": lambda: {
        "communities": Community.objects.none(),
        "places": Place.objects.none(),
    },
    "neighbors.forms.DeclineMembershipForm": lambda: NO_ARGUMENTS,
    "neighbors.forms.GuardianForm": lambda: NO_ARGUMENTS,
    "neighbors.forms.RoleChangeForm": lambda: {"grids": Grid.objects.none()},
    "neighbors.forms.ProfileForm": lambda: NO_ARGUMENTS,
    # Built once per kind of contact detail: see test_each_contact_detail_gets_its_own_keyboard.
    "neighbors.forms.ContactMethodForm": lambda: {"kind": ContactMethod.Kind.PHONE},
    "neighbors.forms.RevealContactForm": lambda: NO_ARGUMENTS,
    "neighbors.forms.ConsentForm": lambda: NO_ARGUMENTS,
    "neighbors.forms.AccountDeleteForm": lambda: {"user": None},
    "talent_pool.forms.TalentProfileForm": lambda: NO_ARGUMENTS,
    "talent_pool.forms.TalentSkillForm": lambda: {"skills": Skill.objects.none()},
    "talent_pool.forms.AvailabilityForm": lambda: NO_ARGUMENTS,
    "talent_pool.forms.CredentialForm": lambda: NO_ARGUMENTS,
    "talent_pool.forms.CredentialRejectForm": lambda: NO_ARGUMENTS,
    "talent_pool.forms.DirectorySearchForm": lambda: {"skills": Skill.objects.none(), "places": Place.objects.none()},
    "messaging.forms.MessageForm": lambda: NO_ARGUMENTS,
    "messaging.forms.MessageImageForm": lambda: NO_ARGUMENTS,
    "messaging.forms.ShareContactForm": lambda: {"kinds": [ContactMethod.Kind.PHONE]},
    "messaging.forms.MessageEditForm": lambda: NO_ARGUMENTS,
    "messaging.forms.EmailPreferencesForm": lambda: NO_ARGUMENTS,
    "committee.forms.audit.AuditFilterForm": lambda: {"subjects": User.objects.none()},
    "committee.forms.certificates.CertificateIssueForm": lambda: NO_ARGUMENTS,
    "committee.forms.certificates.CertificateRevokeForm": lambda: NO_ARGUMENTS,
    "committee.forms.certificates.CertificateCheckForm": lambda: NO_ARGUMENTS,
    "committee.forms.dashboard.DashboardFilterForm": lambda: {"grids": [], "limited": False},
    "committee.forms.dashboard.ExportForm": lambda: {"dataset": next(iter(DATASETS.values())), "grids": []},
    "committee.forms.moderation.ModerationReasonForm": lambda: NO_ARGUMENTS,
    "committee.forms.moderation.SuspendForm": lambda: NO_ARGUMENTS,
    "committee.forms.reports.ReportForm": lambda: NO_ARGUMENTS,
    "committee.forms.reports.HeldRejectForm": lambda: NO_ARGUMENTS,
    "committee.forms.rewards.AwardForm": lambda: NO_ARGUMENTS,
    "committee.forms.rewards.CorrectionForm": lambda: NO_ARGUMENTS,
    "committee.forms.rewards.RewardForm": lambda: {"communities": Community.objects.none()},
    "committee.forms.rewards.RedeemForm": lambda: NO_ARGUMENTS,
    "committee.forms.rewards.RedemptionCancelForm": lambda: NO_ARGUMENTS,
    "committee.forms.rewards.LeaderboardForm": lambda: {"communities": [], "months": [date(2026, 11, 1)]},
    "committee.forms.rewards.LeaderboardOptOutForm": lambda: NO_ARGUMENTS,
    "committee.forms.words.SensitiveWordForm": lambda: NO_ARGUMENTS,
    # allauth's forms behind the account pages the site links to (login is the site's own view
    # around allauth's form; signup is neighbors.forms.SignupForm above).
    "allauth.account.forms.LoginForm": lambda: NO_ARGUMENTS,
    "allauth.account.forms.ResetPasswordForm": lambda: NO_ARGUMENTS,
    "allauth.account.forms.ResetPasswordKeyForm": lambda: {"user": None, "temp_key": "key"},
    "allauth.account.forms.ChangePasswordForm": lambda: {"user": None},
    "allauth.account.forms.SetPasswordForm": lambda: {"user": None},
    "allauth.account.forms.AddEmailForm": lambda: {"user": None},
}
ALLAUTH_FORMS = [
    allauth_forms.LoginForm,
    allauth_forms.ResetPasswordForm,
    allauth_forms.ResetPasswordKeyForm,
    allauth_forms.ChangePasswordForm,
    allauth_forms.SetPasswordForm,
    allauth_forms.AddEmailForm,
]


def form_modules() -> list:
    """<app>.forms, or every module of the <app>.forms package."""
    modules = []
    for app in APPS:
        module = importlib.import_module(f"{app}.forms")
        modules.append(module)
        if hasattr(module, "__path__"):
            for info in pkgutil.iter_modules(module.__path__):
                modules.append(importlib.import_module(f"{module.__name__}.{info.name}"))
    return modules


def app_forms() -> list[type[forms.BaseForm]]:
    """The Form classes the apps define; those named with a leading underscore are bases that
    are never shown themselves."""
    found = []
    for module in form_modules():
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__ and not name.startswith("_"):
                found.append(cls)
    return found


def path_of(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def build(cls: type[forms.BaseForm]) -> forms.BaseForm:
    return cls(**BUILD[path_of(cls)]())


class Inputs(HTMLParser):
    """The attributes of each input, select and textarea of a piece of HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("input", "select", "textarea"):
            self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def rendered_inputs(html: str) -> list[tuple[str, dict]]:
    parser = Inputs()
    parser.feed(html)
    return parser.elements


def input_of(bound: forms.BoundField) -> dict:
    tag, attrs = rendered_inputs(str(bound))[0]
    return {"tag": tag, **attrs}


# --- What each kind of field must render ---------------------------------------------------

PHONE = re.compile(r"phone|mobile|\btel\b", re.IGNORECASE)
TEXT_INPUTS = {"text", "tel", "email", "search"}


def kind_of(name: str, field: forms.Field) -> str | None:
    """The kind of value a visible field holds, from its class, or for text fields from its
    name and its English label (a phone number kept in a CharField is still a phone number)."""
    if field.widget.is_hidden:
        return None
    if isinstance(field, forms.DateTimeField):
        return "datetime"
    if isinstance(field, forms.DateField):
        return "date"
    if isinstance(field, forms.TimeField):
        return "time"
    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        return "number"
    if isinstance(field.widget, forms.PasswordInput):
        return "password"
    if not isinstance(field.widget, forms.TextInput | forms.EmailInput) or isinstance(field, forms.ChoiceField):
        return None
    with translation.override("en"):
        words = f"{name} {field.label or ''}"
    if PHONE.search(words):
        return "phone"
    if isinstance(field, forms.EmailField) or re.search(r"e-?mail", words, re.IGNORECASE):
        return "email"
    if name.endswith("name"):
        return "name"
    return None


def problems_of(name: str, field: forms.Field, attrs: dict) -> list[str]:
    """What is wrong with a field's rendered input for its kind; [] when nothing is."""
    kind = kind_of(name, field)
    kind_type = {"datetime": "datetime-local", "date": "date", "time": "time", "number": "number", "phone": "tel"}
    problems = []
    if kind in kind_type and attrs.get("type") != kind_type[kind]:
        problems.append(f"type={attrs.get('type')!r}, not {kind_type[kind]!r}")
    if kind == "number":
        problems += number_problems(field, attrs)
    if kind == "phone" and (attrs.get("autocomplete") != "tel" or attrs.get("inputmode") != "tel"):
        problems.append("a phone number needs autocomplete=tel and inputmode=tel")
    if kind == "email" and (attrs.get("type") != "email" or attrs.get("autocomplete") not in ("email", "username")):
        problems.append("an email address needs type=email and autocomplete=email")
    if kind == "password" and attrs.get("autocomplete") not in ("current-password", "new-password"):
        problems.append("a password needs autocomplete=current-password or new-password")
    if kind == "name" and not attrs.get("autocomplete"):
        # The person's own name (name, nickname) or someone else's (off): the browser must
        # not guess, or it offers the committee member's own name for a resident.
        problems.append("a name needs an autocomplete that says whose name it is")
    return problems


def number_problems(field: forms.Field, attrs: dict) -> list[str]:
    problems = []
    if "min" not in attrs or "max" not in attrs:
        # Without bounds a typo (an extra zero) goes all the way to the server's error.
        problems.append("a number needs min and max")
    decimal = isinstance(field, forms.DecimalField | forms.FloatField)
    if decimal and "step" not in attrs:
        problems.append("a decimal needs a step, or the browser refuses fractions")
    negative = attrs.get("min") is None or float(attrs["min"]) < 0
    wanted = None if negative else ("decimal" if decimal else "numeric")
    # inputmode picks the phone's keypad: a plain digit pad for whole numbers, with the decimal
    # point for hours; none where a minus sign is needed (those pads have no minus key).
    if attrs.get("inputmode") != wanted:
        problems.append(f"inputmode={attrs.get('inputmode')!r}, not {wanted!r}")
    return problems


def form_problems(form: forms.BaseForm) -> list[str]:
    problems = []
    for name, field in form.fields.items():
        if kind_of(name, field) is None:
            continue
        for problem in problems_of(name, field, input_of(form[name])):
            problems.append(f"{path_of(type(form))}.{name}: {problem}")
    return problems


# --- Tests -----------------------------------------------------------------------------------


def test_every_form_is_checked():
    # Given the Form classes the apps define, and those of allauth's the site shows
    defined = {path_of(cls) for cls in app_forms()} | {path_of(cls) for cls in ALLAUTH_FORMS}

    # Then each has a way to build it here, and this table names no form that is gone
    assert len(defined) > 40
    assert sorted(defined - BUILD.keys()) == [], "add the new form to BUILD"
    assert sorted(BUILD.keys() - defined) == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(BUILD))
def test_each_field_renders_the_input_of_its_kind(path):
    # Given one form of the site
    module, name = path.rsplit(".", 1)
    form = build(getattr(importlib.import_module(module), name))

    # When it is rendered, then each phone, date, time, number, email, password and name field
    # has the input type, keypad and autocomplete of its kind
    assert form_problems(form) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (ContactMethod.Kind.PHONE, {"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        (ContactMethod.Kind.EMAIL, {"type": "email", "autocomplete": "email"}),
        (ContactMethod.Kind.WECHAT, {"type": "text", "autocomplete": "off"}),
        (ContactMethod.Kind.ADDRESS, {"type": "text", "autocomplete": "address-line2"}),
    ],
)
def test_each_contact_detail_gets_its_own_keyboard(kind, expected):
    from neighbors.forms import ContactMethodForm

    # Given the contact form for one kind of detail
    form = ContactMethodForm(kind=kind)

    # Then its value field renders that kind's input, and passes the checks by kind
    attrs = input_of(form["value"])
    assert {key: attrs.get(key) for key in expected} == expected
    assert form_problems(form) == []


class Sample(forms.Form):
    """Fields with every mistake the checks look for."""

    phone = forms.CharField()
    mobile_number = forms.CharField(widget=forms.TextInput(attrs={"type": "tel"}))
    born_on = forms.DateField()
    meets_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "date"}))
    opens_at = forms.TimeField()
    seats = forms.IntegerField(min_value=1)
    hours = forms.DecimalField(min_value=0, max_value=24, widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    change = forms.IntegerField(min_value=-5, max_value=5, widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    contact_email = forms.CharField()
    secret = forms.CharField(widget=forms.PasswordInput)
    guardian_name = forms.CharField()
    # These are right, and must not be reported.
    good_day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    good_count = forms.IntegerField(min_value=0, max_value=9, widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    note = forms.CharField()
    token = forms.IntegerField(widget=forms.HiddenInput)


def test_the_checks_catch_each_kind_of_mistake():
    # Given a form with a wrong widget for each kind
    problems = form_problems(Sample())

    # Then each wrong field is reported, and none of the right ones
    reported = {problem.split(":")[0].rsplit(".", 1)[1] for problem in problems}
    wrong = {
        "phone",
        "mobile_number",
        "born_on",
        "meets_at",
        "opens_at",
        "seats",
        "hours",
        "change",
        "contact_email",
        "secret",
        "guardian_name",
    }
    assert reported == wrong
    assert any("min and max" in problem for problem in problems if ".seats:" in problem)
    assert any("'numeric', not 'decimal'" in problem for problem in problems if ".hours:" in problem)
    assert any("'numeric', not None" in problem for problem in problems if ".change:" in problem)


# --- What the browser posts is what the forms read -------------------------------------------


def date_and_time_fields() -> list[tuple[str, str, forms.Field]]:
    found = []
    for path in sorted(BUILD):
        module, name = path.rsplit(".", 1)
        cls = getattr(importlib.import_module(module), name)
        for field_name, field in cls.base_fields.items():
            if isinstance(field, forms.DateField | forms.DateTimeField | forms.TimeField):
                found.append((path, field_name, field))
    return found


# What <input type=date>, datetime-local and time send, whatever the page's language: the
# browser shows its own local format but always posts these (HTML's "valid date string" etc.).
POSTED = {
    forms.DateTimeField: ["2026-11-24T09:30", "2026-11-24T09:30:15"],
    forms.DateField: ["2026-11-24"],
    forms.TimeField: ["09:30", "09:30:15"],
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_what_the_browser_posts_is_accepted_in_either_language(language):
    # Given every date, date-time and time field of the site, and the page in one language
    fields = date_and_time_fields()
    assert {type(field) for _path, _name, field in fields} == set(POSTED)
    with translation.override(language):
        for path, name, field in fields:
            for value in POSTED[type(field)]:
                # When the browser posts its value, then the field reads it
                assert field.clean(value), f"{path}.{name} refuses {value!r}"
            # And a value the form rendered goes back in unchanged (the widget's own format)
            shown = field.widget.format_value(field.to_python(POSTED[type(field)][0]))
            assert field.clean(shown) == field.to_python(POSTED[type(field)][0]), f"{path}.{name}: {shown!r}"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_date_field_refuses_what_is_not_a_date(language):
    # Given a date-time field of the request form, in either language
    from aid_posts.forms import AidPostForm

    field = AidPostForm.base_fields["window_starts_at"]
    with translation.override(language):
        # When it gets something that is not a date-time, then it says so instead of failing
        for value in ("tomorrow", "2026-13-01T09:00", "24/11/2026 25:00"):
            with pytest.raises(forms.ValidationError):
                field.clean(value)


# --- The account pages -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_asks_for_an_email_and_the_current_password(client):
    # When the login page is opened
    page = client.get(reverse("account_login"))

    # Then the browser may fill in the email and the saved password
    inputs = {attrs.get("name"): attrs for _tag, attrs in rendered_inputs(page.content.decode())}
    assert page.status_code == 200
    assert (inputs["login"]["type"], inputs["login"]["autocomplete"]) == ("email", "email")
    assert (inputs["password"]["type"], inputs["password"]["autocomplete"]) == ("password", "current-password")


@pytest.mark.django_db
def test_the_signup_page_offers_a_new_password_and_the_persons_own_names(client):
    # When the sign-up page is opened
    page = client.get(reverse("account_signup"))

    # Then the password is a new one (the browser may suggest a strong one) and the display name
    # is the person's own nickname
    inputs = {attrs.get("name"): attrs for _tag, attrs in rendered_inputs(page.content.decode())}
    assert page.status_code == 200
    assert (inputs["email"]["type"], inputs["email"]["autocomplete"]) == ("email", "email")
    assert inputs["password1"]["autocomplete"] == inputs["password2"]["autocomplete"] == "new-password"
    assert inputs["display_name"]["autocomplete"] == "nickname"
