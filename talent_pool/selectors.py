from django.db.models import Prefetch, QuerySet

from neighbors.models import Membership, User
from neighbors.permissions import communities_visible_to

from .models import Skill, TalentProfile, TalentSkill


def skills() -> QuerySet[Skill]:
    return Skill.objects.all()


def talents_visible_to(user: User) -> QuerySet[TalentProfile]:
    """Talents who are members of at least one community the viewer belongs to."""
    return (
        TalentProfile.objects.filter(
            user__memberships__community__in=communities_visible_to(user),
            user__memberships__status=Membership.Status.APPROVED,
        )
        .distinct()
        .select_related("user__profile")
        .prefetch_related(Prefetch("skills", queryset=TalentSkill.objects.select_related("skill")))
        .order_by("user__profile__display_name")
    )
