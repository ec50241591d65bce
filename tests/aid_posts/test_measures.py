"""The committee's figures over a set of requests: each measure on a known history built
through the services, with the times set afterwards, the empty set, and the query count."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aid_posts.models import AidPost, Claim, Dispatch, FollowUp, PostEvent
from aid_posts.selectors.measures import posts_posted_between, request_measures
from aid_posts.services import (
    DISPUTE_CLOSE,
    DISPUTE_CONFIRM,
    aid_post_cancel,
    aid_post_claim,
    aid_post_confirm,
    aid_post_create,
    aid_post_dispute,
    aid_post_mark_done,
    claim_accept,
    claim_withdraw,
    dispute_resolve,
    feedback_give,
    follow_up_record,
    posts_escalate,
    posts_expire,
)
from aid_posts.services.dispatch import dispatch_invite
from neighbors.models import Membership
from tests.factories import CommunityFactory, MembershipFactory, PlaceFactory, UserFactory, skill, window

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def new_post(author, community, building, *, code: str = "home-repair", **kwargs) -> AidPost:
    return aid_post_create(
        **window(),
        actor=author,
        community=community,
        category=skill(code),
        title="请帮忙",
        description="需要邻居帮一下忙。",
        place=building,
        **kwargs,
    )


def fresh(post: AidPost) -> AidPost:
    return AidPost.objects.get(pk=post.pk)


def set_times(post: AidPost, *, posted, first_claim_after=None, confirmed_after=None) -> None:
    """Move the recorded times of a post's history: the services stamp "now" on everything."""
    AidPost.objects.filter(pk=post.pk).update(created_at=posted)
    # Ranked dispatch runs as the post is created; invitations are taken to follow at once.
    Dispatch.objects.filter(post=post).update(created_at=posted)
    if first_claim_after is not None:
        first = Claim.objects.filter(post=post).order_by("created_at", "pk").first()
        Claim.objects.filter(pk=first.pk).update(created_at=posted + first_claim_after)
        # Later claims stay later than the first.
        Claim.objects.filter(post=post).exclude(pk=first.pk).update(created_at=posted + first_claim_after + MINUTE)
    if confirmed_after is not None:
        PostEvent.objects.filter(post=post, to_status=AidPost.Status.CONFIRMED).exclude(
            from_status=AidPost.Status.CONFIRMED
        ).update(created_at=posted + confirmed_after)


def help_through(post: AidPost, *, poster, helper) -> None:
    """Claimed by `helper`, accepted, marked done: waiting for the poster."""
    claim = aid_post_claim(actor=helper, post=fresh(post))
    claim_accept(actor=poster, claim=claim)
    aid_post_mark_done(actor=helper, post=fresh(post), hours=Decimal("1"))


@dataclass
class History:
    posts: dict[str, AidPost]
    community: object


@pytest.fixture
def history(community, building, resident, make_member) -> History:
    """Eight requests in one community, and one in another that must never be counted.

    | post      | first claim          | outcome                                   |
    |-----------|----------------------|-------------------------------------------|
    | invited   | 10 min, invited one  | confirmed after 2 h, rated 5, 回访 2 then 4 |
    | escalated | 30 min, not invited  | escalated first; confirmed after 4 h, 3   |
    | closed    | 60 min, invited late | disputed, closed by the committee, 回访 2  |
    | decided   | 20 min, invited one  | disputed, decided for the helper at 8 h   |
    | expired   | none                 | expired                                   |
    | cancelled | 15 min               | cancelled by the poster                   |
    | withdrawn | 5 min, withdrawn     | open again                                |
    | quiet     | none                 | open                                      |
    """
    first, second, third = make_member(), make_member(), make_member()
    committee = make_member(role=Membership.Role.COMMITTEE)
    posts: dict[str, AidPost] = {}

    # Escalated first, while it is the only request waiting long enough.
    posts["escalated"] = new_post(resident, community, building, urgency=AidPost.Urgency.URGENT)
    AidPost.objects.filter(pk=posts["escalated"].pk).update(created_at=timezone.now() - HOUR)
    assert posts_escalate() == 1
    # Someone else was invited, but the first to claim was not.
    dispatch_invite(actor=committee, post=fresh(posts["escalated"]), talent=first)
    help_through(posts["escalated"], poster=resident, helper=second)
    aid_post_confirm(actor=resident, post=fresh(posts["escalated"]))
    feedback_give(actor=resident, post=fresh(posts["escalated"]), rating=3)

    posts["invited"] = new_post(resident, community, building)
    dispatch_invite(actor=committee, post=posts["invited"], talent=first)
    help_through(posts["invited"], poster=resident, helper=first)
    aid_post_confirm(actor=resident, post=fresh(posts["invited"]))
    feedback_give(actor=resident, post=fresh(posts["invited"]), rating=5)
    follow_up_record(actor=committee, post=fresh(posts["invited"]), method="phone", satisfaction=2)
    latest = follow_up_record(actor=committee, post=fresh(posts["invited"]), method="visit", satisfaction=4)
    FollowUp.objects.filter(pk=latest.pk).update(created_at=timezone.now() + MINUTE)

    posts["closed"] = new_post(resident, community, building)
    invitation = dispatch_invite(actor=committee, post=posts["closed"], talent=third)
    help_through(posts["closed"], poster=resident, helper=third)
    aid_post_dispute(actor=resident, post=fresh(posts["closed"]), reason="没有来")
    dispute_resolve(actor=committee, post=fresh(posts["closed"]), outcome=DISPUTE_CLOSE, reason="确认未提供帮助")
    follow_up_record(actor=committee, post=fresh(posts["closed"]), method="phone", satisfaction=2)

    posts["decided"] = new_post(resident, community, building)
    dispatch_invite(actor=committee, post=posts["decided"], talent=second)
    help_through(posts["decided"], poster=resident, helper=second)
    aid_post_dispute(actor=resident, post=fresh(posts["decided"]), reason="只修了一半")
    dispute_resolve(actor=committee, post=fresh(posts["decided"]), outcome=DISPUTE_CONFIRM, reason="已修好")

    posts["expired"] = new_post(resident, community, building, code="errands")
    AidPost.objects.filter(pk=posts["expired"].pk).update(expires_at=timezone.now() - MINUTE)
    assert posts_expire() == 1

    posts["cancelled"] = new_post(resident, community, building, code="errands")
    aid_post_claim(actor=second, post=posts["cancelled"])
    aid_post_cancel(actor=resident, post=fresh(posts["cancelled"]))

    posts["withdrawn"] = new_post(resident, community, building)
    claim_withdraw(actor=first, claim=aid_post_claim(actor=first, post=posts["withdrawn"]))

    posts["quiet"] = new_post(resident, community, building)

    elsewhere = CommunityFactory(name="别的社区")
    other_building = PlaceFactory(community=elsewhere)
    stranger, other_helper = UserFactory(), UserFactory()
    for person in (stranger, other_helper):
        MembershipFactory(user=person, community=elsewhere, home_place=other_building)
    posts["elsewhere"] = new_post(stranger, elsewhere, other_building)
    help_through(posts["elsewhere"], poster=stranger, helper=other_helper)
    aid_post_confirm(actor=stranger, post=fresh(posts["elsewhere"]))
    feedback_give(actor=stranger, post=fresh(posts["elsewhere"]), rating=1)

    base = timezone.now() - timedelta(days=3)
    set_times(posts["invited"], posted=base, first_claim_after=10 * MINUTE, confirmed_after=2 * HOUR)
    set_times(posts["escalated"], posted=base, first_claim_after=30 * MINUTE, confirmed_after=4 * HOUR)
    set_times(posts["closed"], posted=base, first_claim_after=60 * MINUTE)
    set_times(posts["decided"], posted=base, first_claim_after=20 * MINUTE, confirmed_after=8 * HOUR)
    set_times(posts["expired"], posted=base)
    set_times(posts["cancelled"], posted=base, first_claim_after=15 * MINUTE)
    set_times(posts["withdrawn"], posted=base, first_claim_after=5 * MINUTE)
    set_times(posts["quiet"], posted=base)
    set_times(posts["elsewhere"], posted=base, first_claim_after=1 * MINUTE, confirmed_after=1 * MINUTE)
    # The invitation to "closed" went out only after its helper had claimed.
    Dispatch.objects.filter(pk=invitation.pk).update(created_at=base + 61 * MINUTE)
    return History(posts=posts, community=community)


def community_posts(history: History):
    return AidPost.objects.filter(community=history.community)


class TestMeasuresOfAKnownHistory:
    def test_counts_by_status_and_category(self, history):
        measures = request_measures(community_posts(history))
        assert measures.total == 8
        assert measures.by_status == {
            "held": 0,
            "open": 2,
            "claimed": 0,
            "in_progress": 0,
            "done": 0,
            "confirmed": 3,
            "disputed": 0,
            "closed": 1,
            "cancelled": 1,
            "expired": 1,
        }
        assert [(row.category.code, row.count) for row in measures.by_category] == [
            ("home-repair", 6),
            ("errands", 2),
        ]

    def test_time_to_first_claim_is_the_median_over_posts_with_a_claim(self, history):
        measures = request_measures(community_posts(history))
        # 5, 10, 15, 20, 30, 60 minutes: withdrawn and cancelled offers count, unclaimed posts do not.
        assert measures.claimed == 6
        assert measures.time_to_first_claim == timedelta(minutes=17, seconds=30)

    def test_time_to_resolution_counts_the_committees_decision_as_confirmation(self, history):
        measures = request_measures(community_posts(history))
        # 2 h, 4 h, and 8 h for the dispute decided for the helper; the closed one is not resolved.
        assert measures.confirmed == 3
        assert measures.time_to_resolution == 4 * HOUR

    def test_resolution_rate_is_confirmed_over_confirmed_closed_and_expired(self, history):
        measures = request_measures(community_posts(history))
        # The cancelled and the two open requests count on neither side.
        assert (measures.confirmed, measures.settled) == (3, 5)
        assert measures.resolution_rate == 3 / 5

    def test_satisfaction_takes_each_rating_and_the_latest_follow_up_of_each_post(self, history):
        measures = request_measures(community_posts(history))
        assert (measures.rating_mean, measures.rating_count) == (4.0, 2)
        # "invited" was followed up twice (2, then 4): only the 4 counts, beside "closed"'s 2.
        assert (measures.follow_up_mean, measures.follow_up_count) == (3.0, 2)

    def test_dispatch_rate_counts_first_claims_by_talents_asked_beforehand(self, history):
        measures = request_measures(community_posts(history))
        # "invited" and "decided"; not "escalated" (someone else was invited), nor "closed"
        # (invited after claiming), nor the uninvited ones.
        assert (measures.dispatched_first, measures.claimed) == (2, 6)
        assert measures.dispatch_rate == 2 / 6

    def test_resolved_within_the_grid_leaves_out_the_escalated(self, history):
        measures = request_measures(community_posts(history))
        assert (measures.confirmed_in_grid, measures.confirmed) == (2, 3)
        assert measures.in_grid_rate == 2 / 3

    def test_another_community_counts_only_in_its_own_set(self, history):
        everything = request_measures(AidPost.objects.all())
        assert (everything.total, everything.confirmed, everything.rating_count) == (9, 4, 3)
        elsewhere = request_measures(AidPost.objects.filter(pk=history.posts["elsewhere"].pk))
        assert elsewhere.time_to_first_claim == MINUTE
        assert elsewhere.rating_mean == 1.0
        assert elsewhere.follow_up_mean is None


class TestEmptyAndPeriods:
    def test_an_empty_set_has_zeros_and_no_figures(self):
        measures = request_measures(AidPost.objects.none())
        assert measures.total == measures.claimed == measures.confirmed == measures.settled == 0
        assert set(measures.by_status.values()) == {0}
        assert measures.by_category == ()
        for figure in (
            measures.time_to_first_claim,
            measures.time_to_resolution,
            measures.resolution_rate,
            measures.rating_mean,
            measures.follow_up_mean,
            measures.dispatch_rate,
            measures.in_grid_rate,
        ):
            assert figure is None
        assert measures.rating_count == measures.follow_up_count == 0

    def test_posts_without_any_claim_or_confirmation_give_counts_but_no_durations(self, post):
        measures = request_measures(AidPost.objects.all())
        assert (measures.total, measures.claimed, measures.by_status["open"]) == (1, 0, 1)
        assert measures.time_to_first_claim is None
        assert measures.dispatch_rate is None

    def test_periods_are_half_open(self, resident, community, building):
        start = timezone.now() - timedelta(days=10)
        end = start + timedelta(days=5)
        before, at_start, inside, at_end = (new_post(resident, community, building) for _ in range(4))
        for post, posted in ((before, start - MINUTE), (at_start, start), (inside, start + HOUR), (at_end, end)):
            AidPost.objects.filter(pk=post.pk).update(created_at=posted)
        period = posts_posted_between(AidPost.objects.all(), start, end)
        assert set(period) == {at_start, inside}
        assert request_measures(period).total == 2


def test_the_query_count_does_not_grow_with_the_posts(resident, helper, community, building):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            request_measures(AidPost.objects.filter(community=community))
        return len(captured)

    first = new_post(resident, community, building)
    aid_post_claim(actor=helper, post=first)
    few = queries()
    for number in range(6):
        post = new_post(resident, community, building, code="errands" if number % 2 else "home-repair")
        help_through(post, poster=resident, helper=helper)
        aid_post_confirm(actor=resident, post=fresh(post))
        feedback_give(actor=resident, post=fresh(post), rating=4)
    # The aggregate, the rows for the medians, the category counts and their skills.
    assert queries() == few == 4
