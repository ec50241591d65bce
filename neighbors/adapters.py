from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction

from .services import user_signup_complete


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        # The user, their profile and their consent are written together or not at all.
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            user_signup_complete(
                user=user,
                display_name=form.cleaned_data["display_name"],
                notice_version=form.cleaned_data["notice_version"],
            )
        return user
