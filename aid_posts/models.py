from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from neighbors.models import Community, Place
from talent_pool.models import Skill


class AidPost(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLAIMED = "claimed", _("Claimed, awaiting the poster")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done, awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="aid_posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="aid_posts")
    category = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+", verbose_name=_("category"))
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("what is needed"), max_length=2000)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("building"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.25")), MaxValueValidator(Decimal("24"))],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "status", "-created_at"], name="aidpost_community_status")]

    def __str__(self) -> str:
        return self.title

    @property
    def subject(self) -> str:
        """How other apps (partnerships, conversations, the ledger) refer to this post."""
        return f"aid_post:{self.pk}"


class Claim(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the poster")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    LIVE = [Status.PENDING, Status.ACCEPTED]

    post = models.ForeignKey(AidPost, on_delete=models.CASCADE, related_name="claims")
    helper = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One seat: the database itself refuses a second live claim on a post.
            models.UniqueConstraint(
                fields=["post"], condition=Q(status__in=["pending", "accepted"]), name="claim_one_live_per_post"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.helper} → {self.post} ({self.status})"


class PostEvent(models.Model):
    """Every state change of a post: who moved it, from what, to what, when."""

    post = models.ForeignKey(AidPost, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.post}: {self.from_status} → {self.to_status}"
