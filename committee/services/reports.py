"""Every write of the committee's workspace. Services check permission themselves."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging.models import Message, Notification
from messaging.services import message_reject, message_release, notification_send_translated
from neighbors.models import AuditEntry, Profile, User
from neighbors.services import audit_record

from ..models import Report
from ..permissions import can_review_report
from ..selectors.reports import committee_members_of, report_target


def _already_reported() -> str:
    return _("You have already reported this. The committee will look at it.")


def _committee_tell(report: Report) -> None:
    """Tell the committee a report waits, without naming anyone: the queue says the rest to
    those who may read it. Nobody is told of a report about themselves or of their own."""
    if report.community is None:
        return
    involved = [pk for pk in (report.reporter_id, report.author_id) if pk is not None]
    members = committee_members_of(report.community).exclude(pk__in=involved)
    for member in members:
        notification_send_translated(
            user=member,
            kind=Notification.Kind.ESCALATION,
            title=gettext_lazy("A report needs review"),
            url=reverse("committee:reports"),
        )


@transaction.atomic
def report_file(*, actor: User, target_kind: str, target_id: int, reason: str, note: str = "") -> Report:
    """Report something the actor can see now, for their community's committee to look at.

    What the target says is kept in the report, so that an edit or a deletion afterwards does
    not take away what was reported. One open report per person per target.
    """
    target = report_target(actor, target_kind, target_id)
    if target is None:
        raise PermissionDenied
    if actor.pk in target.owners:
        raise ValidationError(_("You cannot report what you wrote yourself."))
    if target.removed:
        raise ValidationError(_("This message was deleted by its sender: nothing of it is left to report."))
    note = note.strip()
    if reason == Report.Reason.OTHER and not note:
        raise ValidationError({"note": _("Say what is wrong when you choose “Something else”.")})
    open_reports = Report.objects.filter(
        reporter=actor, target_kind=target.kind, target_id=target.pk, status=Report.Status.OPEN
    )
    if open_reports.exists():
        raise ValidationError(_already_reported())
    report = Report(
        reporter=actor,
        target_kind=target.kind,
        target_id=target.pk,
        community=target.community,
        author=target.author,
        reason=reason,
        note=note,
        snapshot=target.snapshot,
    )
    report.full_clean(exclude=["reporter", "community", "author"], validate_constraints=False)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        # The same report sent twice at once: the other one is stored.
        if open_reports.exists():
            raise ValidationError(_already_reported()) from None
        raise
    transaction.on_commit(lambda: _committee_tell(report))
    return report


@transaction.atomic
def report_dismiss(*, actor: User, report: Report) -> Report:
    """The committee finds nothing wrong: the report is closed, with who decided and when."""
    if not can_review_report(actor, report):
        raise PermissionDenied
    updated = Report.objects.filter(pk=report.pk, status=Report.Status.OPEN).update(
        status=Report.Status.DISMISSED, decided_by=actor, decided_at=timezone.now()
    )
    if not updated:
        raise ValidationError(_("This report has already been decided."))
    report.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.REPORT_DISMISSED,
        community=report.community_id,
        subject=report.author_id,
        target=report_audit_target(report),
        detail={"report": report.pk, "why_reported": report.reason},
    )
    return report


# How the audit trail names what a report is about (its `target`), by the report's kind.
_AUDIT_TARGETS = {
    Report.TargetKind.MESSAGE: "message",
    Report.TargetKind.REQUEST: "aid_post",
    Report.TargetKind.ROLE: "welfare_role",
    Report.TargetKind.PROFILE: "profile",
}


def report_audit_target(report: Report) -> str:
    """What was reported, as the audit trail names it: the reported thing itself, so that the
    audit page links to it. A report names a profile by its person; the trail by the profile."""
    target_id = report.target_id
    if report.target_kind == Report.TargetKind.PROFILE:
        target_id = Profile.objects.filter(user_id=target_id).values_list("pk", flat=True).first()
        if target_id is None:
            return ""
    return f"{_AUDIT_TARGETS[report.target_kind]}:{target_id}"


def _held_message_audit(*, actor: User, message: Message, action: str, reason: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        community=message.conversation.community_id,
        subject=message.sender_id,
        target=f"message:{message.pk}",
        reason=reason,
        detail={"words": message.held_for},
    )


@transaction.atomic
def held_message_release(*, actor: User, message: Message) -> Message:
    """Publish a message the sensitive-word filter held, where it was written, on the record."""
    message = message_release(actor=actor, message=message)
    _held_message_audit(actor=actor, message=message, action=AuditEntry.Action.HELD_RELEASED)
    return message


@transaction.atomic
def held_message_reject(*, actor: User, message: Message, reason: str) -> Message:
    """Keep a held message unpublished; its sender is told why, and the decision is on the record."""
    message = message_reject(actor=actor, message=message, reason=reason)
    _held_message_audit(
        actor=actor, message=message, action=AuditEntry.Action.HELD_REJECTED, reason=message.review_reason
    )
    return message
