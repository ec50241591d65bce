"""The staff queue at /posts/queue/: who sees which requests, who is refused, the take-it-on
button, the sections' rules, the figures' formatting, and a query count that does not grow."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from aid_posts.models import AidPost, Claim, Feedback, FollowUp, PostEvent
from aid_posts.selectors.queue import QUEUE_RECENT_DAYS, follow_ups_due
from aid_posts.services import (
    aid_post_claim,
    aid_post_confirm,
    aid_post_create,
    aid_post_dispute,
    aid_post_mark_done,
    claim_accept,
    follow_up_record,
    posts_escalate,
)
from aid_posts.services.dispatch import dispatch_invite
from aid_posts.views.queue import duration_text, mean_text, median_text, share_text
from neighbors.models import Grid, Membership
from tests.factories import (
    AidPostFactory,
    CommunityFactory,
    MembershipFactory,
    PlaceFactory,
    UserFactory,
    skill,
    window,
)

pytestmark = pytest.mark.django_db

QUEUE = reverse("aid_posts:queue")


def logged_in(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def new_post(author, place, title: str, **kwargs) -> AidPost:
    return aid_post_create(
        **window(),
        actor=author,
        community=place.community,
        category=skill(),
        title=title,
        description="需要邻居帮一下忙。",
        place=place,
        **kwargs,
    )


def escalate(*posts: AidPost) -> None:
    """Unclaimed for two days: past every urgency's deadline, so the scheduled step escalates them."""
    AidPost.objects.filter(pk__in=[post.pk for post in posts]).update(created_at=timezone.now() - timedelta(days=2))
    assert posts_escalate() == len(posts)


def fresh(post: AidPost) -> AidPost:
    return AidPost.objects.get(pk=post.pk)


def titles(section) -> list[str]:
    return [post.title for post in section.posts]


@pytest.fixture
def other_building(community) -> object:
    """A building of the same community, in another grid."""
    return PlaceFactory(community=community, name="9号楼", grid=Grid.objects.create(community=community, name="二网格"))


@pytest.fixture
def elsewhere():
    """Another community, with its own committee member and resident."""
    community = CommunityFactory(name="别的社区")
    place = PlaceFactory(community=community, grid=Grid.objects.create(community=community, name="别处网格"))
    committee, resident = UserFactory(), UserFactory()
    MembershipFactory(user=committee, community=community, home_place=place, role=Membership.Role.COMMITTEE)
    MembershipFactory(user=resident, community=community, home_place=place)
    return {"place": place, "committee": committee, "resident": resident}


def disputed(post: AidPost, *, poster, helper) -> AidPost:
    claim_accept(actor=poster, claim=aid_post_claim(actor=helper, post=fresh(post)))
    aid_post_mark_done(actor=helper, post=fresh(post), hours=Decimal("1"))
    return aid_post_dispute(actor=poster, post=fresh(post), reason="没有来")


def confirmed(post: AidPost, *, poster, helper) -> AidPost:
    claim_accept(actor=poster, claim=aid_post_claim(actor=helper, post=fresh(post)))
    aid_post_mark_done(actor=helper, post=fresh(post), hours=Decimal("1"))
    return aid_post_confirm(actor=poster, post=fresh(post))


class TestWhoSeesWhat:
    def test_the_committee_sees_the_escalated_requests_of_the_whole_community_oldest_first(
        self, committee, resident, helper, building, other_building, grid
    ):
        in_grid = new_post(resident, building, "一网格的请求")
        other_grid = new_post(resident, other_building, "二网格的请求")
        escalate(in_grid, other_grid)
        AidPost.objects.filter(pk=other_grid.pk).update(created_at=timezone.now() - timedelta(days=3))
        new_post(resident, building, "刚发的请求")
        offered = new_post(resident, building, "已有人报名")
        escalate(offered)
        aid_post_claim(actor=helper, post=fresh(offered))

        response = logged_in(committee).get(QUEUE)

        assert response.status_code == 200
        assert titles(response.context["queue"].escalated) == ["二网格的请求", "一网格的请求"]
        html = response.content.decode()
        assert "一网格的请求" in html and "二网格的请求" in html
        assert "刚发的请求" not in html and "已有人报名" not in html
        # Grid and building are shown, and the figures cover the whole community.
        assert "二网格" in html and "9号楼" in html
        assert response.context["queue"].measures_all.total == 4

    def test_a_grid_worker_sees_only_the_requests_of_their_grids(self, grid_worker, resident, building, other_building):
        mine, theirs = new_post(resident, building, "一网格的请求"), new_post(resident, other_building, "二网格的请求")
        escalate(mine, theirs)

        response = logged_in(grid_worker).get(QUEUE)

        assert response.status_code == 200
        queue = response.context["queue"]
        assert titles(queue.escalated) == ["一网格的请求"]
        assert "二网格的请求" not in response.content.decode()
        assert queue.measures_all.total == 1
        # Follow-ups are the committee's.
        assert queue.to_follow_up is None
        assert 'id="follow-up"' not in response.content.decode()

    def test_a_grid_worker_without_a_grid_has_an_empty_queue(self, make_member, resident, building, grid):
        worker = make_member(role=Membership.Role.GRID_WORKER)
        escalate(new_post(resident, building, "一网格的请求"))
        response = logged_in(worker).get(QUEUE)
        assert response.status_code == 200
        assert response.context["queue"].escalated.posts == []
        assert "一网格的请求" not in response.content.decode()

    def test_another_communitys_requests_never_appear(self, committee, resident, building, elsewhere):
        ours = new_post(resident, building, "我们的请求")
        theirs = new_post(elsewhere["resident"], elsewhere["place"], "别的社区的请求")
        escalate(ours, theirs)

        ours_page = logged_in(committee).get(QUEUE)
        theirs_page = logged_in(elsewhere["committee"]).get(QUEUE)

        assert titles(ours_page.context["queue"].escalated) == ["我们的请求"]
        assert "别的社区的请求" not in ours_page.content.decode()
        assert ours_page.context["queue"].measures_all.total == 1
        assert titles(theirs_page.context["queue"].escalated) == ["别的社区的请求"]
        assert "我们的请求" not in theirs_page.content.decode()

    def test_a_resident_is_refused_with_a_reason_and_sees_no_request(self, resident, helper, building):
        escalate(new_post(resident, building, "一网格的请求"))
        response = logged_in(helper).get(QUEUE)
        assert response.status_code == 403
        html = response.content.decode()
        assert 'id="queue-denied"' in html
        assert "committee and grid workers" in html
        assert "一网格的请求" not in html
        assert "queue" not in response.context

    def test_a_member_of_staff_elsewhere_only_is_not_staff_here(self, elsewhere, resident, building):
        escalate(new_post(resident, building, "一网格的请求"))
        response = logged_in(elsewhere["committee"]).get(QUEUE)
        assert response.status_code == 200
        assert "一网格的请求" not in response.content.decode()

    def test_a_pending_membership_gives_no_staff_rights(self, community, building, resident):
        hopeful = UserFactory()
        MembershipFactory(
            user=hopeful,
            community=community,
            home_place=building,
            role=Membership.Role.COMMITTEE,
            status=Membership.Status.PENDING,
        )
        escalate(new_post(resident, building, "一网格的请求"))
        response = logged_in(hopeful).get(QUEUE)
        assert response.status_code == 403
        assert "一网格的请求" not in response.content.decode()

    def test_anonymous_visitors_are_sent_to_log_in(self, client):
        response = client.get(QUEUE)
        assert response.status_code == 302
        assert response.url == f"{reverse('account_login')}?next={QUEUE}"

    def test_each_escalated_request_says_how_many_talents_were_asked(self, committee, resident, helper, building):
        asked, not_asked = new_post(resident, building, "问过人了"), new_post(resident, building, "还没问")
        escalate(asked, not_asked)
        dispatch_invite(actor=committee, post=fresh(asked), talent=helper)

        response = logged_in(committee).get(QUEUE)

        counts = {post.title: post.asked_count for post in response.context["queue"].escalated.posts}
        assert counts == {"问过人了": 1, "还没问": 0}
        html = response.content.decode()
        assert "1 talent has been asked already." in html
        assert "No talent has been asked yet." in html


class TestTakingItOn:
    def test_staff_take_an_escalated_request_on_themselves(self, committee, resident, building):
        post = new_post(resident, building, "一网格的请求")
        escalate(post)
        client = logged_in(committee)
        html = client.get(QUEUE).content.decode()
        claim_url = reverse("aid_posts:claim", args=[post.pk])
        assert f'action="{claim_url}"' in html

        response = client.post(claim_url)

        assert response.status_code == 302
        assert response.url == reverse("aid_posts:detail", args=[post.pk])
        assert Claim.objects.filter(post=post, helper=committee, status=Claim.Status.PENDING).exists()
        # Offered: no longer waiting in the queue.
        assert logged_in(committee).get(QUEUE).context["queue"].escalated.posts == []

    def test_no_button_on_a_request_staff_posted_for_a_resident(self, grid_worker, resident, building):
        post = new_post(grid_worker, building, "代办的请求", resident=resident, assisted_consent="by_phone")
        escalate(post)
        html = logged_in(grid_worker).get(QUEUE).content.decode()
        assert "代办的请求" in html
        assert reverse("aid_posts:claim", args=[post.pk]) not in html

    def test_someone_from_another_community_cannot_claim_and_learns_nothing(self, resident, building, elsewhere):
        post = new_post(resident, building, "一网格的请求")
        escalate(post)
        for person in (elsewhere["committee"], elsewhere["resident"]):
            response = logged_in(person).post(reverse("aid_posts:claim", args=[post.pk]))
            assert response.status_code == 404
        assert not Claim.objects.exists()
        assert fresh(post).live_claims == 0


class TestDisputesAndFollowUps:
    def test_disputes_reach_the_grid_worker_but_the_committee_decides(
        self, committee, grid_worker, resident, helper, building
    ):
        post = disputed(new_post(resident, building, "有争议的请求"), poster=resident, helper=helper)
        decide = f'href="{reverse("aid_posts:detail", args=[post.pk])}#resolve-h"'

        committee_page = logged_in(committee).get(QUEUE)
        worker_page = logged_in(grid_worker).get(QUEUE)

        assert titles(committee_page.context["queue"].disputed) == ["有争议的请求"]
        assert committee_page.context["queue"].disputed.posts[0].disputed_at is not None
        assert decide in committee_page.content.decode()
        assert titles(worker_page.context["queue"].disputed) == ["有争议的请求"]
        assert decide not in worker_page.content.decode()
        assert "the committee decides" in worker_page.content.decode()

    def test_finished_requests_without_follow_up_in_the_last_days(self, committee, resident, helper, building):
        waiting = confirmed(new_post(resident, building, "等回访"), poster=resident, helper=helper)
        done_with = confirmed(new_post(resident, building, "已回访"), poster=resident, helper=helper)
        follow_up_record(actor=committee, post=fresh(done_with), method="phone", satisfaction=5)
        long_ago = confirmed(new_post(resident, building, "很久以前"), poster=resident, helper=helper)
        PostEvent.objects.filter(post=long_ago, to_status=AidPost.Status.CONFIRMED).update(
            created_at=timezone.now() - timedelta(days=QUEUE_RECENT_DAYS + 1)
        )
        new_post(resident, building, "还开着")
        Feedback.objects.create(post=waiting, rating=2)

        response = logged_in(committee).get(QUEUE)

        section = response.context["queue"].to_follow_up
        assert titles(section) == ["等回访"]
        html = response.content.decode()
        assert f"{reverse('aid_posts:detail', args=[waiting.pk])}#follow-up-h" in html
        assert "Rated 2 / 5" in html

    def test_follow_ups_are_only_for_the_committees_communities(self, committee, resident, helper, building, elsewhere):
        confirmed(new_post(resident, building, "等回访"), poster=resident, helper=helper)
        other_helper = UserFactory()
        MembershipFactory(user=other_helper, community=elsewhere["place"].community, home_place=elsewhere["place"])
        confirmed(
            new_post(elsewhere["resident"], elsewhere["place"], "别处的"),
            poster=elsewhere["resident"],
            helper=other_helper,
        )
        assert [post.title for post in follow_ups_due(committee)] == ["等回访"]
        assert [post.title for post in follow_ups_due(elsewhere["committee"])] == ["别处的"]
        assert list(follow_ups_due(resident)) == []


class TestEmptyStatesAndFigures:
    def test_an_empty_queue_says_what_to_do_next(self, committee):
        response = logged_in(committee).get(QUEUE)
        html = response.content.decode()
        assert response.status_code == 200
        assert "No request is waiting past its deadline" in html
        assert "No dispute is waiting" in html
        assert "Every recently finished request has been followed up" in html
        assert reverse("aid_posts:create_for") in html

    def test_the_figures_table_is_formatted(self, committee, resident, helper, building):
        post = confirmed(new_post(resident, building, "已完成"), poster=resident, helper=helper)
        AidPost.objects.filter(pk=post.pk).update(created_at=timezone.now() - timedelta(hours=3))
        Claim.objects.filter(post=post).update(created_at=timezone.now() - timedelta(hours=2, minutes=50))
        new_post(resident, building, "还开着")

        response = logged_in(committee).get(QUEUE)

        rows = {row.label: row for row in response.context["figures"]}
        assert rows["Requests posted"].all_time == "2"
        assert rows["Median time to the first offer of help"].all_time == "10 minutes (over 1 request)"
        assert rows["Resolution rate (confirmed of confirmed, closed and expired)"].recent == "100% (1 of 1)"
        assert rows["Poster's rating"].all_time == "—"
        assert "10 minutes (over 1 request)" in response.content.decode()

    def test_formatting_helpers(self):
        with translation.override("en"):
            assert duration_text(None) == "—"
            assert duration_text(timedelta(minutes=1, seconds=10)) == "1 minute"
            assert duration_text(timedelta(minutes=17, seconds=30)) == "18 minutes"
            assert duration_text(timedelta(hours=4, minutes=30)) == "4.5 hours"
            # Rounded, not cut: 4 h 58 min is nearer 5 hours than 4.9.
            assert duration_text(timedelta(hours=4, minutes=58)) == "5.0 hours"
            assert duration_text(timedelta(days=3, hours=12)) == "3.5 days"
            assert median_text(timedelta(hours=2), 3) == "2.0 hours (over 3 requests)"
            assert median_text(None, 0) == "—"
            assert share_text(2, 3) == "67% (2 of 3)"
            assert share_text(0, 0) == "—"
            assert mean_text(4.26, 4) == "4.3 / 5 (4 answers)"
            assert mean_text(None, 0) == "—"


def test_the_page_runs_the_same_queries_for_2_or_20_rows(committee, community, building):
    def rows(count: int) -> None:
        now = timezone.now()
        for _ in range(count):
            AidPostFactory(community=community, place=building, escalated_at=now)
            argued = AidPostFactory(community=community, place=building, status=AidPost.Status.DISPUTED)
            PostEvent.objects.create(post=argued, action="disputed", from_status="done", to_status="disputed")
            finished = AidPostFactory(community=community, place=building, status=AidPost.Status.CONFIRMED)
            PostEvent.objects.create(post=finished, action="confirmed", from_status="done", to_status="confirmed")
            Feedback.objects.create(post=finished, rating=4)

    def queries() -> tuple[int, object]:
        client = logged_in(committee)
        client.get(QUEUE)  # warm the session and the caches of the first request
        with CaptureQueriesContext(connection) as captured:
            response = client.get(QUEUE)
        assert response.status_code == 200
        return len(captured), response.context["queue"]

    rows(2)
    few, queue = queries()
    assert [len(queue.escalated.posts), len(queue.disputed.posts), len(queue.to_follow_up.posts)] == [2, 2, 2]
    rows(18)
    many, queue = queries()
    assert [len(queue.escalated.posts), len(queue.disputed.posts), len(queue.to_follow_up.posts)] == [20, 20, 20]
    assert many == few
    assert not FollowUp.objects.exists()
