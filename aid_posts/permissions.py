from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from neighbors.models import User
from neighbors.permissions import blocked_between, communities_visible_to

from .models import AidPost, Claim

AnyUser = User | AnonymousUser


def posts_visible_to(user: AnyUser) -> QuerySet[AidPost]:
    """Members see the posts of their communities; nobody else learns a post exists."""
    return AidPost.objects.filter(community__in=communities_visible_to(user))


def can_view_post(user: AnyUser, post: AidPost) -> bool:
    return posts_visible_to(user).filter(pk=post.pk).exists()


def can_claim_post(user: AnyUser, post: AidPost) -> bool:
    """Open, someone else's, visible, and neither has blocked the other."""
    return (
        post.status == AidPost.Status.OPEN
        and post.author_id != user.pk
        and can_view_post(user, post)
        and not blocked_between(user, post.author)
    )


def can_decide_claim(user: AnyUser, claim: Claim) -> bool:
    return claim.status == Claim.Status.PENDING and claim.post.author_id == user.pk


def can_withdraw_claim(user: AnyUser, claim: Claim) -> bool:
    return claim.status == Claim.Status.PENDING and claim.helper_id == user.pk


def can_mark_done(user: AnyUser, post: AidPost, accepted: Claim | None) -> bool:
    return post.status == AidPost.Status.IN_PROGRESS and accepted is not None and accepted.helper_id == user.pk


def can_confirm(user: AnyUser, post: AidPost) -> bool:
    return post.status == AidPost.Status.DONE and post.author_id == user.pk


def can_cancel(user: AnyUser, post: AidPost) -> bool:
    return post.status in (AidPost.Status.OPEN, AidPost.Status.CLAIMED) and post.author_id == user.pk
