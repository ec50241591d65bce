"""Every write in the neighbors app. Services check permission themselves."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Consent, Profile, User
from .account import account_delete
from .audit import audit_record
from .ledger import ledger_adjust, ledger_award, ledger_lock, ledger_refund, ledger_spend
from .membership import (
    Guardian,
    membership_approve,
    membership_decline,
    membership_leave,
    membership_request,
    membership_role_change,
)
from .moderation import (
    Suspended,
    membership_remove,
    moderation_check,
    profile_hide,
    profile_restore,
    suspension_check,
    suspension_lift,
    suspension_start,
)
from .privacy import (
    consent_grant,
    consent_withdraw,
    contact_reveal,
    contact_share,
    partnership_close,
    partnership_open,
)
from .profile import (
    block_add,
    block_remove,
    contact_method_set,
    files_delete_after_commit,
    language_set,
    large_text_set,
    leaderboard_opt_out_set,
    profile_update,
)
from .reasons import decision_reason


@transaction.atomic
def user_signup_complete(
    *,
    user: User,
    display_name: str,
    notice_version: str,
    is_minor: bool = False,
    language: str = settings.LANGUAGE_CODE,
) -> Profile:
    """What sign-up adds to allauth's user: a profile and the recorded consent.

    `language` is the one the person signed up in: logging in applies the profile's language,
    so without it someone who signed up in English would be greeted in Chinese."""
    if notice_version != settings.PRIVACY_NOTICE_VERSION:
        raise ValidationError(_("The privacy notice has changed; please read it again."))
    profile = Profile(user=user, display_name=display_name.strip(), is_minor=is_minor, language=language)
    profile.full_clean()
    profile.save()
    Consent.objects.create(user=user, kind=Consent.Kind.PRIVACY_NOTICE, version=notice_version)
    return profile


__all__ = [
    "Guardian",
    "Suspended",
    "account_delete",
    "audit_record",
    "block_add",
    "block_remove",
    "consent_grant",
    "consent_withdraw",
    "contact_method_set",
    "contact_reveal",
    "contact_share",
    "decision_reason",
    "files_delete_after_commit",
    "leaderboard_opt_out_set",
    "ledger_adjust",
    "ledger_award",
    "ledger_lock",
    "ledger_refund",
    "ledger_spend",
    "membership_approve",
    "membership_decline",
    "membership_leave",
    "membership_remove",
    "membership_request",
    "membership_role_change",
    "moderation_check",
    "partnership_close",
    "partnership_open",
    "profile_hide",
    "profile_restore",
    "language_set",
    "large_text_set",
    "profile_update",
    "suspension_check",
    "suspension_lift",
    "suspension_start",
    "user_signup_complete",
]
