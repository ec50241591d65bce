"""Points, badges, the leaderboard and the rewards catalogue: the members' pages (namespace
"rewards") and the committee's (namespace "committee")."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aid_posts.views.common import add_service_error
from neighbors.models import LedgerEntry
from neighbors.permissions import committee_communities, communities_visible_to, memberships_ledger_adjustable_by
from neighbors.selectors import ledger_totals
from neighbors.services import leaderboard_opt_out_set, ledger_adjust

from ..forms.rewards import (
    MONTH_FORMAT,
    AwardForm,
    CorrectionForm,
    LeaderboardForm,
    LeaderboardOptOutForm,
    RedeemForm,
    RedemptionCancelForm,
    RewardForm,
)
from ..permissions import can_use_workspace, redemptions_decidable_by, rewards_managed_by, rewards_visible_to
from ..selectors import rewards as selectors
from ..services import rewards as services
from .common import error_text, page_denied

# --- Members' pages ---------------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """My points: the balance, badges, what each entry was for, and my redemptions."""
    return render(request, "committee/rewards/overview.html", {"overview": selectors.points_overview(request.user)})


@login_required
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "committee/rewards/catalogue.html",
        {"catalogues": selectors.catalogues_for(request.user), "totals": ledger_totals(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then redeem. Another community's reward, or none, is the same 404; a withdrawn
    one, or one out of stock, says so."""
    reward = get_object_or_404(rewards_visible_to(request.user).select_related("community"), pk=pk)
    form = RedeemForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not form.is_valid():
            form.add_error(None, _("Open the reward again and confirm its price."))
        else:
            try:
                services.reward_redeem(actor=request.user, reward=reward, expected_points=form.cleaned_data["price"])
            except PermissionDenied as denied:
                raise Http404 from denied
            except ValidationError as error:
                add_service_error(form, error)
            else:
                flash.success(
                    request,
                    _(
                        "Redeemed “%(reward)s”. The committee will hand it over; if it is cancelled, your points come back."
                    )
                    % {"reward": reward.title},
                )
                return redirect("rewards:overview")
    return render(
        request,
        "committee/rewards/redeem.html",
        {"form": form, "reward": reward, "totals": ledger_totals(request.user)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def my_redemption_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    redemption = get_object_or_404(selectors.redemptions_of(request.user), pk=pk)
    try:
        services.redemption_cancel(actor=request.user, redemption=redemption)
    except ValidationError as error:
        flash.error(request, error_text(error))
    else:
        flash.success(request, _("Cancelled: your points are back."))
    return redirect("rewards:overview")


@login_required
@require_GET
def leaderboard(request: HttpRequest) -> HttpResponse:
    """The month's board of one of the viewer's communities (the first, this month, unless chosen)."""
    communities = list(communities_visible_to(request.user).order_by("name"))
    months = selectors.leaderboard_months()
    chosen = {
        "community": communities[0].pk if communities else "",
        "month": months[0].strftime(MONTH_FORMAT),
        **request.GET.dict(),
    }
    form = LeaderboardForm(chosen, communities=communities, months=months)
    context = {"form": form, "communities": communities}
    if not communities:
        return render(request, "committee/rewards/leaderboard.html", context)
    if not form.is_valid():
        return render(request, "committee/rewards/leaderboard.html", context, status=400)
    community = next(c for c in communities if c.pk == form.cleaned_data["community"])
    month = next(m for m in months if m.strftime(MONTH_FORMAT) == form.cleaned_data["month"])
    context |= {
        "community": community,
        "month": month,
        "rows": selectors.leaderboard(community, month, viewer=request.user),
    }
    return render(request, "committee/rewards/leaderboard.html", context)


@login_required
@require_POST
def leaderboard_opt_out(request: HttpRequest) -> HttpResponse:
    form = LeaderboardOptOutForm(request.POST)
    if not form.is_valid():
        flash.error(request, _("Choose whether your name appears on the leaderboard."))
    else:
        profile = leaderboard_opt_out_set(actor=request.user, opt_out=form.cleaned_data["opt_out"])
        if profile.leaderboard_opt_out:
            flash.success(request, _("Your name is left off the leaderboards. Your points are unchanged."))
        else:
            flash.success(request, _("Your name appears on the leaderboards when you earn points."))
    # Back to the board and month the person was looking at (only this page's own query).
    query = request.GET.urlencode()
    return redirect(reverse("rewards:leaderboard") + (f"?{query}" if query else ""))


# --- The committee's pages --------------------------------------------------------------------


def _ledger_page(request: HttpRequest, membership_id: int, *, status: int = 200, **forms) -> HttpResponse:
    page = selectors.member_ledger_for(request.user, membership_id)
    if page is None:
        raise Http404
    context = {
        "page": page,
        "award_form": forms.get("award_form") or AwardForm(prefix="award"),
        "correction_form": forms.get("correction_form") or CorrectionForm(prefix="correct"),
    }
    return render(request, "committee/rewards/member_ledger.html", context, status=status)


@login_required
@require_GET
def member_ledger(request: HttpRequest, membership_id: int) -> HttpResponse:
    """A member's points as their committee sees them, with the award and correction forms.
    Only the committee of the member's community; anyone else, a grid worker included, gets 404."""
    return _ledger_page(request, membership_id)


def _adjust(request: HttpRequest, membership_id: int, *, reason: str, form_name: str, form) -> HttpResponse:
    membership = get_object_or_404(
        memberships_ledger_adjustable_by(request.user).select_related("user", "community"), pk=membership_id
    )
    if form.is_valid():
        try:
            ledger_adjust(
                actor=request.user,
                user=membership.user,
                community=membership.community,
                reason=reason,
                points=form.cleaned_data["points"],
                hours=form.cleaned_data["hours"],
                note=form.cleaned_data["note"],
                token=form.cleaned_data["token"],
            )
        except PermissionDenied as denied:
            raise Http404 from denied
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if reason == LedgerEntry.Reason.COMMITTEE_AWARD:
                flash.success(request, _("Awarded. The member is told, with your reason."))
            else:
                flash.success(request, _("Corrected. The member is told, with your reason."))
            return redirect("committee:member_ledger", membership_id=membership_id)
    return _ledger_page(request, membership_id, status=400, **{form_name: form})


@login_required
@require_POST
def ledger_award(request: HttpRequest, membership_id: int) -> HttpResponse:
    return _adjust(
        request,
        membership_id,
        reason=LedgerEntry.Reason.COMMITTEE_AWARD,
        form_name="award_form",
        form=AwardForm(request.POST, prefix="award"),
    )


@login_required
@require_POST
def ledger_correct(request: HttpRequest, membership_id: int) -> HttpResponse:
    return _adjust(
        request,
        membership_id,
        reason=LedgerEntry.Reason.CORRECTION,
        form_name="correction_form",
        form=CorrectionForm(request.POST, prefix="correct"),
    )


@login_required
@require_GET
def rewards_manage(request: HttpRequest) -> HttpResponse:
    if not committee_communities(request.user).exists():
        return page_denied(request, "committee/rewards/manage.html")
    return render(request, "committee/rewards/manage.html", {"rewards": selectors.rewards_to_manage(request.user)})


def _reward_fields(form: RewardForm) -> dict:
    return {name: form.cleaned_data[name] for name in ("title", "description", "kind", "points", "stock", "active")}


@login_required
@require_http_methods(["GET", "POST"])
def reward_create(request: HttpRequest) -> HttpResponse:
    communities = committee_communities(request.user).order_by("name")
    if not communities.exists():
        return page_denied(request, "committee/rewards/reward_form.html")
    data = request.POST if request.method == "POST" else None
    form = RewardForm(data, communities=communities, initial={"active": True, "kind": "service"})
    if request.method == "POST" and form.is_valid():
        try:
            reward = services.reward_save(
                actor=request.user, community=form.cleaned_data["community"], **_reward_fields(form)
            )
        except PermissionDenied as denied:
            raise Http404 from denied
        except ValidationError as error:
            add_service_error(form, error)
        else:
            flash.success(request, _("“%(reward)s” is in the catalogue.") % {"reward": reward.title})
            return redirect("committee:rewards")
    return render(request, "committee/rewards/reward_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def reward_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reward = get_object_or_404(rewards_managed_by(request.user).select_related("community"), pk=pk)
    data = request.POST if request.method == "POST" else None
    initial = {name: getattr(reward, name) for name in ("title", "description", "kind", "points", "stock", "active")}
    form = RewardForm(
        data,
        communities=committee_communities(request.user),
        initial={**initial, "community": reward.community_id, "stock_seen": reward.stock},
    )
    # The catalogue a reward is in does not change: it was priced for that community.
    form.fields["community"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            reward = services.reward_save(
                actor=request.user,
                community=reward.community,
                reward=reward,
                stock_seen=form.cleaned_data["stock_seen"],
                **_reward_fields(form),
            )
        except PermissionDenied as denied:
            raise Http404 from denied
        except ValidationError as error:
            add_service_error(form, error)
            # The next save compares with the stock as it is now, not as it was first shown.
            reward.refresh_from_db(fields=["stock"])
            form.data = form.data.copy()
            form.data["stock_seen"] = reward.stock
        else:
            flash.success(request, _("“%(reward)s” is saved.") % {"reward": reward.title})
            return redirect("committee:rewards")
    return render(
        request,
        "committee/rewards/reward_form.html",
        {"form": form, "reward": reward},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def redemptions(request: HttpRequest) -> HttpResponse:
    if not can_use_workspace(request.user):
        return page_denied(request, "committee/rewards/redemptions.html")
    return render(
        request,
        "committee/rewards/redemptions.html",
        {"queue": selectors.redemption_queue_for(request.user)},
    )


@login_required
@require_POST
def redemption_fulfil(request: HttpRequest, pk: int) -> HttpResponse:
    redemption = get_object_or_404(redemptions_decidable_by(request.user), pk=pk)
    try:
        services.redemption_fulfil(actor=request.user, redemption=redemption)
    except PermissionDenied as denied:
        raise Http404 from denied
    except ValidationError as error:
        flash.error(request, error_text(error))
    else:
        flash.success(request, _("Recorded as handed over. The member is told."))
    return redirect("committee:redemptions")


@login_required
@require_POST
def redemption_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    redemption = get_object_or_404(redemptions_decidable_by(request.user), pk=pk)
    form = RedemptionCancelForm(request.POST)
    if not form.is_valid():
        flash.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect("committee:redemptions")
    try:
        services.redemption_cancel(actor=request.user, redemption=redemption, reason=form.cleaned_data["reason"])
    except PermissionDenied as denied:
        raise Http404 from denied
    except ValidationError as error:
        flash.error(request, error_text(error))
    else:
        flash.success(request, _("Cancelled. The points and the unit of stock are back; the member is told why."))
    return redirect("committee:redemptions")
