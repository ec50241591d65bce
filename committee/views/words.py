"""The sensitive-word page: the committee keeps its community's list; grid workers read it."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aid_posts.views.common import add_service_error
from neighbors.models import Community
from neighbors.permissions import is_committee, staff_communities

from ..forms.words import SensitiveWordForm
from ..permissions import can_use_workspace
from ..selectors.words import sensitive_words_for, words_visible_to
from ..services.words import sensitive_word_add, sensitive_word_remove


def _page(
    request: HttpRequest, *, form: SensitiveWordForm | None = None, community: Community | None = None, status=200
) -> HttpResponse:
    """The lists, each community the viewer may change with its add form: `form` (bound, with
    its errors) for `community`, a fresh one for the others. Inputs are told apart by id."""
    lists = sensitive_words_for(request.user)
    sections = []
    for section in lists.communities:
        section_form = None
        if section.editable:
            if community is not None and section.community.pk == community.pk:
                section_form = form
            else:
                section_form = SensitiveWordForm(auto_id=f"id_%s_{section.community.pk}")
        sections.append((section, section_form))
    context = {"sections": sections, "district": lists.district, "change_denied": status == 403}
    return render(request, "committee/words.html", context, status=status)


@login_required
@require_GET
def sensitive_words(request: HttpRequest) -> HttpResponse:
    if not can_use_workspace(request.user):
        return render(request, "committee/words.html", {"denied": True}, status=403)
    return _page(request)


@login_required
@require_POST
def word_add(request: HttpRequest, community_id: int) -> HttpResponse:
    # A community the person does not work for is a 404; one where they are a grid worker, a 403
    # on the page itself, which says that only the committee changes the list.
    community = get_object_or_404(staff_communities(request.user), pk=community_id)
    if not is_committee(request.user, community):
        return _page(request, status=403)
    form = SensitiveWordForm(request.POST, auto_id=f"id_%s_{community.pk}")
    if form.is_valid():
        try:
            word = sensitive_word_add(actor=request.user, community=community, word=form.cleaned_data["word"])
        except PermissionDenied as denied:
            raise Http404 from denied
        except ValidationError as error:
            add_service_error(form, error)
        else:
            flash.success(
                request,
                _("“%(word)s” is on the list of %(community)s: new requests and messages with it are held for review.")
                % {"word": word.word, "community": community.name},
            )
            return redirect("committee:words")
    return _page(request, form=form, community=community, status=400)


@login_required
@require_POST
def word_remove(request: HttpRequest, pk: int) -> HttpResponse:
    # The district's words are listed for staff only (the 403 page below would show them all).
    if not can_use_workspace(request.user):
        raise Http404
    word = get_object_or_404(words_visible_to(request.user).select_related("community"), pk=pk)
    try:
        sensitive_word_remove(actor=request.user, word=word)
    except PermissionDenied:
        # The district's words, and for a grid worker any word: shown to them, not theirs to change.
        return _page(request, status=403)
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
    else:
        flash.success(request, _("“%(word)s” is off the list.") % {"word": word.word})
    return redirect("committee:words")
