from django.db.models import Model

from ..models import AuditEntry, Community, User


def audit_record(
    *,
    actor: User,
    action: str,
    community: Community | int | None,
    subject: User | int | None = None,
    target: str = "",
    reason: str = "",
    detail: dict | None = None,
) -> AuditEntry:
    """Append one decision to the audit trail, inside the caller's transaction: if the decision
    rolls back, so does its record, and a decision is never kept without one.

    `community` and `subject` take an instance or a primary key, as the caller has it.
    """
    entry = AuditEntry(
        actor=actor,
        action=action,
        community_id=community.pk if isinstance(community, Model) else community,
        subject_id=subject.pk if isinstance(subject, Model) else subject,
        target=target,
        reason=reason,
        detail=detail or {},
    )
    entry.full_clean(exclude=["actor", "community", "subject"])
    entry.save()
    return entry
