"""The points-and-hours ledger: every change is a new entry with its reason, never an edit.

Balances are sums of the entries (selectors.ledger_totals). Whatever takes points or hours away
(a redemption, a downward correction) first locks the person's row with `ledger_lock`, then
reads the balance, so that two at once read one after the other and cannot together spend what
is there once. SQLite runs IMMEDIATE transactions one at a time, so there the lock is moot.
"""

import uuid
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import AuditEntry, Community, LedgerEntry, Membership, User
from ..notices import notice_send
from ..permissions import can_adjust_ledger
from ..selectors import ledger_totals
from .audit import audit_record
from .reasons import REASON_MAX_LENGTH

# What one committee award may give, and how far one correction may move a balance either way.
AWARD_MAX_POINTS = 1000
AWARD_MAX_HOURS = Decimal("24")
CORRECTION_MAX_POINTS = 10_000
CORRECTION_MAX_HOURS = Decimal("1000")
ADJUSTMENTS = (LedgerEntry.Reason.COMMITTEE_AWARD, LedgerEntry.Reason.CORRECTION)
ADJUST_SOURCE_PREFIX = "adjust:"
# Hours as the ledger keeps them (SQLite sums "3", PostgreSQL "3.00": messages say the latter).
HUNDREDTH = Decimal("0.01")


def ledger_award(
    *, user: User, community: Community, points: int, hours: Decimal, reason: str, source: str
) -> LedgerEntry | None:
    """Append an award; returns None when this source already paid (the constraint decides)."""
    entry = LedgerEntry(user=user, community=community, points=points, hours=hours, reason=reason, source=source)
    entry.full_clean(validate_constraints=False)
    try:
        # A savepoint, so that a duplicate leaves the caller's transaction usable.
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        if LedgerEntry.objects.filter(user=user, reason=reason, source=source).exists():
            return None
        raise
    return entry


def ledger_lock(user: User) -> None:
    """Hold the person's row until the caller's transaction ends (it must be in one: Django
    refuses select_for_update outside), before reading a balance that must not go below zero."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def _checked_amounts(reason: str, points: int, hours: Decimal) -> None:
    """The bounds of an award (a gift: positive and modest) and of a correction (signed, wider)."""
    if not isinstance(hours, Decimal) or not hours.is_finite():
        raise ValidationError({"hours": _("Enter the hours as a number, e.g. 1.5.")})
    if reason == LedgerEntry.Reason.COMMITTEE_AWARD:
        if not 1 <= points <= AWARD_MAX_POINTS:
            raise ValidationError({"points": _("Award between 1 and %(most)d points.") % {"most": AWARD_MAX_POINTS}})
        if not 0 <= hours <= AWARD_MAX_HOURS:
            raise ValidationError({"hours": _("Award between 0 and %(most)s hours.") % {"most": AWARD_MAX_HOURS}})
        return
    if abs(points) > CORRECTION_MAX_POINTS:
        raise ValidationError(
            {"points": _("A correction moves points by at most %(most)d either way.") % {"most": CORRECTION_MAX_POINTS}}
        )
    if abs(hours) > CORRECTION_MAX_HOURS:
        raise ValidationError(
            {"hours": _("A correction moves hours by at most %(most)s either way.") % {"most": CORRECTION_MAX_HOURS}}
        )
    if points == 0 and hours == 0:
        raise ValidationError(_("A correction must change the points, the hours or both."))


def _checked_note(note: str) -> str:
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say why, so that the person understands the change.")})
    if len(note) > REASON_MAX_LENGTH:
        raise ValidationError({"note": _("Keep the reason under 300 characters.")})
    return note


@transaction.atomic
def ledger_adjust(
    *,
    actor: User,
    user: User,
    community: Community,
    reason: str,
    points: int,
    hours: Decimal,
    note: str,
    token: uuid.UUID | None = None,
) -> LedgerEntry:
    """A committee's award or correction for a member of its community: a new entry with why,
    audited, and the person told. Corrections may be negative, never below a zero balance.

    `token` names the form the adjustment came from: the same form sent twice (a double click,
    a reload) finds the entry it made and adds no second. Without one, every call is new.
    """
    if reason not in ADJUSTMENTS:
        raise ValidationError(_("Choose an award or a correction."))
    if actor.pk == user.pk:
        raise ValidationError(_("You cannot award or correct your own points: ask another committee member."))
    membership = Membership.objects.filter(user=user, community=community, status=Membership.Status.APPROVED).first()
    if membership is None or not can_adjust_ledger(actor, membership):
        raise PermissionDenied
    _checked_amounts(reason, points, hours)
    note = _checked_note(note)
    source = f"{ADJUST_SOURCE_PREFIX}{token or uuid.uuid4()}"
    # Locked before anything is read: a resent form then finds the first one's entry, and two
    # corrections at once see each other's effect on the balance.
    ledger_lock(user)
    existing = LedgerEntry.objects.filter(user=user, reason=reason, source=source).first()
    if existing is not None:
        return existing
    if reason == LedgerEntry.Reason.CORRECTION and (points < 0 or hours < 0):
        totals = ledger_totals(user)
        if totals["points"] + points < 0:
            raise ValidationError(
                {
                    "points": _("This would take their points below zero: they have %(points)d.")
                    % {"points": totals["points"]}
                }
            )
        if totals["hours"] + hours < 0:
            raise ValidationError(
                {
                    "hours": _("This would take their hours below zero: they have %(hours)s.")
                    % {"hours": totals["hours"].quantize(HUNDREDTH)}
                }
            )
    entry = LedgerEntry(
        user=user,
        community=community,
        points=points,
        hours=hours,
        reason=reason,
        source=source,
        note=note,
        created_by=actor,
    )
    entry.full_clean(validate_constraints=False)
    entry.save()
    award = reason == LedgerEntry.Reason.COMMITTEE_AWARD
    audit_record(
        actor=actor,
        action=AuditEntry.Action.POINTS_AWARDED if award else AuditEntry.Action.LEDGER_CORRECTED,
        community=community,
        subject=user,
        target=f"ledger_entry:{entry.pk}",
        reason=note,
        detail={"points": points, "hours": str(hours)},
    )
    notice_send(
        user=user,
        title=(
            gettext_lazy("The committee of %(community)s awarded you points")
            if award
            else gettext_lazy("The committee of %(community)s corrected your points and hours")
        ),
        params={"community": community.name},
        body=note,
        url=reverse("neighbors:points"),
    )
    return entry


@transaction.atomic
def ledger_spend(*, actor: User, community: Community, points: int, source: str, note: str = "") -> LedgerEntry:
    """The actor spends their own points (a redemption, named by `source`): refused, saying what
    they have, if that would take their balance below zero."""
    if points < 1:
        raise ValidationError(_("A reward costs at least one point."))
    ledger_lock(actor)
    balance = ledger_totals(actor)["points"]
    if balance < points:
        raise ValidationError(
            _("Not enough points: you have %(balance)d, this costs %(price)d."),
            code="not_enough_points",
            params={"balance": balance, "price": points},
        )
    entry = LedgerEntry(
        user=actor,
        community=community,
        points=-points,
        reason=LedgerEntry.Reason.REDEMPTION,
        source=source,
        note=note[:REASON_MAX_LENGTH],
        created_by=actor,
    )
    entry.full_clean(validate_constraints=False)
    # No savepoint: the same source spending twice is a bug above, and its transaction must fail.
    entry.save()
    return entry


@transaction.atomic
def ledger_refund(*, actor: User, user: User, source: str, note: str = "") -> LedgerEntry | None:
    """Give back what a spending took (a cancelled redemption), exactly and once: None when it
    was already given back. The caller has decided that it may."""
    spent = LedgerEntry.objects.filter(user=user, reason=LedgerEntry.Reason.REDEMPTION, source=source).first()
    if spent is None:
        raise ValidationError(_("Nothing was spent on this, so there is nothing to give back."))
    entry = LedgerEntry(
        user=user,
        community_id=spent.community_id,
        points=-spent.points,
        hours=-spent.hours,
        reason=LedgerEntry.Reason.REDEMPTION_REFUND,
        source=source,
        note=note[:REASON_MAX_LENGTH],
        created_by=actor,
    )
    entry.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        if LedgerEntry.objects.filter(user=user, reason=LedgerEntry.Reason.REDEMPTION_REFUND, source=source).exists():
            return None
        raise
    return entry
