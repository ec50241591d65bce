"""The committee hides a help request or a welfare role, with a reason, and restores it.

Hiding changes nothing else: the request keeps its state, claims and conversation, and
restoring puts it back as it was. What hiding means is visibility (permissions.posts_visible_to,
roles_visible_to): nobody but its author (or whoever posted it for them) and the community's
staff sees it, so nobody else lists, opens, claims or is asked to help with it.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging.models import Notification
from messaging.services import feed_changed, notification_send_translated
from neighbors.models import AuditEntry, User
from neighbors.services import audit_record, decision_reason

from ..models import AidPost, RoleClaim, WelfareRole
from ..permissions import can_moderate_post, can_moderate_role


def _post_people(post: AidPost) -> list[User]:
    """Whose request it is: the resident, and whoever relays for them."""
    return [post.author] + ([post.assisted_by] if post.is_relayed else [])


def _post_tell(post: AidPost, title, body: str = "") -> None:
    for person in _post_people(post):
        notification_send_translated(
            user=person,
            kind=Notification.Kind.DECISION,
            title=title,
            params={"title": post.title},
            body=body,
            url=reverse("aid_posts:detail", args=[post.pk]),
        )


@transaction.atomic
def post_hide(*, actor: User, post: AidPost, reason: str) -> AidPost:
    """Hide a request: its author (and whoever relays for them) sees it marked, with the reason."""
    if not can_moderate_post(actor, post):
        raise PermissionDenied
    reason = decision_reason(reason, missing=_("Say why it is hidden: its author reads it."))
    now = timezone.now()
    if not AidPost.objects.filter(pk=post.pk, hidden_at__isnull=True).update(
        hidden_at=now, hidden_reason=reason, hidden_by=actor, updated_at=now
    ):
        raise ValidationError(_("This request is already hidden."))
    post.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CONTENT_HIDDEN,
        community=post.community_id,
        subject=post.author_id,
        target=post.subject,
        reason=reason,
    )
    _post_tell(post, gettext_lazy("The committee hid your request “%(title)s”"), reason)
    # Open lists and maps of the community drop it on their next refresh.
    feed_changed(community_id=post.community_id)
    return post


@transaction.atomic
def post_restore(*, actor: User, post: AidPost) -> AidPost:
    """Show a hidden request again, as it was."""
    if not can_moderate_post(actor, post):
        raise PermissionDenied
    now = timezone.now()
    if not AidPost.objects.filter(pk=post.pk, hidden_at__isnull=False).update(
        hidden_at=None, hidden_reason="", hidden_by=None, updated_at=now
    ):
        raise ValidationError(_("This request is not hidden."))
    post.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CONTENT_RESTORED,
        community=post.community_id,
        subject=post.author_id,
        target=post.subject,
    )
    _post_tell(post, gettext_lazy("Your request “%(title)s” is shown again"))
    feed_changed(community_id=post.community_id)
    return post


def _role_tell(role: WelfareRole, actor: User, title, body: str = "") -> None:
    """Who hears of it: the role's creator (unless they decided it) and its seat holders, who
    stop seeing it."""
    holders = User.objects.filter(
        role_claims__role=role, role_claims__status=RoleClaim.Status.APPROVED, is_active=True
    ).select_related("profile")
    people = {holder.pk: holder for holder in holders}
    if role.created_by_id != actor.pk:
        people[role.created_by_id] = role.created_by
    for person in people.values():
        notification_send_translated(
            user=person,
            kind=Notification.Kind.DECISION,
            title=title,
            params={"title": role.title},
            body=body,
            url=reverse("aid_posts:role_detail", args=[role.pk]),
        )


@transaction.atomic
def role_hide(*, actor: User, role: WelfareRole, reason: str) -> WelfareRole:
    """Hide a welfare role from the community: only its committee and grid workers see it."""
    if not can_moderate_role(actor, role):
        raise PermissionDenied
    reason = decision_reason(reason, missing=_("Say why it is hidden; it is kept in the record."))
    if not WelfareRole.objects.filter(pk=role.pk, hidden_at__isnull=True).update(
        hidden_at=timezone.now(), hidden_reason=reason, hidden_by=actor
    ):
        raise ValidationError(_("This role is already hidden."))
    role.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CONTENT_HIDDEN,
        community=role.community_id,
        target=role.subject,
        reason=reason,
    )
    _role_tell(role, actor, gettext_lazy("The committee hid the welfare role “%(title)s”"), reason)
    return role


@transaction.atomic
def role_restore(*, actor: User, role: WelfareRole) -> WelfareRole:
    if not can_moderate_role(actor, role):
        raise PermissionDenied
    if not WelfareRole.objects.filter(pk=role.pk, hidden_at__isnull=False).update(
        hidden_at=None, hidden_reason="", hidden_by=None
    ):
        raise ValidationError(_("This role is not hidden."))
    role.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CONTENT_RESTORED,
        community=role.community_id,
        target=role.subject,
    )
    _role_tell(role, actor, gettext_lazy("The welfare role “%(title)s” is shown again"))
    return role
