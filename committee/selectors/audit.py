"""Reads for the audit page: the decisions of the communities a person works for, newest first,
each readable (its target named and linked where the viewer may open it, its detail in words).

A page takes the same queries whatever the number of entries on it: one per kind of target
linked and one per kind of name looked up (skills, grids), never one per entry.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from aid_posts.models import AidPost, Duty, RoleClaim
from aid_posts.permissions import posts_visible_to, roles_visible_to
from messaging.models import Message
from messaging.permissions import conversations_visible_to
from neighbors.models import AuditEntry, Grid, LedgerEntry, Membership, Profile, User
from neighbors.permissions import memberships_ledger_adjustable_by, people_visible_to, staff_communities
from talent_pool.models import Skill, TalentSkill
from talent_pool.permissions import credentials_visible_to

from ..models import Report, Reward
from ..permissions import certificates_visible_to, redemptions_decidable_by, rewards_managed_by
from .words import words_visible_to

PER_PAGE = 50


def audit_entries_for(user: User) -> QuerySet[AuditEntry]:
    """Every entry of the communities the person works for (committee members and grid workers
    alike: the record is how staff answer to each other), newest first."""
    return (
        AuditEntry.objects.filter(community__in=staff_communities(user).values("pk"))
        .select_related("actor__profile", "subject__profile", "community")
        .order_by("-created_at", "-pk")
    )


def audit_subjects_for(user: User) -> QuerySet[User]:
    """The people the person's entries are about, for the "about whom" filter."""
    about = audit_entries_for(user).order_by().filter(subject__isnull=False).values("subject")
    return User.objects.filter(pk__in=about).select_related("profile").order_by("profile__display_name", "pk")


def _day_starts(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class DetailLine:
    label: str
    value: str


@dataclass(frozen=True)
class _Kind:
    label: str
    # (viewer, ids) -> {id: url} for those of the ids the viewer may open.
    urls: Callable[[User, set[int]], dict[int, str]]


def _urls_by_pair(pairs: Iterable[tuple[int, int]], page: str, anchor: str = "") -> dict[int, str]:
    return {pk: reverse(page, args=[other]) + anchor for pk, other in pairs}


def _posts(viewer: User, ids: set[int]) -> dict[int, str]:
    visible = posts_visible_to(viewer).filter(pk__in=ids).values_list("pk", "pk")
    return _urls_by_pair(visible, "aid_posts:detail")


def _messages(viewer: User, ids: set[int]) -> dict[int, str]:
    readable = Message.objects.filter(
        pk__in=ids, conversation__in=conversations_visible_to(viewer).values("pk")
    ).values_list("pk", "conversation_id")
    return _urls_by_pair(readable, "messaging:conversation")


def _roles(viewer: User, ids: set[int]) -> dict[int, str]:
    return _urls_by_pair(roles_visible_to(viewer).filter(pk__in=ids).values_list("pk", "pk"), "aid_posts:role_detail")


def _role_claims(viewer: User, ids: set[int]) -> dict[int, str]:
    claims = RoleClaim.objects.filter(pk__in=ids, role__in=roles_visible_to(viewer).values("pk"))
    return _urls_by_pair(claims.values_list("pk", "role_id"), "aid_posts:role_detail")


def _duties(viewer: User, ids: set[int]) -> dict[int, str]:
    duties = Duty.objects.filter(pk__in=ids, role__in=roles_visible_to(viewer).values("pk"))
    return _urls_by_pair(duties.values_list("pk", "role_id"), "aid_posts:role_detail")


def _memberships(viewer: User, ids: set[int]) -> dict[int, str]:
    members = Membership.objects.filter(pk__in=ids, user__in=people_visible_to(viewer).values("pk"))
    return _urls_by_pair(members.values_list("pk", "user_id"), "neighbors:person")


def _profiles(viewer: User, ids: set[int]) -> dict[int, str]:
    profiles = Profile.objects.filter(pk__in=ids, user__in=people_visible_to(viewer).values("pk"))
    return _urls_by_pair(profiles.values_list("pk", "user_id"), "neighbors:person")


def _credentials(viewer: User, ids: set[int]) -> dict[int, str]:
    credentials = credentials_visible_to(viewer).filter(
        pk__in=ids, talent_skill__talent__user__in=people_visible_to(viewer).values("pk")
    )
    return _urls_by_pair(credentials.values_list("pk", "talent_skill__talent__user_id"), "talent_pool:talent")


def _talent_skills(viewer: User, ids: set[int]) -> dict[int, str]:
    skills = TalentSkill.objects.filter(pk__in=ids, talent__user__in=people_visible_to(viewer).values("pk"))
    return _urls_by_pair(skills.values_list("pk", "talent__user_id"), "talent_pool:talent")


def _words(viewer: User, ids: set[int]) -> dict[int, str]:
    listed = words_visible_to(viewer).filter(pk__in=ids).values_list("pk", flat=True)
    return {pk: f"{reverse('committee:words')}#word-{pk}" for pk in listed}


def _rewards(viewer: User, ids: set[int]) -> dict[int, str]:
    managed = rewards_managed_by(viewer).filter(pk__in=ids).values_list("pk", "pk")
    return _urls_by_pair(managed, "committee:reward_edit")


def _redemptions(viewer: User, ids: set[int]) -> dict[int, str]:
    # The queue is the only page of a redemption: it lists those still waiting.
    decidable = redemptions_decidable_by(viewer).filter(pk__in=ids).values_list("pk", flat=True)
    return {pk: reverse("committee:redemptions") for pk in decidable}


def _certificates(viewer: User, ids: set[int]) -> dict[int, str]:
    visible = certificates_visible_to(viewer).filter(pk__in=ids).values_list("pk", "pk")
    return _urls_by_pair(visible, "rewards:certificate")


def _ledger_entries(viewer: User, ids: set[int]) -> dict[int, str]:
    # The member's ledger page, where the viewer may adjust it: the entry's person in its community.
    member = memberships_ledger_adjustable_by(viewer).filter(user=OuterRef("user"), community=OuterRef("community"))
    entries = LedgerEntry.objects.filter(pk__in=ids).annotate(membership=Subquery(member.values("pk")[:1]))
    pairs = entries.filter(membership__isnull=False).values_list("pk", "membership")
    return _urls_by_pair(pairs, "committee:member_ledger")


# What an entry's target ("aid_post:3") is called, and where the viewer may open it.
KINDS: dict[str, _Kind] = {
    "aid_post": _Kind(_("Help request"), _posts),
    "message": _Kind(_("Message"), _messages),
    "welfare_role": _Kind(_("Welfare role"), _roles),
    "role_claim": _Kind(_("Claim on a welfare role"), _role_claims),
    "duty": _Kind(_("Duty served"), _duties),
    "membership": _Kind(_("Membership"), _memberships),
    "profile": _Kind(_("Profile"), _profiles),
    "credential": _Kind(_("Certificate of a skill"), _credentials),
    "talent_skill": _Kind(_("Skill"), _talent_skills),
    "sensitive_word": _Kind(_("Sensitive word"), _words),
    "reward": _Kind(_("Reward"), _rewards),
    "redemption": _Kind(_("Redemption"), _redemptions),
    "certificate": _Kind(_("Volunteer-hours certificate"), _certificates),
    "ledger_entry": _Kind(_("Ledger entry"), _ledger_entries),
}


def _target_parts(target: str) -> tuple[str, int] | None:
    kind, _sep, number = target.partition(":")
    return (kind, int(number)) if kind in KINDS and number.isdecimal() else None


def _target_urls(viewer: User, entries: list[AuditEntry]) -> dict[tuple[str, int], str]:
    ids: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        parts = _target_parts(entry.target)
        if parts is not None:
            ids[parts[0]].add(parts[1])
    return {(kind, pk): url for kind, wanted in ids.items() for pk, url in KINDS[kind].urls(viewer, wanted).items()}


# How each part of an entry's `detail` is labelled on the page; others show their own key.
DETAIL_LABELS = {
    "grids": _("Grids"),
    "grid": _("Grid"),
    "points": _("Points"),
    "hours": _("Hours"),
    "until": _("Until"),
    "valid_until": _("Valid until"),
    "served_on": _("Served on"),
    "days": _("Days"),
    "words": _("Held for the words"),
    "word": _("Word"),
    "skill": _("Skill"),
    "role": _("Welfare role"),
    "reward": _("Reward"),
    "report": _("Report"),
    "why_reported": _("Reported as"),
    "vouched": _("Verified by"),
    "by_member": _("Cancelled by the member"),
    "created": _("Created with"),
    "changed": _("Changed"),
    "dataset": _("Data"),
    "columns": _("Columns"),
    "rows": _("Rows"),
    "suspension": _("Suspension"),
    "outcome": _("Outcome"),
}
# Two parts read as one line: a role's from and to, or a period's first and last day.
_PAIRS = (("from", "to"), ("period_start", "period_end"))


def _role_label(value) -> str:
    return str(Membership.Role(value).label) if value in Membership.Role.values else str(value)


def _when(value) -> str:
    """An ISO date or moment, as the viewer's language writes it; anything else as it is."""
    if not isinstance(value, str):
        return str(value)
    moment = parse_datetime(value) if len(value) > len("2025-01-01") else None
    if moment is not None:
        moment = moment if timezone.is_aware(moment) else timezone.make_aware(moment)
        return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    day = parse_date(value)
    return formats.date_format(day, "SHORT_DATE_FORMAT") if day is not None else value


def _text(value) -> str:
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(_text(part) for part in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_text(part)}" for key, part in value.items())
    return "—" if value is None else str(value)


def _value_text(key: str, value, skills: dict[str, Skill], grids: dict[int, str]) -> str:
    if key == "points" and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:+d}"
    if key in ("until", "valid_until", "served_on"):
        return _when(value)
    if key == "grids" and isinstance(value, list):
        return ", ".join(grids.get(pk, f"#{pk}") for pk in value)
    if key == "grid" and isinstance(value, int):
        return grids.get(value, f"#{value}")
    if key == "skill" and isinstance(value, str):
        return str(skills.get(value, value))
    if key == "outcome" and value in AidPost.Status.values:
        return str(AidPost.Status(value).label)
    if key == "why_reported" and value in Report.Reason.values:
        return str(Report.Reason(value).label)
    if key == "vouched" and value is True:
        return str(_("the committee's word: the skill needs no certificate"))
    if key == "changed" and isinstance(value, dict):
        # {"points": [10, 20]}: each field from what it was to what it is.
        return "; ".join(
            f"{_reward_field(name)}: {_reward_value(name, change[0])} → {_reward_value(name, change[1])}"
            if isinstance(change, list) and len(change) == 2
            else f"{_reward_field(name)}: {_reward_value(name, change)}"
            for name, change in ((name, value[name]) for name in _in_field_order(value))
        )
    if key == "created" and isinstance(value, dict):
        return "; ".join(
            f"{_reward_field(name)}: {_reward_value(name, value[name])}" for name in _in_field_order(value)
        )
    return _text(value)


def _in_field_order(fields: dict) -> list[str]:
    """The catalogue's fields in the model's order: PostgreSQL's JSON keeps no key order."""
    order = {field.name: place for place, field in enumerate(Reward._meta.get_fields())}
    return sorted(fields, key=lambda name: (order.get(name, len(order)), name))


def _reward_field(name: str) -> str:
    """A catalogue field by its label (the catalogue is the only thing saved field by field)."""
    try:
        return str(Reward._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _reward_value(name: str, value) -> str:
    if name == "kind" and value in Reward.Kind.values:
        return str(Reward.Kind(value).label)
    return _text(value)


def _detail_lines(entry: AuditEntry, skills: dict[str, Skill], grids: dict[int, str]) -> list[DetailLine]:
    detail = entry.detail if isinstance(entry.detail, dict) else {"": entry.detail}
    lines, paired = [], set()
    for first, last in _PAIRS:
        if first in detail and last in detail:
            paired |= {first, last}
            before, after = detail[first], detail[last]
            if before in Membership.Role.values and after in Membership.Role.values:
                lines.append(DetailLine(label=str(_("Role")), value=f"{_role_label(before)} → {_role_label(after)}"))
            else:
                lines.append(DetailLine(label=str(_("Period")), value=f"{_when(before)} – {_when(after)}"))
    for key, value in detail.items():
        # An empty part (no grids, no grid) says nothing worth a line.
        if key in paired or value in (None, [], {}):
            continue
        label = str(DETAIL_LABELS.get(key, key.replace("_", " ")))
        lines.append(DetailLine(label=label, value=_value_text(key, value, skills, grids)))
    return lines


def _names(entries: list[AuditEntry]) -> tuple[dict[str, Skill], dict[int, str]]:
    """The skills and grids the entries' details name by code or id: one query each, if any."""
    details = [entry.detail for entry in entries if isinstance(entry.detail, dict)]
    codes = {detail["skill"] for detail in details if isinstance(detail.get("skill"), str)}
    grid_ids = {pk for detail in details if isinstance(detail.get("grids"), list) for pk in detail["grids"]}
    grid_ids |= {detail["grid"] for detail in details if isinstance(detail.get("grid"), int)}
    skills = {skill.code: skill for skill in Skill.objects.filter(code__in=codes)} if codes else {}
    grids = dict(Grid.objects.filter(pk__in=grid_ids).values_list("pk", "name")) if grid_ids else {}
    return skills, grids


def audit_page_for(
    user: User,
    *,
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    subject: User | None = None,
    page_number: str | int | None = None,
) -> Page:
    """One page of the person's entries, filtered, each with `target_label`, `target_url` ("" where
    the viewer may not open it) and `detail_lines`."""
    entries = audit_entries_for(user)
    if action:
        entries = entries.filter(action=action)
    if date_from:
        entries = entries.filter(created_at__gte=_day_starts(date_from))
    if date_to:
        entries = entries.filter(created_at__lt=_day_starts(date_to + timedelta(days=1)))
    if subject is not None:
        entries = entries.filter(subject=subject)
    page = Paginator(entries, PER_PAGE).get_page(page_number)
    listed = list(page.object_list)
    urls = _target_urls(user, listed)
    skills, grids = _names(listed)
    for entry in listed:
        parts = _target_parts(entry.target)
        entry.target_label = f"{KINDS[parts[0]].label} #{parts[1]}" if parts else entry.target
        entry.target_url = urls.get(parts, "") if parts else ""
        entry.detail_lines = _detail_lines(entry, skills, grids)
    page.object_list = listed
    return page
