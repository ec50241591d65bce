"""The committee's moderation pages: acting on a report, the hidden content (restore), the
suspensions in force (lift early), and one member's page (warn, suspend, remove, hide or
restore their profile).

Something the person may not see is a 404, like a missing id. Something they see but their role
may not do (a grid worker and a committee member) is refused by the service with a sentence,
shown as a message; a form's bad shape (no reason, days that are not 1–365) too.
"""

from collections.abc import Callable

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aid_posts.views.common import add_service_error
from neighbors import services as neighbor_services
from neighbors.models import Membership

from ..forms.moderation import ModerationReasonForm, SuspendForm
from ..models import Report
from ..permissions import can_use_workspace, reports_reviewable_by
from ..selectors import moderation as selectors
from ..services import moderation as services
from .common import page_denied


def _form_errors(form: Form) -> str:
    return " ".join(error for errors in form.errors.values() for error in errors)


def _decide(request: HttpRequest, action: Callable[[], object], success: str, back_to: str) -> HttpResponse:
    """Run the service; say what happened or why not, and go back."""
    try:
        action()
    except PermissionDenied as denied:
        raise Http404 from denied
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
    else:
        flash.success(request, success)
    return redirect(back_to)


# --- From a report ---------------------------------------------------------------------------


def _report_action(
    request: HttpRequest, pk: int, form_class: type[Form], act: Callable[[Report, dict], object], success: str
) -> HttpResponse:
    # Looked up first: someone else's report is a 404, whatever the form says.
    report = get_object_or_404(reports_reviewable_by(request.user), pk=pk)
    form = form_class(request.POST)
    if not form.is_valid():
        flash.error(request, _form_errors(form))
        return redirect("committee:reports")
    return _decide(request, lambda: act(report, form.cleaned_data), success, reverse("committee:reports"))


@login_required
@require_POST
def report_hide(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_action(
        request,
        pk,
        ModerationReasonForm,
        lambda report, data: services.report_hide(actor=request.user, report=report, reason=data["reason"]),
        _("It is hidden, and its author is told why. Every report about it is closed."),
    )


@login_required
@require_POST
def report_warn(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_action(
        request,
        pk,
        ModerationReasonForm,
        lambda report, data: services.member_warn(actor=request.user, report=report, reason=data["reason"]),
        _("The author is warned and told why. Every report about it is closed."),
    )


@login_required
@require_POST
def report_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_action(
        request,
        pk,
        SuspendForm,
        lambda report, data: services.report_suspend(
            actor=request.user, report=report, days=data["days"], reason=data["reason"]
        ),
        _("The author is suspended and told until when and why. Every report about it is closed."),
    )


@login_required
@require_POST
def report_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_action(
        request,
        pk,
        ModerationReasonForm,
        lambda report, data: services.report_remove(actor=request.user, report=report, reason=data["reason"]),
        _("The author is removed from the community and told why. Every report about it is closed."),
    )


# --- Hidden content --------------------------------------------------------------------------


@login_required
@require_GET
def hidden_content(request: HttpRequest) -> HttpResponse:
    if not can_use_workspace(request.user):
        return page_denied(request, "committee/moderation/hidden.html")
    return render(request, "committee/moderation/hidden.html", {"hidden": selectors.hidden_content_for(request.user)})


@login_required
@require_POST
def content_restore(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in services.RESTORABLE:
        raise Http404
    return _decide(
        request,
        lambda: services.content_restore(actor=request.user, kind=kind, target_id=pk),
        _("It is shown again, and its author is told."),
        reverse("committee:hidden"),
    )


# --- Suspensions -----------------------------------------------------------------------------


@login_required
@require_GET
def suspensions(request: HttpRequest) -> HttpResponse:
    if not can_use_workspace(request.user):
        return page_denied(request, "committee/moderation/suspensions.html")
    return render(
        request,
        "committee/moderation/suspensions.html",
        {"suspensions": selectors.suspensions_in_force_for(request.user)},
    )


@login_required
@require_POST
def suspension_lift(request: HttpRequest, pk: int) -> HttpResponse:
    suspension = get_object_or_404(selectors.suspensions_seen_by_staff(request.user), pk=pk)
    form = ModerationReasonForm(request.POST)
    back = request.POST.get("back") == "member"
    target = reverse("committee:suspensions")
    if back:
        membership = (
            selectors.memberships_seen_by_staff(request.user)
            .filter(user=suspension.user_id, community=suspension.community_id)
            .first()
        )
        if membership is not None:
            target = reverse("committee:member", args=[membership.pk])
    if not form.is_valid():
        flash.error(request, _form_errors(form))
        return redirect(target)
    return _decide(
        request,
        lambda: neighbor_services.suspension_lift(
            actor=request.user, suspension=suspension, reason=form.cleaned_data["reason"]
        ),
        _("The suspension is lifted; the member is told."),
        target,
    )


# --- One member ------------------------------------------------------------------------------


def _membership_for(request: HttpRequest, pk: int) -> Membership:
    return get_object_or_404(selectors.memberships_seen_by_staff(request.user), pk=pk)


def _member_page(
    request: HttpRequest,
    membership: Membership,
    *,
    forms: dict[str, Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    forms = forms or {}
    return render(
        request,
        "committee/moderation/member.html",
        {
            "record": selectors.member_record(request.user, membership),
            "warn_form": forms.get("warn") or ModerationReasonForm(prefix="warn"),
            "suspend_form": forms.get("suspend") or SuspendForm(prefix="suspend"),
            "remove_form": forms.get("remove") or ModerationReasonForm(prefix="remove"),
            "hide_form": forms.get("hide") or ModerationReasonForm(prefix="hide"),
            "lift_form": ModerationReasonForm(auto_id="lift_%s"),
        },
        status=status,
    )


@login_required
@require_GET
def member(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_page(request, _membership_for(request, pk))


def _member_action(
    request: HttpRequest,
    pk: int,
    name: str,
    form_class: type[Form],
    act: Callable[[Membership, dict], object],
    success: str,
    *,
    back_to: str | None = None,
) -> HttpResponse:
    """A form on the member's page: a bad field shows the page again with the form's errors (400);
    a refusal of the whole (a grid worker and a committee member, twice) is a message on the
    page, as on the queue; done, back to the page (or, after a removal, to the members list)."""
    membership = _membership_for(request, pk)
    page = reverse("committee:member", args=[membership.pk])
    form = form_class(request.POST, prefix=name)
    if form.is_valid():
        try:
            act(membership, form.cleaned_data)
        except PermissionDenied as denied:
            raise Http404 from denied
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                flash.error(request, " ".join(error.messages))
                return redirect(page)
            add_service_error(form, error)
        else:
            flash.success(request, success)
            return redirect(back_to or page)
    return _member_page(request, membership, forms={name: form}, status=400)


@login_required
@require_POST
def member_warn(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_action(
        request,
        pk,
        "warn",
        ModerationReasonForm,
        lambda membership, data: services.member_warn(actor=request.user, membership=membership, reason=data["reason"]),
        _("The member is warned and told why."),
    )


@login_required
@require_POST
def member_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_action(
        request,
        pk,
        "suspend",
        SuspendForm,
        lambda membership, data: neighbor_services.suspension_start(
            actor=request.user, membership=membership, days=data["days"], reason=data["reason"]
        ),
        _("The member is suspended and told until when and why."),
    )


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_action(
        request,
        pk,
        "remove",
        ModerationReasonForm,
        lambda membership, data: neighbor_services.membership_remove(
            actor=request.user, membership=membership, reason=data["reason"]
        ),
        _("The member is removed from the community and told why."),
        back_to=reverse("neighbors:members"),
    )


@login_required
@require_POST
def member_profile_hide(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_action(
        request,
        pk,
        "hide",
        ModerationReasonForm,
        lambda membership, data: neighbor_services.profile_hide(
            actor=request.user,
            profile=membership.user.profile,
            reason=data["reason"],
            community=membership.community,
        ),
        _("The photo and “about me” are hidden; the member is told why."),
    )


@login_required
@require_POST
def member_profile_restore(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership_for(request, pk)
    return _decide(
        request,
        lambda: neighbor_services.profile_restore(
            actor=request.user, profile=membership.user.profile, community=membership.community
        ),
        _("The photo and “about me” are shown again; the member is told."),
        reverse("committee:member", args=[membership.pk]),
    )
