"""Every write to help requests and claims. Each transition is a conditional update,
so two people racing for one seat (or one decision) get exactly one winner."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.models import Conversation
from messaging.services import conversation_open, conversation_retire
from neighbors.models import Community, LedgerEntry, Place, User
from neighbors.permissions import blocked_between, is_member
from neighbors.services import ledger_award, partnership_close, partnership_open
from talent_pool.models import Skill
from talent_pool.services import help_record_add

from ..models import AidPost, Claim, PostEvent
from ..permissions import (
    can_cancel,
    can_confirm,
    can_decide_claim,
    can_mark_done,
    can_view_post,
    can_withdraw_claim,
)
from ..selectors import accepted_claim, user_data_erase_plan
from .roles import role_claims_end_for


def _transition(*, post: AidPost, actor: User, from_statuses: list[str], to_status: str, **fields) -> None:
    """Move the post only if it is still where the caller saw it; record who moved it."""
    moved = AidPost.objects.filter(pk=post.pk, status__in=from_statuses).update(
        status=to_status, updated_at=timezone.now(), **fields
    )
    if not moved:
        raise ValidationError(_("This request has changed in the meantime; please look at it again."))
    PostEvent.objects.create(post=post, actor=actor, from_status=post.status, to_status=to_status)
    post.refresh_from_db()


@transaction.atomic
def aid_post_create(
    *, actor: User, community: Community, category: Skill, title: str, description: str, place: Place
) -> AidPost:
    if not is_member(actor, community):
        raise PermissionDenied
    if place.community_id != community.pk:
        raise ValidationError({"place": _("That building is not in the chosen community.")})
    post = AidPost(
        community=community,
        author=actor,
        category=category,
        title=title.strip(),
        description=description.strip(),
        place=place,
    )
    post.full_clean()
    post.save()
    PostEvent.objects.create(post=post, actor=actor, to_status=post.status)
    return post


@transaction.atomic
def aid_post_claim(*, actor: User, post: AidPost) -> Claim:
    if not can_view_post(actor, post):
        raise PermissionDenied
    if post.author_id == actor.pk:
        raise ValidationError(_("You cannot claim your own request."))
    if blocked_between(actor, post.author):
        raise ValidationError(_("You cannot offer help on this request."))
    # The conditional update is the seat check: a stale or closed post loses here.
    try:
        _transition(post=post, actor=actor, from_statuses=[AidPost.Status.OPEN], to_status=AidPost.Status.CLAIMED)
    except ValidationError:
        raise ValidationError(_("Someone else has already taken this request.")) from None
    claim = Claim(post=post, helper=actor)
    claim.full_clean(validate_constraints=False)
    claim.save()
    return claim


def _claim_decide(*, claim: Claim, status: str) -> None:
    decided = Claim.objects.filter(pk=claim.pk, status=Claim.Status.PENDING).update(
        status=status, decided_at=timezone.now()
    )
    if not decided:
        raise ValidationError(_("This claim has already been decided."))
    claim.refresh_from_db()


@transaction.atomic
def claim_accept(*, actor: User, claim: Claim) -> Conversation:
    """Accepting makes poster and helper partners and opens their conversation."""
    post = claim.post
    if not can_decide_claim(actor, claim):
        raise PermissionDenied
    _claim_decide(claim=claim, status=Claim.Status.ACCEPTED)
    _transition(post=post, actor=actor, from_statuses=[AidPost.Status.CLAIMED], to_status=AidPost.Status.IN_PROGRESS)
    partnership_open(user_a=post.author, user_b=claim.helper, subject=post.subject, title=post.title)
    return conversation_open(
        kind=Conversation.Kind.CLAIM, subject=post.subject, title=post.title, participants=[post.author, claim.helper]
    )


@transaction.atomic
def claim_decline(*, actor: User, claim: Claim) -> Claim:
    if not can_decide_claim(actor, claim):
        raise PermissionDenied
    _claim_decide(claim=claim, status=Claim.Status.DECLINED)
    _transition(post=claim.post, actor=actor, from_statuses=[AidPost.Status.CLAIMED], to_status=AidPost.Status.OPEN)
    return claim


@transaction.atomic
def claim_withdraw(*, actor: User, claim: Claim) -> Claim:
    if not can_withdraw_claim(actor, claim):
        raise PermissionDenied
    _claim_decide(claim=claim, status=Claim.Status.WITHDRAWN)
    _transition(post=claim.post, actor=actor, from_statuses=[AidPost.Status.CLAIMED], to_status=AidPost.Status.OPEN)
    return claim


@transaction.atomic
def aid_post_mark_done(*, actor: User, post: AidPost, hours: Decimal) -> AidPost:
    if not can_mark_done(actor, post, accepted_claim(post)):
        raise PermissionDenied
    post.hours = hours
    post.full_clean(exclude=["community", "author", "category", "place"])
    _transition(
        post=post, actor=actor, from_statuses=[AidPost.Status.IN_PROGRESS], to_status=AidPost.Status.DONE, hours=hours
    )
    return post


@transaction.atomic
def aid_post_confirm(*, actor: User, post: AidPost) -> AidPost:
    """The poster confirms; the helper earns points and hours, once."""
    if not can_confirm(actor, post):
        raise PermissionDenied
    _transition(post=post, actor=actor, from_statuses=[AidPost.Status.DONE], to_status=AidPost.Status.CONFIRMED)
    claim = accepted_claim(post)
    ledger_award(
        user=claim.helper,
        community=post.community,
        points=settings.POINTS_PER_CONFIRMED_HELP,
        hours=post.hours,
        reason=LedgerEntry.Reason.HELP_CONFIRMED,
        source=post.subject,
    )
    # The talent pool counts help per skill for the helper's profile.
    help_record_add(user=claim.helper, skill=post.category, hours=post.hours, source=post.subject)
    partnership_close(subject=post.subject)
    return post


@transaction.atomic
def aid_post_cancel(*, actor: User, post: AidPost) -> AidPost:
    if not can_cancel(actor, post):
        raise PermissionDenied
    # Move the post first: its row lock makes a racing claim commit before we look.
    _transition(
        post=post,
        actor=actor,
        from_statuses=[AidPost.Status.OPEN, AidPost.Status.CLAIMED],
        to_status=AidPost.Status.CANCELLED,
    )
    Claim.objects.filter(post=post, status=Claim.Status.PENDING).update(
        status=Claim.Status.DECLINED, decided_at=timezone.now()
    )
    return post


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
        if post.status == AidPost.Status.IN_PROGRESS:
            _transition(
                post=post,
                actor=user,
                from_statuses=[AidPost.Status.IN_PROGRESS],
                to_status=AidPost.Status.CANCELLED,
            )
        else:
            aid_post_cancel(actor=user, post=post)
        partnership_close(subject=post.subject)
    AidPost.objects.filter(pk__in=[post.pk for post in plan.posts_unclaimed], claims__isnull=True).delete()


def _accepted_claim_withdraw(*, user: User, claim: Claim) -> None:
    """The helper leaves a request in progress: it opens again for others, and the grant to
    see each other's details closes."""
    withdrawn = Claim.objects.filter(pk=claim.pk, status=Claim.Status.ACCEPTED).update(
        status=Claim.Status.WITHDRAWN, decided_at=timezone.now()
    )
    if not withdrawn:
        raise ValidationError(_("This request has changed in the meantime; please look at it again."))
    _transition(post=claim.post, actor=user, from_statuses=[AidPost.Status.IN_PROGRESS], to_status=AidPost.Status.OPEN)
    partnership_close(subject=claim.post.subject)
    conversation_retire(subject=claim.post.subject)
