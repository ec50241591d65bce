from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..permissions import can_use_workspace
from ..selectors.home import waiting_for


@login_required
@require_GET
def workspace(request: HttpRequest) -> HttpResponse:
    """The committee's front page: what waits, and every part of the workspace one click away."""
    if not can_use_workspace(request.user):
        return render(request, "committee/home.html", {"denied": True}, status=403)
    return render(request, "committee/home.html", {"waiting": waiting_for(request.user)})
