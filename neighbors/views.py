from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import DeclineMembershipForm, JoinCommunityForm, ProfileForm
from .permissions import committee_communities, memberships_decidable_by


def privacy_notice(request):
    return render(request, "neighbors/privacy.html", {"version": settings.PRIVACY_NOTICE_VERSION})


def _join_form(user, data=None) -> JoinCommunityForm:
    communities = selectors.communities_open_to_join(user)
    return JoinCommunityForm(data, communities=communities, places=selectors.places_in(communities))


@login_required
def communities(request):
    form = _join_form(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_request(
                actor=request.user,
                community=form.cleaned_data["community"],
                home_place=form.cleaned_data["home_place"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Your request to join %(community)s was sent. A committee member will look at it soon.")
                % {"community": membership.community.name},
            )
            return redirect("neighbors:communities")
    return render(
        request,
        "neighbors/communities.html",
        {
            "memberships": selectors.memberships_of(request.user),
            "form": form,
            "is_committee": committee_communities(request.user).exists(),
        },
    )


@login_required
def membership_queue(request):
    return render(
        request,
        "neighbors/membership_queue.html",
        {"pending": selectors.pending_memberships_for(request.user), "decline_form": DeclineMembershipForm()},
    )


@login_required
@require_POST
def membership_approve(request, pk: int):
    membership = get_object_or_404(memberships_decidable_by(request.user), pk=pk)
    try:
        services.membership_approve(actor=request.user, membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s is now a member.") % {"name": membership.user})
    return redirect("neighbors:membership_queue")


@login_required
@require_POST
def membership_decline(request, pk: int):
    membership = get_object_or_404(memberships_decidable_by(request.user), pk=pk)
    form = DeclineMembershipForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason (at most 300 characters) when declining."))
        return redirect("neighbors:membership_queue")
    try:
        services.membership_decline(actor=request.user, membership=membership, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The request was declined; the resident will see your reason."))
    return redirect("neighbors:membership_queue")


@login_required
def profile_edit(request):
    profile = selectors.profile_of(request.user)
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(actor=request.user, profile=profile, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your profile was saved."))
            response = redirect("neighbors:profile")
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, profile.language)
            return response
    return render(request, "neighbors/profile.html", {"form": form, "profile": profile})


@login_required
def points(request):
    return render(
        request,
        "neighbors/points.html",
        {"entries": selectors.ledger_of(request.user)[:100], "totals": selectors.ledger_totals(request.user)},
    )


@login_required
def disclosures(request):
    return render(
        request, "neighbors/disclosures.html", {"disclosures": selectors.disclosures_about(request.user)[:200]}
    )
