"""The committee's decisions about people: suspending and lifting, removing from a community,
hiding a profile, and the refusal every other app gives a suspended member.

A suspension stops a member posting, claiming and messaging in one community until it ends;
reading stays open, and so does writing to the committee (messaging's rule). The apps above
call `suspension_check` inside their own services, so a form, a button and a chat socket all
refuse with the same sentence, the moment the suspension is stored.
"""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import AuditEntry, Community, Membership, Profile, Suspension, User
from ..notices import notice_send
from ..permissions import STAFF_ROLES, can_moderate_member, can_remove_member, suspension_in
from .audit import audit_record
from .reasons import decision_reason

SUSPENSION_MAX_DAYS = 365


def _local(moment: datetime) -> str:
    """A moment as the community reads it, in the active language's format."""
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _notice_time(moment: datetime) -> str:
    # Notification titles are filled in the recipient's language later: a date that reads the
    # same in every language.
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


class Suspended(ValidationError):
    """A refusal to post, claim or write because of a suspension: it says where, until when and
    why. A ValidationError, so that every form and socket already shows it; `suspension` is
    there for callers that tell it apart (the chat socket's error code)."""

    def __init__(self, suspension: Suspension, *, person: User | None = None) -> None:
        params = {
            "community": suspension.community.name,
            "until": _local(suspension.ends_at),
            "reason": suspension.reason,
        }
        if person is None:
            text = _("You are suspended in %(community)s until %(until)s: %(reason)s") % params
        else:
            # Someone acting for the suspended person (a committee member posting for them).
            text = _("%(name)s is suspended in %(community)s until %(until)s: %(reason)s") % {
                **params,
                "name": person,
            }
        super().__init__(text, code="suspended")
        self.suspension = suspension


def suspension_check(*, user: User, community_id: int | None, on_behalf: bool = False) -> None:
    """Refuse (Suspended) if `user` is suspended in the community now. With `on_behalf`, the text
    names them: it is read by whoever acts for them."""
    suspension = suspension_in(user, community_id)
    if suspension is not None:
        raise Suspended(suspension, person=user if on_behalf else None)


# What a member of staff reads when their role may not act on this member: by action, for
# themselves, for a committee member, and for another grid worker.
_REFUSALS = {
    "warn": (
        gettext_lazy("You cannot warn yourself."),
        gettext_lazy("A grid worker cannot warn a committee member."),
        gettext_lazy("A grid worker cannot warn another grid worker."),
    ),
    "suspend": (
        gettext_lazy("You cannot suspend yourself."),
        gettext_lazy("A grid worker cannot suspend a committee member."),
        gettext_lazy("A grid worker cannot suspend another grid worker."),
    ),
    "lift": (
        gettext_lazy("You cannot lift your own suspension; the committee decides."),
        gettext_lazy("A grid worker cannot lift a committee member's suspension."),
        gettext_lazy("A grid worker cannot lift another grid worker's suspension."),
    ),
    "profile": (
        gettext_lazy("You cannot hide or restore your own profile."),
        gettext_lazy("A grid worker cannot hide or restore a committee member's profile."),
        gettext_lazy("A grid worker cannot hide or restore another grid worker's profile."),
    ),
}


def moderation_check(*, actor: User, membership: Membership, action: str) -> None:
    """Whether `actor` may warn, suspend, lift or hide the profile of this member
    (neighbors.permissions.can_moderate_member).

    Someone with no part in the member's community is refused as if the member did not exist
    (PermissionDenied, a 404 on a page). Their own staff are told why not, in a sentence:
    they can see the member, and deserve to know whom to ask.
    """
    if can_moderate_member(actor, membership):
        return
    staff = Membership.objects.filter(
        user=actor, community_id=membership.community_id, status=Membership.Status.APPROVED, role__in=STAFF_ROLES
    ).first()
    if staff is None:
        raise PermissionDenied
    own, committee_member, grid_worker = _REFUSALS[action]
    if staff.user_id == membership.user_id:
        raise ValidationError(str(own))
    if membership.status != Membership.Status.APPROVED:
        raise ValidationError(
            _("%(name)s is no longer a member of %(community)s.")
            % {"name": membership.user, "community": membership.community.name}
        )
    if membership.role == Membership.Role.COMMITTEE:
        raise ValidationError(str(committee_member))
    if membership.role == Membership.Role.GRID_WORKER:
        raise ValidationError(str(grid_worker))
    raise ValidationError(
        _("You look after the residents of your own grids; ask the committee about %(name)s.")
        % {"name": membership.user}
    )


def _suspension_end(*, now: datetime, days: int | None, until: datetime | None) -> datetime:
    if (days is None) == (until is None):
        raise ValidationError({"days": _("Say for how many days the suspension lasts.")})
    latest = now + timedelta(days=SUSPENSION_MAX_DAYS)
    if days is not None:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= SUSPENSION_MAX_DAYS:
            raise ValidationError({"days": _("Suspend for 1 to 365 days.")})
        return now + timedelta(days=days)
    if timezone.is_naive(until) or not now < until <= latest:
        raise ValidationError({"days": _("A suspension ends after now and within 365 days.")})
    return until


@transaction.atomic
def suspension_start(
    *,
    actor: User,
    membership: Membership,
    reason: str,
    days: int | None = None,
    until: datetime | None = None,
) -> Suspension:
    """Suspend a member in their community for `days` (1–365) or until a moment within a year.

    The member is told where, until when and why. One suspension at a time: a second while one
    is in force is refused (lift it first to change it), so that a double click suspends once.
    """
    moderation_check(actor=actor, membership=membership, action="suspend")
    reason = decision_reason(reason, missing=_("Say why: the member reads it."))
    now = timezone.now()
    ends_at = _suspension_end(now=now, days=days, until=until)
    # The member's row is the lock two committee members clicking at once queue on.
    locked = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("community", "user__profile")
        .get(pk=membership.pk)
    )
    if locked.status != Membership.Status.APPROVED:
        raise ValidationError(
            _("%(name)s is no longer a member of %(community)s.")
            % {"name": locked.user, "community": locked.community.name}
        )
    current = suspension_in(locked.user, locked.community_id)
    if current is not None:
        raise ValidationError(
            _("%(name)s is already suspended here until %(until)s. Lift that suspension first to set another.")
            % {"name": locked.user, "until": _local(current.ends_at)}
        )
    suspension = Suspension(
        community_id=locked.community_id, user_id=locked.user_id, reason=reason, ends_at=ends_at, created_by=actor
    )
    suspension.full_clean(exclude=["community", "user", "created_by"])
    suspension.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.MEMBER_SUSPENDED,
        community=locked.community_id,
        subject=locked.user_id,
        target=f"membership:{locked.pk}",
        reason=reason,
        detail={"until": ends_at.isoformat(), "days": days, "suspension": suspension.pk},
    )
    notice_send(
        user=locked.user,
        title=gettext_lazy("You are suspended in %(community)s until %(until)s"),
        params={"community": locked.community.name, "until": _notice_time(ends_at)},
        body=reason,
        url=reverse("neighbors:communities"),
    )
    return suspension


@transaction.atomic
def suspension_lift(*, actor: User, suspension: Suspension, reason: str) -> Suspension:
    """End a suspension early. The row stays, with who lifted it and when."""
    membership = (
        Membership.objects.select_related("community", "user__profile")
        .filter(user=suspension.user_id, community=suspension.community_id)
        .first()
    )
    if membership is None:
        raise PermissionDenied
    moderation_check(actor=actor, membership=membership, action="lift")
    reason = decision_reason(reason, missing=_("Say why the suspension ends early; it is kept in the record."))
    now = timezone.now()
    lifted = Suspension.objects.filter(pk=suspension.pk, lifted_at__isnull=True, ends_at__gt=now).update(
        lifted_at=now, lifted_by=actor
    )
    if not lifted:
        raise ValidationError(_("This suspension has already ended or been lifted."))
    suspension.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.SUSPENSION_LIFTED,
        community=suspension.community_id,
        subject=suspension.user_id,
        target=f"membership:{membership.pk}",
        reason=reason,
        detail={"suspension": suspension.pk, "was_until": suspension.ends_at.isoformat()},
    )
    notice_send(
        user=membership.user,
        title=gettext_lazy("Your suspension in %(community)s was lifted"),
        params={"community": membership.community.name},
        body=reason,
        url=reverse("neighbors:communities"),
    )
    return suspension


@transaction.atomic
def membership_remove(*, actor: User, membership: Membership, reason: str) -> Membership:
    """The committee removes a member from the community: their role goes back to resident,
    their grids are cleared, and every rule that asks for an approved membership (seeing the
    community's requests, people, conversations and announcements) stops letting them in."""
    if not can_remove_member(actor, membership):
        staff = Membership.objects.filter(
            user=actor, community_id=membership.community_id, status=Membership.Status.APPROVED, role__in=STAFF_ROLES
        ).first()
        if staff is None:
            raise PermissionDenied
        if staff.user_id == membership.user_id:
            raise ValidationError(_("You cannot remove yourself; leave the community instead."))
        if staff.role == Membership.Role.GRID_WORKER:
            raise ValidationError(_("Only the committee removes a member from the community."))
        raise ValidationError(_("This person is no longer a member of the community."))
    reason = decision_reason(reason, missing=_("Say why: the member reads it, and it is kept in the record."))
    was = Membership.objects.select_related("community", "user__profile").get(pk=membership.pk)
    removed = Membership.objects.filter(pk=membership.pk, status=Membership.Status.APPROVED).update(
        status=Membership.Status.REMOVED,
        role=Membership.Role.RESIDENT,
        decided_by=actor,
        decided_at=timezone.now(),
        decision_reason=reason,
    )
    if not removed:
        raise ValidationError(_("This person is no longer a member of the community."))
    membership.grids.clear()
    membership.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.MEMBER_REMOVED,
        community=was.community_id,
        subject=was.user_id,
        target=f"membership:{was.pk}",
        reason=reason,
        detail={"role": was.role},
    )
    notice_send(
        user=was.user,
        title=gettext_lazy("You were removed from %(community)s"),
        params={"community": was.community.name},
        body=reason,
        url=reverse("neighbors:communities"),
    )
    return membership


def _membership_for_profile(actor: User, profile: Profile, community: Community | None) -> Membership:
    """The membership through which `actor` acts on the profile: in `community` when given (a
    report names one), otherwise the first of the person's in a community the actor works for."""
    memberships = Membership.objects.select_related("community", "user__profile").filter(user=profile.user_id)
    if community is not None:
        memberships = memberships.filter(community=community)
    else:
        staff_of = Membership.objects.filter(
            user=actor, status=Membership.Status.APPROVED, role__in=STAFF_ROLES
        ).values("community")
        memberships = memberships.filter(community__in=staff_of, status=Membership.Status.APPROVED)
    membership = memberships.order_by("pk").first()
    if membership is None:
        raise PermissionDenied
    return membership


@transaction.atomic
def profile_hide(*, actor: User, profile: Profile, reason: str, community: Community | None = None) -> Profile:
    """Hide a profile's photo and "about me" from everyone but the person and the staff of their
    communities; their name stays, so that what they write is still theirs. They are told why."""
    membership = _membership_for_profile(actor, profile, community)
    moderation_check(actor=actor, membership=membership, action="profile")
    reason = decision_reason(reason, missing=_("Say why it is hidden: the person reads it."))
    if not Profile.objects.filter(pk=profile.pk, hidden_at__isnull=True).update(
        hidden_at=timezone.now(), hidden_reason=reason, hidden_by=actor
    ):
        raise ValidationError(_("This profile is already hidden."))
    profile.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CONTENT_HIDDEN,
        community=membership.community_id,
        subject=profile.user_id,
        target=f"profile:{profile.pk}",
        reason=reason,
    )
    notice_send(
        user=profile.user,
        title=gettext_lazy("The committee of %(community)s hid your photo and “about me”"),
        params={"community": membership.community.name},
        body=reason,
        url=reverse("neighbors:profile"),
    )
    return profile


@transaction.atomic
def profile_restore(*, actor: User, profile: Profile, community: Community | None = None) -> Profile:
    """Show a hidden profile's photo and "about me" to everyone again."""
    membership = _membership_for_profile(actor, profile, community)
    moderation_check(actor=actor, membership=membership, action="profile")
    if not Profile.objects.filter(pk=profile.pk, hidden_at__isnull=False).update(
        hidden_at=None, hidden_reason="", hidden_by=None
    ):
        raise ValidationError(_("This profile is not hidden."))
    profile.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CONTENT_RESTORED,
        community=membership.community_id,
        subject=profile.user_id,
        target=f"profile:{profile.pk}",
    )
    notice_send(
        user=profile.user,
        title=gettext_lazy("Your photo and “about me” are shown again"),
        url=reverse("neighbors:profile"),
    )
    return profile
