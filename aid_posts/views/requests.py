from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from messaging.selectors import conversation_for_subject
from neighbors import selectors as neighbor_selectors
from neighbors.context_processors import large_text_wanted
from neighbors.forms import RevealContactForm
from neighbors.geo import rounded_distance_m
from neighbors.images import private_image_response
from neighbors.permissions import (
    can_use_location,
    communities_visible_to,
    memberships_looked_after_by,
    staff_communities,
    suspension_in,
    suspensions_in_force,
)
from neighbors.services import Suspended, contact_reveal
from talent_pool.selectors import skills

from .. import permissions, selectors, services
from ..forms import (
    AidPostForm,
    AssistedPostForm,
    DisputeForm,
    DisputeResolveForm,
    FeedbackForm,
    FollowUpForm,
    MarkDoneForm,
)
from ..models import AidPost, Claim
from ..selectors.dispatch import candidates_for_invite, dispatches_seen_by
from .common import act, add_service_error


def home(request):
    if not request.user.is_authenticated:
        return render(request, "aid_posts/landing.html")
    if large_text_wanted(request):
        # 长辈模式: the kinds of help most asked for as big buttons, and one's own requests.
        memberships = neighbor_selectors.memberships_of(request.user)
        return render(
            request,
            "aid_posts/home_easy.html",
            {
                "memberships": memberships,
                "categories": selectors.common_categories(request.user) if memberships else [],
                "my_posts": selectors.posts_by(request.user)[:10],
            },
        )
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


def _form_status(form) -> int:
    if not (form.is_bound and form.errors):
        return 200
    # Posting faster than a person does (neighbors.ratelimits) is a 429, the form says how long.
    return 429 if form.has_error(NON_FIELD_ERRORS, code="rate_limited") else 400


def _create_page(request, form, *, assisted: bool, can_post: bool, suspended: list[str] | None = None) -> HttpResponse:
    return render(
        request,
        "aid_posts/create.html",
        {"form": form, "assisted": assisted, "has_community": can_post, "suspended": suspended or []},
        status=_form_status(form),
    )


def _suspended_everywhere(user, communities) -> list[str]:
    """The sentences of the person's suspensions when they are suspended in every community they
    could post in: the page shows them instead of a form the service would only refuse.
    Suspended in some only, none: the form stays, and the service refuses those communities
    with the same sentence (`Suspended`'s, so the wording is one)."""
    latest = {}
    in_force = suspensions_in_force(user).filter(community__in=communities).select_related("community")
    for suspension in in_force.order_by("community__name", "-ends_at"):
        # The latest-ending of a community's suspensions, as suspension_in picks.
        latest.setdefault(suspension.community_id, suspension)
    if not latest or len(latest) < communities.count():
        return []
    return [Suspended(suspension).message for suspension in latest.values()]


def _create(request, form, *, success: str) -> HttpResponse | None:
    """Call the service with a valid form; None when the form now carries the refusal."""
    if not (request.method == "POST" and form.is_valid()):
        return None
    try:
        post = services.aid_post_create(actor=request.user, **form.service_arguments())
    except ValidationError as error:
        add_service_error(form, error)
        return None
    if post.status == AidPost.Status.HELD:
        # Never which words held it: the author is told that it waits, as a message's sender is.
        messages.info(request, _("Your request awaits committee review. Neighbours will see it once it is published."))
    else:
        messages.success(request, success)
    return redirect("aid_posts:detail", pk=post.pk)


@login_required
def post_create(request):
    communities = communities_visible_to(request.user)
    form = AidPostForm(
        request.POST or None,
        request.FILES or None,
        communities=communities,
        places=neighbor_selectors.places_in(communities),
        categories=skills(),
        initial={"place": _home_place(request.user), "category": _category_asked(request)},
    )
    done = _create(request, form, success=_("Your request is posted. Neighbours can see it now."))
    return done or _create_page(
        request,
        form,
        assisted=False,
        can_post=communities.exists(),
        suspended=_suspended_everywhere(request.user, communities),
    )


def _category_asked(request):
    """The kind of help a one-tap button on the large-text home page chose (?category=<id>);
    anything else is ignored and the form asks."""
    asked = request.GET.get("category", "")
    return skills().filter(pk=int(asked)).first() if asked.isdigit() and len(asked) < 10 else None


@login_required
def post_create_for(request):
    """代办: a committee member or grid worker posts for a resident they look after."""
    residents = (
        memberships_looked_after_by(request.user)
        .select_related("user__profile", "home_place", "community")
        .order_by("community__name", "user__profile__display_name")
    )
    communities = staff_communities(request.user)
    if not communities.exists():
        raise PermissionDenied
    form = AssistedPostForm(
        request.POST or None,
        request.FILES or None,
        residents=residents,
        communities=communities,
        places=neighbor_selectors.places_in(communities),
        categories=skills(),
    )
    done = _create(
        request, form, success=_("The request is posted for the resident. You will relay the chat for them.")
    )
    return done or _create_page(request, form, assisted=True, can_post=residents.exists())


def _home_place(user):
    membership = neighbor_selectors.memberships_of(user).filter(status="approved").first()
    return membership.home_place_id if membership else None


def _post_for(request, pk: int) -> AidPost:
    # Not visible and not existing look the same: a 404 either way.
    return get_object_or_404(
        permissions.posts_visible_to(request.user).select_related(
            "author__profile", "assisted_by__profile", "community", "place", "category"
        ),
        pk=pk,
    )


def _partners_of(user, post: AidPost, accepted: list[Claim]) -> list:
    """The people on the other side of an accepted claim: the helpers for the poster (and
    whoever relays for them), the poster for a helper."""
    if permissions.acts_for(user, post):
        return [claim.helper for claim in accepted]
    if any(claim.helper_id == user.pk for claim in accepted):
        return [post.author]
    return []


def _distance_from_home(user, post: AidPost) -> int | None:
    """How far the post's building is from the viewer's, rounded to 100 m; only with their consent."""
    if not can_use_location(user):
        return None
    home = neighbor_selectors.home_place_in(user, post.community_id)
    return rounded_distance_m(home, post.place) if home else None


def _detail(
    request,
    post: AidPost,
    *,
    revealed: tuple[int, str, str] | None = None,
    forms: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    claims = selectors.live_claims(post)
    accepted = [claim for claim in claims if claim.status == Claim.Status.ACCEPTED]
    mine = next((claim for claim in claims if claim.helper_id == user.pk), None)
    acts_for = permissions.acts_for(user, post)
    manages = permissions.can_manage_post(user, post)
    can_claim = permissions.can_claim_post(user, post)
    # A suspended member is told why in place of an "I can help" the service would refuse.
    suspension = suspension_in(user, post.community_id) if can_claim else None
    partners = _partners_of(user, post, accepted)
    forms = forms or {}
    context = {
        "post": post,
        "claims": claims,
        "accepted": accepted,
        "my_claim": mine,
        "photos": selectors.post_photos(post),
        "partners": [
            {
                "person": partner,
                "contacts": neighbor_selectors.contact_card(user, partner, subject=post.subject),
            }
            for partner in partners
        ],
        "revealed": revealed,
        "distance_m": _distance_from_home(user, post),
        "conversation": conversation_for_subject(user, post.subject),
        "acts_for": acts_for,
        "is_relayer": post.is_relayed and post.assisted_by_id == user.pk,
        "can_claim": can_claim and suspension is None,
        "suspended": Suspended(suspension).message if suspension else "",
        "can_withdraw": mine is not None and permissions.can_withdraw_claim(user, mine),
        "can_start": permissions.can_start(user, post, len(accepted)) and len(accepted) < post.seats,
        "can_mark_done": permissions.can_mark_done(user, post, mine),
        "can_confirm": permissions.can_confirm(user, post),
        "can_cancel": permissions.can_cancel(user, post),
        "can_take_over": permissions.can_take_over(user, post),
        "can_rate": permissions.can_rate(user, post),
        "can_resolve": permissions.can_resolve_dispute(user, post),
        "can_follow_up": permissions.can_follow_up(user, post),
        "sensitive": post.sensitive_details if permissions.can_view_sensitive(user, post) else "",
        "history": selectors.post_history(post) if (acts_for or manages or mine) else None,
        "feedback": getattr(post, "feedback", None),
        "follow_ups": post.follow_ups.select_related("recorded_by__profile") if manages else None,
        "done_form": forms.get("done") or MarkDoneForm(),
        "dispute_form": forms.get("dispute") or DisputeForm(),
        "resolve_form": forms.get("resolve") or DisputeResolveForm(),
        "feedback_form": forms.get("feedback") or FeedbackForm(),
        "follow_up_form": forms.get("follow_up") or FollowUpForm(),
        "seats_left": post.seats - post.live_claims,
    }
    if manages:
        context["dispatches"] = dispatches_seen_by(user, post)
        context["invite_candidates"] = candidates_for_invite(user, post) if post.status == AidPost.Status.OPEN else []
    return render(request, "aid_posts/detail.html", context, status=status)


@login_required
def post_detail(request, pk: int):
    return _detail(request, _post_for(request, pk))


def _act(request, post: AidPost, action: Callable[[], object], success: str):
    return act(request, action, success, "aid_posts:detail", post.pk)


def _act_with_form(request, post: AidPost, form, name: str, action: Callable[[dict], object], success: str):
    """A POST carrying a form: invalid shape re-renders the page with the errors (400);
    a service refusal becomes a message, as for the buttons."""
    if not form.is_valid():
        return _detail(request, post, forms={name: form}, status=400)
    try:
        action(form.cleaned_data)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            add_service_error(form, error)
            return _detail(request, post, forms={name: form}, status=400)
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


def _pending_claim(post: AidPost, claim_pk: int) -> Claim:
    return get_object_or_404(
        post.claims.select_related("post", "helper__profile"), pk=claim_pk, status=Claim.Status.PENDING
    )


@login_required
@require_POST
def claim_accept(request, pk: int, claim_pk: int):
    post = _post_for(request, pk)
    claim = _pending_claim(post, claim_pk)
    return _act(
        request,
        post,
        lambda: services.claim_accept(actor=request.user, claim=claim),
        _("You accepted the offer. You can now chat with your helper."),
    )


@login_required
@require_POST
def claim_decline(request, pk: int, claim_pk: int):
    post = _post_for(request, pk)
    claim = _pending_claim(post, claim_pk)
    return _act(
        request,
        post,
        lambda: services.claim_decline(actor=request.user, claim=claim),
        _("You declined the offer. Its seat is open again."),
    )


@login_required
@require_POST
def claim_withdraw(request, pk: int):
    post = _post_for(request, pk)
    claim = post.claims.select_related("post").filter(helper=request.user, status=Claim.Status.PENDING).first()
    if claim is None:
        # The request is visible; there is just no offer of theirs to withdraw.
        raise PermissionDenied
    return _act(
        request,
        post,
        lambda: services.claim_withdraw(actor=request.user, claim=claim),
        _("You withdrew your offer."),
    )


@login_required
@require_POST
def post_start(request, pk: int):
    post = _post_for(request, pk)
    return _act(
        request,
        post,
        lambda: services.aid_post_start(actor=request.user, post=post),
        _("The request is going ahead with the helpers you accepted."),
    )


@login_required
@require_POST
def post_mark_done(request, pk: int):
    post = _post_for(request, pk)
    return _act_with_form(
        request,
        post,
        MarkDoneForm(request.POST),
        "done",
        lambda data: services.aid_post_mark_done(actor=request.user, post=post, hours=data["hours"]),
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
        _("Thank you for confirming. Your helpers have earned points and hours."),
    )


@login_required
@require_POST
def post_dispute(request, pk: int):
    post = _post_for(request, pk)
    return _act_with_form(
        request,
        post,
        DisputeForm(request.POST),
        "dispute",
        lambda data: services.aid_post_dispute(actor=request.user, post=post, reason=data["reason"]),
        _("The committee will look into it and tell you what they decide."),
    )


@login_required
@require_POST
def dispute_resolve(request, pk: int):
    post = _post_for(request, pk)
    return _act_with_form(
        request,
        post,
        DisputeResolveForm(request.POST),
        "resolve",
        lambda data: services.dispute_resolve(actor=request.user, post=post, **data),
        _("The dispute is decided; the poster and the helpers have been told."),
    )


@login_required
@require_POST
def post_feedback(request, pk: int):
    post = _post_for(request, pk)
    return _act_with_form(
        request,
        post,
        FeedbackForm(request.POST),
        "feedback",
        lambda data: services.feedback_give(actor=request.user, post=post, **data),
        _("Thank you for your rating."),
    )


@login_required
@require_POST
def post_follow_up(request, pk: int):
    post = _post_for(request, pk)
    return _act_with_form(
        request,
        post,
        FollowUpForm(request.POST),
        "follow_up",
        lambda data: services.follow_up_record(actor=request.user, post=post, **data),
        _("The follow-up is recorded."),
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
def post_take_over(request, pk: int):
    post = _post_for(request, pk)
    return _act(
        request,
        post,
        lambda: services.aid_post_take_over(actor=request.user, post=post),
        _("The request is yours now: you decide on offers and chat with your helpers yourself."),
    )


@login_required
def post_photo(request, pk: int, photo_pk: int, size: str):
    """A request's photo, for those who may see the request; never cached by a shared proxy."""
    post = _post_for(request, pk)
    photo = get_object_or_404(post.photos, pk=photo_pk)
    return private_image_response(photo.thumbnail if size == "thumbnail" else photo.image, max_age=3600)


@login_required
@require_POST
def post_reveal_contact(request, pk: int):
    """Show one of the other party's details, through the logged disclosure path."""
    post = _post_for(request, pk)
    partners = {person.pk: person for person in _partners_of(request.user, post, selectors.accepted_claims(post))}
    form = RevealContactForm({"kind": request.POST.get("kind", ""), "subject": post.subject})
    person_id = request.POST.get("person", "")
    partner = partners.get(int(person_id)) if person_id.isdecimal() else None
    if partner is None and len(partners) == 1 and not person_id:
        partner = next(iter(partners.values()))
    if partner is None or not form.is_valid():
        messages.error(request, _("Only the poster and the accepted helpers can see each other's details."))
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
    return _detail(request, post, revealed=(partner.pk, form.cleaned_data["kind"], value))
