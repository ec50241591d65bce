"""Every write to help requests and their claims.

Each transition is a conditional UPDATE on the row as the caller saw it, so two people
racing for the last seat (or for one decision) get exactly one winner, on SQLite and
PostgreSQL alike; and each is recorded as a PostEvent with who, what and when.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from messaging.models import Conversation, Notification
from messaging.services import (
    conversation_leave,
    conversation_open,
    conversation_retire,
    feed_changed,
    notification_send,
)
from neighbors.images import ProcessedImage
from neighbors.models import AuditEntry, Community, Consent, LedgerEntry, Membership, Place, User
from neighbors.permissions import blocked_between, has_consent, is_member
from neighbors.ratelimits import claiming_check, posting_check
from neighbors.selectors import sensitive_words_in
from neighbors.services import (
    audit_record,
    consent_grant,
    decision_reason,
    files_delete_after_commit,
    ledger_award,
    partnership_close,
    partnership_open,
    suspension_check,
)
from talent_pool.models import Skill
from talent_pool.services import help_record_add, help_record_rate

from ..models import AidPost, Claim, Feedback, FollowUp, PostEvent, PostPhoto, Reminder
from ..permissions import (
    CANCELLABLE,
    can_cancel,
    can_confirm,
    can_decide_claim,
    can_dispute,
    can_follow_up,
    can_mark_done,
    can_post_for,
    can_rate,
    can_resolve_dispute,
    can_start,
    can_take_over,
    can_view_post,
    can_withdraw_claim,
    has_live_claim,
)
from ..selectors import accepted_claims, staff_for_post, user_data_erase_plan
from .dispatch import dispatch_for_post
from .roles import role_claims_end_for

CHANGED = _lazy("This request has changed in the meantime; please look at it again.")


def _record(
    post: AidPost, actor: User | None, action: str, from_status: str, to_status: str = "", note: str = ""
) -> None:
    PostEvent.objects.create(
        post=post,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status or from_status,
        note=note[:300],
    )


def _transition(
    *, post: AidPost, actor: User | None, action: str, from_statuses: Sequence[str], to_status: str, note="", **fields
) -> None:
    """Move the post only if it is still where the caller saw it; record who moved it."""
    moved = AidPost.objects.filter(pk=post.pk, status__in=from_statuses).update(
        status=to_status, updated_at=timezone.now(), **fields
    )
    if not moved:
        raise ValidationError(CHANGED)
    _record(post, actor, action, post.status, to_status, note)
    post.refresh_from_db()
    feed_changed(community_id=post.community_id)


def _post_url(post: AidPost) -> str:
    return reverse("aid_posts:detail", args=[post.pk])


def _tell(user: User, kind: str, post: AidPost, title: Promise, body: Promise | str = "") -> None:
    """One notification about a post, in the recipient's own language, not the actor's:
    `title` is a lazy text with a %(title)s for the post's title. No names of people go in:
    stored notifications would outlive a deleted account; the page shows who."""
    with translation.override(user.profile.language or settings.LANGUAGE_CODE):
        notification_send(
            user=user, kind=kind, title=str(title) % {"title": post.title}, body=str(body), url=_post_url(post)
        )


def _notify_poster(post: AidPost, kind: str, title: Promise, body: Promise | str = "") -> None:
    """The resident hears, and so does whoever relays for them."""
    people = [post.author] + ([post.assisted_by] if post.is_relayed else [])
    for person in people:
        _tell(person, kind, post, title, body)


def _notify_helpers(
    post: AidPost, claims: Sequence[Claim], kind: str, title: Promise, body: Promise | str = ""
) -> None:
    for claim in claims:
        _tell(claim.helper, kind, post, title, body)


# --- Posting -----------------------------------------------------------------------


def _check_times(*, now: datetime, starts: datetime, ends: datetime, expires: datetime) -> None:
    errors = {}
    if ends <= starts:
        errors["window_ends_at"] = _("The time window must end after it starts.")
    elif ends <= now:
        errors["window_ends_at"] = _("The time window is over already. Choose a time still to come.")
    elif ends - max(starts, now) > timedelta(days=settings.REQUEST_MAX_WINDOW_DAYS):
        errors["window_ends_at"] = _("Keep the time window within %(days)d days.") % {
            "days": settings.REQUEST_MAX_WINDOW_DAYS
        }
    if expires <= now:
        errors["expires_at"] = _("The request would expire before anyone sees it. Choose a later time.")
    elif expires > ends:
        errors["expires_at"] = _("A request cannot wait for help after its time window ends.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def aid_post_create(
    *,
    actor: User,
    community: Community,
    category: Skill,
    title: str,
    description: str,
    place: Place,
    window_starts_at: datetime,
    window_ends_at: datetime,
    expires_at: datetime | None = None,
    urgency: int = AidPost.Urgency.NORMAL,
    seats: int = 1,
    sensitive_details: str = "",
    grant_health_consent: bool = False,
    photos: Sequence[ProcessedImage] = (),
    resident: User | None = None,
    assisted_consent: str = "",
    assisted_note: str = "",
) -> AidPost:
    """Post a request, for oneself or (代办) for a resident the actor looks after.

    For a resident, `assisted_consent` records how they agreed (in person, by phone, …);
    the actor then relays for them until they take the request over.
    """
    author = resident or actor
    assisted = resident is not None and resident.pk != actor.pk
    if assisted:
        membership = Membership.objects.filter(user=resident, community=community).first()
        if membership is None or not can_post_for(actor, membership):
            raise PermissionDenied
        if assisted_consent not in AidPost.AssistedConsent.values:
            raise ValidationError({"assisted_consent": _("Record how the resident agreed to this request.")})
    elif not is_member(actor, community):
        raise PermissionDenied
    # Suspended, neither the resident nor anyone for them posts in the community.
    suspension_check(user=actor, community_id=community.pk)
    if assisted:
        suspension_check(user=resident, community_id=community.pk, on_behalf=True)
    if place.community_id != community.pk:
        raise ValidationError({"place": _("That building is not in the chosen community.")})
    if len(photos) > AidPost.MAX_PHOTOS:
        raise ValidationError({"photos": _("Add at most %(count)d photos.") % {"count": AidPost.MAX_PHOTOS}})
    sensitive_details = sensitive_details.strip()
    if sensitive_details and grant_health_consent and not assisted:
        # Given on the form itself, beside the details it covers; withdrawn on the consents page.
        consent_grant(actor=actor, kind=Consent.Kind.HEALTH)
    if sensitive_details and not has_consent(author, Consent.Kind.HEALTH):
        # PIPL: health details are sensitive personal information and need their own consent.
        raise ValidationError(
            {
                "sensitive_details": _(
                    "Private details such as health need the resident's separate consent to health "
                    "information first (on the consents page)."
                )
            }
        )
    now = timezone.now()
    expires_at = expires_at or window_ends_at
    _check_times(now=now, starts=window_starts_at, ends=window_ends_at, expires=expires_at)
    # Counted against whoever presses the button: a committee member posting for many residents
    # at a help desk has the same allowance, set for that (settings.POST_RATE_LIMITS).
    posting_check(actor)
    # A listed word holds the request for the committee (aid_posts.services.review): stored, seen by
    # its author and the committee only, and neither dispatched nor listed until released.
    held_for = ", ".join(
        sorted({word for text in (title, description) for word in sensitive_words_in(text, community_id=community.pk)})
    )[:300]
    post = AidPost(
        community=community,
        author=author,
        category=category,
        title=title.strip(),
        description=description.strip(),
        place=place,
        urgency=urgency,
        window_starts_at=window_starts_at,
        window_ends_at=window_ends_at,
        expires_at=expires_at,
        seats=seats,
        sensitive_details=sensitive_details,
        assisted_by=actor if assisted else None,
        assisted_consent=assisted_consent if assisted else "",
        assisted_note=assisted_note.strip() if assisted else "",
        status=AidPost.Status.HELD if held_for else AidPost.Status.OPEN,
        held_for=held_for,
    )
    post.full_clean()
    post.save()
    for position, photo in enumerate(photos):
        stored = PostPhoto(post=post, width=photo.width, height=photo.height, position=position)
        stored.image.save(photo.image.name, photo.image, save=False)
        stored.thumbnail.save(photo.thumbnail.name, photo.thumbnail, save=False)
        stored.save()
    note = AidPost.AssistedConsent(assisted_consent).label if assisted else ""
    _record(post, actor, PostEvent.Action.POSTED, "", post.status, str(note))
    if post.status == AidPost.Status.OPEN:
        aid_post_announce(post=post)
    return post


def aid_post_announce(*, post: AidPost) -> None:
    """What publishing a request sets off, at creation or when the committee releases a held
    one: the best-ranked talents are asked, and the pages listing the community's requests
    refresh. Runs inside the publishing transaction, so nothing goes out if it rolls back."""
    dispatch_for_post(post=post)
    feed_changed(community_id=post.community_id)


# --- Claims ------------------------------------------------------------------------


@transaction.atomic
def aid_post_claim(*, actor: User, post: AidPost) -> Claim:
    if not can_view_post(actor, post):
        raise PermissionDenied
    suspension_check(user=actor, community_id=post.community_id)
    if post.author_id == actor.pk or post.assisted_by_id == actor.pk:
        raise ValidationError(_("You cannot claim your own request."))
    if blocked_between(actor, post.author):
        raise ValidationError(_("You cannot offer help on this request."))
    if has_live_claim(actor, post):
        raise ValidationError(_("You have already offered to help with this request."))
    claiming_check(actor)
    # The conditional update is the seat check: a full, closed or expired post loses here.
    # In an UPDATE every right-hand side reads the row as it was, so "the last seat" is
    # live_claims == seats - 1 before the increment.
    taken = AidPost.objects.filter(
        pk=post.pk,
        status=AidPost.Status.OPEN,
        hidden_at__isnull=True,
        live_claims__lt=F("seats"),
        expires_at__gt=timezone.now(),
    ).update(
        live_claims=F("live_claims") + 1,
        status=Case(
            When(live_claims=F("seats") - 1, then=Value(AidPost.Status.CLAIMED)), default=Value(AidPost.Status.OPEN)
        ),
        updated_at=timezone.now(),
    )
    if not taken:
        raise ValidationError(_("Every seat on this request is taken, or it is no longer open."))
    from_status = post.status
    post.refresh_from_db()
    claim = Claim(post=post, helper=actor)
    claim.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError:
        # The same person's second offer raced the first: the outer transaction rolls back the seat.
        raise ValidationError(_("You have already offered to help with this request.")) from None
    _record(post, actor, PostEvent.Action.CLAIMED, from_status, post.status)
    _notify_poster(
        post,
        Notification.Kind.CLAIM,
        # No names in stored notifications: they would outlive a deleted account; the page shows who.
        _lazy("A neighbour offered to help with “%(title)s”"),
    )
    feed_changed(community_id=post.community_id)
    return claim


def _claim_decide(*, claim: Claim, status: str) -> None:
    decided = Claim.objects.filter(pk=claim.pk, status=Claim.Status.PENDING).update(
        status=status, decided_at=timezone.now()
    )
    if not decided:
        raise ValidationError(_("This claim has already been decided."))
    claim.refresh_from_db()


def _seat_free(*, post: AidPost, actor: User | None, action: str) -> None:
    """A live claim ended: give its seat back, and reopen a post whose seats were all offered."""
    from_status = post.status
    freed = AidPost.objects.filter(pk=post.pk, live_claims__gt=0).update(
        live_claims=F("live_claims") - 1,
        status=Case(When(status=AidPost.Status.CLAIMED, then=Value(AidPost.Status.OPEN)), default=F("status")),
        updated_at=timezone.now(),
    )
    if not freed:
        raise ValidationError(CHANGED)
    post.refresh_from_db()
    _record(post, actor, action, from_status, post.status)
    feed_changed(community_id=post.community_id)


@transaction.atomic
def claim_accept(*, actor: User, claim: Claim) -> Conversation:
    """Accepting makes poster and helper partners and opens (or joins) the request's conversation.
    When the last seat is accepted, the request is in progress."""
    post = claim.post
    if not can_decide_claim(actor, claim):
        raise PermissionDenied
    _claim_decide(claim=claim, status=Claim.Status.ACCEPTED)
    accepted = post.claims.filter(status=Claim.Status.ACCEPTED).count()
    if accepted == post.seats:
        _transition(
            post=post,
            actor=actor,
            action=PostEvent.Action.ACCEPTED,
            from_statuses=AidPost.SEEKING,
            to_status=AidPost.Status.IN_PROGRESS,
        )
    else:
        _record(post, actor, PostEvent.Action.ACCEPTED, post.status)
    partnership_open(user_a=post.author, user_b=claim.helper, subject=post.subject, title=post.title)
    participants = [post.author, claim.helper] + ([post.assisted_by] if post.is_relayed else [])
    _tell(claim.helper, Notification.Kind.CLAIM_DECIDED, post, _lazy("Your offer on “%(title)s” was accepted"))
    return conversation_open(
        kind=Conversation.Kind.CLAIM,
        subject=post.subject,
        title=post.title,
        participants=participants,
        community=post.community,
    )


@transaction.atomic
def claim_decline(*, actor: User, claim: Claim) -> Claim:
    if not can_decide_claim(actor, claim):
        raise PermissionDenied
    _claim_decide(claim=claim, status=Claim.Status.DECLINED)
    _seat_free(post=claim.post, actor=actor, action=PostEvent.Action.DECLINED)
    _tell(claim.helper, Notification.Kind.CLAIM_DECIDED, claim.post, _lazy("Your offer on “%(title)s” was declined"))
    return claim


@transaction.atomic
def claim_withdraw(*, actor: User, claim: Claim) -> Claim:
    if not can_withdraw_claim(actor, claim):
        raise PermissionDenied
    _claim_decide(claim=claim, status=Claim.Status.WITHDRAWN)
    _seat_free(post=claim.post, actor=actor, action=PostEvent.Action.WITHDRAWN)
    return claim


def _go_ahead(*, post: AidPost, actor: User | None, tell: bool = True) -> None:
    """In progress with the helpers accepted so far: the seats still free, and any offers
    still waiting, are given up (and, with `tell`, their helpers told)."""
    accepted = post.claims.filter(status=Claim.Status.ACCEPTED).count()
    waiting = list(post.claims.filter(status=Claim.Status.PENDING).select_related("helper__profile"))
    Claim.objects.filter(pk__in=[claim.pk for claim in waiting]).update(
        status=Claim.Status.DECLINED, decided_at=timezone.now()
    )
    _transition(
        post=post,
        actor=actor,
        action=PostEvent.Action.STARTED,
        from_statuses=AidPost.SEEKING,
        to_status=AidPost.Status.IN_PROGRESS,
        seats=accepted,
        live_claims=accepted,
    )
    if tell:
        _notify_helpers(
            post,
            waiting,
            Notification.Kind.CLAIM_DECIDED,
            _lazy("“%(title)s” went ahead with other helpers"),
        )


@transaction.atomic
def aid_post_start(*, actor: User, post: AidPost) -> AidPost:
    """The poster goes ahead with fewer helpers than seats, e.g. two movers instead of three."""
    post = AidPost.objects.select_for_update().get(pk=post.pk)
    if not can_start(actor, post, post.claims.filter(status=Claim.Status.ACCEPTED).count()):
        raise PermissionDenied
    _go_ahead(post=post, actor=actor)
    return post


# --- Closing -----------------------------------------------------------------------


@transaction.atomic
def aid_post_mark_done(*, actor: User, post: AidPost, hours: Decimal) -> AidPost:
    """The helper marks their own part done with the hours it took; when every accepted
    helper has, the request is done and waits for the poster."""
    claim = post.claims.filter(helper=actor.pk, status=Claim.Status.ACCEPTED).first()
    if not can_mark_done(actor, post, claim):
        raise PermissionDenied
    claim.hours = hours
    claim.full_clean(exclude=["post", "helper"])
    marked = Claim.objects.filter(pk=claim.pk, done_at__isnull=True).update(hours=hours, done_at=timezone.now())
    if not marked:
        raise ValidationError(CHANGED)
    still_working = post.claims.filter(status=Claim.Status.ACCEPTED, done_at__isnull=True).exists()
    if still_working:
        _record(post, actor, PostEvent.Action.HELPER_DONE, post.status, note=f"{hours}")
        return post
    _transition(
        post=post,
        actor=actor,
        action=PostEvent.Action.HELPER_DONE,
        from_statuses=[AidPost.Status.IN_PROGRESS],
        to_status=AidPost.Status.DONE,
        note=f"{hours}",
    )
    _notify_poster(
        post,
        Notification.Kind.REQUEST_UPDATE,
        _lazy("“%(title)s” is done: please confirm"),
    )
    return post


def _award(post: AidPost) -> None:
    """Hours and points to each helper, once: the ledger's and the help record's unique keys
    hold even if this ran twice."""
    for claim in accepted_claims(post):
        hours = claim.hours or Decimal("0")
        ledger_award(
            user=claim.helper,
            community=post.community,
            points=settings.POINTS_PER_CONFIRMED_HELP,
            hours=hours,
            reason=LedgerEntry.Reason.HELP_CONFIRMED,
            source=post.subject,
        )
        # The talent pool counts help per skill for the helper's profile.
        help_record_add(user=claim.helper, skill=post.category, hours=hours, source=_help_source(post, claim))


def _help_source(post: AidPost, claim: Claim) -> str:
    return f"{post.subject}:claim:{claim.pk}"


@transaction.atomic
def aid_post_confirm(*, actor: User, post: AidPost) -> AidPost:
    """The poster confirms; each helper earns points and hours, once."""
    if not can_confirm(actor, post):
        raise PermissionDenied
    _transition(
        post=post,
        actor=actor,
        action=PostEvent.Action.CONFIRMED,
        from_statuses=[AidPost.Status.DONE],
        to_status=AidPost.Status.CONFIRMED,
    )
    _award(post)
    partnership_close(subject=post.subject)
    helpers = accepted_claims(post)
    _notify_helpers(
        post,
        helpers,
        Notification.Kind.REQUEST_UPDATE,
        _lazy("“%(title)s” was confirmed: thank you!"),
    )
    return post


@transaction.atomic
def aid_post_dispute(*, actor: User, post: AidPost, reason: str) -> AidPost:
    """The poster says the help was not given as marked; the committee decides."""
    if not can_dispute(actor, post):
        raise PermissionDenied
    reason = decision_reason(reason, missing=_("Say what went wrong, so that the committee can look into it."))
    _transition(
        post=post,
        actor=actor,
        action=PostEvent.Action.DISPUTED,
        from_statuses=[AidPost.Status.DONE],
        to_status=AidPost.Status.DISPUTED,
        note=reason,
    )
    for person in staff_for_post(post, committee_only=True):
        _tell(person, Notification.Kind.ESCALATION, post, _lazy("“%(title)s” is disputed"), reason)
    _notify_helpers(
        post,
        accepted_claims(post),
        Notification.Kind.REQUEST_UPDATE,
        _lazy("The poster disputed “%(title)s”; the committee will look into it"),
    )
    return post


DISPUTE_CONFIRM = "confirm"
DISPUTE_CLOSE = "close"


@transaction.atomic
def dispute_resolve(*, actor: User, post: AidPost, outcome: str, reason: str) -> AidPost:
    """The committee decides: the help was given (confirmed, and awarded as usual) or it
    was not (closed without points or hours). Everyone involved reads the reason."""
    if not can_resolve_dispute(actor, post):
        raise PermissionDenied
    if outcome not in (DISPUTE_CONFIRM, DISPUTE_CLOSE):
        raise ValidationError({"outcome": _("Choose how the dispute ends.")})
    reason = decision_reason(reason, missing=_("Give a reason: the poster and the helpers read it."))
    to_status = AidPost.Status.CONFIRMED if outcome == DISPUTE_CONFIRM else AidPost.Status.CLOSED
    _transition(
        post=post,
        actor=actor,
        action=PostEvent.Action.RESOLVED,
        from_statuses=[AidPost.Status.DISPUTED],
        to_status=to_status,
        note=reason,
    )
    if outcome == DISPUTE_CONFIRM:
        _award(post)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.DISPUTE_RESOLVED,
        community=post.community_id,
        subject=post.author_id,
        target=post.subject,
        reason=reason,
        detail={"outcome": to_status},
    )
    partnership_close(subject=post.subject)
    title = _lazy("The committee decided on “%(title)s”")
    _notify_poster(post, Notification.Kind.DECISION, title, reason)
    _notify_helpers(post, accepted_claims(post), Notification.Kind.DECISION, title, reason)
    return post


@transaction.atomic
def feedback_give(*, actor: User, post: AidPost, rating: int, comment: str = "") -> Feedback:
    """The poster rates a confirmed request, once; the rating reaches each helper's record."""
    if not can_rate(actor, post):
        raise PermissionDenied
    feedback = Feedback(post=post, rating=rating, comment=comment.strip())
    feedback.full_clean(exclude=["post"])
    try:
        with transaction.atomic():
            feedback.save()
    except IntegrityError:
        raise ValidationError(_("This request has been rated already.")) from None
    for claim in accepted_claims(post):
        help_record_rate(source=_help_source(post, claim), rating=rating)
    return feedback


@transaction.atomic
def follow_up_record(*, actor: User, post: AidPost, method: str, satisfaction: int, note: str = "") -> FollowUp:
    """回访: what the resident told the committee afterwards."""
    if not can_follow_up(actor, post):
        raise PermissionDenied
    follow_up = FollowUp(post=post, recorded_by=actor, method=method, satisfaction=satisfaction, note=note.strip())
    follow_up.full_clean(exclude=["post", "recorded_by"])
    follow_up.save()
    return follow_up


@transaction.atomic
def aid_post_cancel(*, actor: User, post: AidPost) -> AidPost:
    if not can_cancel(actor, post):
        raise PermissionDenied
    _cancel(post=post, actor=actor, from_statuses=CANCELLABLE)
    return post


def _cancel(
    *,
    post: AidPost,
    actor: User | None,
    from_statuses: Sequence[str],
    action=PostEvent.Action.CANCELLED,
    tell: bool = True,
):
    # Move the post first: its row lock makes a racing claim commit before we look.
    to_status = AidPost.Status.EXPIRED if action == PostEvent.Action.EXPIRED else AidPost.Status.CANCELLED
    _transition(post=post, actor=actor, action=action, from_statuses=from_statuses, to_status=to_status, live_claims=0)
    live = list(post.claims.filter(status__in=Claim.LIVE).select_related("helper__profile"))
    Claim.objects.filter(pk__in=[claim.pk for claim in live]).update(
        status=Claim.Status.DECLINED, decided_at=timezone.now()
    )
    if any(claim.status == Claim.Status.ACCEPTED for claim in live):
        partnership_close(subject=post.subject)
    if tell:
        expired = to_status == AidPost.Status.EXPIRED
        title = _lazy("“%(title)s” expired") if expired else _lazy("“%(title)s” was cancelled")
        _notify_helpers(post, live, Notification.Kind.REQUEST_UPDATE, title)


@transaction.atomic
def aid_post_take_over(*, actor: User, post: AidPost) -> AidPost:
    """The resident takes a request posted for them into their own hands: the person who
    relayed for them leaves its conversation, and stops acting for them."""
    if not can_take_over(actor, post):
        raise PermissionDenied
    assistant = post.assisted_by
    taken = AidPost.objects.filter(pk=post.pk, taken_over_at__isnull=True).update(taken_over_at=timezone.now())
    if not taken:
        raise ValidationError(CHANGED)
    _record(post, actor, PostEvent.Action.TAKEN_OVER, post.status)
    post.refresh_from_db()
    conversation_leave(subject=post.subject, user=assistant)
    _tell(assistant, Notification.Kind.REQUEST_UPDATE, post, _lazy("The resident took over “%(title)s”"))
    return post


# --- What the scheduled command does ----------------------------------------------


def posts_expire(*, now: datetime | None = None) -> int:
    """Requests still seeking help past their expiry: with helpers accepted they go ahead
    with them, otherwise they expire. Each in its own transaction; a rerun finds nothing.
    A request still held for review past its expiry expires too: too late to help with.
    A hidden one moves as well (a restore then finds it over), but nobody is told: nothing
    automatic goes out about what the committee hid."""
    now = now or timezone.now()
    expiring = [*AidPost.SEEKING, AidPost.Status.HELD]
    count = 0
    for pk in AidPost.objects.filter(status__in=expiring, expires_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            post = AidPost.objects.select_for_update().filter(pk=pk, status__in=expiring).first()
            if post is None:
                continue
            tell = post.hidden_at is None
            if post.claims.filter(status=Claim.Status.ACCEPTED).exists():
                _go_ahead(post=post, actor=None, tell=tell)
            else:
                _cancel(post=post, actor=None, from_statuses=expiring, action=PostEvent.Action.EXPIRED, tell=tell)
                if tell:
                    _notify_poster(
                        post,
                        Notification.Kind.REQUEST_UPDATE,
                        _lazy("“%(title)s” expired without a helper"),
                        _lazy("You can post it again, or ask the committee for help."),
                    )
            count += 1
    return count


def posts_escalate(*, now: datetime | None = None) -> int:
    """Open requests nobody has offered to help with, past the deadline for their urgency:
    into the queue of the grid worker of their building and of the committee. Never a hidden
    one: nobody may be asked to help with it, so staff would be told to do what they cannot
    (restored, it escalates on the next run if still overdue)."""
    now = now or timezone.now()
    count = 0
    for urgency, minutes in settings.REQUEST_ESCALATE_AFTER_MINUTES.items():
        overdue = AidPost.objects.filter(
            status=AidPost.Status.OPEN,
            live_claims=0,
            escalated_at__isnull=True,
            hidden_at__isnull=True,
            urgency=urgency,
            created_at__lte=now - timedelta(minutes=minutes),
            expires_at__gt=now,
        )
        for post in overdue.select_related("place", "community"):
            with transaction.atomic():
                # The conditional update makes a second run (or a racing one, or a hide since the
                # list was read) a no-op.
                escalated = AidPost.objects.filter(pk=post.pk, escalated_at__isnull=True, hidden_at__isnull=True)
                if not escalated.update(escalated_at=now):
                    continue
                _record(post, None, PostEvent.Action.ESCALATED, post.status)
                for person in staff_for_post(post):
                    _tell(
                        person,
                        Notification.Kind.ESCALATION,
                        post,
                        _lazy("Nobody has offered to help with “%(title)s” yet"),
                        _lazy("Invite a talent, or take it on yourself."),
                    )
                count += 1
    return count


def _remind(post: AidPost, key: str, user: User, title: Promise) -> bool:
    _reminder, created = Reminder.objects.get_or_create(post=post, key=key)
    if created:
        _tell(user, Notification.Kind.REMINDER, post, title)
    return created


@transaction.atomic
def posts_remind(*, now: datetime | None = None) -> int:
    """One reminder per thing waiting too long: an offer the poster has not decided, a request
    done but not confirmed, a helper whose window is over but who has not marked done. None
    about a hidden request (its helpers cannot even open it); restored, it is reminded about
    as any other."""
    now = now or timezone.now()
    before = now - timedelta(hours=settings.REQUEST_REMIND_AFTER_HOURS)
    sent = 0
    waiting = Claim.objects.filter(
        status=Claim.Status.PENDING,
        created_at__lte=before,
        post__status__in=AidPost.SEEKING,
        post__hidden_at__isnull=True,
    ).select_related("post__author__profile", "post__assisted_by__profile")
    for claim in waiting:
        post = claim.post
        title = _lazy("An offer of help on “%(title)s” is waiting for your answer")
        for person in [post.author] + ([post.assisted_by] if post.is_relayed else []):
            sent += _remind(post, f"decide:claim:{claim.pk}:{person.pk}", person, title)
    unconfirmed = AidPost.objects.filter(
        status=AidPost.Status.DONE, updated_at__lte=before, hidden_at__isnull=True
    ).select_related("author__profile", "assisted_by__profile")
    for post in unconfirmed:
        title = _lazy("Please confirm “%(title)s”, so that your helper gets their hours")
        for person in [post.author] + ([post.assisted_by] if post.is_relayed else []):
            sent += _remind(post, f"confirm:{person.pk}", person, title)
    undone = Claim.objects.filter(
        status=Claim.Status.ACCEPTED,
        done_at__isnull=True,
        post__status=AidPost.Status.IN_PROGRESS,
        post__window_ends_at__lte=before,
        post__hidden_at__isnull=True,
    ).select_related("post", "helper__profile")
    for claim in undone:
        title = _lazy("Did you help with “%(title)s”? Mark it done with your hours")
        sent += _remind(claim.post, f"mark_done:claim:{claim.pk}", claim.helper, title)
    return sent


# --- Deleting an account -----------------------------------------------------------


@transaction.atomic
def user_data_erase(*, user: User) -> None:
    """The aid_posts part of deleting an account (registered in apps.py, run by neighbors' account_delete).

    Requests nobody took part in go. The rest stay for the people who did, under the
    anonymized author; live ones are cancelled and offers withdrawn, each move
    recorded as a PostEvent by the leaving person. A request marked done stays as
    it is. Any request that changed under our feet fails the whole deletion.
    """
    # Seats in welfare roles are given up first (the committee hears of each).
    role_claims_end_for(user=user)
    # Lock what the plan is about, so that no claim lands on a request being deleted.
    list(AidPost.objects.select_for_update().filter(author=user).values_list("pk", flat=True))
    list(AidPost.objects.select_for_update().filter(claims__helper=user).values_list("pk", flat=True))
    plan = user_data_erase_plan(user)
    for claim in plan.claims_pending:
        claim_withdraw(actor=user, claim=claim)
    for claim in plan.claims_in_progress:
        _accepted_claim_withdraw(user=user, claim=claim)
    for post in plan.posts_to_cancel:
        post.refresh_from_db()
        _cancel(post=post, actor=user, from_statuses=AidPost.SEEKING + [AidPost.Status.IN_PROGRESS])
        partnership_close(subject=post.subject)
    # Requests the person relayed for others stay with those residents.
    AidPost.objects.filter(assisted_by=user, taken_over_at__isnull=True).update(taken_over_at=timezone.now())
    unclaimed = AidPost.objects.filter(pk__in=[post.pk for post in plan.posts_unclaimed], claims__isnull=True)
    files_delete_after_commit(
        *(file for photo in PostPhoto.objects.filter(post__in=unclaimed) for file in (photo.image, photo.thumbnail))
    )
    unclaimed.delete()


def _accepted_claim_withdraw(*, user: User, claim: Claim) -> None:
    """The helper leaves a request in progress: their seat opens again for others, and the
    grant to see each other's details closes."""
    post = claim.post
    withdrawn = Claim.objects.filter(pk=claim.pk, status=Claim.Status.ACCEPTED).update(
        status=Claim.Status.WITHDRAWN, decided_at=timezone.now()
    )
    if not withdrawn:
        raise ValidationError(CHANGED)
    _transition(
        post=post,
        actor=user,
        action=PostEvent.Action.REOPENED,
        from_statuses=[*AidPost.SEEKING, AidPost.Status.IN_PROGRESS],
        to_status=AidPost.Status.OPEN,
        live_claims=F("live_claims") - 1,
    )
    partnership_close(subject=post.subject, user=user)
    if not post.claims.filter(status=Claim.Status.ACCEPTED).exists():
        conversation_retire(subject=post.subject)
    else:
        conversation_leave(subject=post.subject, user=user)
