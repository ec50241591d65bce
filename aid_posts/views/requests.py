from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from messaging.selectors import conversation_for_subject
from neighbors import selectors as neighbor_selectors
from neighbors.forms import RevealContactForm
from neighbors.geo import rounded_distance_m
from neighbors.permissions import can_use_location, communities_visible_to
from neighbors.services import contact_reveal
from talent_pool.selectors import skills

from .. import permissions, selectors, services
from ..forms import AidPostForm, MarkDoneForm
from ..models import AidPost, Claim


def home(request):
    if not request.user.is_authenticated:
        return render(request, "aid_posts/landing.html")
    return render(
        request,
        "aid_posts/home.html",
        {
            "memberships": neighbor_selectors.memberships_of(request.user),
            "open_posts": selectors.post_list(request.user)[:20],
            "my_posts": selectors.posts_by(request.user)[:10],
            "my_claims": selectors.claims_by(request.user)[:10],
        },
    )


@login_required
def post_list(request):
    return render(request, "aid_posts/list.html", {"posts": selectors.post_list(request.user)[:50]})


@login_required
def post_create(request):
    communities = communities_visible_to(request.user)
    form = AidPostForm(
        request.POST or None,
        communities=communities,
        places=neighbor_selectors.places_in(communities),
        categories=skills(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            post = services.aid_post_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your request is posted. Neighbours can see it now."))
            return redirect("aid_posts:detail", pk=post.pk)
    return render(request, "aid_posts/create.html", {"form": form, "has_community": communities.exists()})


def _post_for(request, pk: int) -> AidPost:
    # Not visible and not existing look the same: a 404 either way.
    return get_object_or_404(permissions.posts_visible_to(request.user).select_related("author__profile"), pk=pk)


def _partner_of(user, post: AidPost, accepted: Claim | None):
    """The other party of an accepted claim, if the user is one of the two."""
    if accepted is None:
        return None
    if user.pk == post.author_id:
        return accepted.helper
    if user.pk == accepted.helper_id:
        return post.author
    return None


def _distance_from_home(user, post: AidPost) -> int | None:
    """How far the post's building is from the viewer's, rounded to 100 m; only with their consent."""
    if not can_use_location(user):
        return None
    home = neighbor_selectors.home_place_in(user, post.community_id)
    return rounded_distance_m(home, post.place) if home else None


def _detail(request, post: AidPost, *, revealed: tuple[str, str] | None = None, status: int = 200) -> HttpResponse:
    claim = selectors.live_claim(post)
    accepted = claim if claim and claim.status == Claim.Status.ACCEPTED else None
    user = request.user
    partner = _partner_of(user, post, accepted)
    return render(
        request,
        "aid_posts/detail.html",
        {
            "post": post,
            "claim": claim,
            "partner": partner,
            "partner_contacts": neighbor_selectors.contact_card(user, partner, subject=post.subject) if partner else [],
            "revealed": revealed,
            "distance_m": _distance_from_home(user, post),
            "conversation": conversation_for_subject(user, post.subject),
            "can_claim": permissions.can_claim_post(user, post),
            "is_own": post.author_id == user.pk,
            "can_decide": claim is not None and permissions.can_decide_claim(user, claim),
            "can_withdraw": claim is not None and permissions.can_withdraw_claim(user, claim),
            "can_mark_done": permissions.can_mark_done(user, post, accepted),
            "can_confirm": permissions.can_confirm(user, post),
            "can_cancel": permissions.can_cancel(user, post),
            "done_form": MarkDoneForm(request.POST if status == 400 else None),
        },
        status=status,
    )


@login_required
def post_detail(request, pk: int):
    return _detail(request, _post_for(request, pk))


def _act(request, post: AidPost, action: Callable[[], object], success: str):
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)
    return redirect("aid_posts:detail", pk=post.pk)


@login_required
@require_POST
def post_claim(request, pk: int):
    post = _post_for(request, pk)
    return _act(
        request,
        post,
        lambda: services.aid_post_claim(actor=request.user, post=post),
        _("You offered to help. The poster will accept or decline soon."),
    )


@login_required
@require_POST
def claim_accept(request, pk: int):
    post = _post_for(request, pk)
    claim = get_object_or_404(post.claims.select_related("post", "helper"), status=Claim.Status.PENDING)
    return _act(
        request,
        post,
        lambda: services.claim_accept(actor=request.user, claim=claim),
        _("You accepted the offer. You can now chat with your helper."),
    )


@login_required
@require_POST
def claim_decline(request, pk: int):
    post = _post_for(request, pk)
    claim = get_object_or_404(post.claims.select_related("post"), status=Claim.Status.PENDING)
    return _act(
        request,
        post,
        lambda: services.claim_decline(actor=request.user, claim=claim),
        _("You declined the offer. The request is open again."),
    )


@login_required
@require_POST
def claim_withdraw(request, pk: int):
    post = _post_for(request, pk)
    claim = get_object_or_404(post.claims.select_related("post"), status=Claim.Status.PENDING)
    return _act(
        request,
        post,
        lambda: services.claim_withdraw(actor=request.user, claim=claim),
        _("You withdrew your offer."),
    )


@login_required
@require_POST
def post_mark_done(request, pk: int):
    post = _post_for(request, pk)
    form = MarkDoneForm(request.POST)
    if not form.is_valid():
        return _detail(request, post, status=400)
    return _act(
        request,
        post,
        lambda: services.aid_post_mark_done(actor=request.user, post=post, hours=form.cleaned_data["hours"]),
        _("Marked as done. The poster will confirm."),
    )


@login_required
@require_POST
def post_confirm(request, pk: int):
    post = _post_for(request, pk)
    return _act(
        request,
        post,
        lambda: services.aid_post_confirm(actor=request.user, post=post),
        _("Thank you for confirming. Your helper has earned points."),
    )


@login_required
@require_POST
def post_cancel(request, pk: int):
    post = _post_for(request, pk)
    return _act(
        request, post, lambda: services.aid_post_cancel(actor=request.user, post=post), _("The request was cancelled.")
    )


@login_required
@require_POST
def post_reveal_contact(request, pk: int):
    """Show one of the other party's details, through the logged disclosure path."""
    post = _post_for(request, pk)
    partner = _partner_of(request.user, post, selectors.accepted_claim(post))
    form = RevealContactForm({"kind": request.POST.get("kind", ""), "subject": post.subject})
    if partner is None or not form.is_valid():
        messages.error(request, _("Only the poster and the accepted helper can see each other's details."))
        return redirect("aid_posts:detail", pk=post.pk)
    try:
        value = contact_reveal(
            viewer=request.user,
            owner=partner,
            kind=form.cleaned_data["kind"],
            subject=post.subject,
            subject_title=post.title,
        )
    except (PermissionDenied, ValidationError):
        messages.error(request, _("This detail is not shared with you."))
        return redirect("aid_posts:detail", pk=post.pk)
    return _detail(request, post, revealed=(form.cleaned_data["kind"], value))
