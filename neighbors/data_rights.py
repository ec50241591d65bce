"""A person's rights over their data (PIPL arts. 44–47): to see it, take a copy, correct it, delete it.

Every app keeps some of a person's data, but neighbors may import no app above it.
So the apps that hold personal data register a `DataHolder` here from their
`AppConfig.ready()`, pointing at their own functions: an export (a selector), the
consequences of deleting the account in plain sentences (a selector) and the
erasure itself (a service). neighbors then calls them without knowing who they
are: dependency inversion, with explicit calls inside the caller's transaction.
Deliberately not signals: a receiver that fails or is never connected goes
unnoticed, while a holder's erase runs inside `account_delete`'s transaction, and
if it fails nothing at all is deleted.

This module holds the registry and the reads (the export and the consequences);
the erasure of neighbors' own data is `neighbors.services.account_delete`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import (
    Block,
    Consent,
    ContactDisclosure,
    ContactMethod,
    GuardianConsent,
    LedgerEntry,
    Membership,
    Partnership,
    Profile,
    RoleChange,
    User,
)
from .selectors import ledger_totals


@dataclass(frozen=True)
class DataHolder:
    """What an app above neighbors does with one person's data, told to neighbors at start-up."""

    # The app's key in the export, e.g. "aid_posts".
    label: str
    # Everything the app holds about the person, JSON-ready (see `isoformat`, `decimal_text`).
    export: Callable[[User], dict]
    # What deleting the account would do there, one translated sentence each.
    consequences: Callable[[User], list[str]]
    # Remove or anonymize it; runs inside account_delete's transaction, before neighbors' own.
    erase: Callable[[User], None]


_holders: dict[str, DataHolder] = {}


def data_holder_register(holder: DataHolder) -> None:
    """Register (or replace, if `ready()` runs twice) the holder with this label."""
    _holders[holder.label] = holder


def data_holders() -> list[DataHolder]:
    return list(_holders.values())


def isoformat(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def decimal_text(value: Decimal | None) -> str | None:
    # A string, so that 1.50 hours stays 1.50 and no float rounding creeps in.
    return str(value) if value is not None else None


def account_data(user: User) -> dict:
    """Everything the site holds about `user`: neighbors' own part, then each holder's under its label."""
    data = {"generated_at": isoformat(timezone.now()), "neighbors": _neighbors_export(user)}
    for holder in data_holders():
        data[holder.label] = holder.export(user)
    return data


def account_summary(data: dict) -> list[str]:
    """The readable sentences of an `account_data` export, every part's in turn."""
    return [sentence for part in data.values() if isinstance(part, dict) for sentence in part.get("summary", [])]


def account_consequences(user: User) -> list[str]:
    """What deleting the account would do: each holder's sentences, then neighbors' own."""
    sentences = []
    for holder in data_holders():
        sentences.extend(holder.consequences(user))
    return sentences + _neighbors_consequences(user)


def _neighbors_consequences(user: User) -> list[str]:
    sentences = [
        _("Your name, photo, “about me” and languages will be removed; neighbours will see “Deleted user” instead."),
        _(
            "Your contact details, memberships of communities, blocks, partnerships and the record of who saw "
            "your details will be deleted."
        ),
    ]
    if LedgerEntry.objects.filter(user=user).exists():
        sentences.append(
            _(
                "Your points and hours will stay in the ledger under “Deleted user”, so that your community's totals "
                "stay right."
            )
        )
    sentences.append(_("Your consents will stay on record, marked as withdrawn. You will not be able to log in again."))
    return sentences


def _neighbors_export(user: User) -> dict:
    profile = Profile.objects.filter(user=user).first()
    contacts = ContactMethod.objects.filter(user=user).order_by("kind")
    memberships = (
        Membership.objects.filter(user=user)
        .select_related("community", "home_place")
        .prefetch_related("grids")
        .order_by("community__name")
    )
    consents = Consent.objects.filter(user=user).order_by("granted_at", "pk")
    blocks = Block.objects.filter(blocker=user).select_related("blocked__profile").order_by("created_at")
    partnerships = Partnership.objects.filter(user=user).select_related("partner__profile").order_by("opened_at")
    seen_by_others = ContactDisclosure.objects.filter(owner=user).select_related("viewer__profile")
    seen_by_me = ContactDisclosure.objects.filter(viewer=user).select_related("owner__profile")
    ledger = LedgerEntry.objects.filter(user=user).select_related("community").order_by("created_at", "pk")
    totals = ledger_totals(user)
    return {
        "summary": _neighbors_summary(contacts.count(), memberships.count(), seen_by_others.count(), totals),
        "account": {
            "username": user.get_username(),
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": isoformat(user.date_joined),
            "last_login": isoformat(user.last_login),
        },
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "profile": _profile_export(profile),
        "contact_methods": [
            {
                "kind": method.kind,
                "label": str(method.get_kind_display()),
                "value": method.value,
                "who_may_see_it": str(method.get_scope_display()),
                "updated_at": isoformat(method.updated_at),
            }
            for method in contacts
        ],
        "memberships": [
            {
                "community": membership.community.name,
                "home_building": membership.home_place.name,
                "tenure": str(membership.get_tenure_display()),
                "role": str(membership.get_role_display()),
                "status": str(membership.get_status_display()),
                "grids": [grid.name for grid in membership.grids.all()],
                "requested_at": isoformat(membership.created_at),
                "decided_at": isoformat(membership.decided_at),
                "decision_reason": membership.decision_reason,
                "left_at": isoformat(membership.left_at),
            }
            for membership in memberships
        ],
        "role_changes": [
            {
                "community": change.community.name,
                "from_role": str(change.get_from_role_display()),
                "to_role": str(change.get_to_role_display()),
                "reason": change.reason,
                "at": isoformat(change.created_at),
            }
            for change in RoleChange.objects.filter(user=user).select_related("community").order_by("created_at")
        ],
        "guardian_consents": [
            {
                "community": consent.community.name,
                "guardian_name": consent.guardian_name,
                "relation": consent.relation,
                "method": str(consent.get_method_display()),
                "recorded_at": isoformat(consent.recorded_at),
            }
            for consent in GuardianConsent.objects.filter(minor=user).select_related("community")
        ],
        "consents": [
            {
                "kind": consent.kind,
                "label": str(consent.get_kind_display()),
                "version": consent.version,
                "granted_at": isoformat(consent.granted_at),
                "withdrawn_at": isoformat(consent.withdrawn_at),
            }
            for consent in consents
        ],
        "blocked_people": [{"person": str(block.blocked), "since": isoformat(block.created_at)} for block in blocks],
        "partnerships": [
            {
                "partner": str(partnership.partner),
                "about": partnership.title or partnership.subject,
                "opened_at": isoformat(partnership.opened_at),
                "until": isoformat(partnership.until),
            }
            for partnership in partnerships
        ],
        # Who saw which of my details and why; never another person's value.
        "who_saw_my_details": [_disclosure_export(row, str(row.viewer)) for row in seen_by_others],
        "details_i_saw": [_disclosure_export(row, str(row.owner)) for row in seen_by_me],
        "ledger": {
            "points": totals["points"],
            "hours": decimal_text(totals["hours"]),
            "entries": [
                {
                    "community": entry.community.name,
                    "points": entry.points,
                    "hours": decimal_text(entry.hours),
                    "reason": str(entry.get_reason_display()),
                    "source": entry.source,
                    "at": isoformat(entry.created_at),
                }
                for entry in ledger
            ],
        },
    }


def _profile_export(profile: Profile | None) -> dict | None:
    if profile is None:
        return None
    return {
        "display_name": profile.display_name,
        "bio": profile.bio,
        "spoken_languages": profile.spoken_language_labels(),
        "language": profile.language,
        "large_text": profile.large_text,
        "under_14": profile.is_minor,
        "photo": profile.avatar.url if profile.avatar else None,
    }


def _disclosure_export(row: ContactDisclosure, person: str) -> dict:
    return {
        "person": person,
        "detail": str(row.get_field_display()),
        "about": row.subject_title or row.subject,
        "reason": row.reason,
        "at": isoformat(row.created_at),
    }


def _neighbors_summary(contacts: int, memberships: int, seen: int, totals: dict) -> list[str]:
    return [
        ngettext("You keep %(count)d contact detail.", "You keep %(count)d contact details.", contacts)
        % {"count": contacts},
        ngettext(
            "You have %(count)d community membership or request.",
            "You have %(count)d community memberships or requests.",
            memberships,
        )
        % {"count": memberships},
        ngettext(
            "Your details were shown in full to someone else %(count)d time.",
            "Your details were shown in full to someone else %(count)d times.",
            seen,
        )
        % {"count": seen},
        ngettext(
            "You have %(points)d point and %(hours)s volunteer hours.",
            "You have %(points)d points and %(hours)s volunteer hours.",
            totals["points"],
        )
        % {"points": totals["points"], "hours": decimal_text(totals["hours"])},
    ]
