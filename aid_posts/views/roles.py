from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from neighbors import selectors as neighbor_selectors
from neighbors.permissions import committee_communities, communities_visible_to, suspension_in
from neighbors.services import Suspended
from talent_pool.selectors import skills

from .. import permissions, selectors, services
from ..forms import DecisionReasonForm, DutyForm, RoleClaimForm, WelfareRoleForm
from ..models import Duty, RoleClaim, WelfareRole
from .common import act, add_service_error


def _role_for(request, pk: int) -> WelfareRole:
    # As with posts: a role of another community answers exactly as an id that does not exist.
    return get_object_or_404(
        permissions.roles_visible_to(request.user).select_related("community", "place", "skill"), pk=pk
    )


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
            add_service_error(form, error)
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
    can_claim = permissions.can_claim_role(user, role, today)
    # A suspended member is told why in place of a claim form the service would refuse.
    suspension = suspension_in(user, role.community_id) if can_claim else None

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
            "can_claim": can_claim and suspension is None,
            "suspended": Suspended(suspension).message if suspension else "",
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
    return act(request, action, success, "aid_posts:role_detail", role.pk)


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
            add_service_error(form, error)
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
            add_service_error(form, error)
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
