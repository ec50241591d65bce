"""The append-only records: the audit trail and (in ledger.py) the points-and-hours ledger.

Rows of an `AppendOnly` model are written once. Python refuses to save an existing row or to
delete one, the queryset refuses bulk updates and deletes, and the database refuses them too
(triggers installed by migration, see `append_only_triggers`), so that neither a code path
nor a shell session can quietly rewrite a decision or a balance. A correction is a new row.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .places import Community


class AppendOnlyError(Exception):
    """An attempt to edit or delete a row that is only ever added to."""

    def __init__(self, model: type[models.Model]) -> None:
        super().__init__(f"{model._meta.verbose_name} rows are never edited or deleted; add a new entry instead.")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(self.model)

    def delete(self):
        raise AppendOnlyError(self.model)

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(self.model)


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError(type(self))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(type(self))


def append_only_triggers(table: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """(SQLite forward, SQLite reverse, PostgreSQL forward, PostgreSQL reverse) statements that
    make the database itself refuse an UPDATE or DELETE of the table's rows.

    SQLite only refuses UPDATE: Django empties tables between transactional tests with DELETE,
    which a delete trigger would stop. PostgreSQL empties them with TRUNCATE, which row triggers
    do not see, so there both are refused.
    """
    message = f"{table} is append-only"
    sqlite = [f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END;"]
    sqlite_reverse = [f"DROP TRIGGER IF EXISTS {table}_no_update;"]
    postgresql = [
        f"CREATE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{message}'; END; $$;",
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse();",
    ]
    postgresql_reverse = [
        f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};",
        f"DROP FUNCTION IF EXISTS {table}_refuse();",
    ]
    return sqlite, sqlite_reverse, postgresql, postgresql_reverse


class AuditEntry(AppendOnly):
    """Who decided what, about whom, when and why: every moderation action, role change,
    membership and credential decision, ledger adjustment, catalogue change and export."""

    class Action(models.TextChoices):
        MEMBERSHIP_APPROVED = "membership_approved", _("Membership approved")
        MEMBERSHIP_DECLINED = "membership_declined", _("Membership declined")
        ROLE_CHANGED = "role_changed", _("Role changed")
        MEMBER_REMOVED = "member_removed", _("Removed from the community")
        CREDENTIAL_VERIFIED = "credential_verified", _("Credential verified")
        CREDENTIAL_REJECTED = "credential_rejected", _("Credential rejected")
        ROLE_CLAIM_APPROVED = "role_claim_approved", _("Welfare role claim approved")
        ROLE_CLAIM_DECLINED = "role_claim_declined", _("Welfare role claim declined")
        DUTY_CONFIRMED = "duty_confirmed", _("Duty confirmed")
        DUTY_REJECTED = "duty_rejected", _("Duty not confirmed")
        DISPUTE_RESOLVED = "dispute_resolved", _("Dispute decided")
        REPORT_DISMISSED = "report_dismissed", _("Report dismissed")
        CONTENT_HIDDEN = "content_hidden", _("Content hidden")
        CONTENT_RESTORED = "content_restored", _("Content restored")
        HELD_RELEASED = "held_released", _("Held content published")
        HELD_REJECTED = "held_rejected", _("Held content not published")
        MEMBER_WARNED = "member_warned", _("Member warned")
        MEMBER_SUSPENDED = "member_suspended", _("Member suspended")
        SUSPENSION_LIFTED = "suspension_lifted", _("Suspension lifted")
        SENSITIVE_WORD_ADDED = "sensitive_word_added", _("Sensitive word added")
        SENSITIVE_WORD_REMOVED = "sensitive_word_removed", _("Sensitive word removed")
        POINTS_AWARDED = "points_awarded", _("Points awarded")
        LEDGER_CORRECTED = "ledger_corrected", _("Ledger corrected")
        REWARD_SAVED = "reward_saved", _("Reward catalogue changed")
        REDEMPTION_FULFILLED = "redemption_fulfilled", _("Redemption fulfilled")
        REDEMPTION_CANCELLED = "redemption_cancelled", _("Redemption cancelled")
        CERTIFICATE_ISSUED = "certificate_issued", _("Certificate issued")
        CERTIFICATE_REVOKED = "certificate_revoked", _("Certificate revoked")
        EXPORTED = "exported", _("Data exported")

    # Whose committee's record it is; empty for a district-wide decision (a word for every community).
    community = models.ForeignKey(Community, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    # The person the decision concerns, where there is one.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What it was about, in the form other apps use for subjects: "message:12", "aid_post:3".
    target = models.CharField(_("about"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # The decision's particulars: a role's from and to, points and hours, an end date, columns.
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "-created_at"], name="audit_by_community")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.target}"
