"""The committee's review of requests the sensitive-word list held (see aid_post_create).

A held request is stored and seen only by its author and the community's staff. Released, it
becomes an ordinary open request, announced as a new one is; rejected, it is cancelled and
hidden with the reason, which its author is told. Either decision is made once, by staff of
the request's community who did not write it, and goes into the audit trail.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from messaging.models import Notification
from neighbors.models import AuditEntry, User
from neighbors.services import audit_record, decision_reason

from ..models import AidPost, PostEvent
from ..permissions import can_review_post
from .requests import _notify_poster, _record, aid_post_announce


def _not_held(post: AidPost) -> ValidationError:
    """The refusal of a decision on a request no longer held: its author (or whoever relays for
    them) called it off while it waited, or someone decided first. A reviewer never wrote or
    relayed it, so who moved it out of review tells which."""
    people = [pk for pk in (post.author_id, post.assisted_by_id) if pk is not None]
    if post.events.filter(
        from_status=AidPost.Status.HELD, to_status=AidPost.Status.CANCELLED, actor__in=people
    ).exists():
        return ValidationError(_("Its author cancelled this request while it waited for review."))
    return ValidationError(_("This request has already been reviewed."))


@transaction.atomic
def post_release(*, actor: User, post: AidPost) -> AidPost:
    """The committee finds a held request fine: it is published, and dispatched as a new one is."""
    if not can_review_post(actor, post):
        raise PermissionDenied
    now = timezone.now()
    held = AidPost.objects.filter(pk=post.pk, status=AidPost.Status.HELD)
    if not held.exists():
        raise _not_held(post)
    if not held.filter(expires_at__gt=now).update(status=AidPost.Status.OPEN, updated_at=now):
        # Published now, it would be listed after nobody can help any more; the sweep expires it.
        raise ValidationError(_("This request expired while it waited for review; its author can post it again."))
    _record(post, actor, PostEvent.Action.POSTED, AidPost.Status.HELD, AidPost.Status.OPEN)
    post.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.HELD_RELEASED,
        community=post.community_id,
        subject=post.author_id,
        target=post.subject,
        detail={"words": post.held_for},
    )
    aid_post_announce(post=post)
    _notify_poster(post, Notification.Kind.DECISION, _lazy("“%(title)s” is published: neighbours can see it now"))
    return post


@transaction.atomic
def post_reject(*, actor: User, post: AidPost, reason: str) -> AidPost:
    """The committee keeps a held request unpublished: it is cancelled and hidden, and its
    author (and whoever relays for them) is told why. The words themselves are never named."""
    if not can_review_post(actor, post):
        raise PermissionDenied
    reason = decision_reason(reason, missing=_("Say why, so that the author understands."))
    now = timezone.now()
    rejected = AidPost.objects.filter(pk=post.pk, status=AidPost.Status.HELD).update(
        status=AidPost.Status.CANCELLED, hidden_at=now, hidden_reason=reason, hidden_by=actor, updated_at=now
    )
    if not rejected:
        raise _not_held(post)
    _record(post, actor, PostEvent.Action.CANCELLED, AidPost.Status.HELD, AidPost.Status.CANCELLED, reason)
    post.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.HELD_REJECTED,
        community=post.community_id,
        subject=post.author_id,
        target=post.subject,
        reason=reason,
        detail={"words": post.held_for},
    )
    _notify_poster(post, Notification.Kind.DECISION, _lazy("“%(title)s” was not published"), reason)
    return post
