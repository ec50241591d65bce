import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from .models import (
    Block,
    Community,
    Consent,
    ContactDisclosure,
    ContactMethod,
    Grid,
    LedgerEntry,
    Membership,
    Place,
    Profile,
    RoleChange,
    SensitiveWord,
    User,
)
from .permissions import (
    active_partnerships,
    communities_visible_to,
    community_subject,
    contact_audiences,
    contact_ground,
    memberships_decidable_by,
    memberships_managed_by,
)


def memberships_of(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("community__street", "home_place__grid", "decided_by__profile")
        .prefetch_related("grids")
        .order_by("community__name")
    )


def community_names_of(user: User) -> list[str]:
    """The names of the communities the user is an approved member of, in name order."""
    return list(
        Community.objects.filter(memberships__user=user, memberships__status=Membership.Status.APPROVED)
        .order_by("name")
        .values_list("name", flat=True)
    )


def communities_open_to_join(user: User) -> QuerySet[Community]:
    """Communities the user has no live request or membership in (a declined or left one may ask again)."""
    return (
        Community.objects.exclude(
            memberships__user=user,
            memberships__status__in=[Membership.Status.PENDING, Membership.Status.APPROVED],
        )
        .select_related("street")
        .order_by("name")
    )


def places_in(communities: QuerySet[Community]) -> QuerySet[Place]:
    return (
        Place.objects.filter(community__in=communities)
        .select_related("community", "grid")
        .order_by("community__name", "name")
    )


def grids_in(community: Community) -> QuerySet[Grid]:
    return Grid.objects.filter(community=community).select_related("community").order_by("name")


def home_place_in(user: User, community_id: int) -> Place | None:
    """The user's home building in that community, if they are an approved member."""
    membership = (
        Membership.objects.filter(user=user, community_id=community_id, status=Membership.Status.APPROVED)
        .select_related("home_place")
        .first()
    )
    return membership.home_place if membership else None


def pending_memberships_for(user: User) -> QuerySet[Membership]:
    return (
        memberships_decidable_by(user)
        .select_related("user__profile", "community", "home_place__grid")
        .order_by("created_at", "pk")
    )


def members_managed_by(user: User) -> QuerySet[Membership]:
    return (
        memberships_managed_by(user)
        .select_related("user__profile", "community", "home_place__grid")
        .prefetch_related("grids")
        .order_by("community__name", "role", "user__profile__display_name")
    )


def role_changes_in(communities: QuerySet[Community]) -> QuerySet[RoleChange]:
    return RoleChange.objects.filter(community__in=communities).select_related(
        "community", "user__profile", "changed_by__profile"
    )


def profile_of(user: User) -> Profile:
    return Profile.objects.get(user=user)


def contact_methods_of(user: User) -> dict[str, ContactMethod]:
    return {method.kind: method for method in ContactMethod.objects.filter(user=user)}


@dataclass(frozen=True)
class ContactRow:
    """One of a person's contact details as another person may see it on a page."""

    kind: str
    label: str
    masked: str
    # The ground the viewer may give to see it in full, or "" if they may not.
    subject: str
    subject_title: str
    needs_reason: bool


def contact_card(viewer: User, owner: User, *, subject: str = "") -> list[ContactRow]:
    """The owner's details, masked, each with the ground on which the viewer could reveal it.

    With `subject`, only that ground is offered (a post's page offers the post).
    """
    if subject:
        candidates = [(subject, "")]
    else:
        partnerships = active_partnerships(user=owner, partner=viewer).order_by("-opened_at")
        shared = (
            communities_visible_to(viewer)
            .filter(memberships__user=owner, memberships__status=Membership.Status.APPROVED)
            .values_list("pk", "name")
        )
        candidates = [(p.subject, p.title) for p in partnerships] + [(community_subject(pk), n) for pk, n in shared]
    rows = []
    for method in ContactMethod.objects.filter(user=owner).order_by("kind"):
        ground_subject, ground_title, ground = "", "", None
        for subject, title in candidates:
            ground = contact_ground(viewer, owner, scope=method.scope, subject=subject, kind=method.kind)
            if ground is not None:
                ground_subject, ground_title = subject, title
                break
        rows.append(
            ContactRow(
                kind=method.kind,
                label=str(method.get_kind_display()),
                masked=method.masked,
                subject=ground_subject,
                subject_title=ground_title,
                needs_reason=ground == "committee",
            )
        )
    return rows


@dataclass(frozen=True)
class ConsentState:
    kind: str
    label: str
    version: str
    granted: Consent | None
    withdrawable: bool


def consents_of(user: User) -> list[ConsentState]:
    live = {
        consent.kind: consent
        for consent in Consent.objects.filter(user=user, withdrawn_at__isnull=True).order_by("granted_at")
        if consent.version == settings.CONSENT_VERSIONS[consent.kind]
    }
    return [
        ConsentState(
            kind=kind,
            label=str(label),
            version=settings.CONSENT_VERSIONS[kind],
            granted=live.get(kind),
            withdrawable=kind != Consent.Kind.PRIVACY_NOTICE,
        )
        for kind, label in Consent.Kind.choices
    ]


def consent_history_of(user: User) -> QuerySet[Consent]:
    return Consent.objects.filter(user=user)


def contact_reach_of(user: User) -> dict[str, frozenset[str]]:
    """For each of the user's details, who it actually reaches today (after consents and age)."""
    return {method.kind: contact_audiences(user, method.scope) for method in ContactMethod.objects.filter(user=user)}


def blocked_by(user: User) -> QuerySet[Block]:
    return Block.objects.filter(blocker=user).select_related("blocked__profile")


def person_memberships_seen_by(viewer: User, person: User) -> QuerySet[Membership]:
    """The communities the viewer shares with the person: never their building."""
    return Membership.objects.filter(
        user=person, status=Membership.Status.APPROVED, community__in=communities_visible_to(viewer)
    ).select_related("community")


def ledger_of(user: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(user=user).select_related("community")


def ledger_totals(user: User) -> dict[str, Decimal | int]:
    """Balances are derived from the ledger, never stored beside it."""
    return LedgerEntry.objects.filter(user=user).aggregate(
        points=Coalesce(Sum("points"), 0),
        hours=Coalesce(Sum("hours"), Decimal("0")),
    )


def disclosures_about(owner: User) -> QuerySet[ContactDisclosure]:
    return ContactDisclosure.objects.filter(owner=owner).select_related("viewer__profile")


# Spaces, punctuation and symbols between the characters of a word do not hide it: "微 信" and
# "微-信" read as "微信". Full-width forms fold to their usual ones (NFKC), letters to one case.
_NOT_WORD = re.compile(r"[\W_]+")


def fold_text(text: str) -> str:
    """Text as the sensitive-word list compares it; two words that fold alike are one word."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def sensitive_words_in(text: str, *, community_id: int | None) -> list[str]:
    """The listed words (the community's and the district-wide ones) that `text` contains."""
    words = SensitiveWord.objects.filter(Q(community__isnull=True) | Q(community_id=community_id)).values_list(
        "word", flat=True
    )
    folded = fold_text(text)
    return sorted({word for word in words if fold_text(word) and fold_text(word) in folded})
