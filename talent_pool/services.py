"""Every write in the talent pool. Services check permission themselves."""

from datetime import time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from neighbors.images import ProcessedImage
from neighbors.models import AuditEntry, Membership, User
from neighbors.notices import notice_send
from neighbors.permissions import committee_communities
from neighbors.services import audit_record, decision_reason, files_delete_after_commit

from .models import AvailabilitySlot, Credential, HelpRecord, Skill, TalentProfile, TalentSkill
from .permissions import can_decide_credential, can_vouch_for


@transaction.atomic
def talent_profile_ensure(*, actor: User, headline: str = "") -> TalentProfile:
    profile, created = TalentProfile.objects.get_or_create(user=actor, defaults={"headline": headline})
    if created:
        profile.full_clean()
    return profile


@transaction.atomic
def talent_profile_update(
    *, actor: User, headline: str, accepting_requests: bool, service_radius_m: int
) -> TalentProfile:
    profile = talent_profile_ensure(actor=actor)
    profile.headline = headline.strip()
    profile.accepting_requests = accepting_requests
    profile.service_radius_m = service_radius_m
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def talent_skill_add(
    *, actor: User, skill: Skill, level: str = TalentSkill.Level.EXPERIENCED, description: str = ""
) -> TalentSkill:
    """Offer a skill, or change the level and description of one already offered."""
    talent = talent_profile_ensure(actor=actor)
    talent_skill = TalentSkill.objects.filter(talent=talent, skill=skill).first() or TalentSkill(
        talent=talent, skill=skill
    )
    talent_skill.level = level
    talent_skill.description = description.strip()
    talent_skill.full_clean(validate_constraints=False)
    talent_skill.save()
    return talent_skill


@transaction.atomic
def talent_skill_remove(*, actor: User, talent_skill: TalentSkill) -> None:
    if talent_skill.talent.user_id != actor.pk:
        raise PermissionDenied
    _certificate_files_delete(talent_skill.credentials.all())
    talent_skill.delete()


@transaction.atomic
def talent_skill_verify(*, actor: User, talent_skill: TalentSkill) -> TalentSkill:
    """A committee member of one of the talent's communities vouches for a skill that needs no certificate."""
    if talent_skill.skill.requires_credential:
        raise ValidationError(_("This skill is verified by its certificate, not by vouching."))
    if not can_vouch_for(actor, talent_skill):
        raise PermissionDenied
    # The first vouch stands: who vouched and when is the record.
    if not TalentSkill.objects.filter(pk=talent_skill.pk, verified_at__isnull=True).update(
        verified_by=actor, verified_at=timezone.now()
    ):
        raise ValidationError(_("This skill has already been verified."))
    talent_skill.refresh_from_db()
    talent_user_id = talent_skill.talent.user_id
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREDENTIAL_VERIFIED,
        community=_deciding_community(actor, talent_user_id),
        subject=talent_user_id,
        target=f"talent_skill:{talent_skill.pk}",
        detail={"skill": talent_skill.skill.code, "vouched": True},
    )
    return talent_skill


def _deciding_community(actor: User, talent_user_id: int) -> int | None:
    """Whose record a decision on a talent is: the (first) community where the actor is on the
    committee and the talent a member. A talent belongs to no single community of their own."""
    return (
        committee_communities(actor)
        .filter(memberships__user_id=talent_user_id, memberships__status=Membership.Status.APPROVED)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


@transaction.atomic
def availability_set(*, actor: User, slots: list[tuple[int, time, time]]) -> list[AvailabilitySlot]:
    """Replace the talent's weekly times with `slots` (weekday, from, to); overlaps are refused."""
    talent = talent_profile_ensure(actor=actor)
    ordered = sorted(slots)
    if any(end <= start for _day, start, end in ordered):
        raise ValidationError(_("Each time must end after it starts."))
    for (day, _start, end), (next_day, next_start, _next_end) in zip(ordered, ordered[1:], strict=False):
        if day == next_day and next_start < end:
            raise ValidationError(_("Two of your times overlap on the same day."))
    talent.slots.all().delete()
    created = []
    for day, start, end in ordered:
        slot = AvailabilitySlot(talent=talent, weekday=day, starts_at=start, ends_at=end)
        slot.full_clean(exclude=["talent"])
        slot.save()
        created.append(slot)
    return created


@transaction.atomic
def credential_submit(
    *, actor: User, talent_skill: TalentSkill, image: ProcessedImage, number: str, expires_on
) -> Credential:
    """Upload a certificate for one of the actor's skills; the committee decides on it."""
    if talent_skill.talent.user_id != actor.pk:
        raise PermissionDenied
    if not talent_skill.skill.requires_credential:
        raise ValidationError(_("This skill does not need a certificate."))
    number = number.strip()
    if expires_on <= timezone.localdate():
        raise ValidationError({"expires_on": _("This certificate has expired. Upload one that is still valid.")})
    taken = (
        Credential.objects.filter(talent_skill__skill=talent_skill.skill, number__iexact=number)
        .exclude(talent_skill__talent__user=actor)
        .exclude(status=Credential.Status.REJECTED)
    )
    if taken.exists():
        raise ValidationError({"number": _("This certificate number is already registered by someone else.")})
    credential = Credential(talent_skill=talent_skill, number=number, expires_on=expires_on)
    # Check everything else before a file is written: a refusal leaves nothing in storage.
    credential.full_clean(exclude=["image", "thumbnail"])
    credential.image.save(image.image.name, image.image, save=False)
    credential.thumbnail.save(image.thumbnail.name, image.thumbnail, save=False)
    credential.save()
    return credential


def _certificate_files_delete(credentials) -> None:
    """Certificates carry ID numbers: their files go with their rows, once the deletion commits."""
    files_delete_after_commit(
        *(file for credential in credentials for file in (credential.image, credential.thumbnail))
    )


def _credential_decide(*, actor: User, credential: Credential, status: str, reason: str) -> Credential:
    if not can_decide_credential(actor, credential):
        raise PermissionDenied
    decided = Credential.objects.filter(pk=credential.pk, status=Credential.Status.PENDING).update(
        status=status, decided_by=actor, decided_at=timezone.now(), decision_reason=reason
    )
    if not decided:
        raise ValidationError(_("This certificate has already been decided."))
    credential.refresh_from_db()
    skill = credential.talent_skill.skill
    talent_user_id = credential.talent_skill.talent.user_id
    audit_record(
        actor=actor,
        action=(
            AuditEntry.Action.CREDENTIAL_VERIFIED
            if status == Credential.Status.VERIFIED
            else AuditEntry.Action.CREDENTIAL_REJECTED
        ),
        community=_deciding_community(actor, talent_user_id),
        subject=talent_user_id,
        target=f"credential:{credential.pk}",
        reason=reason,
        detail={"skill": skill.code, "valid_until": str(credential.expires_on)},
    )
    title = (
        gettext_lazy("Your certificate for %(skill)s was verified")
        if status == Credential.Status.VERIFIED
        else gettext_lazy("Your certificate for %(skill)s was not accepted")
    )
    with override(credential.talent_skill.talent.user.profile.language):
        skill_name = str(skill)
    notice_send(
        user=credential.talent_skill.talent.user,
        title=title,
        params={"skill": skill_name},
        body=reason,
        url=reverse("talent_pool:my_profile"),
    )
    return credential


@transaction.atomic
def credential_verify(*, actor: User, credential: Credential) -> Credential:
    if not can_decide_credential(actor, credential):
        raise PermissionDenied
    if credential.expires_on < timezone.localdate():
        raise ValidationError(_("This certificate has expired; reject it with that reason."))
    return _credential_decide(actor=actor, credential=credential, status=Credential.Status.VERIFIED, reason="")


@transaction.atomic
def credential_reject(*, actor: User, credential: Credential, reason: str) -> Credential:
    reason = decision_reason(reason, missing=_("Tell the talent why, so they know what to do next."))
    return _credential_decide(actor=actor, credential=credential, status=Credential.Status.REJECTED, reason=reason)


def credentials_remind(*, today=None) -> int:
    """Tell each talent once that a verified certificate expires within the reminder window.

    Idempotent: a reminded credential is marked and never mailed again. Returns how many.
    """
    today = today or timezone.localdate()
    horizon = today + timedelta(days=settings.CREDENTIAL_REMINDER_DAYS)
    renewed = Credential.objects.filter(
        talent_skill=OuterRef("talent_skill"), status=Credential.Status.VERIFIED, expires_on__gt=OuterRef("expires_on")
    )
    due = (
        Credential.objects.filter(
            status=Credential.Status.VERIFIED, reminded_at__isnull=True, expires_on__gte=today, expires_on__lte=horizon
        )
        # Already renewed: nothing to remind of.
        .exclude(Exists(renewed))
        .select_related("talent_skill__skill", "talent_skill__talent__user__profile")
    )
    sent = 0
    for credential in due:
        with transaction.atomic():
            # Claim the reminder first, so two runs at once never mail twice.
            if not Credential.objects.filter(pk=credential.pk, reminded_at__isnull=True).update(
                reminded_at=timezone.now()
            ):
                continue
            user = credential.talent_skill.talent.user
            with override(user.profile.language):
                subject = _("Your certificate for %(skill)s expires on %(date)s") % {
                    "skill": credential.talent_skill.skill,
                    "date": credential.expires_on.isoformat(),
                }
                body = _(
                    "Your certificate no. %(number)s for %(skill)s is valid until %(date)s. After that "
                    "the skill no longer shows as verified. Upload the renewed certificate on your talent "
                    "profile before then."
                ) % {
                    "number": credential.number,
                    "skill": credential.talent_skill.skill,
                    "date": credential.expires_on.isoformat(),
                }
            if user.email:
                transaction.on_commit(
                    lambda subject=subject, body=body, to=user.email: send_mail(subject, body, None, [to])
                )
            sent += 1
    return sent


def help_record_add(*, user: User, skill: Skill, hours: Decimal, source: str, rating: int | None = None) -> HelpRecord:
    """What another app tells the pool about help given (aid_posts, when a request is confirmed). Once per source."""
    record, _created = HelpRecord.objects.get_or_create(
        source=source, defaults={"user": user, "skill": skill, "hours": hours, "rating": rating}
    )
    return record


@transaction.atomic
def help_record_rate(*, source: str, rating: int) -> int:
    """The rating the helped person gave, told by the app where it happened; returns how many records took it."""
    if rating not in range(1, 6):
        raise ValidationError({"rating": _("Give between 1 and 5 stars.")})
    return HelpRecord.objects.filter(source=source, rating__isnull=True).update(rating=rating)


@transaction.atomic
def user_data_erase(*, user: User) -> None:
    """The talent pool part of deleting an account (registered in apps.py, run by neighbors' account_delete).

    The talent profile, its skills, certificates and help records go (the hours stay in
    the ledger). Skills of other people that this person verified as a committee member
    keep their verification: it was a decision of the committee at the time, and the
    user row it points to stays (as "Deleted user").
    """
    _certificate_files_delete(Credential.objects.filter(talent_skill__talent__user=user))
    HelpRecord.objects.filter(user=user).delete()
    TalentProfile.objects.filter(user=user).delete()
