"""What the committee does about a report, or about a member: hide the reported content, warn,
suspend or remove its author, and restore what was hidden.

Each action goes through the service of the app that owns the thing (messaging's message_hide,
aid_posts' post_hide, neighbors' suspension_start…), which checks its own rule, writes the audit
record and tells the person why. Here, acting on a report also closes every open report about
the same target as acted on, in the same transaction: of two reviewers acting at once, one wins
and the other's whole action rolls back.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aid_posts.models import AidPost, WelfareRole
from aid_posts.services import post_hide, post_restore, role_hide, role_restore
from messaging.models import Message, Notification
from messaging.services import message_hide, message_restore, notification_send_translated
from neighbors.models import AuditEntry, Membership, Profile, Suspension, User
from neighbors.services import (
    audit_record,
    decision_reason,
    membership_remove,
    moderation_check,
    profile_hide,
    profile_restore,
    suspension_start,
)

from ..models import Report
from ..permissions import can_review_report


def _reviewable(actor: User, report: Report) -> None:
    # Never a report about oneself, nor one of a community one does not work for.
    if not can_review_report(actor, report):
        raise PermissionDenied


def _reports_close(*, actor: User, report: Report) -> None:
    """Close the report, then every other open one about the same target, as acted on."""
    now = timezone.now()
    closed = {"status": Report.Status.ACTIONED, "decided_by": actor, "decided_at": now}
    if not Report.objects.filter(pk=report.pk, status=Report.Status.OPEN).update(**closed):
        raise ValidationError(_("This report has already been decided."))
    Report.objects.filter(target_kind=report.target_kind, target_id=report.target_id, status=Report.Status.OPEN).update(
        **closed
    )
    report.refresh_from_db()


def _author_membership(report: Report) -> Membership:
    """The reported author's membership in the community whose committee handles the report."""
    if report.author_id is None or report.community_id is None:
        raise ValidationError(_("This report names nobody to act on: a welfare role is the committee's own."))
    membership = (
        Membership.objects.select_related("community", "user__profile")
        .filter(user=report.author_id, community=report.community_id)
        .first()
    )
    if membership is None:
        raise ValidationError(_("The author is no longer a member of this community."))
    return membership


def _missing() -> ValidationError:
    return ValidationError(_("What was reported no longer exists. Dismiss the report instead."))


def _hide_target(*, actor: User, report: Report, reason: str) -> None:
    kind, pk = report.target_kind, report.target_id
    if kind == Report.TargetKind.MESSAGE:
        message = Message.objects.select_related("conversation").filter(pk=pk).first()
        if message is None:
            raise _missing()
        message_hide(actor=actor, message=message, reason=reason)
    elif kind == Report.TargetKind.REQUEST:
        post = AidPost.objects.filter(pk=pk).first()
        if post is None:
            raise _missing()
        post_hide(actor=actor, post=post, reason=reason)
    elif kind == Report.TargetKind.ROLE:
        role = WelfareRole.objects.filter(pk=pk).first()
        if role is None:
            raise _missing()
        role_hide(actor=actor, role=role, reason=reason)
    else:
        profile = Profile.objects.filter(user_id=pk).first()
        if profile is None:
            raise _missing()
        profile_hide(actor=actor, profile=profile, reason=reason, community=report.community)


@transaction.atomic
def report_hide(*, actor: User, report: Report, reason: str) -> Report:
    """Hide what the report is about (a message, a request, a welfare role, a profile's photo
    and "about me"); its author reads the reason."""
    _reviewable(actor, report)
    _reports_close(actor=actor, report=report)
    try:
        _hide_target(actor=actor, report=report, reason=reason)
    except PermissionDenied:
        # The reviewer sees the report, but their role may not hide this (a grid worker and a
        # welfare role, the committee's own): a sentence, not a 404.
        raise ValidationError(_("Your role does not let you hide this; ask the committee.")) from None
    return report


@transaction.atomic
def member_warn(
    *, actor: User, reason: str, report: Report | None = None, membership: Membership | None = None
) -> AuditEntry:
    """Warn a member, from a report about them or from their page: the warning is kept in the
    audit trail (the moderation pages count them) and the member reads the reason."""
    if (report is None) == (membership is None):
        raise TypeError("member_warn takes a report or a membership, not both")
    if report is not None:
        _reviewable(actor, report)
        membership = _author_membership(report)
    moderation_check(actor=actor, membership=membership, action="warn")
    reason = decision_reason(reason, missing=_("Say what the warning is about: the member reads it."))
    if report is not None:
        _reports_close(actor=actor, report=report)
    entry = audit_record(
        actor=actor,
        action=AuditEntry.Action.MEMBER_WARNED,
        community=membership.community_id,
        subject=membership.user_id,
        target=f"membership:{membership.pk}",
        reason=reason,
        detail={"report": report.pk} if report is not None else {},
    )
    notification_send_translated(
        user=membership.user,
        kind=Notification.Kind.DECISION,
        title=gettext_lazy("A warning from the committee of %(community)s"),
        params={"community": membership.community.name},
        body=reason,
        url=reverse("neighbors:communities"),
    )
    return entry


@transaction.atomic
def report_suspend(*, actor: User, report: Report, days: int, reason: str) -> Suspension:
    """Suspend the reported author in the report's community for `days` (1–365)."""
    _reviewable(actor, report)
    membership = _author_membership(report)
    _reports_close(actor=actor, report=report)
    return suspension_start(actor=actor, membership=membership, days=days, reason=reason)


@transaction.atomic
def report_remove(*, actor: User, report: Report, reason: str) -> Membership:
    """Remove the reported author from the report's community (the committee's decision alone)."""
    _reviewable(actor, report)
    membership = _author_membership(report)
    _reports_close(actor=actor, report=report)
    return membership_remove(actor=actor, membership=membership, reason=reason)


# The kinds of hidden content the workspace lists, as reports name them.
RESTORABLE = (
    Report.TargetKind.MESSAGE,
    Report.TargetKind.REQUEST,
    Report.TargetKind.ROLE,
    Report.TargetKind.PROFILE,
)


@transaction.atomic
def content_restore(*, actor: User, kind: str, target_id: int) -> None:
    """Show again something the committee hid, by the kind and id reports use (a profile by its
    person's id). Anything missing, or not the actor's to restore, is PermissionDenied alike."""
    if kind == Report.TargetKind.MESSAGE:
        message = Message.objects.select_related("conversation").filter(pk=target_id).first()
        if message is None:
            raise PermissionDenied
        message_restore(actor=actor, message=message)
    elif kind == Report.TargetKind.REQUEST:
        post = AidPost.objects.filter(pk=target_id).first()
        if post is None:
            raise PermissionDenied
        post_restore(actor=actor, post=post)
    elif kind == Report.TargetKind.ROLE:
        role = WelfareRole.objects.filter(pk=target_id).first()
        if role is None:
            raise PermissionDenied
        role_restore(actor=actor, role=role)
    elif kind == Report.TargetKind.PROFILE:
        profile = Profile.objects.filter(user_id=target_id).first()
        if profile is None:
            raise PermissionDenied
        profile_restore(actor=actor, profile=profile)
    else:
        raise PermissionDenied
