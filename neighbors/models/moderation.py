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
