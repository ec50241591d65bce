"""Who may use the committee's workspace and review what in it."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from neighbors.models import User
from neighbors.permissions import staff_communities

from .models import Report

AnyUser = User | AnonymousUser


def _active(user: AnyUser) -> bool:
    return user.is_authenticated and user.is_active


def can_use_workspace(user: AnyUser) -> bool:
    """Committee members and grid workers, of any community."""
    return _active(user) and staff_communities(user).exists()


def reports_reviewable_by(user: AnyUser) -> QuerySet[Report]:
    """Reports handled by the communities the person works for, never those about themselves.
    Any state: the services' conditional updates tell "already decided" apart from "not yours"."""
    if not _active(user):
        return Report.objects.none()
    return Report.objects.filter(community__in=staff_communities(user).values("pk")).exclude(author=user)


def can_review_report(user: AnyUser, report: Report) -> bool:
    return reports_reviewable_by(user).filter(pk=report.pk).exists()
