"""智能派发: asking the best-ranked talents to help with a new request, and the committee's
direct invitations. Each asked talent hears through a notification (stored, then pushed to
their stream after commit), and the Dispatch row keeps the score's parts for the committee."""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from messaging.models import Notification
from messaging.services import notification_send
from neighbors.models import Membership, User
from neighbors.permissions import blocked_between, is_minor

from ..models import AidPost, Claim, Dispatch, PostEvent
from ..permissions import acts_for, can_manage_post
from ..selectors.dispatch import Candidate, rank_talents


def _notify(*, talent: User, post: AidPost, invited: bool) -> None:
    """Tell the talent, in the language they chose for the site rather than the sender's."""
    profile = getattr(talent, "profile", None)
    language = profile.language if profile is not None else settings.LANGUAGE_CODE
    with translation.override(language):
        title = _("“%(title)s” needs your help") % {"title": post.title}
        if invited:
            body = _("The committee asks whether you could help: %(category)s, at %(building)s.")
        else:
            body = _("You match this request: %(category)s, at %(building)s. Offer help if you can.")
        body %= {"category": str(post.category), "building": post.place.name}
    notification_send(
        user=talent,
        kind=Notification.Kind.DISPATCH,
        title=title,
        body=body,
        url=reverse("aid_posts:detail", args=[post.pk]),
    )


@transaction.atomic
def dispatch_for_post(*, post: AidPost, now: datetime | None = None) -> list[Dispatch]:
    """Ask the best settings.DISPATCH_NOTIFY_TOP talents not yet asked about an open request.

    Meant to run inside the transaction that creates the post: the notifications go out only
    if it commits. Running it again asks the next best, never the same person twice.
    """
    if post.status != AidPost.Status.OPEN or post.hidden_at is not None or post.live_claims >= post.seats:
        return []
    top = settings.DISPATCH_NOTIFY_TOP
    asked = set(Dispatch.objects.filter(post=post).values_list("talent_id", flat=True))
    candidates = [
        candidate for candidate in rank_talents(post, now=now, limit=top + len(asked)) if candidate.user.pk not in asked
    ][:top]
    ranked_before = Dispatch.objects.filter(post=post, kind=Dispatch.Kind.RANKED).count()
    dispatches = []
    for position, candidate in enumerate(candidates, start=ranked_before + 1):
        dispatch = Dispatch(
            post=post,
            talent=candidate.user,
            kind=Dispatch.Kind.RANKED,
            rank=position,
            score=candidate.score,
            parts=candidate.parts,
        )
        dispatch.full_clean(validate_constraints=False)
        dispatch.save()
        _notify(talent=candidate.user, post=post, invited=False)
        dispatches.append(dispatch)
    return dispatches


def _parts_of(post: AidPost, talent: User) -> Candidate | None:
    ranked = rank_talents(post, user_ids=[talent.pk], limit=1)
    return ranked[0] if ranked else None


@transaction.atomic
def dispatch_invite(*, actor: User, post: AidPost, talent: User) -> Dispatch:
    """The committee or the building's grid worker asks one talent directly.

    The score's parts are kept when the talent is in the ranking, so the committee can compare
    its choice with the site's; an invited talent outside it (no skill listed, too far for their
    own radius…) gets none.
    """
    if not can_manage_post(actor, post):
        raise PermissionDenied
    post.refresh_from_db(fields=["status", "live_claims", "seats", "expires_at", "hidden_at"])
    if post.hidden_at is not None:
        raise ValidationError(_("The committee hid this request: nobody can be asked to help with it."))
    if post.status != AidPost.Status.OPEN or post.live_claims >= post.seats or post.expires_at <= timezone.now():
        raise ValidationError(_("Talents can be invited only while the request is open with a place free."))
    if acts_for(talent, post):
        raise ValidationError(_("The person who asked for help, or who relays for them, cannot be invited to help."))
    if talent.pk == actor.pk:
        raise ValidationError(_("You cannot invite yourself; offer help on the request instead."))
    is_member = Membership.objects.filter(
        user=talent,
        community_id=post.community_id,
        status=Membership.Status.APPROVED,
        user__is_active=True,
        user__profile__deleted_at__isnull=True,
    ).exists()
    if not is_member:
        raise ValidationError(_("Only members of the request's community can be invited."))
    # One message for both: a block is the blocker's own business, and children are not asked
    # to help strangers. Neither is explained to the person inviting.
    if blocked_between(talent, post.author) or is_minor(talent):
        raise ValidationError(_("This person cannot be invited to this request."))
    if post.claims.filter(helper=talent, status__in=Claim.LIVE).exists():
        raise ValidationError(_("This person has already offered to help with this request."))
    if Dispatch.objects.filter(post=post, talent=talent).exists():
        raise ValidationError(_("This person has already been asked to help with this request."))
    candidate = _parts_of(post, talent)
    dispatch = Dispatch(
        post=post,
        talent=talent,
        kind=Dispatch.Kind.DIRECT,
        invited_by=actor,
        score=candidate.score if candidate else None,
        parts=candidate.parts if candidate else {},
    )
    dispatch.full_clean(validate_constraints=False)
    try:
        # A savepoint: two staff inviting the same person at once meet the unique constraint.
        with transaction.atomic():
            dispatch.save()
    except IntegrityError:
        raise ValidationError(_("This person has already been asked to help with this request.")) from None
    PostEvent.objects.create(
        post=post,
        actor=actor,
        action=PostEvent.Action.INVITED,
        from_status=post.status,
        to_status=post.status,
        note=str(talent)[:300],
    )
    _notify(talent=talent, post=post, invited=True)
    return dispatch
