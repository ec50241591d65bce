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


class WelfareRole(models.Model):
    """公益岗位: a standing public-welfare duty the committee asks qualified talents to hold,
    e.g. legal-aid mediation on Saturdays 9:00–11:00 for a year.

    A model of its own beside AidPost rather than a second "kind" of post: a role has
    seats, a weekly schedule and a term, and its holders log duties; a request has
    none of these, and sharing one table would leave half the columns empty either way.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Mondays")
        TUESDAY = 1, _("Tuesdays")
        WEDNESDAY = 2, _("Wednesdays")
        THURSDAY = 3, _("Thursdays")
        FRIDAY = 4, _("Fridays")
        SATURDAY = 5, _("Saturdays")
        SUNDAY = 6, _("Sundays")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="welfare_roles")
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("what the role does"), max_length=2000)
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+", verbose_name=_("required skill"))
    seats = models.PositiveSmallIntegerField(
        _("seats"), default=1, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("to"))
    term_start = models.DateField(_("term starts"))
    term_end = models.DateField(_("term ends"))
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("place"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("welfare role")
        verbose_name_plural = _("welfare roles")
        ordering = ["term_end", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_end__gte=models.F("term_start")),
                name="role_term_ordered",
                violation_error_message=_("The term must end on or after the day it starts."),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="role_hours_ordered",
                violation_error_message=_("The duty must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def subject(self) -> str:
        return f"welfare_role:{self.pk}"


class RoleClaim(models.Model):
    """A talent's claim on a seat of a role, and, once approved, their holding of it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the committee")
        APPROVED = "approved", _("Holding a seat")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        STEPPED_DOWN = "stepped_down", _("Stepped down")

    LIVE = [Status.PENDING, Status.APPROVED]

    role = models.ForeignKey(WelfareRole, on_delete=models.CASCADE, related_name="claims")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_claims")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    # Read by the committee before approving: a relative involved, a case in one's own court, …
    conflict_of_interest = models.TextField(_("conflicts of interest"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "holder"], condition=Q(status__in=["pending", "approved"]), name="role_claim_one_live"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} → {self.role} ({self.status})"


class Duty(models.Model):
    """One duty served by a role's holder, logged by them and confirmed by the committee."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Not confirmed")

    role = models.ForeignKey(WelfareRole, on_delete=models.CASCADE, related_name="duties")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="duties")
    served_on = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25")), MaxValueValidator(Decimal("12"))],
    )
    summary = models.CharField(_("what was done"), max_length=500)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("duty")
        verbose_name_plural = _("duties")
        ordering = ["-served_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["role", "holder", "served_on"], name="duty_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.holder} {self.role} {self.served_on}"

    @property
    def subject(self) -> str:
        return f"duty:{self.pk}"
