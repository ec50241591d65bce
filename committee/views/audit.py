"""The audit page: read-only, like the record it shows."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..forms.audit import AuditFilterForm
from ..permissions import can_use_workspace
from ..selectors.audit import audit_page_for, audit_subjects_for


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    if not can_use_workspace(request.user):
        return render(request, "committee/audit.html", {"denied": True}, status=403)
    form = AuditFilterForm(request.GET, subjects=audit_subjects_for(request.user))
    if not form.is_valid():
        # A filter that cannot be read lists nothing rather than everything: the form says why.
        return render(request, "committee/audit.html", {"form": form, "page": None}, status=400)
    page = audit_page_for(request.user, **form.cleaned_data, page_number=request.GET.get("page"))
    filtered = any(value not in (None, "") for value in form.cleaned_data.values())
    return render(request, "committee/audit.html", {"form": form, "page": page, "filtered": filtered})
