from collections.abc import Callable

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aid_posts.models import AidPost
from aid_posts.permissions import posts_reviewable_by
from aid_posts.services.review import post_reject, post_release
from aid_posts.views.common import add_service_error
from messaging.models import Message
from messaging.permissions import messages_reviewable_by

from ..forms.reports import HeldRejectForm, ReportForm
from ..models import Report
from ..permissions import can_use_workspace, reports_reviewable_by
from ..selectors import moderation as moderation_selectors
from ..selectors import reports as selectors
from ..services import reports as services
from .common import error_text, page_denied


def _safe_next(request: HttpRequest, url: str) -> str:
    """Back to the page the report started from, if it is one of this site's; home otherwise."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("home")


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Report a message, a request, a role or a profile. Anything the person cannot see, or that
    does not exist, is the same 404."""
    target = selectors.report_target(request.user, kind, pk)
    if target is None:
        raise Http404
    # An empty POST is still a POST: its missing reason is an error, not a fresh form.
    data = request.POST if request.method == "POST" else None
    form = ReportForm(data, initial={"next": request.GET.get("next", "")})
    if request.method == "POST" and form.is_valid():
        try:
            services.report_file(
                actor=request.user,
                target_kind=kind,
                target_id=pk,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except PermissionDenied as denied:
            raise Http404 from denied
        except ValidationError as error:
            add_service_error(form, error)
        else:
            flash.success(request, _("Thank you. The committee will look at it."))
            return redirect(_safe_next(request, form.cleaned_data["next"]))
    return render(
        request,
        "committee/report.html",
        {"form": form, "target": target, "kind_label": Report.TargetKind(target.kind).label},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def held_messages(request: HttpRequest) -> HttpResponse:
    if not can_use_workspace(request.user):
        return page_denied(request, "committee/held.html")
    return render(request, "committee/held.html", {"queue": selectors.held_queue_for(request.user)})


def _review(request: HttpRequest, found: Message | AidPost, decide: Callable, success: str) -> HttpResponse:
    """One decision on a held message or request; another's (or a missing one) is a 404 before this."""
    try:
        decide(found)
    except PermissionDenied as denied:
        raise Http404 from denied
    except ValidationError as error:
        flash.error(request, error_text(error))
    else:
        flash.success(request, success)
    return redirect("committee:held")


@login_required
@require_POST
def held_release(request: HttpRequest, message_id: int) -> HttpResponse:
    return _review(
        request,
        _held_message(request, message_id),
        lambda message: services.held_message_release(actor=request.user, message=message),
        _("The message is published in its conversation."),
    )


@login_required
@require_POST
def held_reject(request: HttpRequest, message_id: int) -> HttpResponse:
    # Looked up first, so that someone else's message is a 404 whatever the form says.
    message = _held_message(request, message_id)
    form = HeldRejectForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, form)
    return _review(
        request,
        message,
        lambda message: services.held_message_reject(
            actor=request.user, message=message, reason=form.cleaned_data["reason"]
        ),
        _("The message stays unpublished; its sender is told why."),
    )


def _form_refused(request: HttpRequest, form: HeldRejectForm) -> HttpResponse:
    flash.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return redirect("committee:held")


def _held_message(request: HttpRequest, message_id: int) -> Message:
    return get_object_or_404(messages_reviewable_by(request.user).select_related("conversation"), pk=message_id)


def _held_post(request: HttpRequest, post_id: int) -> AidPost:
    return get_object_or_404(posts_reviewable_by(request.user).select_related("author__profile"), pk=post_id)


@login_required
@require_POST
def held_post_release(request: HttpRequest, post_id: int) -> HttpResponse:
    return _review(
        request,
        _held_post(request, post_id),
        lambda post: post_release(actor=request.user, post=post),
        _("The request is published, and the matching talents are asked to help."),
    )


@login_required
@require_POST
def held_post_reject(request: HttpRequest, post_id: int) -> HttpResponse:
    # Looked up first, so that someone else's request is a 404 whatever the form says.
    post = _held_post(request, post_id)
    form = HeldRejectForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, form)
    return _review(
        request,
        post,
        lambda post: post_reject(actor=request.user, post=post, reason=form.cleaned_data["reason"]),
        _("The request stays unpublished; its author is told why."),
    )


@login_required
@require_GET
def open_reports(request: HttpRequest) -> HttpResponse:
    if not can_use_workspace(request.user):
        return page_denied(request, "committee/reports.html")
    # Each report with what the reviewer may do about it (hide, warn, suspend, remove).
    queue = moderation_selectors.report_queue_for(request.user)
    return render(request, "committee/reports.html", {"queue": queue})


@login_required
@require_POST
def report_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(reports_reviewable_by(request.user), pk=pk)
    try:
        services.report_dismiss(actor=request.user, report=report)
    except PermissionDenied as denied:
        raise Http404 from denied
    except ValidationError as error:
        flash.error(request, error_text(error))
    else:
        flash.success(request, _("The report was dismissed."))
    return redirect("committee:reports")
