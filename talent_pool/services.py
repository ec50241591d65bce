from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from neighbors.models import User
from neighbors.permissions import committee_communities

from .models import Skill, TalentProfile, TalentSkill


@transaction.atomic
def talent_profile_ensure(*, actor: User, headline: str = "") -> TalentProfile:
    profile, created = TalentProfile.objects.get_or_create(user=actor, defaults={"headline": headline})
    if created:
        profile.full_clean()
    return profile


@transaction.atomic
def talent_skill_add(*, actor: User, skill: Skill) -> TalentSkill:
    talent = talent_profile_ensure(actor=actor)
    talent_skill, _created = TalentSkill.objects.get_or_create(talent=talent, skill=skill)
    return talent_skill


@transaction.atomic
def talent_skill_verify(*, actor: User, talent_skill: TalentSkill) -> TalentSkill:
    """A committee member of one of the talent's communities vouches for the skill."""
    talent_user = talent_skill.talent.user
    shared = committee_communities(actor).filter(memberships__user=talent_user).exists()
    if not shared or actor.pk == talent_user.pk:
        raise PermissionDenied
    talent_skill.verified_by = actor
    talent_skill.verified_at = timezone.now()
    talent_skill.save(update_fields=["verified_by", "verified_at"])
    return talent_skill


@transaction.atomic
def user_data_erase(*, user: User) -> None:
    """The talent pool part of deleting an account (registered in apps.py, run by neighbors' account_delete).

    The talent profile and its skills go. Skills of other people that this person
    verified as a committee member keep their verification: it was a decision of the
    committee at the time, and the user row it points to stays (as "Deleted user").
    """
    TalentProfile.objects.filter(user=user).delete()
