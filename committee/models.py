from django.conf import settings
from django.core.validators import MaxLengthValidator
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
