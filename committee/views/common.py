"""What the workspace's views share."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def error_text(error: ValidationError) -> str:
    """A service's refusal as one flash line."""
    return " ".join(error.messages)


def page_denied(request: HttpRequest, template: str) -> HttpResponse:
    """A staff page asked by someone it is not for: the page itself, not an object, so a plain
    403 whose template says who it is for."""
    return render(request, template, {"denied": True}, status=403)
