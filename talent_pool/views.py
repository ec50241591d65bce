from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from neighbors.images import private_image_response
from neighbors.permissions import can_use_location, committee_communities, communities_visible_to, is_minor
from neighbors.selectors import home_place_in, places_in

from . import selectors, services
from .forms import (
    AvailabilityForm,
    CredentialForm,
    CredentialRejectForm,
    DirectorySearchForm,
    TalentProfileForm,
    TalentSkillForm,
)
from .models import Credential, TalentSkill
from .permissions import can_vouch_for, credentials_decidable_by, credentials_visible_to, talent_visible_to

# A page, not a report: past this many, the search has to be narrowed.
DIRECTORY_RESULTS_SHOWN = 100


@login_required
def directory(request):
    viewer = request.user
    communities = communities_visible_to(viewer)
    # No distances for a child (PIPL art. 31), and the viewer's own building is the starting
    # point only with their consent to its use for distances; any other building is chosen.
    with_distance = not is_minor(viewer)
    home = None
    if with_distance and can_use_location(viewer) and (first := communities.first()) is not None:
        home = home_place_in(viewer, first.pk)
    form = DirectorySearchForm(
        request.GET or None,
        skills=selectors.skills_by_area(),
        places=places_in(communities),
        with_distance=with_distance,
        initial={"origin": home},
    )
    if not form.is_bound:
        search = {"origin": home}
    elif form.is_valid():
        search = form.search()
    else:
        context = {"form": form, "results": [], "search": {}, "is_committee": committee_communities(viewer).exists()}
        return render(request, "talent_pool/directory.html", context, status=400)
    results = selectors.talent_search(viewer, **search)
    return render(
        request,
        "talent_pool/directory.html",
        {
            "form": form,
            "results": results[:DIRECTORY_RESULTS_SHOWN],
            "more": max(len(results) - DIRECTORY_RESULTS_SHOWN, 0),
            "search": search,
            "filtered": any(search.get(name) for name in ("skill", "verified_only", "radius_m", "weekday")),
            "is_committee": committee_communities(viewer).exists(),
        },
    )


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _form_error(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on the form: under the field it names where the form has it, else above."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _my_profile_page(
    request,
    *,
    profile_form: TalentProfileForm | None = None,
    skill_form: TalentSkillForm | None = None,
    availability_form: AvailabilityForm | None = None,
    credential_form: tuple[int, CredentialForm] | None = None,
    status: int = 200,
):
    """The page with all its forms; the one just posted, with its errors, stands in for its blank twin."""
    user = request.user
    profile = selectors.talent_profile_of(user.pk)
    slots = list(selectors.availability_of(user))
    skill_rows = []
    for row in selectors.talent_skill_rows(user, user):
        upload = None
        if row.talent_skill.skill.requires_credential:
            pk = row.talent_skill.pk
            if credential_form is not None and credential_form[0] == pk:
                upload = credential_form[1]
            else:
                upload = CredentialForm(prefix=f"credential-{pk}")
        skill_rows.append((row, upload))
    if profile_form is None:
        profile_form = TalentProfileForm.for_profile(profile)
    if skill_form is None:
        skill_form = TalentSkillForm(skills=selectors.skills_by_area())
    if availability_form is None:
        availability_form = AvailabilityForm(slots=slots)
    return render(
        request,
        "talent_pool/my_profile.html",
        {
            "profile": profile,
            "skill_rows": skill_rows,
            "slots": slots,
            "profile_form": profile_form,
            "skill_form": skill_form,
            "availability_form": availability_form,
            "is_committee": committee_communities(user).exists(),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
def my_profile(request):
    if request.method != "POST":
        return _my_profile_page(request)
    form = TalentProfileForm(request.POST)
    if form.is_valid():
        try:
            services.talent_profile_update(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Your talent profile was saved."))
            return redirect("talent_pool:my_profile")
    return _my_profile_page(request, profile_form=form, status=400)


@login_required
@require_POST
def skill_add(request):
    form = TalentSkillForm(request.POST, skills=selectors.skills_by_area())
    if form.is_valid():
        try:
            talent_skill = services.talent_skill_add(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_error(form, error)
        else:
            if talent_skill.skill.requires_credential and not talent_skill.is_verified:
                messages.success(
                    request,
                    _("%(skill)s is on your profile. It needs a certificate: upload it below for the badge.")
                    % {"skill": talent_skill.skill},
                )
            else:
                messages.success(request, _("%(skill)s is on your profile.") % {"skill": talent_skill.skill})
            return redirect("talent_pool:my_profile")
    return _my_profile_page(request, skill_form=form, status=400)


def _my_talent_skill(request, pk: int) -> TalentSkill:
    return get_object_or_404(TalentSkill.objects.select_related("skill", "talent"), pk=pk, talent__user=request.user)


@login_required
@require_POST
def skill_remove(request, pk: int):
    talent_skill = _my_talent_skill(request, pk)
    services.talent_skill_remove(actor=request.user, talent_skill=talent_skill)
    messages.success(request, _("%(skill)s was removed from your profile.") % {"skill": talent_skill.skill})
    return redirect("talent_pool:my_profile")


@login_required
@require_POST
def availability(request):
    form = AvailabilityForm(request.POST)
    if form.is_valid():
        try:
            services.availability_set(actor=request.user, slots=form.cleaned_data["slots"])
        except ValidationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Your weekly times were saved."))
            return redirect("talent_pool:my_profile")
    return _my_profile_page(request, availability_form=form, status=400)


@login_required
@require_POST
def credential_upload(request, pk: int):
    talent_skill = _my_talent_skill(request, pk)
    if not talent_skill.skill.requires_credential:
        raise Http404
    form = CredentialForm(request.POST, request.FILES, prefix=f"credential-{pk}")
    if form.is_valid():
        try:
            services.credential_submit(actor=request.user, talent_skill=talent_skill, **form.cleaned_data)
        except ValidationError as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                _("Your certificate was sent. A committee member will check it; the result will show here."),
            )
            return redirect("talent_pool:my_profile")
    return _my_profile_page(request, credential_form=(pk, form), status=400)


def _credential_file(request, pk: int, *, thumbnail: bool) -> HttpResponse:
    # Neither the talent nor their committee: the same 404 as a certificate that does not exist.
    credential = get_object_or_404(credentials_visible_to(request.user), pk=pk)
    # Certificates carry ID numbers: served only here, never from MEDIA_URL, and kept in no cache.
    return private_image_response(credential.thumbnail if thumbnail else credential.image, no_store=True)


@login_required
def credential_image(request, pk: int):
    return _credential_file(request, pk, thumbnail=False)


@login_required
def credential_thumbnail(request, pk: int):
    return _credential_file(request, pk, thumbnail=True)


def _credential_queue_page(request, *, reject_form: tuple[int, CredentialRejectForm] | None = None, status: int = 200):
    rows = []
    for credential in selectors.credential_queue_for(request.user):
        if reject_form is not None and reject_form[0] == credential.pk:
            form = reject_form[1]
        else:
            form = CredentialRejectForm(prefix=f"reject-{credential.pk}")
        rows.append((credential, form))
    return render(
        request,
        "talent_pool/credential_queue.html",
        {
            "rows": rows,
            "decisions": selectors.credential_decisions_seen_by(request.user)[:50],
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
def credential_queue(request):
    if not committee_communities(request.user).exists():
        raise Http404
    return _credential_queue_page(request)


def _credential_to_decide(request, pk: int) -> Credential | None:
    """The certificate to decide; None, with a message, when it was decided already; 404 when not the user's to decide."""
    credential = get_object_or_404(
        credentials_decidable_by(request.user).select_related(
            "talent_skill__skill", "talent_skill__talent__user__profile", "decided_by__profile"
        ),
        pk=pk,
    )
    if credential.status != Credential.Status.PENDING:
        messages.info(
            request,
            _("This certificate was already decided (%(status)s) by %(name)s on %(date)s.")
            % {
                "status": credential.get_status_display(),
                "name": credential.decided_by.profile if credential.decided_by else "—",
                "date": (
                    date_format(timezone.localtime(credential.decided_at), "SHORT_DATE_FORMAT")
                    if credential.decided_at
                    else "—"
                ),
            },
        )
        return None
    return credential


@login_required
@require_POST
def credential_verify(request, pk: int):
    credential = _credential_to_decide(request, pk)
    if credential is not None:
        try:
            services.credential_verify(actor=request.user, credential=credential)
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request,
                _("Verified: %(name)s's %(skill)s now carries the badge.")
                % {"name": credential.talent_skill.talent.user.profile, "skill": credential.talent_skill.skill},
            )
    return redirect("talent_pool:credential_queue")


@login_required
@require_POST
def credential_reject(request, pk: int):
    credential = _credential_to_decide(request, pk)
    if credential is None:
        return redirect("talent_pool:credential_queue")
    form = CredentialRejectForm(request.POST, prefix=f"reject-{pk}")
    if form.is_valid():
        try:
            services.credential_reject(actor=request.user, credential=credential, reason=form.cleaned_data["reason"])
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                # Decided by someone else a moment ago: it has left the queue, so say it here.
                messages.error(request, _error_text(error))
                return redirect("talent_pool:credential_queue")
            _form_error(form, error)
        else:
            messages.success(request, _("Rejected. The talent will see your reason."))
            return redirect("talent_pool:credential_queue")
    return _credential_queue_page(request, reject_form=(pk, form), status=400)


@login_required
def talent(request, user_id: int):
    profile = selectors.talent_profile_of(user_id)
    # No talent profile, not in a shared community, or blocked: the same 404.
    if profile is None or not talent_visible_to(request.user, profile.user):
        raise Http404
    rows = selectors.talent_skill_rows(request.user, profile.user)
    # can_vouch_for depends on the talent and on the skill needing no certificate, not on which
    # skill it is: asked once for the page rather than once a skill.
    vouchable = next((row.talent_skill for row in rows if not row.talent_skill.skill.requires_credential), None)
    return render(
        request,
        "talent_pool/talent.html",
        {
            "profile": profile,
            "person": profile.user,
            "rows": rows,
            "slots": selectors.availability_of(profile.user),
            "is_self": profile.user_id == request.user.pk,
            "can_vouch": vouchable is not None and can_vouch_for(request.user, vouchable),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def skill_vouch(request, pk: int):
    talent_skill = get_object_or_404(TalentSkill.objects.select_related("skill", "talent__user__profile"), pk=pk)
    # Not the committee of the talent's community, or a skill that needs a certificate: 404.
    if not can_vouch_for(request.user, talent_skill):
        raise Http404
    if talent_skill.verified_at is not None:
        messages.info(request, _("This skill has already been vouched for."))
    else:
        try:
            services.talent_skill_verify(actor=request.user, talent_skill=talent_skill)
        except PermissionDenied as error:
            raise Http404 from error
        messages.success(
            request,
            _("You vouched for %(name)s's %(skill)s. It now carries the badge.")
            % {"name": talent_skill.talent.user.profile, "skill": talent_skill.skill},
        )
    return redirect("talent_pool:talent", user_id=talent_skill.talent.user_id)
