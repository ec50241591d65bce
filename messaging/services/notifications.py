"""Notifications: stored, then pushed to the person's stream; emailed when they are away."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from neighbors.models import User

from .. import events
from ..models import Conversation, EmailOptOut, Message, Notification, Participant, Presence
from ..permissions import can_access_conversation


@transaction.atomic
def notification_send(*, user: User, kind: str, title: str, body: str = "", url: str = "") -> Notification:
    """Store a notification, then push it to the person's stream after commit."""
    notification = Notification(user=user, kind=kind, title=title[:200], body=body[:500], url=url)
    notification.full_clean()
    notification.save()
    transaction.on_commit(lambda: events.broadcast_notification(notification))
    return notification


def notification_send_translated(
    *, user: User, kind: str, title: Promise, params: dict | None = None, body: str = "", url: str = ""
) -> Notification:
    """notification_send with the title written in the recipient's language, not the actor's."""
    with translation.override(user.profile.language or settings.LANGUAGE_CODE):
        return notification_send(user=user, kind=kind, title=str(title) % (params or {}), body=body, url=url)


def feed_changed(*, community_id: int) -> None:
    """Tell the pages listing a community's requests to refresh, once the change is committed."""
    transaction.on_commit(lambda: events.broadcast_feed_changed(community_id))


@transaction.atomic
def notifications_mark_read(*, user: User) -> int:
    """Mark every unread notification of the person read; returns how many were."""
    count = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    if count:
        transaction.on_commit(lambda: events.broadcast_unread_changed([user.pk]))
    return count


@transaction.atomic
def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one notification read, only by its owner; reading it again keeps the first time."""
    if notification.user_id != user.pk:
        raise PermissionDenied
    if Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now()):
        transaction.on_commit(lambda: events.broadcast_unread_changed([user.pk]))
    notification.refresh_from_db(fields=["read_at"])
    return notification


def presence_seen(*, user: User) -> None:
    """The person has a page open now (called by their sockets on connect and on each ping)."""
    Presence.objects.update_or_create(user=user, defaults={"seen_at": timezone.now()})


@transaction.atomic
def email_opt_outs_set(*, user: User, kinds: list[str]) -> None:
    """The kinds the person wants no email about; the rest of the emailed kinds are sent."""
    unknown = set(kinds) - set(Notification.EMAILED_KINDS)
    if unknown:
        raise ValidationError(_("Choose from the listed kinds."))
    EmailOptOut.objects.filter(user=user).exclude(kind__in=kinds).delete()
    for kind in kinds:
        EmailOptOut.objects.get_or_create(user=user, kind=kind)


def _away_users(now) -> Q:
    """Not on the site: no page of theirs has pinged within PRESENCE_TIMEOUT_SECONDS."""
    online = Presence.objects.filter(seen_at__gte=now - timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS))
    return ~Q(user__in=online.values("user"))


def _email(user: User, subject: str, template: str, context: dict) -> None:
    body = render_to_string(template, {**context, "site_url": settings.SITE_URL, "user": user})
    # Subjects come from titles people typed; a line break in a header makes send_mail refuse.
    send_mail(" ".join(subject.split()), body, None, [user.email], fail_silently=False)


def emails_send(*, now=None, batch: int = 500) -> int:
    """Email what people missed while away (run every minute by cron: `notifications_email`).

    A notification of an emailed kind, unread EMAIL_DELAY_SECONDS after it was made, reaches an
    address whose owner has no page open and has not opted out of the kind; so does a
    conversation with unread messages, once per batch of them (the newest one's text and a
    link), not once per message. Each is claimed by a conditional update before it is sent,
    so two runs at once send it once. Older than a day, nothing is emailed any more.
    """
    now = now or timezone.now()
    due = now - timedelta(seconds=settings.EMAIL_DELAY_SECONDS)
    oldest = now - timedelta(days=1)
    sent = 0
    notifications = (
        Notification.objects.filter(
            _away_users(now),
            emailed_at__isnull=True,
            read_at__isnull=True,
            kind__in=Notification.EMAILED_KINDS,
            created_at__lte=due,
            created_at__gte=oldest,
            user__is_active=True,
        )
        .exclude(user__email="")
        .select_related("user__profile")
        .order_by("id")[:batch]
    )
    for notification in notifications:
        if not Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(emailed_at=now):
            continue
        if EmailOptOut.objects.filter(user=notification.user_id, kind=notification.kind).exists():
            continue
        user = notification.user
        with translation.override(user.profile.language or settings.LANGUAGE_CODE):
            _email(user, notification.title, "messaging/email/notification.txt", {"notification": notification})
        sent += 1
    sent += _message_emails_send(now=now, due=due, oldest=oldest, batch=batch)
    return sent


def _message_emails_send(*, now, due, oldest, batch: int) -> int:
    unread = Message.objects.filter(
        conversation=OuterRef("conversation"),
        id__gt=OuterRef("last_read_id"),
        status=Message.Status.VISIBLE,
        deleted_at__isnull=True,
    ).exclude(sender=OuterRef("user"))
    newest_unread = unread.filter(id__gt=OuterRef("emailed_up_to_id")).order_by("-id")
    seats = (
        # Announcements reach the whole community: they wait on the site, never in everyone's inbox.
        Participant.objects.filter(_away_users(now), user__is_active=True)
        .exclude(conversation__kind=Conversation.Kind.ANNOUNCEMENT)
        .exclude(user__email="")
        .exclude(user__email_opt_outs__kind=Notification.Kind.MESSAGE)
        .annotate(
            newest_unread=Subquery(newest_unread.values("id")[:1]),
            newest_unread_at=Subquery(newest_unread.values("created_at")[:1]),
        )
        # In the query, not after it: seats whose newest message is too fresh or too old would
        # otherwise fill every batch and keep the due ones waiting for good.
        .filter(newest_unread_at__gte=oldest, newest_unread_at__lte=due)
        .select_related("user__profile", "conversation")
        .order_by("pk")[:batch]
    )
    sent = 0
    for seat in seats:
        message = Message.objects.select_related("sender__profile").get(pk=seat.newest_unread)
        claimed = Participant.objects.filter(pk=seat.pk, emailed_up_to_id__lt=message.pk).update(
            emailed_up_to_id=message.pk
        )
        if not claimed:
            continue
        if seat.through_role and not can_access_conversation(seat.user, seat.conversation_id):
            # A read-state seat outlives the role that gave the access: no mail for a former
            # committee member (the batch is claimed all the same, so it does not come back).
            continue
        count = (
            Message.objects.filter(
                conversation=seat.conversation_id,
                id__gt=seat.last_read_id,
                status=Message.Status.VISIBLE,
                deleted_at__isnull=True,
            )
            .exclude(sender=seat.user_id)
            .count()
        )
        user = seat.user
        with translation.override(user.profile.language or settings.LANGUAGE_CODE):
            subject = _("New messages in “%(title)s”") % {"title": seat.conversation.title}
            _email(
                user,
                subject,
                "messaging/email/messages.txt",
                {"conversation": seat.conversation, "message": message, "count": count},
            )
        sent += 1
    return sent
