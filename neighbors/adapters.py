from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.db import transaction
from django.utils import translation

from .services import user_signup_complete


def user_display(user) -> str:
    """How allauth names a person in its messages: by display name, never the email."""
    return str(user)


class AccountAdapter(DefaultAccountAdapter):
    def post_login(self, request, user, **kwargs):
        # The language chosen in the profile follows the person to every browser.
        response = super().post_login(request, user, **kwargs)
        profile = getattr(user, "profile", None)
        if profile is not None:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, profile.language, samesite="Lax")
        return response

    def save_user(self, request, user, form, commit=True):
        # The user, their profile and their consent are written together or not at all.
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            user_signup_complete(
                user=user,
                display_name=form.cleaned_data["display_name"],
                notice_version=form.cleaned_data["notice_version"],
                is_minor=form.cleaned_data["age_group"] == "minor",
                # The language the sign-up page was in (LocaleMiddleware chose it for this request).
                language=translation.get_language(),
            )
        return user
