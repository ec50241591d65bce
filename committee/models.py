import secrets

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from neighbors.models import Community

NOTE_MAX_LENGTH = 1000


class Report(models.Model):
    """Someone asks the committee to look at a message, a request, a role or a profile.

    The target is named by kind and id rather than by foreign keys: it lives in apps below this
    one, and the report must outlive it (a deleted message is still worth judging), which is
    also why `snapshot` keeps what the target said when it was reported.
    """

    class TargetKind(models.TextChoices):
        MESSAGE = "message", _("Message")
        REQUEST = "request", _("Help request")
        ROLE = "role", _("Welfare role")
        PROFILE = "profile", _("Profile")

    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam or advertising")
        HARASSMENT = "harassment", _("Harassment or abuse")
        FRAUD = "fraud", _("Fraud or a scam")
        PRIVACY = "privacy", _("Exposes someone's private information")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting the committee")
        DISMISSED = "dismissed", _("Dismissed")
        ACTIONED = "actioned", _("Acted on")

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_filed")
    target_kind = models.CharField(_("what is reported"), max_length=20, choices=TargetKind.choices)
    target_id = models.PositiveBigIntegerField()
    # Whose committee handles it. Empty only where the target names no community (a request
    # conversation opened before conversations carried one): then no committee queue shows it.
    community = models.ForeignKey(Community, on_delete=models.PROTECT, null=True, blank=True, related_name="reports")
    # Whose content it is (the sender, the request's author, the profile's owner); a role is the
    # committee's own, so none. Kept so that nobody reviews a report about themselves, and so
    # that a warning or a suspension knows whom it concerns.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.TextField(_("what is wrong"), blank=True, validators=[MaxLengthValidator(NOTE_MAX_LENGTH)])
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    snapshot = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "target_kind", "target_id"],
                condition=Q(status="open"),
                name="report_one_open_per_reporter_and_target",
                violation_error_message=_("You have already reported this. The committee will look at it."),
            ),
            models.CheckConstraint(
                condition=~Q(reason="other") | ~Q(note=""),
                name="report_other_reason_has_note",
                violation_error_message=_("Say what is wrong when you choose “Something else”."),
            ),
            models.CheckConstraint(
                condition=Q(status="open", decided_at__isnull=True) | (~Q(status="open") & Q(decided_at__isnull=False)),
                name="report_decided_when_closed",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "status", "created_at"], name="report_queue"),
            # Every report about one target, e.g. to close them together when it is hidden.
            models.Index(fields=["target_kind", "target_id"], name="report_target"),
        ]

    def __str__(self) -> str:
        return f"{self.target_kind} {self.target_id} ({self.reason}, {self.status})"


# The most a reward may cost, and the most of it a committee may keep in stock.
REWARD_MAX_POINTS = 100_000
REWARD_MAX_STOCK = 10_000


class Reward(models.Model):
    """积分兑换: something a member can have for points, from their committee's catalogue."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("Community service")
        VOUCHER = "voucher", _("Local merchant voucher")
        GOODS = "goods", _("Goods")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="rewards")
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=1000, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SERVICE)
    points = models.PositiveIntegerField(
        _("points"), validators=[MinValueValidator(1), MaxValueValidator(REWARD_MAX_POINTS)]
    )
    # Taken by one conditional UPDATE per redemption; the constraint is the last word.
    stock = models.PositiveIntegerField(_("in stock"), validators=[MaxValueValidator(REWARD_MAX_STOCK)])
    active = models.BooleanField(_("offered"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["points", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="reward_stock_not_negative"),
            models.CheckConstraint(condition=Q(points__gte=1), name="reward_costs_points"),
        ]

    def __str__(self) -> str:
        return self.title


class Redemption(models.Model):
    """A member's redemption of a reward: points spent (a ledger entry) and one unit of stock
    taken when made; the committee hands it over ("fulfilled") or cancels it, which returns both."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the committee")
        FULFILLED = "fulfilled", _("Handed over")
        CANCELLED = "cancelled", _("Cancelled, points returned")

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="redemptions")
    # The price paid, kept: the catalogue's price may change afterwards.
    points = models.PositiveIntegerField()
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"], name="redemption_queue")]

    def __str__(self) -> str:
        return f"{self.user} → {self.reward} ({self.status})"

    @property
    def subject(self) -> str:
        """The ledger's source for the points it spent (and returned)."""
        return f"redemption:{self.pk}"


def certificate_code() -> str:
    """12 characters from an alphabet without look-alikes (0/O, 1/I/L): read aloud or typed
    from paper without mistakes, and 60 bits, so not guessed."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(12))


class Certificate(models.Model):
    """A volunteer-hours certificate the committee issued for a member and a period. Its figures
    are kept as issued, so that the paper and the verification page always agree."""

    code = models.CharField(max_length=12, unique=True, default=certificate_code, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    # The name printed, as it was on the day.
    display_name = models.CharField(max_length=40)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    hours = models.DecimalField(max_digits=8, decimal_places=2)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="certificate_period_ordered",
                violation_error_message=_("The period must end on or after the day it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name} {self.hours} h"
