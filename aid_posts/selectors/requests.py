from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from neighbors.data_rights import decimal_text, isoformat
from neighbors.models import Membership, User
from neighbors.permissions import communities_visible_to
from talent_pool.models import Skill

from ..models import AidPost, Claim, Duty, PostEvent, PostPhoto, RoleClaim
from ..permissions import posts_visible_to


def post_list(user: User, *, status: str | None = AidPost.Status.OPEN) -> QuerySet[AidPost]:
    """The requests the user may see, in one status (the open ones, by default). A list by status
    is the community's list: what the committee hid is not in it, even for the staff who may
    open it (they find it among the hidden content)."""
    posts = posts_visible_to(user).select_related("community", "place", "category", "author__profile")
    return posts.filter(status=status, hidden_at__isnull=True) if status else posts


def posts_by(user: User) -> QuerySet[AidPost]:
    return post_list(user, status=None).filter(author=user)


def claims_by(user: User) -> QuerySet[Claim]:
    return Claim.objects.filter(helper=user, post__in=posts_visible_to(user)).select_related("post__category")


def live_claims(post: AidPost) -> list[Claim]:
    """Offers waiting and helpers accepted, in the order they came."""
    return list(
        post.claims.filter(status__in=Claim.LIVE).select_related("helper__profile").order_by("created_at", "pk")
    )


def accepted_claims(post: AidPost) -> list[Claim]:
    return list(
        post.claims.filter(status=Claim.Status.ACCEPTED).select_related("helper__profile").order_by("created_at", "pk")
    )


def claim_of(user: User, post: AidPost) -> Claim | None:
    """The user's live claim on the post, if any."""
    if not user.is_authenticated:
        return None
    return post.claims.filter(helper=user, status__in=Claim.LIVE).first()


def post_photos(post: AidPost) -> QuerySet[PostPhoto]:
    return post.photos.all()


def post_history(post: AidPost) -> QuerySet[PostEvent]:
    return post.events.select_related("actor__profile").order_by("id")


def staff_for_post(post: AidPost, *, committee_only: bool = False) -> list[User]:
    """Who an escalated or disputed request reaches: the committee of its community and,
    unless only the committee decides, the grid workers of its building's grid."""
    staff = Membership.objects.filter(community_id=post.community_id, status=Membership.Status.APPROVED)
    roles = Q(role=Membership.Role.COMMITTEE)
    if not committee_only and post.place.grid_id is not None:
        roles |= Q(role=Membership.Role.GRID_WORKER, grids=post.place.grid_id)
    users = User.objects.filter(pk__in=staff.filter(roles).values("user"), is_active=True)
    return list(users.exclude(pk=post.author_id).order_by("pk"))


# What erasing an account cancels among its requests that someone else took part in.
_CANCELLED_ON_ERASE = (AidPost.Status.OPEN, AidPost.Status.CLAIMED, AidPost.Status.IN_PROGRESS)


@dataclass(frozen=True)
class UserDataErasePlan:
    """What deleting an account does to the person's requests and offers.

    Read once, so that the sentences shown before deleting and the erasure itself
    can never disagree about which request goes which way.
    """

    # Never offered help on: nobody else needs them, so they go.
    posts_unclaimed: list[AidPost]
    # Open, claimed or in progress, with someone involved: kept for them, cancelled.
    posts_to_cancel: list[AidPost]
    # Done and waiting for the poster's confirmation: kept as they are.
    posts_waiting: list[AidPost]
    # Confirmed or cancelled, with someone involved: kept as they are.
    posts_closed: list[AidPost]
    claims_pending: list[Claim]
    # Accepted on a request still in progress: withdrawn, the request opened again.
    claims_in_progress: list[Claim]
    # Accepted on a request marked done: kept, the poster may still confirm it.
    claims_waiting: list[Claim]


def user_data_erase_plan(user: User) -> UserDataErasePlan:
    posts = list(AidPost.objects.filter(author=user).annotate(claim_count=Count("claims")).order_by("created_at", "pk"))
    claimed = [post for post in posts if post.claim_count]
    live_claims = list(
        Claim.objects.filter(helper=user, status__in=Claim.LIVE).select_related("post").order_by("created_at", "pk")
    )
    accepted = [claim for claim in live_claims if claim.status == Claim.Status.ACCEPTED]
    return UserDataErasePlan(
        posts_unclaimed=[post for post in posts if not post.claim_count],
        posts_to_cancel=[post for post in claimed if post.status in _CANCELLED_ON_ERASE],
        posts_waiting=[post for post in claimed if post.status in (AidPost.Status.DONE, AidPost.Status.DISPUTED)],
        posts_closed=[post for post in claimed if post.status in AidPost.FINISHED],
        claims_pending=[claim for claim in live_claims if claim.status == Claim.Status.PENDING],
        claims_in_progress=[claim for claim in accepted if claim.post.status in _CANCELLED_ON_ERASE],
        claims_waiting=[
            claim for claim in accepted if claim.post.status in (AidPost.Status.DONE, AidPost.Status.DISPUTED)
        ],
    )


def user_data_consequences(user: User) -> list[str]:
    """What deleting the account does to the person's requests and offers, one sentence each."""
    plan = user_data_erase_plan(user)
    sentences = []
    for claim in plan.claims_in_progress:
        sentences.append(
            _("Your accepted offer on “%(title)s” will be withdrawn and the request opened again for other helpers.")
            % {"title": claim.post.title}
        )
    for claim in plan.claims_pending:
        sentences.append(_("Your offer of help on “%(title)s” will be withdrawn.") % {"title": claim.post.title})
    for claim in plan.claims_waiting:
        sentences.append(
            _("“%(title)s” is done and waiting for confirmation; it stays as it is.") % {"title": claim.post.title}
        )
    for post in plan.posts_to_cancel:
        sentences.append(_cancel_sentence(post))
    for post in plan.posts_waiting:
        sentences.append(
            _(
                "“%(title)s” is done and waiting for confirmation; it stays as it is. Confirm it first if your "
                "helper should receive their points and hours."
            )
            % {"title": post.title}
        )
    for post in plan.posts_unclaimed:
        sentences.append(
            _("Your request “%(title)s” had no offers of help; it will be deleted.") % {"title": post.title}
        )
    if plan.posts_closed:
        count = len(plan.posts_closed)
        sentences.append(
            ngettext(
                "Your %(count)d finished request stays for the people who took part, shown as by “Deleted user”.",
                "Your %(count)d finished requests stay for the people who took part, shown as by “Deleted user”.",
                count,
            )
            % {"count": count}
        )
    return sentences


def _cancel_sentence(post: AidPost) -> str:
    if post.status == AidPost.Status.IN_PROGRESS:
        return _(
            "Your request “%(title)s” is in progress; it will be cancelled and your helper will no longer see your "
            "contact details."
        ) % {"title": post.title}
    if post.status == AidPost.Status.CLAIMED:
        return _("Your request “%(title)s” will be cancelled and the offer of help waiting on it declined.") % {
            "title": post.title
        }
    return _("Your open request “%(title)s” will be cancelled.") % {"title": post.title}


def user_data_export(user: User) -> dict:
    """The person's requests (with their history) and offers of help, JSON-ready."""
    posts = (
        AidPost.objects.filter(author=user)
        .select_related("community", "place", "category", "assisted_by__profile")
        .prefetch_related("events")
        .order_by("created_at", "pk")
    )
    claims = Claim.objects.filter(helper=user).select_related("post").order_by("created_at", "pk")
    post_count, claim_count = len(posts), len(claims)
    return {
        "summary": [
            ngettext("You wrote %(count)d help request.", "You wrote %(count)d help requests.", post_count)
            % {"count": post_count},
            ngettext("You offered help %(count)d time.", "You offered help %(count)d times.", claim_count)
            % {"count": claim_count},
        ],
        "posts": [
            {
                "id": post.pk,
                "title": post.title,
                "description": post.description,
                "community": post.community.name,
                "building": post.place.name,
                "category": str(post.category),
                "status": str(post.get_status_display()),
                "urgency": str(post.get_urgency_display()),
                "window": [isoformat(post.window_starts_at), isoformat(post.window_ends_at)],
                "expires_at": isoformat(post.expires_at),
                "helpers_needed": post.seats,
                "private_details": post.sensitive_details,
                "posted_for_you_by": str(post.assisted_by.profile) if post.assisted_by else None,
                "how_you_agreed": post.assisted_consent,
                "created_at": isoformat(post.created_at),
                "history": [
                    {"from": event.from_status, "to": event.to_status, "at": isoformat(event.created_at)}
                    for event in post.events.all()
                ],
            }
            for post in posts
        ],
        "offers_of_help": [
            {
                "request": claim.post.title,
                "status": str(claim.get_status_display()),
                "offered_at": isoformat(claim.created_at),
                "decided_at": isoformat(claim.decided_at),
                "hours": decimal_text(claim.hours),
                "done_at": isoformat(claim.done_at),
            }
            for claim in claims
        ],
        "welfare_roles": [
            {
                "role": role_claim.role.title,
                "status": role_claim.status,
                "conflict_of_interest": role_claim.conflict_of_interest,
                "claimed_at": isoformat(role_claim.created_at),
                "decided_at": isoformat(role_claim.decided_at),
                "reason": role_claim.decision_reason,
                "ended_at": isoformat(role_claim.ended_at),
            }
            for role_claim in RoleClaim.objects.filter(holder=user).select_related("role").order_by("created_at")
        ],
        "duties": [
            {
                "role": duty.role.title,
                "served_on": duty.served_on.isoformat(),
                "hours": decimal_text(duty.hours),
                "what_was_done": duty.summary,
                "status": duty.status,
                "reason": duty.decision_reason,
            }
            for duty in Duty.objects.filter(holder=user).select_related("role").order_by("served_on")
        ],
    }


def common_categories(user: User, *, limit: int = 5, days: int = 90) -> list[Skill]:
    """The help most asked for in the user's communities over the last `days`, most asked first,
    filled up from settings.EASY_HOME_CATEGORIES (what older residents ask for most: errands,
    plumbing, phones…) and then the skill list, so that there are always `limit` where there
    are as many skills. For the large-text home page's one-tap buttons."""
    since = timezone.now() - timedelta(days=days)
    counted = (
        AidPost.objects.filter(
            community__in=communities_visible_to(user), created_at__gte=since, hidden_at__isnull=True
        )
        .order_by()
        .values("category")
        .annotate(n=Count("pk"))
        .order_by("-n", "category")
        .values_list("category", flat=True)[:limit]
    )
    chosen = list(counted)
    if len(chosen) < limit:
        by_code = dict(
            Skill.objects.filter(code__in=settings.EASY_HOME_CATEGORIES)
            .exclude(pk__in=chosen)
            .values_list("code", "pk")
        )
        chosen += [by_code[code] for code in settings.EASY_HOME_CATEGORIES if code in by_code][: limit - len(chosen)]
    if len(chosen) < limit:
        chosen += list(
            Skill.objects.exclude(pk__in=chosen).order_by("code").values_list("pk", flat=True)[: limit - len(chosen)]
        )
    skills = Skill.objects.in_bulk(chosen)
    return [skills[pk] for pk in chosen if pk in skills]
