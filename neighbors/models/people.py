"""People: the login, the profile neighbours see, memberships and their roles, blocks."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .moderation import Hideable
from .places import Community, Grid, Place


class User(AbstractUser):
    """The login. Everything a neighbour sees of a person lives on Profile."""

    def __str__(self) -> str:
        profile = getattr(self, "profile", None)
        return str(profile) if profile else self.get_username()


def avatar_upload_to(instance, filename: str) -> str:
    # The image pipeline has already given the file a random name; keep only that.
    return f"avatars/{filename or uuid.uuid4().hex}"


class SpokenLanguage(models.TextChoices):
    MANDARIN = "cmn", _("Mandarin (普通话)")
    HOKKIEN = "nan", _("Hokkien (闽南话)")
    CANTONESE = "yue", _("Cantonese (粤语)")
    HAKKA = "hak", _("Hakka (客家话)")
    SHANGHAINESE = "wuu", _("Shanghainese (上海话)")
    ENGLISH = "en", _("English")
    SIGN = "csl", _("Chinese Sign Language (手语)")


class Profile(Hideable):
    """What neighbours see of a person. Hidden by the committee, its photo and "about me" are
    shown to nobody but the person and the committee."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(_("display name"), max_length=40)
    avatar = models.ImageField(_("photo"), upload_to=avatar_upload_to, blank=True)
    avatar_thumbnail = models.ImageField(upload_to=avatar_upload_to, blank=True)
    bio = models.CharField(_("about me"), max_length=300, blank=True)
    spoken_languages = models.JSONField(_("languages I speak"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    large_text = models.BooleanField(_("large text"), default=False)
    # Under 14: joining needs a guardian's consent recorded by the committee, and
    # contact and location features stay off (PIPL art. 31).
    is_minor = models.BooleanField(_("under 14"), default=False)
    # Shown on the monthly community leaderboard unless the person says no (children never are).
    leaderboard_opt_out = models.BooleanField(_("leave me off the leaderboard"), default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        if self.deleted_at:
            return gettext("Deleted user")
        return self.display_name

    def clean(self) -> None:
        if not isinstance(self.spoken_languages, list) or not set(self.spoken_languages) <= set(SpokenLanguage.values):
            raise ValidationError({"spoken_languages": _("Choose languages from the list.")})

    def spoken_language_labels(self) -> list[str]:
        labels = dict(SpokenLanguage.choices)
        return [str(labels[code]) for code in self.spoken_languages if code in labels]


class Membership(models.Model):
    class Role(models.TextChoices):
        RESIDENT = "resident", _("Resident")
        VOLUNTEER = "volunteer", _("Volunteer")
        GRID_WORKER = "grid_worker", _("Grid worker")
        COMMITTEE = "committee", _("Committee member")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Member")
        DECLINED = "declined", _("Declined")
        LEFT = "left", _("Left")
        REMOVED = "removed", _("Removed by the committee")

    class Tenure(models.TextChoices):
        OWNER = "owner", _("Owner")
        TENANT = "tenant", _("Tenant")
        FAMILY = "family", pgettext_lazy("tenure", "Living with family")
        OTHER = "other", pgettext_lazy("tenure", "Other")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="memberships")
    # A resident may belong to several communities, so the home building is per membership.
    home_place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("home building")
    )
    tenure = models.CharField(_("how you live there"), max_length=20, choices=Tenure.choices, default=Tenure.OWNER)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.RESIDENT)
    # The grids a grid worker looks after; empty for every other role.
    grids = models.ManyToManyField(Grid, blank=True, related_name="grid_workers", verbose_name=_("grids"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "community"], name="membership_once_per_community")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.community} ({self.status})"


class RoleChange(models.Model):
    """Who changed whose role in which community, from what to what, and why. Never edited."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_role = models.CharField(max_length=20, choices=Membership.Role.choices)
    to_role = models.CharField(max_length=20, choices=Membership.Role.choices)
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user}: {self.from_role} → {self.to_role}"


class GuardianConsent(models.Model):
    """A guardian's consent for a resident under 14, recorded in person by a committee member."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("In person at the committee office")
        PHONE = "phone", _("By phone, confirmed by the committee")

    minor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guardian_consents")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    guardian_name = models.CharField(_("guardian's name"), max_length=40)
    relation = models.CharField(_("relation to the child"), max_length=40)
    method = models.CharField(_("how the guardian agreed"), max_length=20, choices=Method.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["minor", "community"], name="guardian_consent_once_per_community")
        ]

    def __str__(self) -> str:
        return f"{self.guardian_name} for {self.minor}"


class Block(models.Model):
    """A personal block: the blocked person cannot message, claim from or look up the blocker."""

    blocker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once"),
            models.CheckConstraint(condition=~Q(blocker=models.F("blocked")), name="block_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.blocker} blocked {self.blocked}"
