"""Deleting an account: every app's part through the data-rights registry, then neighbors' own."""

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..data_rights import data_holders
from ..models import (
    Block,
    Consent,
    ContactDisclosure,
    ContactMethod,
    ContactShare,
    GuardianConsent,
    Membership,
    Partnership,
    Profile,
    User,
)
from .profile import files_delete_after_commit


@transaction.atomic
def account_delete(*, actor: User, user: User) -> None:
    """Delete the user's account: personal data removed, what others need kept under "Deleted user".

    One transaction: if any app cannot erase its part (a request changed under our
    feet, say), nothing at all is deleted and the error reaches the person.
    """
    if actor.pk != user.pk:
        raise PermissionDenied
    # The lock makes a second, simultaneous deletion wait, then find the work done.
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_active or Profile.objects.filter(user=locked, deleted_at__isnull=False).exists():
        raise ValidationError(_("This account has already been deleted."))
    for holder in data_holders():
        holder.erase(locked)
    _neighbors_erase(locked)


def _neighbors_erase(user: User) -> None:
    now = timezone.now()
    profile = Profile.objects.filter(user=user).first()
    if profile is not None:
        files_delete_after_commit(profile.avatar, profile.avatar_thumbnail)
        profile.display_name = ""
        profile.bio = ""
        profile.spoken_languages = []
        profile.language = Profile._meta.get_field("language").default
        profile.large_text = False
        profile.is_minor = False
        profile.avatar = profile.avatar_thumbnail = None
        profile.deleted_at = now
        # No full_clean: an empty display name is exactly what a deleted profile has.
        profile.save()
    ContactMethod.objects.filter(user=user).delete()
    # The home building says where the person lives: the membership goes with it.
    Membership.objects.filter(user=user).delete()
    GuardianConsent.objects.filter(minor=user).delete()
    Block.objects.filter(Q(blocker=user) | Q(blocked=user)).delete()
    Partnership.objects.filter(Q(user=user) | Q(partner=user)).delete()
    ContactShare.objects.filter(Q(owner=user) | Q(viewer=user)).delete()
    # The log of who saw this person's details goes; where they were the viewer, the
    # row is the other owner's record and stays (it will name "Deleted user").
    ContactDisclosure.objects.filter(owner=user).delete()
    # Consents are the record that processing was lawful while it lasted: kept, dated.
    Consent.objects.filter(user=user, withdrawn_at__isnull=True).update(withdrawn_at=now)
    EmailAddress.objects.filter(user=user).delete()
    # The row stays, so that the ledger (PROTECT), posts and messages keep their author.
    user.username = f"deleted-{user.pk}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.last_login = None
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
