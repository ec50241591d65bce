"""The workspace's front page: what waits for the viewer, one count per queue."""

from dataclasses import dataclass

from aid_posts.models import AidPost
from aid_posts.permissions import posts_managed_by, posts_reviewable_by
from aid_posts.selectors.queue import disputes_waiting, escalated_unclaimed
from messaging.permissions import held_messages_reviewable_by
from neighbors.models import Community, User
from neighbors.permissions import committee_communities, memberships_decidable_by, staff_communities
from talent_pool.models import Credential
from talent_pool.permissions import credentials_decidable_by

from ..models import Redemption, Report
from ..permissions import redemptions_decidable_by, reports_reviewable_by


@dataclass(frozen=True)
class Waiting:
    """Counts of what waits for the viewer's decision, in the communities they work for."""

    communities: list[Community]
    # Committee member somewhere: the committee-only pages (catalogue, exports, word list) are offered.
    is_committee: bool
    reports: int
    held: int
    memberships: int
    credentials: int
    escalations: int
    disputes: int
    redemptions: int

    @property
    def total(self) -> int:
        return (
            self.reports
            + self.held
            + self.memberships
            + self.credentials
            + self.escalations
            + self.disputes
            + self.redemptions
        )


def waiting_for(user: User) -> Waiting:
    """One count query per queue, each through the rule its own page uses, so that the front page
    never promises what the queue will not show."""
    managed = posts_managed_by(user)
    return Waiting(
        communities=list(staff_communities(user).order_by("name")),
        is_committee=committee_communities(user).exists(),
        reports=reports_reviewable_by(user).filter(status=Report.Status.OPEN).count(),
        held=held_messages_reviewable_by(user).count()
        + posts_reviewable_by(user).filter(status=AidPost.Status.HELD).count(),
        memberships=memberships_decidable_by(user).count(),
        credentials=credentials_decidable_by(user).filter(status=Credential.Status.PENDING).count(),
        escalations=escalated_unclaimed(user, managed=managed).count(),
        disputes=disputes_waiting(user, managed=managed).count(),
        redemptions=redemptions_decidable_by(user).filter(status=Redemption.Status.PENDING).count(),
    )
