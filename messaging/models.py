from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from neighbors.images import private_storage
from neighbors.models import Community, ContactMethod, Hideable

MESSAGE_MAX_LENGTH = 2000


def message_image_upload_to(instance, filename: str) -> str:
    # The image pipeline has already given the file a random name.
    return f"messages/{filename}"


class Conversation(models.Model):
    """A conversation exists only where a post, a role or the committee connects people: there
    are no direct messages between strangers."""

    class Kind(models.TextChoices):
        CLAIM = "claim", _("Request conversation")
        ROLE_TEAM = "role_team", _("Welfare role team")
        COMMITTEE = "committee", _("Conversation with the committee")
        ANNOUNCEMENT = "announcement", _("Community announcements")

    # Kinds whose community's committee and grid workers take part without a seat of their own
    # (their staff changes; the conversation stays theirs). A request's conversation joins them
    # only once someone in it asks the committee in.
    STAFF_KINDS = (Kind.ROLE_TEAM, Kind.COMMITTEE, Kind.ANNOUNCEMENT)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What connects the participants, e.g. "aid_post:12": messaging never imports the
    # app that owns it, so it keeps the reference and a title to show.
    subject = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    # Whose committee reviews held messages and takes part in the staff kinds.
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, null=True, blank=True, related_name="conversations"
    )
    committee_asked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="claim") | models.Q(community__isnull=False),
                name="conversation_staff_kinds_have_community",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def staff_take_part(self) -> bool:
        return self.kind in self.STAFF_KINDS or self.committee_asked_at is not None


class Participant(models.Model):
    """A seat in a conversation, with the person's read state. Staff of a staff kind get one the
    first time they read or write, so that their read state has somewhere to live."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_seats")
    joined_at = models.DateTimeField(auto_now_add=True)
    # A seat made only to keep the read state of someone whose access comes from a role (staff
    # in the staff kinds, members reading announcements): it grants nothing, so losing the role
    # ends the access.
    through_role = models.BooleanField(default=False)
    # The newest message id the person has seen; only ever moves forward.
    last_read_id = models.PositiveBigIntegerField(default=0)
    # The newest message id an email has told them about (see messaging/email.py).
    emailed_up_to_id = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="participant_once")]

    def __str__(self) -> str:
        return f"{self.user} in {self.conversation}"


class Message(Hideable):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        CONTACT = "contact", _("Shared contact detail")

    class Status(models.TextChoices):
        VISIBLE = "visible", _("Sent")
        HELD = "held", _("Awaiting committee review")
        REJECTED = "rejected", _("Not published after review")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(_("message"), blank=True, validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH)])
    image = models.ImageField(upload_to=message_image_upload_to, storage=private_storage, blank=True)
    thumbnail = models.ImageField(upload_to=message_image_upload_to, storage=private_storage, blank=True)
    # For a shared contact detail: which one. The value itself is never stored here; each
    # person who opens it goes through neighbors' contact_reveal, which logs it.
    contact_kind = models.CharField(max_length=20, choices=ContactMethod.Kind.choices, blank=True)
    # Chosen by the client so that a retried send is stored once.
    client_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VISIBLE)
    # The listed words that held it, for the reviewer.
    held_for = models.CharField(max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the others were first shown it (on sending, or on release after review). A message
    # an edit sends back for review is then known to have been seen, so that a reconnecting
    # client learns it was withdrawn; one held from the start never was anyone else's business.
    published_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Moves on every change after sending (edit, delete, review), so that a reconnecting client
    # can ask for what changed among the messages it already has.
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "client_id"],
                condition=~models.Q(client_id=""),
                name="message_client_id_once",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="contact") | ~models.Q(contact_kind=""),
                name="message_contact_names_its_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "changed_at"], name="message_changes"),
            models.Index(fields=["status", "created_at"], name="message_review_queue"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} in {self.conversation_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class MessageRevision(models.Model):
    """The text a message had before an edit: the edit leaves a trace, and a report about the
    message can be judged on what was actually said."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["replaced_at", "id"]

    def __str__(self) -> str:
        return f"revision of {self.message_id}"


class Notification(models.Model):
    """One thing a person should hear about: stored first, then pushed to their stream."""

    class Kind(models.TextChoices):
        DISPATCH = "dispatch", _("Asked to help")
        CLAIM = "claim", _("Offer of help")
        CLAIM_DECIDED = "claim_decided", _("Offer accepted or declined")
        REQUEST_UPDATE = "request_update", _("Request update")
        ESCALATION = "escalation", _("Request needs attention")
        REMINDER = "reminder", _("Reminder")
        DECISION = "decision", _("Committee decision")
        # Not stored as notifications (a conversation's unread count says it); named here so
        # that the email about unread messages has a kind to opt out of.
        MESSAGE = "message", _("New messages")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=500, blank=True)
    # A path on this site, e.g. "/posts/12/": where the notification leads.
    url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when the email about it was sent (or found unneeded): it is considered once.
    emailed_at = models.DateTimeField(null=True, blank=True)

    # Worth an email when the person is not on the site; the rest wait for their next visit.
    EMAILED_KINDS = (Kind.MESSAGE, Kind.DISPATCH, Kind.CLAIM, Kind.CLAIM_DECIDED, Kind.ESCALATION, Kind.DECISION)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_user_unread"),
            models.Index(fields=["emailed_at", "created_at"], name="notification_email_due"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.title}"


class EmailOptOut(models.Model):
    """A kind of notification the person does not want by email (they still see it on the site)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_opt_outs")
    kind = models.CharField(max_length=30, choices=Notification.Kind.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="email_opt_out_once")]

    def __str__(self) -> str:
        return f"{self.user} wants no {self.kind} email"


class Presence(models.Model):
    """When the person's page last said it was open (its socket connects and pings every
    PRESENCE_PING_SECONDS). Older than PRESENCE_TIMEOUT_SECONDS means "not on the site": the
    email for something important goes out. Kept in the database, not a worker's memory, so
    every worker agrees."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} seen {self.seen_at}"
