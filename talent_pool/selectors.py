from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from neighbors.data_rights import isoformat
from neighbors.models import User
from neighbors.permissions import people_visible_to

from .models import Skill, TalentProfile, TalentSkill


def skills() -> QuerySet[Skill]:
    return Skill.objects.all()


def talents_visible_to(user: User) -> QuerySet[TalentProfile]:
    """Talents the viewer may see as people: in a shared community, and not blocking the viewer."""
    return (
        TalentProfile.objects.filter(user__in=people_visible_to(user))
        .select_related("user__profile")
        .prefetch_related(Prefetch("skills", queryset=TalentSkill.objects.select_related("skill")))
        .order_by("user__profile__display_name")
    )


def user_data_export(user: User) -> dict:
    talent = TalentProfile.objects.filter(user=user).first()
    if talent is None:
        return {"summary": [_("You have no talent profile.")], "talent_profile": None}
    skills = talent.skills.select_related("skill").order_by("skill__code")
    return {
        "summary": [
            ngettext(
                "You have a talent profile with %(count)d skill.",
                "You have a talent profile with %(count)d skills.",
                len(skills),
            )
            % {"count": len(skills)}
        ],
        "talent_profile": {
            "headline": talent.headline,
            "accepting_requests": talent.accepting_requests,
            "skills": [
                {"skill": str(item.skill), "verified": item.is_verified, "verified_at": isoformat(item.verified_at)}
                for item in skills
            ],
        },
    }


def user_data_consequences(user: User) -> list[str]:
    if not TalentProfile.objects.filter(user=user).exists():
        return []
    return [_("Your talent profile and its skills will be deleted, with their verifications.")]
