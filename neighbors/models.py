from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

phone_validator = RegexValidator(
    r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$",
    _("Enter a mainland mobile number (11 digits) or a landline such as 0592-1234567."),
)


class User(AbstractUser):
    """The login. Everything a neighbour sees of a person lives on Profile."""

    def __str__(self) -> str:
        profile = getattr(self, "profile", None)
        return profile.display_name if profile else self.get_username()


class Street(models.Model):
    """街道: the sub-district office that communities belong to."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    """社区: the unit everything on the site happens in."""

    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities", verbose_name=_("street"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        constraints = [models.UniqueConstraint(fields=["street", "name"], name="community_unique_name_in_street")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Place(models.Model):
    """楼栋: a building. Coordinates are building-level, never a flat."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="places", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="place_unique_name_in_community")]
        indexes = [models.Index(fields=["latitude", "longitude"], name="place_lat_lng")]
        ordering = ["community__name", "name"]

    def __str__(self) -> str:
        return f"{self.community.name} {self.name}"


class Membership(models.Model):
    class Role(models.TextChoices):
        RESIDENT = "resident", _("Resident")
        COMMITTEE = "committee", _("Committee member")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Member")
        DECLINED = "declined", _("Declined")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="memberships")
    # A resident may belong to several communities, so the home building is per membership.
    home_place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("home building")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.RESIDENT)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "community"], name="membership_once_per_community")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.community} ({self.status})"


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(_("display name"), max_length=40)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return self.display_name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


def mask_phone(value: str) -> str:
    """138****5678: keep the first three and last four digits, star the rest."""
    digits = value.replace("-", "")
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


class PrivacyConsent(models.Model):
    """Consent to one version of the privacy notice; a new version needs a new consent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="privacy_consents")
    notice_version = models.CharField(max_length=20)
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "notice_version"], name="consent_once_per_version")]

    def __str__(self) -> str:
        return f"{self.user} consented to {self.notice_version}"


class Partnership(models.Model):
    """A grant to see one another's partner-scoped contact details.

    Higher apps (aid_posts) open one when a claim is accepted and close it when the
    post closes; the privacy rules read only this table. Stored once per direction
    so that "may viewer see owner's details" is a single indexed lookup.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partnerships")
    partner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=100, help_text="What connects them, e.g. aid_post:12")
    opened_at = models.DateTimeField(auto_now_add=True)
    until = models.DateTimeField(null=True, blank=True, help_text="Empty while the shared post is open.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "partner", "subject"], name="partnership_once_per_subject"),
            models.CheckConstraint(condition=~Q(user=models.F("partner")), name="partnership_not_with_self"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} may see {self.user} ({self.subject})"


class ContactDisclosure(models.Model):
    """One reveal of a contact value to another person. Written only by contact_reveal."""

    class Field(models.TextChoices):
        PHONE = "phone", _("phone")

    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="disclosures")
    field = models.CharField(max_length=20, choices=Field.choices)
    subject = models.CharField(max_length=100)
    # What the owner reads in their log: the title of the post at the time of the reveal.
    subject_title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.viewer} saw {self.owner}'s {self.field}"


class LedgerEntry(models.Model):
    """Points and volunteer hours, append-only: corrections are new entries."""

    class Reason(models.TextChoices):
        HELP_CONFIRMED = "help_confirmed", _("Help confirmed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    points = models.IntegerField(_("points"))
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2, default=Decimal("0"))
    reason = models.CharField(_("reason"), max_length=30, choices=Reason.choices)
    # What earned it, e.g. "aid_post:12". With reason and user it is unique, so the
    # same confirmation can never be paid twice, whatever the code above does.
    source = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "reason", "source"], name="ledger_award_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.points} points, {self.hours} h ({self.reason})"
