import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from neighbors.images import private_storage
from neighbors.models import Community, Hideable, Place
from talent_pool.models import Skill


def post_photo_upload_to(instance, filename: str) -> str:
    # The image pipeline has already given the file a random name.
    return f"aid_posts/{filename or uuid.uuid4().hex}"


class AidPost(Hideable):
    class Status(models.TextChoices):
        # A new request with a word from the sensitive-word list: only its author and the
        # committee see it until the committee publishes it (then "open") or not (hidden).
        HELD = "held", _("Awaiting committee review")
        OPEN = "open", _("Open")
        CLAIMED = "claimed", _("Every seat offered, awaiting the poster")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done, awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        DISPUTED = "disputed", _("Disputed, with the committee")
        CLOSED = "closed", _("Closed by the committee")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    class Urgency(models.IntegerChoices):
        # Numbers, so that "most urgent first" is a plain descending sort.
        NORMAL = 0, _("Normal")
        SOON = 1, _("Soon")
        URGENT = 2, _("Urgent")

    class AssistedConsent(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        BY_PHONE = "by_phone", _("By phone")
        FAMILY = "family", _("Through a family member")

    # Where a post can still gather helpers, and where it is still anyone's business.
    SEEKING = [Status.OPEN, Status.CLAIMED]
    LIVE = [Status.OPEN, Status.CLAIMED, Status.IN_PROGRESS, Status.DONE, Status.DISPUTED]
    FINISHED = [Status.CONFIRMED, Status.CLOSED, Status.CANCELLED, Status.EXPIRED]
    MAX_PHOTOS = 4
    MAX_SEATS = 10

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="aid_posts")
    # The resident the request is for: the one who accepts helpers, confirms and rates.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="aid_posts")
    category = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+", verbose_name=_("category"))
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("what is needed"), max_length=2000)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices, default=Urgency.NORMAL)
    window_starts_at = models.DateTimeField(_("from"))
    window_ends_at = models.DateTimeField(_("until"))
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("building"))
    seats = models.PositiveSmallIntegerField(
        _("helpers needed"), default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_SEATS)]
    )
    # Pending and accepted claims: kept beside `seats` so that one conditional UPDATE
    # hands out a seat, and two racing helpers can never take more seats than there are.
    live_claims = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField(_("expires"))
    # Health and the like (PIPL sensitive personal information): only with the author's
    # health consent, and only the accepted helpers read it.
    sensitive_details = models.TextField(_("private details for the helper"), max_length=1000, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    # 代办: the committee member or grid worker who posted for a resident without a smartphone,
    # and relays the conversation until the resident takes the request over.
    assisted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assisted_consent = models.CharField(
        _("how the resident agreed"), max_length=20, choices=AssistedConsent.choices, blank=True
    )
    assisted_note = models.CharField(_("note on the resident's agreement"), max_length=300, blank=True)
    taken_over_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # The listed words that held it for review, for the reviewer.
    held_for = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["community", "status", "-created_at"], name="aidpost_community_status"),
            # The nearby list counts open requests per building (and urgency, category):
            # a partial index holds only the open rows. It carries every column the count
            # reads, community (the visibility rule) and status too, so that PostgreSQL
            # counts from the index alone and SQLite (which does not see the condition's
            # column as covered) never visits the table: 3x faster at 1M open requests.
            # Posts the committee hid are not in it: the nearby list never shows them.
            models.Index(
                fields=["place", "urgency", "category", "expires_at", "community", "status"],
                condition=Q(status="open", hidden_at__isnull=True),
                name="aidpost_open_by_place",
            ),
            models.Index(fields=["status", "expires_at"], name="aidpost_status_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_ends_at__gt=models.F("window_starts_at")),
                name="aidpost_window_ordered",
                violation_error_message=_("The time window must end after it starts."),
            ),
            models.CheckConstraint(condition=Q(live_claims__lte=models.F("seats")), name="aidpost_claims_within_seats"),
            models.CheckConstraint(
                condition=Q(assisted_by__isnull=True) | ~Q(assisted_consent=""),
                name="aidpost_assisted_consent_recorded",
                violation_error_message=_("Record how the resident agreed to the request."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def subject(self) -> str:
        """How other apps (partnerships, conversations, the ledger) refer to this post."""
        return f"aid_post:{self.pk}"

    @property
    def is_assisted(self) -> bool:
        return self.assisted_by_id is not None

    @property
    def is_relayed(self) -> bool:
        """Posted for the resident and not yet taken over: the assistant acts for them."""
        return self.assisted_by_id is not None and self.taken_over_at is None


class PostPhoto(models.Model):
    """Up to AidPost.MAX_PHOTOS photos of a request, through the image pipeline; served only
    to those who may see the request."""

    post = models.ForeignKey(AidPost, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=post_photo_upload_to, storage=private_storage)
    thumbnail = models.ImageField(upload_to=post_photo_upload_to, storage=private_storage)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.post} photo {self.position + 1}"


class Claim(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the poster")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    LIVE = [Status.PENDING, Status.ACCEPTED]

    post = models.ForeignKey(AidPost, on_delete=models.CASCADE, related_name="claims")
    helper = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Each helper marks their own part done, with their own hours.
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.25")), MaxValueValidator(Decimal("24"))],
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "helper"],
                condition=Q(status__in=["pending", "accepted"]),
                name="claim_one_live_per_helper",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.helper} → {self.post} ({self.status})"


class PostEvent(models.Model):
    """Every step of a post and its claims: who did what, from which state to which, when."""

    class Action(models.TextChoices):
        POSTED = "posted", _("Posted")
        CLAIMED = "claimed", _("Offered help")
        ACCEPTED = "accepted", _("Accepted a helper")
        DECLINED = "declined", _("Declined a helper")
        WITHDRAWN = "withdrawn", _("Withdrew an offer")
        STARTED = "started", _("Started with the helpers so far")
        HELPER_DONE = "helper_done", _("Marked their part done")
        CONFIRMED = "confirmed", _("Confirmed")
        DISPUTED = "disputed", _("Disputed")
        RESOLVED = "resolved", _("Dispute decided")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        ESCALATED = "escalated", _("Escalated to the grid worker and committee")
        INVITED = "invited", _("Invited a talent")
        TAKEN_OVER = "taken_over", _("Taken over by the resident")
        REOPENED = "reopened", _("Opened again")

    post = models.ForeignKey(AidPost, on_delete=models.CASCADE, related_name="events")
    # Null when the site itself acted (expiry, escalation, from the scheduled command).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices, blank=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.post}: {self.action} {self.from_status} → {self.to_status}"


class Dispatch(models.Model):
    """智能派发: a talent the site (or a committee member) asked to help with a request,
    with the score's parts, so that the committee can see why they were chosen."""

    class Kind(models.TextChoices):
        RANKED = "ranked", _("Chosen by the ranking")
        DIRECT = "direct", _("Invited by the committee")

    post = models.ForeignKey(AidPost, on_delete=models.CASCADE, related_name="dispatches")
    talent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dispatches")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.RANKED)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rank = models.PositiveSmallIntegerField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    # {"skill": 0.3, "distance": 0.2, ...}: each part already weighted, summing to the score.
    parts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["post", "rank", "id"]
        constraints = [models.UniqueConstraint(fields=["post", "talent"], name="dispatch_once_per_talent")]

    def __str__(self) -> str:
        return f"{self.post} → {self.talent} ({self.kind})"


class Feedback(models.Model):
    """The poster's rating of a confirmed request."""

    post = models.OneToOneField(AidPost, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.post}: {self.rating}/5"


class FollowUp(models.Model):
    """回访: the committee asks the resident afterwards how it went, and records the answer."""

    class Method(models.TextChoices):
        PHONE = "phone", _("By phone")
        VISIT = "visit", _("Home visit")
        IN_OFFICE = "in_office", _("At the committee office")

    post = models.ForeignKey(AidPost, on_delete=models.CASCADE, related_name="follow_ups")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("how"), max_length=20, choices=Method.choices)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.post}: {self.satisfaction}/5 ({self.method})"


class Reminder(models.Model):
    """A reminder the scheduled command sent: the unique key is what makes a rerun send nothing new."""

    post = models.ForeignKey(AidPost, on_delete=models.CASCADE, related_name="reminders")
    # e.g. "decide:claim:12", "confirm", "mark_done:claim:13"
    key = models.CharField(max_length=60)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "key"], name="reminder_once")]

    def __str__(self) -> str:
        return f"{self.post}: {self.key}"


class WelfareRole(Hideable):
    """公益岗位: a standing public-welfare duty the committee asks qualified talents to hold,
    e.g. legal-aid mediation on Saturdays 9:00–11:00 for a year.

    A model of its own beside AidPost rather than a second "kind" of post: a role has
    seats, a weekly schedule and a term, and its holders log duties; a request has
    none of these, and sharing one table would leave half the columns empty either way.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Mondays")
        TUESDAY = 1, _("Tuesdays")
        WEDNESDAY = 2, _("Wednesdays")
        THURSDAY = 3, _("Thursdays")
        FRIDAY = 4, _("Fridays")
        SATURDAY = 5, _("Saturdays")
        SUNDAY = 6, _("Sundays")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="welfare_roles")
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("what the role does"), max_length=2000)
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+", verbose_name=_("required skill"))
    seats = models.PositiveSmallIntegerField(
        _("seats"), default=1, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("to"))
    term_start = models.DateField(_("term starts"))
    term_end = models.DateField(_("term ends"))
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("place"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("welfare role")
        verbose_name_plural = _("welfare roles")
        ordering = ["term_end", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_end__gte=models.F("term_start")),
                name="role_term_ordered",
                violation_error_message=_("The term must end on or after the day it starts."),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="role_hours_ordered",
                violation_error_message=_("The duty must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def subject(self) -> str:
        return f"welfare_role:{self.pk}"


class RoleClaim(models.Model):
    """A talent's claim on a seat of a role, and, once approved, their holding of it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the committee")
        APPROVED = "approved", _("Holding a seat")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        STEPPED_DOWN = "stepped_down", _("Stepped down")

    LIVE = [Status.PENDING, Status.APPROVED]

    role = models.ForeignKey(WelfareRole, on_delete=models.CASCADE, related_name="claims")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_claims")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    # Read by the committee before approving: a relative involved, a case in one's own court, …
    conflict_of_interest = models.TextField(_("conflicts of interest"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "holder"], condition=Q(status__in=["pending", "approved"]), name="role_claim_one_live"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} → {self.role} ({self.status})"


class Duty(models.Model):
    """One duty served by a role's holder, logged by them and confirmed by the committee."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Not confirmed")

    role = models.ForeignKey(WelfareRole, on_delete=models.CASCADE, related_name="duties")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="duties")
    served_on = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25")), MaxValueValidator(Decimal("12"))],
    )
    summary = models.CharField(_("what was done"), max_length=500)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("duty")
        verbose_name_plural = _("duties")
        ordering = ["-served_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["role", "holder", "served_on"], name="duty_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.holder} {self.role} {self.served_on}"

    @property
    def subject(self) -> str:
        return f"duty:{self.pk}"
