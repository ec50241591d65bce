import uuid
from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# Imported by name in this app's and aid_posts' early migrations: it lived here before messaging needed it too.
from neighbors.images import private_storage


def _localized(obj) -> str:
    return obj.name_en if (get_language() or "").startswith("en") else obj.name_zh_hans


class SkillArea(models.Model):
    """A branch of the skill tree (legal, health, learning, home, …); managed in the admin."""

    code = models.SlugField(max_length=50, unique=True)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("skill area")
        verbose_name_plural = _("skill areas")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return _localized(self)


class Skill(models.Model):
    """A skill a talent offers and a request asks for; seeded by a data migration."""

    area = models.ForeignKey(
        SkillArea, on_delete=models.PROTECT, related_name="skills", null=True, blank=True, verbose_name=_("area")
    )
    code = models.SlugField(max_length=50, unique=True)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    requires_credential = models.BooleanField(_("requires a verified credential"), default=False)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["code"]

    def __str__(self) -> str:
        return _localized(self)


class TalentProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="talent_profile")
    headline = models.CharField(_("headline"), max_length=100, blank=True)
    accepting_requests = models.BooleanField(_("taking requests now"), default=True)
    service_radius_m = models.PositiveIntegerField(
        _("how far I go (metres)"),
        default=1000,
        validators=[MinValueValidator(100), MaxValueValidator(20_000)],
    )

    class Meta:
        verbose_name = _("talent profile")
        verbose_name_plural = _("talent profiles")

    def __str__(self) -> str:
        return str(self.user)


class TalentSkill(models.Model):
    class Level(models.TextChoices):
        BEGINNER = "beginner", _("Some experience")
        EXPERIENCED = "experienced", _("Experienced")
        PROFESSIONAL = "professional", _("Professional")

    talent = models.ForeignKey(TalentProfile, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=20, choices=Level.choices, default=Level.EXPERIENCED)
    description = models.CharField(_("what I can do"), max_length=300, blank=True)
    # For a skill that needs no credential, a committee member may still vouch for it.
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["talent", "skill"], name="talent_skill_once")]

    def __str__(self) -> str:
        return f"{self.talent}: {self.skill}"

    def is_verified_on(self, day: date) -> bool:
        """Verified that day: by a valid credential where the skill needs one, else by the committee.

        Reads `credentials` through the prefetch the selectors set up, so a list costs no query a row.
        """
        if self.skill.requires_credential:
            return any(credential.is_valid_on(day) for credential in self.credentials.all())
        return self.verified_at is not None

    @property
    def is_verified(self) -> bool:
        return self.is_verified_on(timezone.localdate())


def verified_skill_q(day: date, prefix: str = "") -> Q:
    """The database twin of TalentSkill.is_verified_on, for filtering (prefix e.g. "skills__")."""
    return Q(**{f"{prefix}skill__requires_credential": False, f"{prefix}verified_at__isnull": False}) | Q(
        **{
            f"{prefix}skill__requires_credential": True,
            f"{prefix}credentials__status": "verified",
            f"{prefix}credentials__expires_on__gte": day,
        }
    )


class AvailabilitySlot(models.Model):
    """A weekly time a talent is usually free, e.g. Saturday 9:00–11:00."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    talent = models.ForeignKey(TalentProfile, on_delete=models.CASCADE, related_name="slots")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("to"))

    class Meta:
        ordering = ["weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="slot_ends_after_start",
                violation_error_message=_("Each time must end after it starts."),
            ),
            models.UniqueConstraint(fields=["talent", "weekday", "starts_at"], name="slot_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


def credential_upload_to(instance, filename: str) -> str:
    # The image pipeline has already given the file a random name.
    return f"credentials/{filename or uuid.uuid4().hex}"


class Credential(models.Model):
    """A certificate for a skill that needs one: uploaded by the talent, decided by the committee."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the committee")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    talent_skill = models.ForeignKey(TalentSkill, on_delete=models.CASCADE, related_name="credentials")
    # Certificates carry ID numbers: served only through a view that checks who asks.
    image = models.ImageField(_("certificate photo"), upload_to=credential_upload_to, storage=private_storage)
    thumbnail = models.ImageField(upload_to=credential_upload_to, storage=private_storage)
    number = models.CharField(_("certificate number"), max_length=60)
    expires_on = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)
    # When the talent was told it will expire soon; the reminder command sends it once.
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_on"], name="credential_status_expiry")]

    def __str__(self) -> str:
        return f"{self.talent_skill} #{self.number}"

    def is_valid_on(self, day: date) -> bool:
        return self.status == self.Status.VERIFIED and self.expires_on >= day


class HelpRecord(models.Model):
    """Help a talent gave with a skill, as told by the app where it happened (aid_posts)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="help_records")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    hours = models.DecimalField(max_digits=6, decimal_places=2)
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    source = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} {self.skill} {self.hours} h"
