from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Skill(models.Model):
    """A skill a talent offers and a request asks for; seeded by a data migration."""

    code = models.SlugField(max_length=50, unique=True)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    requires_credential = models.BooleanField(_("requires a verified credential"), default=False)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh_hans


class TalentProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="talent_profile")
    headline = models.CharField(_("headline"), max_length=100, blank=True)
    accepting_requests = models.BooleanField(_("taking requests now"), default=True)

    class Meta:
        verbose_name = _("talent profile")
        verbose_name_plural = _("talent profiles")

    def __str__(self) -> str:
        return str(self.user)


class TalentSkill(models.Model):
    talent = models.ForeignKey(TalentProfile, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["talent", "skill"], name="talent_skill_once")]

    def __str__(self) -> str:
        return f"{self.talent}: {self.skill}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None
