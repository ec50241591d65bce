"""The committee's direct invitation of a talent to a request (智能派发's manual half)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from neighbors.models import User

from ..permissions import can_manage_post, posts_visible_to
from ..services.dispatch import dispatch_invite

MAX_ID_DIGITS = 18  # a bigint has 19 digits


@login_required
@require_POST
def post_invite(request: HttpRequest, pk: int) -> HttpResponse:
    # A post the user may not see is a 404, like everywhere else: its existence does not leak.
    post = get_object_or_404(posts_visible_to(request.user).select_related("author", "place", "category"), pk=pk)
    if not can_manage_post(request.user, post):
        raise PermissionDenied
    raw = request.POST.get("talent", "")
    # ASCII digits of a sane length: anything else would be a 500 from the database, not a refusal.
    valid = raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS
    talent = User.objects.select_related("profile").filter(pk=int(raw)).first() if valid else None
    if talent is None:
        messages.error(request, _("Choose a person to invite."))
        return redirect("aid_posts:detail", pk=post.pk)
    try:
        dispatch_invite(actor=request.user, post=post, talent=talent)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s has been asked to help.") % {"name": talent})
    return redirect("aid_posts:detail", pk=post.pk)
