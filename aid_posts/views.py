from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from messaging.selectors import conversation_for_subject
from neighbors import selectors as neighbor_selectors
from neighbors.forms import RevealContactForm
from neighbors.geo import rounded_distance_m
from neighbors.permissions import can_use_location, committee_communities, communities_visible_to
from neighbors.services import contact_reveal
from talent_pool.selectors import skills

from . import permissions, selectors, services
from .forms import AidPostForm, DecisionReasonForm, DutyForm, MarkDoneForm, RoleClaimForm, WelfareRoleForm
from .models import AidPost, Claim, Duty, RoleClaim, WelfareRole


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


# --- Welfare roles -----------------------------------------------------------------


def _role_for(request, pk: int) -> WelfareRole:
    # As with posts: a role of another community answers exactly as an id that does not exist.
    return get_object_or_404(
        permissions.roles_visible_to(request.user).select_related("community", "place", "skill"), pk=pk
    )


def _add_service_error(form, error: ValidationError) -> None:
    """A service's refusal on the form: beside the field where the form has one, above it otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def role_list(request):
    today = timezone.localdate()
    manages = committee_communities(request.user).exists()
    return render(
        request,
        "aid_posts/roles/list.html",
        {
            "roles": selectors.role_list(request.user, today=today),
            "attention": selectors.roles_needing_attention(request.user, today=today) if manages else None,
            "today": today,
            "ending_by": today + timedelta(days=settings.ROLE_TERM_ENDING_DAYS),
            "can_create": manages,
            "has_community": manages or communities_visible_to(request.user).exists(),
        },
    )


@login_required
def role_create(request):
    communities = committee_communities(request.user)
    if not communities.exists():
        raise Http404
    initial = {"term_start": timezone.localdate()}
    if communities.count() == 1:
        initial["community"] = communities.get()
    form = WelfareRoleForm(
        request.POST or None,
        communities=communities,
        places=neighbor_selectors.places_in(communities),
        skills=skills(),
        initial=initial,
    )
    if request.method != "POST":
        return render(request, "aid_posts/roles/create.html", {"form": form})
    if form.is_valid():
        try:
            role = services.welfare_role_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            messages.success(request, _("The role is open. Qualified talents in the community can claim it now."))
            return redirect("aid_posts:role_detail", pk=role.pk)
    return render(request, "aid_posts/roles/create.html", {"form": form}, status=400)


def _duty_form(role: WelfareRole, data=None) -> DutyForm:
    return DutyForm(data, first_day=role.term_start, last_day=min(timezone.localdate(), role.term_end))


def _role_page(
    request,
    role: WelfareRole,
    *,
    claim_form: RoleClaimForm | None = None,
    duty_form: DutyForm | None = None,
    decline_form: tuple[int, DecisionReasonForm] | None = None,
    reject_form: tuple[int, DecisionReasonForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    holders = list(selectors.role_holders(role))
    my_claim = selectors.role_claim_of(user, role)
    holds_seat = my_claim is not None and my_claim.status == RoleClaim.Status.APPROVED
    my_duties = list(selectors.duties_of(user, role))
    manages = permissions.can_manage_role(user, role)

    def with_reason_forms(items, kind: str, bound: tuple[int, DecisionReasonForm] | None):
        # One reason box per row; the one just posted keeps its text and its error.
        return [
            (item, bound[1] if bound and bound[0] == item.pk else DecisionReasonForm(auto_id=f"{kind}-{item.pk}-%s"))
            for item in items
        ]

    return render(
        request,
        "aid_posts/roles/detail.html",
        {
            "role": role,
            "holders": holders,
            "seats_free": max(role.seats - len(holders), 0),
            "term_over": role.term_end < today,
            "my_claim": my_claim,
            "holds_seat": holds_seat,
            "can_claim": permissions.can_claim_role(user, role, today),
            "is_qualified": permissions.is_qualified_for(user, role, today),
            "claim_form": claim_form or RoleClaimForm(),
            "duty_form": duty_form or _duty_form(role),
            "my_duties": my_duties,
            "totals": neighbor_selectors.ledger_totals(user) if holds_seat or my_duties else None,
            "manages": manages,
            "claims_to_decide": (
                with_reason_forms(selectors.role_claims_to_decide(user, role), "decline", decline_form)
                if manages
                else []
            ),
            "duties_to_confirm": (
                with_reason_forms(selectors.duties_to_confirm(user, role), "reject", reject_form) if manages else []
            ),
        },
        status=status,
    )


@login_required
def role_detail(request, pk: int):
    return _role_page(request, _role_for(request, pk))


def _role_act(request, role: WelfareRole, action: Callable[[], object], success: str):
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)
    return redirect("aid_posts:role_detail", pk=role.pk)


@login_required
@require_POST
def role_claim(request, pk: int):
    role = _role_for(request, pk)
    form = RoleClaimForm(request.POST)
    if not form.is_valid():
        return _role_page(request, role, claim_form=form, status=400)
    return _role_act(
        request,
        role,
        lambda: services.role_claim(
            actor=request.user, role=role, conflict_of_interest=form.cleaned_data["conflict_of_interest"]
        ),
        _("You claimed a seat. The committee will read your declaration and decide."),
    )


@login_required
@require_POST
def role_claim_withdraw(request, pk: int):
    role = _role_for(request, pk)
    claim = selectors.role_claim_of(request.user, role)
    if claim is None:
        messages.error(request, _("You have no claim on this role."))
        return redirect("aid_posts:role_detail", pk=role.pk)
    return _role_act(
        request,
        role,
        lambda: services.role_claim_withdraw(actor=request.user, claim=claim),
        _("You withdrew your claim."),
    )


@login_required
@require_POST
def role_step_down(request, pk: int):
    role = _role_for(request, pk)
    claim = selectors.role_claim_of(request.user, role)
    if claim is None:
        messages.error(request, _("You do not hold a seat in this role."))
        return redirect("aid_posts:role_detail", pk=role.pk)
    return _role_act(
        request,
        role,
        lambda: services.role_step_down(actor=request.user, claim=claim),
        _("You stepped down. The seat is open again and the committee has been told."),
    )


def _claim_to_decide(request, role: WelfareRole, claim_pk: int) -> RoleClaim | None:
    """The claim to decide; None, with a message, when it no longer waits; 404 when not the user's to decide."""
    if not permissions.can_manage_role(request.user, role):
        raise Http404
    # Never one's own claim: another member of the committee decides it.
    claim = get_object_or_404(
        role.claims.exclude(holder=request.user).select_related("holder__profile", "role"), pk=claim_pk
    )
    if claim.status != RoleClaim.Status.PENDING:
        messages.info(
            request,
            _("This claim no longer waits for a decision (%(status)s).") % {"status": claim.get_status_display()},
        )
        return None
    return claim


@login_required
@require_POST
def role_claim_approve(request, pk: int, claim_pk: int):
    role = _role_for(request, pk)
    claim = _claim_to_decide(request, role, claim_pk)
    if claim is None:
        return redirect("aid_posts:role_detail", pk=role.pk)
    return _role_act(
        request,
        role,
        lambda: services.role_claim_approve(actor=request.user, claim=claim),
        _("%(name)s now holds a seat.") % {"name": claim.holder},
    )


def _decide_with_reason(
    request, role: WelfareRole, target_pk: int, decide: Callable[[str], object], success: str, *, form_name: str
):
    """A refusal that needs a reason (declining a claim, rejecting a duty): the form, one service
    call, and the page again with the error beside the field when it fails."""
    prefix = form_name.removesuffix("_form")
    form = DecisionReasonForm(request.POST, auto_id=f"{prefix}-{target_pk}-%s")
    if form.is_valid():
        try:
            decide(form.cleaned_data["reason"])
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            messages.success(request, success)
            return redirect("aid_posts:role_detail", pk=role.pk)
    return _role_page(request, role, **{form_name: (target_pk, form)}, status=400)


@login_required
@require_POST
def role_claim_decline(request, pk: int, claim_pk: int):
    role = _role_for(request, pk)
    claim = _claim_to_decide(request, role, claim_pk)
    if claim is None:
        return redirect("aid_posts:role_detail", pk=role.pk)
    return _decide_with_reason(
        request,
        role,
        claim.pk,
        lambda reason: services.role_claim_decline(actor=request.user, claim=claim, reason=reason),
        _("You declined the claim. %(name)s will see your reason.") % {"name": claim.holder},
        form_name="decline_form",
    )


@login_required
@require_POST
def duty_log(request, pk: int):
    role = _role_for(request, pk)
    if not permissions.holds_seat(request.user, role):
        messages.error(request, _("Only the holders of a seat log duties for this role."))
        return redirect("aid_posts:role_detail", pk=role.pk)
    form = _duty_form(role, request.POST)
    if form.is_valid():
        try:
            services.duty_log(actor=request.user, role=role, **form.cleaned_data)
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            messages.success(request, _("Duty logged. The committee will confirm it; then its hours and points count."))
            return redirect("aid_posts:role_detail", pk=role.pk)
    return _role_page(request, role, duty_form=form, status=400)


def _duty_to_decide(request, role: WelfareRole, duty_pk: int) -> Duty | None:
    """The duty to decide; None, with a message, when it was decided; 404 when not the user's to decide."""
    if not permissions.can_manage_role(request.user, role):
        raise Http404
    duty = get_object_or_404(
        role.duties.exclude(holder=request.user).select_related("holder__profile", "role__community"), pk=duty_pk
    )
    if duty.status != Duty.Status.PENDING:
        messages.info(request, _("This duty was already decided (%(status)s).") % {"status": duty.get_status_display()})
        return None
    return duty


@login_required
@require_POST
def duty_confirm(request, pk: int, duty_pk: int):
    role = _role_for(request, pk)
    duty = _duty_to_decide(request, role, duty_pk)
    if duty is None:
        return redirect("aid_posts:role_detail", pk=role.pk)
    return _role_act(
        request,
        role,
        lambda: services.duty_confirm(actor=request.user, duty=duty),
        _("Duty confirmed. Its hours and points are now in %(name)s's record.") % {"name": duty.holder},
    )


@login_required
@require_POST
def duty_reject(request, pk: int, duty_pk: int):
    role = _role_for(request, pk)
    duty = _duty_to_decide(request, role, duty_pk)
    if duty is None:
        return redirect("aid_posts:role_detail", pk=role.pk)
    return _decide_with_reason(
        request,
        role,
        duty.pk,
        lambda reason: services.duty_reject(actor=request.user, duty=duty, reason=reason),
        _("The duty was not confirmed. %(name)s will see your reason.") % {"name": duty.holder},
        form_name="reject_form",
    )
