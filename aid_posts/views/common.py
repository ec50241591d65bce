"""What the request and role pages share."""

from django.core.exceptions import ValidationError


def add_service_error(form, error: ValidationError) -> None:
    """A service's refusal on the form: beside the field where the form has one, above it otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
