"""The sensitive-word list. It lives in the lowest app because posts and messages (in higher
apps) are both checked against it; the committee's workspace maintains it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .places import Community


class SensitiveWord(models.Model):
    """A word or phrase that holds new content for committee review instead of publishing it.
    Without a community it applies in every community of the district."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, null=True, blank=True, related_name="sensitive_words"
    )
    word = models.CharField(_("word or phrase"), max_length=50)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sensitive word")
        verbose_name_plural = _("sensitive words")
        ordering = ["word"]
        constraints = [
            models.UniqueConstraint(fields=["community", "word"], name="sensitive_word_once_per_community"),
            models.UniqueConstraint(
                fields=["word"], condition=Q(community__isnull=True), name="sensitive_word_once_district_wide"
            ),
        ]

    def __str__(self) -> str:
        return self.word


class Hideable(models.Model):
    """Content the committee can hide, with a reason its author sees, and restore.

    Hiding is not deleting: the author and the committee still see it, marked, and restoring
    puts it back as it was. The owning app's services set these fields; the committee's
    workspace calls them.
    """

    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(_("why it is hidden"), max_length=300, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class Suspension(models.Model):
    """A member may not post, claim or message in a community until `ends_at`.

    Reading stays open, and so does writing to the committee itself (to ask why, or to appeal).
    Lifting early sets `lifted_at`; the row stays, as the record of what was decided.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="suspensions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="suspensions")
    reason = models.CharField(_("reason"), max_length=300)
    starts_at = models.DateTimeField(auto_now_add=True)
    ends_at = models.DateTimeField(_("until"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("suspension")
        verbose_name_plural = _("suspensions")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["user", "community", "ends_at"], name="suspension_in_force")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.community} until {self.ends_at:%Y-%m-%d}"
