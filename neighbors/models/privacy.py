"""Contact details with their scopes, the grants and consents that open them, and the log of
every time one was shown to someone else."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, validate_email
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

phone_validator = RegexValidator(
    r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$",
    _("Enter a mainland mobile number (11 digits) or a landline such as 0592-1234567."),
)
wechat_validator = RegexValidator(
    # A WeChat ID (6–20 characters, starting with a letter) or the phone number it was made with.
    r"^([a-zA-Z][-_a-zA-Z0-9]{5,19}|1[3-9]\d{9})$",
    _("Enter a WeChat ID: 6 to 20 letters, digits, - or _, starting with a letter."),
)


class ContactMethod(models.Model):
    class Kind(models.TextChoices):
        PHONE = "phone", _("phone")
        WECHAT = "wechat", _("WeChat ID")
        EMAIL = "email", _("email")
        ADDRESS = "address", _("address (unit and room)")

    class Scope(models.TextChoices):
        # Ordered from the narrowest to the widest.
        PRIVATE = "private", _("Only me")
        PARTNERS = "partners", _("People I share an accepted request with")
        COMMITTEE = "committee", _("Those people and my community committee")
        COMMUNITY = "community", _("All members of my communities")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=200)
    scope = models.CharField(_("who may see it"), max_length=20, choices=Scope.choices, default=Scope.PARTNERS)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact detail")
        verbose_name_plural = _("contact details")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="contact_method_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} ({self.scope})"

    def clean(self) -> None:
        validators = {
            self.Kind.PHONE: phone_validator,
            self.Kind.WECHAT: wechat_validator,
            self.Kind.EMAIL: validate_email,
        }
        validator = validators.get(self.kind)
        if validator is not None:
            try:
                validator(self.value)
            except ValidationError as error:
                raise ValidationError({"value": error.messages}) from error

    @property
    def masked(self) -> str:
        return mask_contact(self.kind, self.value)


def mask_phone(value: str) -> str:
    """138****5678: keep the first three and last four digits, star the rest."""
    digits = value.replace("-", "")
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_contact(kind: str, value: str) -> str:
    """What anyone outside the scope sees. An address shows nothing at all."""
    if not value:
        return ""
    if kind == ContactMethod.Kind.PHONE:
        return mask_phone(value)
    if kind == ContactMethod.Kind.WECHAT:
        return value[0] + "****" + value[-1]
    if kind == ContactMethod.Kind.EMAIL:
        local, _at, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return ""


class Consent(models.Model):
    """One consent, to one version of its text. Withdrawing keeps the record and dates it."""

    class Kind(models.TextChoices):
        PRIVACY_NOTICE = "privacy_notice", _("Privacy notice")
        LOCATION = "location", _("Use of my home building for distances")
        CONTACT_SHARING = "contact_sharing", _("Showing my contact details to helpers and neighbours")
        HEALTH = "health", _("Health-related details in my requests")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.PRIVACY_NOTICE)
    version = models.CharField(max_length=20)
    granted_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "version"], condition=Q(withdrawn_at__isnull=True), name="consent_once_live"
            )
        ]
        ordering = ["-granted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} consented to {self.kind} {self.version}"


class Partnership(models.Model):
    """A grant to see one another's partner-scoped contact details.

    Higher apps (aid_posts) open one when a claim is accepted and close it when the
    post closes; the privacy rules read only this table. Stored once per direction
    so that "may viewer see owner's details" is a single indexed lookup.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partnerships")
    partner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=100, help_text=_("What connects them, e.g. aid_post:12"))
    title = models.CharField(max_length=200, blank=True, help_text=_("What the subject was called when opened."))
    opened_at = models.DateTimeField(auto_now_add=True)
    until = models.DateTimeField(null=True, blank=True, help_text=_("Empty while the shared post is open."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "partner", "subject"], name="partnership_once_per_subject"),
            models.CheckConstraint(condition=~Q(user=models.F("partner")), name="partnership_not_with_self"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} may see {self.user} ({self.subject})"


class ContactDisclosure(models.Model):
    """One reveal of a contact value to another person. Written only by contact_reveal."""

    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="disclosures")
    field = models.CharField(max_length=20, choices=ContactMethod.Kind.choices)
    subject = models.CharField(max_length=100)
    # What the owner reads in their log: the title of the post at the time of the reveal.
    subject_title = models.CharField(max_length=200, blank=True)
    # Why a committee member looked, in their words.
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.viewer} saw {self.owner}'s {self.field}"


class ContactShare(models.Model):
    """An owner's own choice to show one contact detail to one person about one subject, e.g.
    "share my phone" in a conversation. It opens the detail to that viewer whatever its scope
    (the owner chose them by name), for a while; each reveal is still logged as a disclosure."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_shares")
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ContactMethod.Kind.choices)
    subject = models.CharField(max_length=100, help_text=_("What connects them, e.g. aid_post:12"))
    shared_at = models.DateTimeField(auto_now=True)
    until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "viewer", "kind", "subject"], name="contact_share_once"),
            models.CheckConstraint(condition=~Q(owner=models.F("viewer")), name="contact_share_not_with_self"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} shared {self.kind} with {self.viewer} ({self.subject})"
