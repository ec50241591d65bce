"""What the request and role pages share."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect


def add_service_error(form, error: ValidationError) -> None:
    """A service's refusal on the form: beside the field where the form has one, above it otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def act(request, action: Callable[[], object], success: str, back_to: str, pk: int) -> HttpResponseRedirect:
    """Run a button's service call; say what happened (or why not) and go back to the page."""
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)
    return redirect(back_to, pk=pk)
