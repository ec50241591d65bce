from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, Exists, F, FloatField, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from neighbors.data_rights import isoformat
from neighbors.geo import ROUNDING_M, bounding_box_q, distance_m
from neighbors.models import Membership, Place, User
from neighbors.permissions import communities_visible_to, people_visible_to, users_sharing_location

from .models import AvailabilitySlot, Credential, HelpRecord, Skill, TalentProfile, TalentSkill, verified_skill_q
from .permissions import credentials_decidable_by, credentials_visible_to


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
    skills = talent.skills.select_related("skill").prefetch_related("credentials").order_by("skill__code")
    records = HelpRecord.objects.filter(user=user).select_related("skill").order_by("created_at")
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
            "service_radius_m": talent.service_radius_m,
            "availability": [
                {"weekday": slot.weekday, "from": slot.starts_at.isoformat(), "to": slot.ends_at.isoformat()}
                for slot in talent.slots.all()
            ],
            "skills": [
                {
                    "skill": str(item.skill),
                    "level": item.level,
                    "description": item.description,
                    "verified": item.is_verified,
                    "verified_at": isoformat(item.verified_at),
                    "certificates": [
                        {
                            "number": credential.number,
                            "valid_until": credential.expires_on.isoformat(),
                            "status": credential.status,
                            "decided_at": isoformat(credential.decided_at),
                            "reason": credential.decision_reason,
                        }
                        for credential in item.credentials.all()
                    ],
                }
                for item in skills
            ],
            "help_given": [
                {
                    "skill": str(record.skill),
                    "hours": str(record.hours),
                    "rating": record.rating,
                    "source": record.source,
                }
                for record in records
            ],
        },
    }


def user_data_consequences(user: User) -> list[str]:
    if not TalentProfile.objects.filter(user=user).exists():
        return []
    return [_("Your talent profile, its skills, certificates and times will be deleted, with their verifications.")]


SORT_BY_DISTANCE = "distance"
SORT_BY_RATING = "rating"


@dataclass(frozen=True)
class SkillBadge:
    skill: Skill
    level: str
    verified: bool


@dataclass(frozen=True)
class TalentResult:
    """A talent as the directory shows them: never a contact, a building or coordinates."""

    talent: TalentProfile
    name: str
    skills: tuple[SkillBadge, ...]
    # Rounded to 100 m; None without an origin, or without the talent's consent to distances.
    distance_m: int | None
    rating: float | None
    helps: int


def talent_search(
    viewer: User,
    *,
    skill: Skill | None = None,
    verified_only: bool = False,
    origin: Place | None = None,
    radius_m: int | None = None,
    weekday: int | None = None,
    sort: str = SORT_BY_DISTANCE,
) -> list[TalentResult]:
    """Talents taking requests whom the viewer may see, as the directory lists them.

    `verified_only` means verified in `skill`, or in any skill when no skill is given. With an
    `origin` (a building of one of the viewer's communities) each talent who consents to it gets
    the distance to their nearest home building in a community the viewer also belongs to; a
    talent with homes in two communities may come from either, and one outside the viewer's
    communities is none of the viewer's business. A `radius_m` keeps only talents within it, so
    it leaves out those without a distance. The queries made do not depend on how many talents
    there are: a fixed number of them, then Python for the exact distances.
    """
    if sort not in (SORT_BY_DISTANCE, SORT_BY_RATING):
        raise ValueError(f"Unknown sort {sort!r}")
    if radius_m is not None and origin is None:
        raise ValueError("A radius needs an origin")
    today = timezone.localdate()
    community_ids = list(communities_visible_to(viewer).values_list("pk", flat=True))
    if origin is not None and origin.community_id not in community_ids:
        # Distances from any other building would let a stranger's home be triangulated.
        raise PermissionDenied
    helps = HelpRecord.objects.filter(user=OuterRef("user")).order_by().values("user")
    credentials = Credential.objects.filter(status=Credential.Status.VERIFIED, expires_on__gte=today).only(
        "talent_skill_id", "status", "expires_on"
    )
    talents = (
        talents_visible_to(viewer)
        .filter(accepting_requests=True)
        .annotate(
            shares_location=Exists(users_sharing_location().filter(pk=OuterRef("user"))),
            rating=Subquery(helps.annotate(average=Avg("rating", output_field=FloatField())).values("average")),
            helps=Coalesce(Subquery(helps.annotate(count=Count("pk")).values("count")), 0),
        )
        .prefetch_related(None)
        .prefetch_related(
            Prefetch(
                "skills",
                queryset=TalentSkill.objects.select_related("skill")
                .prefetch_related(Prefetch("credentials", queryset=credentials.order_by()))
                .order_by("skill__code"),
            )
        )
    )
    # Exists rather than joins: a talent with several skills or certificates stays one row.
    offered = TalentSkill.objects.filter(talent=OuterRef("pk"))
    if skill is not None:
        offered = offered.filter(skill=skill)
    if verified_only:
        offered = offered.filter(verified_skill_q(today))
    if skill is not None or verified_only:
        talents = talents.filter(Exists(offered))
    if weekday is not None:
        talents = talents.filter(Exists(AvailabilitySlot.objects.filter(talent=OuterRef("pk"), weekday=weekday)))
    if origin is not None:
        homes = Membership.objects.filter(status=Membership.Status.APPROVED, community_id__in=community_ids)
        if radius_m is not None:
            homes = homes.filter(bounding_box_q(origin, radius_m, prefix="home_place__"))
            talents = talents.filter(shares_location=True).filter(Exists(homes.filter(user=OuterRef("user"))))
        talents = talents.prefetch_related(
            Prefetch("user__memberships", queryset=homes.select_related("home_place"), to_attr="shared_homes")
        )

    results = []
    for talent in talents:
        distance = None
        if origin is not None and talent.shares_location and not talent.user.profile.is_minor:
            exact = min((distance_m(origin, home.home_place) for home in talent.user.shared_homes), default=None)
            if radius_m is not None and (exact is None or exact > radius_m):
                continue
            if exact is not None:
                distance = round(exact / ROUNDING_M) * ROUNDING_M
        talent_skills = sorted(talent.skills.all(), key=lambda item: skill is not None and item.skill_id != skill.pk)
        results.append(
            TalentResult(
                talent=talent,
                name=str(talent.user.profile),
                skills=tuple(
                    SkillBadge(skill=item.skill, level=item.get_level_display(), verified=item.is_verified_on(today))
                    for item in talent_skills
                ),
                distance_m=distance,
                rating=None if talent.rating is None else round(talent.rating, 1),
                helps=talent.helps,
            )
        )
    # Stable sorts over the name order of the query. By the rounded distance, so that the order
    # tells no more than the figures on the page do.
    if sort == SORT_BY_RATING:
        results.sort(key=lambda result: (result.rating is None, -(result.rating or 0), -result.helps))
    else:
        results.sort(key=lambda result: (result.distance_m is None, result.distance_m or 0))
    return results


def skills_by_area() -> QuerySet[Skill]:
    """The skill tree in reading order: area by area, skills without an area last."""
    return Skill.objects.select_related("area").order_by(F("area__position").asc(nulls_last=True), "area__code", "code")


def talent_profile_of(user_id: int) -> TalentProfile | None:
    return TalentProfile.objects.filter(user_id=user_id).select_related("user__profile").first()


def talent_skills_of(user: User) -> QuerySet[TalentSkill]:
    """A talent's skills with what a page needs: the area, who vouched, and the certificates the badge reads."""
    return (
        TalentSkill.objects.filter(talent__user=user)
        .select_related("skill__area", "verified_by__profile")
        .prefetch_related(
            Prefetch(
                "credentials",
                queryset=Credential.objects.select_related("decided_by__profile").order_by("-created_at", "-id"),
            )
        )
        .order_by(F("skill__area__position").asc(nulls_last=True), "skill__area__code", "skill__code")
    )


def availability_of(user: User) -> QuerySet[AvailabilitySlot]:
    return AvailabilitySlot.objects.filter(talent__user=user).order_by("weekday", "starts_at")


@dataclass(frozen=True)
class SkillStats:
    helps: int = 0
    hours: Decimal = Decimal(0)
    rating: float | None = None


def talent_stats(user: User) -> dict[int, SkillStats]:
    """Completed helps, hours and average rating per skill id, in one aggregate query."""
    rows = (
        HelpRecord.objects.filter(user=user)
        .values("skill_id")
        .annotate(helps=Count("pk"), hours=Sum("hours"), rating=Avg("rating"))
        .order_by()
    )
    return {
        row["skill_id"]: SkillStats(
            helps=row["helps"],
            hours=row["hours"],
            rating=None if row["rating"] is None else round(float(row["rating"]), 1),
        )
        for row in rows
    }


@dataclass(frozen=True)
class TalentSkillRow:
    talent_skill: TalentSkill
    stats: SkillStats
    # Only the certificates the viewer may see: the badge is public, the certificate is not.
    credentials: list[Credential]


def talent_skill_rows(viewer: User, talent_user: User) -> list[TalentSkillRow]:
    """A talent's skills as `viewer` sees them, with their figures; a fixed number of queries."""
    talent_skills = list(talent_skills_of(talent_user))
    stats = talent_stats(talent_user)
    seen: set[int] = set()
    if any(talent_skill.credentials.all() for talent_skill in talent_skills):
        seen = set(
            credentials_visible_to(viewer).filter(talent_skill__talent__user=talent_user).values_list("pk", flat=True)
        )
    return [
        TalentSkillRow(
            talent_skill=talent_skill,
            stats=stats.get(talent_skill.skill_id, SkillStats()),
            credentials=[credential for credential in talent_skill.credentials.all() if credential.pk in seen],
        )
        for talent_skill in talent_skills
    ]


def credential_queue_for(user: User) -> QuerySet[Credential]:
    """Pending certificates the user may decide, oldest first."""
    return (
        credentials_decidable_by(user)
        .filter(status=Credential.Status.PENDING)
        .select_related("talent_skill__skill", "talent_skill__talent__user__profile")
        .order_by("created_at", "id")
    )


def credential_decisions_seen_by(user: User) -> QuerySet[Credential]:
    """Decided certificates of the members of the user's committees, latest first: who decided, and when."""
    return (
        credentials_visible_to(user)
        .exclude(talent_skill__talent__user=user)
        .exclude(status=Credential.Status.PENDING)
        .select_related("talent_skill__skill", "talent_skill__talent__user__profile", "decided_by__profile")
        .order_by("-decided_at", "-id")
    )
