"""A person's own profile, contact details and block list."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..images import ProcessedImage
from ..models import Block, Consent, ContactMethod, Profile, User
from ..permissions import has_consent, is_minor
from .privacy import consent_grant


def files_delete_after_commit(*files) -> None:
    """Delete stored files once the transaction commits: a rollback leaves them in place."""
    names = [(file.storage, file.name) for file in files if file]
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])


@transaction.atomic
def profile_update(
    *,
    actor: User,
    profile: Profile,
    display_name: str,
    bio: str = "",
    spoken_languages: list[str] | None = None,
    language: str,
    large_text: bool = False,
    avatar: ProcessedImage | None = None,
    remove_avatar: bool = False,
) -> Profile:
    if actor.pk != profile.user_id:
        raise PermissionDenied
    profile.display_name = display_name.strip()
    profile.bio = bio.strip()
    profile.spoken_languages = list(spoken_languages or [])
    profile.language = language
    profile.large_text = large_text
    if avatar or remove_avatar:
        files_delete_after_commit(profile.avatar, profile.avatar_thumbnail)
        profile.avatar = profile.avatar_thumbnail = None
    if avatar:
        profile.avatar.save(avatar.image.name, avatar.image, save=False)
        profile.avatar_thumbnail.save(avatar.thumbnail.name, avatar.thumbnail, save=False)
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def contact_method_set(
    *, actor: User, kind: str, value: str, scope: str, grant_sharing_consent: bool = False
) -> ContactMethod | None:
    """Set, change or (with an empty value) remove one of the actor's own contact details."""
    if kind not in ContactMethod.Kind.values:
        raise ValidationError({"kind": _("Unknown contact field.")})
    if scope not in ContactMethod.Scope.values:
        raise ValidationError({"scope": _("Choose who may see it from the list.")})
    value = value.strip()
    if not value:
        ContactMethod.objects.filter(user=actor, kind=kind).delete()
        return None
    if is_minor(actor):
        raise ValidationError(_("Contact details are turned off for residents under 14."))
    if scope in (ContactMethod.Scope.PARTNERS, ContactMethod.Scope.COMMUNITY):
        if grant_sharing_consent:
            consent_grant(actor=actor, kind=Consent.Kind.CONTACT_SHARING)
        elif not has_consent(actor, Consent.Kind.CONTACT_SHARING):
            raise ValidationError(
                {"scope": _("To show this to helpers or neighbours, tick the box that you agree to share it.")}
            )
    method = ContactMethod.objects.filter(user=actor, kind=kind).first() or ContactMethod(user=actor, kind=kind)
    method.value = value
    method.scope = scope
    method.full_clean(validate_constraints=False)
    method.save()
    return method


@transaction.atomic
def block_add(*, actor: User, person: User) -> Block:
    if actor.pk == person.pk:
        raise ValidationError(_("You cannot block yourself."))
    block, _created = Block.objects.get_or_create(blocker=actor, blocked=person)
    return block


@transaction.atomic
def block_remove(*, actor: User, person: User) -> None:
    Block.objects.filter(blocker=actor, blocked=person).delete()


@transaction.atomic
def leaderboard_opt_out_set(*, actor: User, opt_out: bool) -> Profile:
    """Whether the actor's name may appear on their communities' monthly leaderboards. Their
    points are unchanged either way; a child never appears, whatever this says."""
    profile = Profile.objects.get(user=actor)
    profile.leaderboard_opt_out = opt_out
    profile.save(update_fields=["leaderboard_opt_out"])
    return profile


def language_set(*, actor: User, language: str) -> Profile:
    """The header's language switch, for the person's own profile: logging in applies the
    profile's language, so a choice kept only in the browser would be undone at the next login."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose a language from the list.")})
    profile = actor.profile
    profile.language = language
    profile.save(update_fields=["language"])
    return profile


def large_text_set(*, actor: User, on: bool) -> Profile:
    """The large-text mode (长辈模式) switch in the header, for the person's own profile."""
    profile = actor.profile
    profile.large_text = on
    profile.save(update_fields=["large_text"])
    return profile
