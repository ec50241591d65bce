from django.db.models import QuerySet

from neighbors.models import User

from .models import AidPost, Claim
from .permissions import posts_visible_to


def post_list(user: User, *, status: str | None = AidPost.Status.OPEN) -> QuerySet[AidPost]:
    posts = posts_visible_to(user).select_related("community", "place", "category", "author__profile")
    return posts.filter(status=status) if status else posts


def posts_by(user: User) -> QuerySet[AidPost]:
    return post_list(user, status=None).filter(author=user)


def claims_by(user: User) -> QuerySet[Claim]:
    return Claim.objects.filter(helper=user, post__in=posts_visible_to(user)).select_related("post__category")


def live_claim(post: AidPost) -> Claim | None:
    return post.claims.filter(status__in=Claim.LIVE).select_related("helper__profile").first()


def accepted_claim(post: AidPost) -> Claim | None:
    return post.claims.filter(status=Claim.Status.ACCEPTED).select_related("helper__profile").first()
