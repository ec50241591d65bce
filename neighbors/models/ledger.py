from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .places import Community


class LedgerEntry(models.Model):
    """Points and volunteer hours, append-only: corrections are new entries."""

    class Reason(models.TextChoices):
        HELP_CONFIRMED = "help_confirmed", _("Help confirmed")
        DUTY_CONFIRMED = "duty_confirmed", _("Duty confirmed")

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
