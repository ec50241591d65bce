from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .audit import AppendOnly
from .places import Community


class LedgerEntry(AppendOnly):
    """Points and volunteer hours, append-only: corrections are new entries, and balances are
    sums of the entries, never stored beside them."""

    class Reason(models.TextChoices):
        HELP_CONFIRMED = "help_confirmed", _("Help confirmed")
        DUTY_CONFIRMED = "duty_confirmed", _("Duty confirmed")
        COMMITTEE_AWARD = "committee_award", _("Committee award")
        REDEMPTION = "redemption", _("Redemption")
        REDEMPTION_REFUND = "redemption_refund", _("Redemption cancelled, points returned")
        CORRECTION = "correction", _("Correction")

    # What a person earns by: the leaderboard and the badges count these, never spending.
    EARNING = (Reason.HELP_CONFIRMED, Reason.DUTY_CONFIRMED, Reason.COMMITTEE_AWARD)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    points = models.IntegerField(_("points"))
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2, default=Decimal("0"))
    reason = models.CharField(_("reason"), max_length=30, choices=Reason.choices)
    # What earned it, e.g. "aid_post:12". With reason and user it is unique, so the
    # same confirmation can never be paid twice, whatever the code above does.
    source = models.CharField(max_length=100)
    # Why, in the words of the committee member who added it; empty for automatic awards.
    note = models.CharField(_("why"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "reason", "source"], name="ledger_award_once"),
        ]
        indexes = [models.Index(fields=["community", "created_at"], name="ledger_by_community")]

    def __str__(self) -> str:
        return f"{self.user}: {self.points} points, {self.hours} h ({self.reason})"
