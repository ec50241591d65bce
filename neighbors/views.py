from allauth.account import views as allauth_views
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from . import data_rights, selectors, services
from .context_processors import LARGE_TEXT_COOKIE
from .forms import (
    AccountDeleteForm,
    ConsentForm,
    ContactMethodForm,
    DeclineMembershipForm,
    GuardianForm,
    JoinCommunityForm,
    ProfileForm,
    RevealContactForm,
    RoleChangeForm,
)
from .models import ContactMethod, Membership, User
from .permissions import (
    can_see_profile_in_full,
    committee_communities,
    is_minor,
    memberships_decidable_by,
    memberships_managed_by,
    people_visible_to,
    staff_communities,
)


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


LARGE_TEXT_COOKIE_DAYS = 365


@require_POST
def large_text_switch(request):
    """The header's 长辈模式 switch: on or off for this browser (a cookie), and for the person when
    logged in (their profile, which every browser they use then follows); back to the page."""
    on = request.POST.get("on") == "1"
    if request.user.is_authenticated:
        services.large_text_set(actor=request.user, on=on)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("home")
    response = redirect(back)
    response.set_cookie(
        LARGE_TEXT_COOKIE,
        "1" if on else "0",
        max_age=LARGE_TEXT_COOKIE_DAYS * 24 * 3600,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@require_POST
def language_switch(request):
    """The header's language switch: Django's own (a cookie, and back to the page it was
    pressed on), and for a logged-in person their profile too, which every login applies."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.language_set(actor=request.user, language=language)
    return response


def privacy_notice(request):
    return render(request, "neighbors/privacy.html", {"version": settings.PRIVACY_NOTICE_VERSION})


HELP_AUDIENCES = ("residents", "volunteers", "committees")


def _help_render(request, page: str):
    # Help is long prose: one template per language reads better than dozens of catalogue
    # entries. A language without its own page falls back to Chinese, the site's first language.
    templates = [f"neighbors/help/{page}.{get_language()}.html", f"neighbors/help/{page}.zh-hans.html"]
    return render(request, templates, {"page": page})


def help_index(request):
    """Who the site is for, a page for each, and where to get help in person. No login: a resident
    without an account reads it before signing up."""
    return _help_render(request, "index")


def help_page(request, audience: str):
    if audience not in HELP_AUDIENCES:
        raise Http404
    return _help_render(request, audience)


def _join_form(user, data=None) -> JoinCommunityForm:
    communities = selectors.communities_open_to_join(user)
    return JoinCommunityForm(data, communities=communities, places=selectors.places_in(communities))


@login_required
def communities(request):
    form = _join_form(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_request(actor=request.user, **form.cleaned_data)
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
            "is_staff": staff_communities(request.user).exists(),
            "is_committee": committee_communities(request.user).exists(),
            "is_minor": is_minor(request.user),
        },
    )


@login_required
@require_POST
def membership_leave(request, pk: int):
    membership = get_object_or_404(Membership.objects.select_related("community"), pk=pk, user=request.user)
    try:
        services.membership_leave(actor=request.user, membership=membership)
    except (ValidationError, PermissionDenied):
        messages.error(request, _("You are no longer in this community."))
    else:
        messages.success(request, _("You have left %(community)s.") % {"community": membership.community.name})
    return redirect("neighbors:communities")


@login_required
def membership_queue(request):
    return render(
        request,
        "neighbors/membership_queue.html",
        {
            "pending": selectors.pending_memberships_for(request.user),
            "decline_form": DeclineMembershipForm(),
            "guardian_form": GuardianForm(),
        },
    )


@login_required
@require_POST
def membership_approve(request, pk: int):
    membership = get_object_or_404(memberships_decidable_by(request.user).select_related("user__profile"), pk=pk)
    guardian = None
    if membership.user.profile.is_minor:
        form = GuardianForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Fill in the guardian's name, relation and how they agreed."))
            return redirect("neighbors:membership_queue")
        guardian = services.Guardian(
            name=form.cleaned_data["guardian_name"],
            relation=form.cleaned_data["relation"],
            method=form.cleaned_data["method"],
        )
    try:
        services.membership_approve(actor=request.user, membership=membership, guardian=guardian)
    except ValidationError as error:
        messages.error(request, _error_text(error))
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
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("The request was declined; the resident will see your reason."))
    return redirect("neighbors:membership_queue")


@login_required
def members(request):
    """The committee's list of members, where roles are changed and the changes are kept."""
    managed = selectors.members_managed_by(request.user)
    if not committee_communities(request.user).exists():
        raise Http404
    rows = [(m, RoleChangeForm(grids=selectors.grids_in(m.community), prefix=f"m{m.pk}")) for m in managed]
    return render(
        request,
        "neighbors/members.html",
        {"rows": rows, "changes": selectors.role_changes_in(committee_communities(request.user))[:100]},
    )


@login_required
@require_POST
def membership_role_change(request, pk: int):
    membership = get_object_or_404(memberships_managed_by(request.user).select_related("community"), pk=pk)
    form = RoleChangeForm(request.POST, grids=selectors.grids_in(membership.community), prefix=f"m{pk}")
    if not form.is_valid():
        messages.error(request, _("Choose a role and give a reason (at most 300 characters)."))
        return redirect("neighbors:members")
    try:
        services.membership_role_change(actor=request.user, membership=membership, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("%(name)s's role was changed and recorded.") % {"name": membership.user})
    return redirect("neighbors:members")


@login_required
def profile_edit(request):
    profile = selectors.profile_of(request.user)
    initial = {
        "display_name": profile.display_name,
        "bio": profile.bio,
        "spoken_languages": profile.spoken_languages,
        "language": profile.language,
        "large_text": profile.large_text,
    }
    form = ProfileForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(actor=request.user, profile=profile, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your profile was saved."))
            response = redirect("neighbors:profile")
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, profile.language, samesite="Lax")
            return response
    return render(request, "neighbors/profile.html", {"form": form, "profile": profile})


@login_required
def contacts(request):
    methods = selectors.contact_methods_of(request.user)
    forms_by_kind = {}
    for kind in ContactMethod.Kind.values:
        method = methods.get(kind)
        initial = {"value": method.value, "scope": method.scope} if method else {"scope": ContactMethod.Scope.PARTNERS}
        bound = request.method == "POST" and request.POST.get("kind") == kind
        forms_by_kind[kind] = ContactMethodForm(request.POST if bound else None, kind=kind, initial=initial)
    if request.method == "POST":
        form = forms_by_kind.get(request.POST.get("kind", ""))
        if form is None:
            return render(request, "400.html", status=400)
        if form.is_valid():
            try:
                services.contact_method_set(
                    actor=request.user,
                    kind=form.kind,
                    value=form.cleaned_data["value"],
                    scope=form.cleaned_data["scope"],
                    grant_sharing_consent=form.cleaned_data["share_consent"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Your contact details were saved."))
                return redirect("neighbors:contacts")
    return render(
        request,
        "neighbors/contacts.html",
        {
            "forms": forms_by_kind.values(),
            "reach": selectors.contact_reach_of(request.user),
            "is_minor": is_minor(request.user),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def consents(request):
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if not form.is_valid():
            return render(request, "400.html", status=400)
        kind, action = form.cleaned_data["kind"], form.cleaned_data["action"]
        try:
            if action == "grant":
                services.consent_grant(actor=request.user, kind=kind)
            else:
                services.consent_withdraw(actor=request.user, kind=kind)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request,
                _("Thank you; your consent is recorded.") if action == "grant" else _("Withdrawn. This applies now."),
            )
        return redirect("neighbors:consents")
    return render(
        request,
        "neighbors/consents.html",
        {
            "states": selectors.consents_of(request.user),
            "history": selectors.consent_history_of(request.user)[:50],
            "is_minor": is_minor(request.user),
        },
    )


def _person(request, pk: int) -> User:
    # Not visible, blocked by them, or not existing: the same 404.
    return get_object_or_404(people_visible_to(request.user).select_related("profile"), pk=pk)


def _person_page(request, person: User, *, revealed=None, reveal_form=None, status: int = 200):
    return render(
        request,
        "neighbors/person.html",
        {
            "person": person,
            # Hidden by the committee: the photo and "about me" only for them and the staff.
            "profile_in_full": can_see_profile_in_full(request.user, person),
            "memberships": selectors.person_memberships_seen_by(request.user, person),
            "contacts": selectors.contact_card(request.user, person),
            "revealed": revealed,
            "reveal_form": reveal_form,
            "is_self": person.pk == request.user.pk,
            "blocked": selectors.blocked_by(request.user).filter(blocked=person).exists(),
        },
        status=status,
    )


@login_required
def person(request, pk: int):
    return _person_page(request, _person(request, pk))


@login_required
@require_POST
def person_reveal(request, pk: int):
    """Show one of a person's details in full, through the logged disclosure path."""
    owner = _person(request, pk)
    form = RevealContactForm(request.POST)
    if not form.is_valid():
        return _person_page(request, owner, reveal_form=form, status=400)
    titles = {row.subject: row.subject_title for row in selectors.contact_card(request.user, owner)}
    try:
        value = services.contact_reveal(
            viewer=request.user,
            owner=owner,
            kind=form.cleaned_data["kind"],
            subject=form.cleaned_data["subject"],
            subject_title=titles.get(form.cleaned_data["subject"], ""),
            reason=form.cleaned_data["reason"],
        )
    except PermissionDenied:
        messages.error(request, _("You cannot see this detail."))
        return _person_page(request, owner, status=403)
    except ValidationError as error:
        form.add_error(None, error)
        return _person_page(request, owner, reveal_form=form, status=400)
    return _person_page(request, owner, revealed=(form.cleaned_data["kind"], value))


@login_required
@require_POST
def person_block(request, pk: int):
    person = _person(request, pk)
    try:
        services.block_add(actor=request.user, person=person)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("neighbors:person", pk=pk)
    messages.success(
        request,
        _("You blocked %(name)s. They can no longer message you, offer help on your requests or see your details.")
        % {"name": person},
    )
    return redirect("neighbors:blocked")


@login_required
def blocked(request):
    return render(request, "neighbors/blocked.html", {"blocks": selectors.blocked_by(request.user)})


@login_required
@require_POST
def person_unblock(request, pk: int):
    block = get_object_or_404(selectors.blocked_by(request.user), blocked_id=pk)
    services.block_remove(actor=request.user, person=block.blocked)
    messages.success(request, _("You unblocked %(name)s.") % {"name": block.blocked})
    return redirect("neighbors:blocked")


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


def _my_data_page(request, form: AccountDeleteForm, *, status: int = 200):
    data = data_rights.account_data(request.user)
    return render(
        request,
        "neighbors/my_data.html",
        {
            "me": data["neighbors"],
            "summary": data_rights.account_summary(data),
            "consequences": data_rights.account_consequences(request.user),
            "form": form,
        },
        status=status,
    )


@never_cache
@login_required
def my_data(request):
    """What the site holds about me, where to correct it, and deleting my account (PIPL arts. 44–47)."""
    return _my_data_page(request, AccountDeleteForm(user=request.user))


@never_cache
@login_required
def my_data_export(request):
    response = JsonResponse(
        data_rights.account_data(request.user), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = 'attachment; filename="jinlin-my-data.json"'
    return response


@login_required
@require_POST
def account_delete(request):
    form = AccountDeleteForm(request.POST, user=request.user)
    if not form.is_valid():
        return _my_data_page(request, form, status=400)
    try:
        services.account_delete(actor=request.user, user=request.user)
    except ValidationError as error:
        # Nothing was deleted: the whole deletion is one transaction.
        form.add_error(None, error)
        return _my_data_page(request, form, status=400)
    logout(request)
    messages.success(request, _("Your account was deleted. Thank you for the help you gave your neighbours."))
    return redirect("home")


class LoginView(allauth_views.LoginView):
    """allauth's login page, answering 429 Too Many Requests (with its sentence on the form and a
    Retry-After) once the failed logins from one address or for one account pass
    ACCOUNT_RATE_LIMITS["login_failed"], so that a script sees the refusal as well as a person."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, code="too_many_login_attempts"):
            response.status_code = 429
            response["Retry-After"] = "60"
        return response
