"""The rewards catalogue and redemptions (积分兑换).

Points move only through the ledger's services (spent by a REDEMPTION entry, given back by a
REDEMPTION_REFUND one, both named after the redemption); stock moves only by conditional
UPDATEs. So neither goes below zero, however many people press "Redeem" at once, and a
redemption either took both its points and its unit of stock or neither.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging.models import Notification
from messaging.services import notification_send_translated
from neighbors.models import AuditEntry, Community, User
from neighbors.permissions import is_member, suspension_in
from neighbors.services import audit_record, decision_reason, ledger_lock, ledger_refund, ledger_spend

from ..models import REWARD_MAX_STOCK, Redemption, Reward
from ..permissions import can_decide_redemption, can_manage_rewards

DESCRIPTION_MAX_LENGTH = 1000
# What the audit keeps of a catalogue change, field by field.
REWARD_FIELDS = ("title", "description", "kind", "points", "stock", "active")


@transaction.atomic
def reward_save(
    *,
    actor: User,
    community: Community,
    reward: Reward | None = None,
    title: str,
    description: str = "",
    kind: str,
    points: int,
    stock: int,
    active: bool = True,
    stock_seen: int | None = None,
) -> Reward:
    """Add a reward to the community's catalogue, or change one (its committee only).

    Stock is what can still be redeemed. Members may take a unit while the committee edits, so
    a change is saved only if the stock is still `stock_seen` (what the form showed; by default
    the `reward` as passed): otherwise a unit taken meanwhile would silently come back. The
    row is locked meanwhile, so no redemption slips between the check and the change.
    """
    if not can_manage_rewards(actor, community) or (reward is not None and reward.community_id != community.pk):
        raise PermissionDenied
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError({"description": _("Keep the description under 1000 characters.")})
    candidate = Reward(
        community=community,
        title=title.strip(),
        description=description,
        kind=kind,
        points=points,
        stock=stock,
        active=active,
        created_by=actor,
    )
    candidate.full_clean(exclude=["community", "created_by"])
    values = {name: getattr(candidate, name) for name in REWARD_FIELDS}
    if reward is None:
        candidate.save()
        saved, detail = candidate, {"created": values}
    else:
        before = Reward.objects.select_for_update().get(pk=reward.pk)
        if before.stock != (reward.stock if stock_seen is None else stock_seen):
            raise ValidationError(
                {
                    "stock": _(
                        "Someone redeemed this reward while you were editing: %(stock)d are in stock now. "
                        "Check the number and save again."
                    )
                    % {"stock": before.stock}
                }
            )
        Reward.objects.filter(pk=reward.pk).update(**values)
        saved = Reward.objects.get(pk=reward.pk)
        changed = {
            name: [getattr(before, name), value] for name, value in values.items() if getattr(before, name) != value
        }
        detail = {"changed": changed}
    audit_record(
        actor=actor,
        action=AuditEntry.Action.REWARD_SAVED,
        community=community,
        target=f"reward:{saved.pk}",
        detail=detail,
    )
    return saved


def _check_on_offer(reward: Reward, expected_points: int | None) -> None:
    if not reward.active:
        raise ValidationError(_("This reward is no longer offered."))
    if expected_points is not None and expected_points != reward.points:
        raise ValidationError(
            _("The price has changed to %(points)d points. Look again before you redeem.") % {"points": reward.points}
        )


@transaction.atomic
def reward_redeem(*, actor: User, reward: Reward, expected_points: int | None = None) -> Redemption:
    """The actor redeems one unit of a reward of their community: a pending redemption, its
    points spent and a unit of stock taken, all or nothing.

    `expected_points` is the price the person confirmed: if the committee changed it since,
    nothing is spent and they are asked to look again. Children may redeem: their points are
    theirs, they joined with a guardian's consent, and the committee hands rewards over in
    person; only the leaderboard, which shows names to neighbours, leaves them off.
    """
    reward = Reward.objects.select_related("community").get(pk=reward.pk)
    if not is_member(actor, reward.community):
        raise PermissionDenied
    suspension = suspension_in(actor, reward.community_id)
    if suspension is not None:
        raise ValidationError(
            _("You are suspended in %(community)s until %(until)s, and cannot redeem its rewards until then.")
            % {
                "community": reward.community.name,
                "until": formats.date_format(timezone.localtime(suspension.ends_at), "SHORT_DATETIME_FORMAT"),
            }
        )
    _check_on_offer(reward, expected_points)
    # The person's row first: their redemptions happen one at a time from here on, so a second
    # press of the button finds the first one, and no two of them read the same balance.
    ledger_lock(actor)
    if Redemption.objects.filter(user=actor, reward=reward, status=Redemption.Status.PENDING).exists():
        raise ValidationError(
            _("You have already redeemed this and it is waiting for the committee. Redeem it again once handed over.")
        )
    taken = Reward.objects.filter(pk=reward.pk, active=True, points=reward.points, stock__gte=1).update(
        stock=F("stock") - 1
    )
    if not taken:
        # Changed since it was read above, or simply gone: say which.
        _check_on_offer(Reward.objects.get(pk=reward.pk), reward.points)
        raise ValidationError(_("Out of stock: every one of these has been redeemed. The committee may add more."))
    redemption = Redemption(reward=reward, user=actor, points=reward.points)
    redemption.full_clean()
    redemption.save()
    ledger_spend(
        actor=actor, community=reward.community, points=reward.points, source=redemption.subject, note=reward.title
    )
    return redemption


def _member_tell(redemption: Redemption, title: Promise) -> None:
    notification_send_translated(
        user=redemption.user,
        kind=Notification.Kind.DECISION,
        title=title,
        params={"reward": redemption.reward.title},
        body=redemption.decision_reason,
        url=reverse("rewards:overview"),
    )


def _decide(*, actor: User, redemption: Redemption, status: str, reason: str) -> Redemption:
    """Move a pending redemption to `status` by a conditional update: one decision wins."""
    decided = Redemption.objects.filter(pk=redemption.pk, status=Redemption.Status.PENDING).update(
        status=status, decided_by=actor, decided_at=timezone.now(), decision_reason=reason
    )
    if not decided:
        raise ValidationError(_("This redemption has already been decided."))
    return Redemption.objects.select_related("reward__community", "user__profile").get(pk=redemption.pk)


@transaction.atomic
def redemption_fulfil(*, actor: User, redemption: Redemption) -> Redemption:
    """The reward was handed over: the committee or a grid worker of its community records it."""
    if not can_decide_redemption(actor, redemption):
        raise PermissionDenied
    redemption = _decide(actor=actor, redemption=redemption, status=Redemption.Status.FULFILLED, reason="")
    audit_record(
        actor=actor,
        action=AuditEntry.Action.REDEMPTION_FULFILLED,
        community=redemption.reward.community_id,
        subject=redemption.user_id,
        target=f"redemption:{redemption.pk}",
        detail={"reward": redemption.reward.title, "points": redemption.points},
    )
    _member_tell(redemption, gettext_lazy("Your reward “%(reward)s” was handed over"))
    return redemption


@transaction.atomic
def redemption_cancel(*, actor: User, redemption: Redemption, reason: str = "") -> Redemption:
    """Cancel a pending redemption: its points come back (a REDEMPTION_REFUND entry) and so does
    its unit of stock. The committee or a grid worker of the community, saying why, or the
    member themselves."""
    own = redemption.user_id == actor.pk
    if not own and not can_decide_redemption(actor, redemption):
        raise PermissionDenied
    reason = decision_reason(reason, missing=None if own else _("Tell the member why, so that they understand."))
    redemption = _decide(actor=actor, redemption=redemption, status=Redemption.Status.CANCELLED, reason=reason)
    # Back on the shelf, unless the committee has since filled it to the most a catalogue holds.
    Reward.objects.filter(pk=redemption.reward_id, stock__lt=REWARD_MAX_STOCK).update(stock=F("stock") + 1)
    ledger_refund(actor=actor, user=redemption.user, source=redemption.subject, note=redemption.reward.title)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.REDEMPTION_CANCELLED,
        community=redemption.reward.community_id,
        subject=redemption.user_id,
        target=f"redemption:{redemption.pk}",
        reason=reason,
        detail={"reward": redemption.reward.title, "points": redemption.points, "by_member": own},
    )
    if not own:
        _member_tell(redemption, gettext_lazy("Your redemption of “%(reward)s” was cancelled; the points are back"))
    return redemption
