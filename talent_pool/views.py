from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import selectors


@login_required
def directory(request):
    return render(request, "talent_pool/directory.html", {"talents": selectors.talents_visible_to(request.user)})
