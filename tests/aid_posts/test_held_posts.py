"""Requests with a listed word: held for the committee, seen by nobody else, neither listed nor
dispatched; released, they are published and dispatched as a new one is; rejected, they are
hidden and their author is told why. The author never learns which word held it."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from aid_posts.models import AidPost, Dispatch, PostEvent
from aid_posts.permissions import can_cancel, can_review_post, posts_reviewable_by
from aid_posts.selectors import post_list
from aid_posts.selectors.nearby import posts_near
from aid_posts.services import aid_post_cancel, aid_post_create, post_reject, post_release
from committee.selectors.reports import held_queue_for
from messaging.models import Notification
from neighbors.models import AuditEntry, SensitiveWord
from talent_pool.models import TalentProfile, TalentSkill
from tests.factories import skill, window

pytestmark = pytest.mark.django_db

WORD = "高利贷"
HELD_TITLE = "急需周转"
HELD_DESCRIPTION = f"有没有邻居认识做{WORD}的？"


@pytest.fixture(autouse=True)
def english():
    """The services' messages in the source language, whatever the catalogues say."""
    with translation.override("en"):
        yield


@pytest.fixture
def listed(community):
    return SensitiveWord.objects.create(community=community, word=WORD)


@pytest.fixture
def talent(make_member):
    """A neighbour offering the request's category: the one dispatch would ask."""
    user = make_member(username="talent")
    profile = TalentProfile.objects.create(user=user)
    TalentSkill.objects.create(talent=profile, skill=skill(), level=TalentSkill.Level.PROFESSIONAL)
    return user


def create(actor, community, building, *, title=HELD_TITLE, description=HELD_DESCRIPTION, **extra) -> AidPost:
    return aid_post_create(
        **window(),
        actor=actor,
        community=community,
        category=skill(),
        title=title,
        description=description,
        place=building,
        **extra,
    )


@pytest.fixture
def held(resident, community, building, listed, talent):
    return create(resident, community, building)


def form_data(community, building) -> dict:
    starts = timezone.localtime() + timedelta(hours=2)
    return {
        "community": community.pk,
        "category": skill().pk,
        "title": HELD_TITLE,
        "description": HELD_DESCRIPTION,
        "urgency": AidPost.Urgency.NORMAL,
        "seats": 1,
        "place": building.pk,
        "window_starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "window_ends_at": (starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
    }


def flashed(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


class TestHolding:
    def test_a_listed_word_holds_the_request_without_dispatching_it(self, held, talent):
        assert held.status == AidPost.Status.HELD
        assert held.held_for == WORD
        assert not Dispatch.objects.filter(post=held).exists()
        assert not Notification.objects.filter(user=talent).exists()
        [event] = held.events.all()
        assert (event.action, event.to_status) == (PostEvent.Action.POSTED, AidPost.Status.HELD)

    def test_words_in_the_title_count_and_district_words_too(self, resident, community, building):
        SensitiveWord.objects.create(word="转账")
        post = create(resident, community, building, title="请先转 账", description="帮忙看看")
        assert (post.status, post.held_for) == (AidPost.Status.HELD, "转账")

    def test_a_word_split_between_title_and_description_holds_nothing(self, resident, community, building):
        SensitiveWord.objects.create(community=community, word="微信")
        post = create(resident, community, building, title="稍微", description="信里写了地址")
        assert (post.status, post.held_for) == (AidPost.Status.OPEN, "")

    def test_another_communitys_word_holds_nothing_here(self, resident, community, building, outsider, talent):
        SensitiveWord.objects.create(community=outsider.memberships.get().community, word=WORD)
        post = create(resident, community, building)
        assert post.status == AidPost.Status.OPEN
        assert Dispatch.objects.filter(post=post, talent=talent).exists()

    def test_a_request_posted_for_a_resident_is_held_too(self, committee, resident, community, building, listed):
        post = create(committee, community, building, resident=resident, assisted_consent="by_phone")
        assert (post.status, post.author, post.assisted_by) == (AidPost.Status.HELD, resident, committee)

    def test_the_author_is_told_it_awaits_review_but_never_which_word(self, client, resident, community, building):
        SensitiveWord.objects.create(community=community, word="周转")
        client.force_login(resident)

        response = client.post(
            reverse("aid_posts:create"), form_data(community, building), follow=True, HTTP_ACCEPT_LANGUAGE="en"
        )

        post = AidPost.objects.get()
        assert post.status == AidPost.Status.HELD
        assert flashed(response) == [
            "Your request awaits committee review. Neighbours will see it once it is published."
        ]
        html = response.content.decode()
        assert 'id="held-note"' in html
        assert "Your request awaits committee review" in html
        assert "Held for" not in html and post.held_for not in html.replace(post.title, "")

    def test_nobody_else_sees_it_and_nothing_lists_it(self, client, held, helper, talent, committee, building):
        for neighbour in (helper, talent):
            assert held not in post_list(neighbour)
            assert posts_near(neighbour, origin=building, radius_m=1000).total == 0
            client.force_login(neighbour)
            assert client.get(reverse("aid_posts:detail", args=[held.pk])).status_code == 404
            assert client.post(reverse("aid_posts:claim", args=[held.pk])).status_code == 404
        # Its author and the committee open it; nobody lists it as open
        for insider in (held.author, committee):
            client.force_login(insider)
            assert client.get(reverse("aid_posts:detail", args=[held.pk])).status_code == 200
            assert held not in post_list(insider)


class TestRelease:
    @pytest.mark.parametrize("staff", ["committee", "grid_worker"])
    def test_release_publishes_dispatches_and_records(self, request, held, helper, talent, building, staff):
        reviewer = request.getfixturevalue(staff)

        post_release(actor=reviewer, post=held)

        held.refresh_from_db()
        assert held.status == AidPost.Status.OPEN
        assert held in post_list(helper)
        assert [row.post for row in posts_near(helper, origin=building, radius_m=1000).rows] == [held]
        assert Dispatch.objects.filter(post=held, talent=talent).exists()
        assert Notification.objects.filter(user=talent, kind=Notification.Kind.DISPATCH).exists()
        told = Notification.objects.get(user=held.author, kind=Notification.Kind.DECISION)
        assert held.title in told.title and WORD not in told.body
        [entry] = AuditEntry.objects.all()
        assert (entry.actor, entry.action, entry.subject, entry.target) == (
            reviewer,
            AuditEntry.Action.HELD_RELEASED,
            held.author,
            f"aid_post:{held.pk}",
        )
        assert entry.community_id == held.community_id and entry.detail == {"words": WORD}
        assert held.events.last().actor == reviewer

    def test_deciding_twice_is_a_clear_error(self, held, committee, grid_worker):
        post_release(actor=committee, post=held)
        with pytest.raises(ValidationError, match="already been reviewed"):
            post_release(actor=grid_worker, post=held)
        with pytest.raises(ValidationError, match="already been reviewed"):
            post_reject(actor=grid_worker, post=held, reason="晚了")
        assert AuditEntry.objects.count() == 1
        assert Dispatch.objects.filter(post=held).count() == 1

    @pytest.mark.parametrize("who", ["resident", "helper", "outsider", "other_committee"])
    def test_nobody_else_may_decide(self, request, held, who):
        someone = request.getfixturevalue(who)
        assert not can_review_post(someone, held)
        with pytest.raises(PermissionDenied):
            post_release(actor=someone, post=held)
        with pytest.raises(PermissionDenied):
            post_reject(actor=someone, post=held, reason="不行")
        held.refresh_from_db()
        assert held.status == AidPost.Status.HELD
        assert not AuditEntry.objects.exists()

    def test_staff_never_decide_on_what_they_posted(
        self, committee, grid_worker, resident, community, building, listed
    ):
        # Given the committee member posts for a resident, and the list holds it
        post = create(committee, community, building, resident=resident, assisted_consent="in_person")
        # Then they cannot release it; the grid worker can
        with pytest.raises(PermissionDenied):
            post_release(actor=committee, post=post)
        assert list(posts_reviewable_by(committee)) == []
        assert list(posts_reviewable_by(grid_worker)) == [post]
        # And a committee member's own request is never theirs to review either
        own = create(committee, community, building)
        with pytest.raises(PermissionDenied):
            post_release(actor=committee, post=own)

    def test_a_request_that_expired_while_held_is_not_published(self, held, committee):
        AidPost.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        with pytest.raises(ValidationError, match="expired while it waited"):
            post_release(actor=committee, post=held)
        held.refresh_from_db()
        assert held.status == AidPost.Status.HELD
        assert not AuditEntry.objects.exists()


class TestReject:
    def test_reject_hides_it_and_tells_the_author_why(self, held, committee, helper, building):
        post_reject(actor=committee, post=held, reason="  涉及借贷推广  ")

        held.refresh_from_db()
        assert held.status == AidPost.Status.CANCELLED
        assert (held.is_hidden, held.hidden_reason, held.hidden_by) == (True, "涉及借贷推广", committee)
        told = Notification.objects.get(user=held.author, kind=Notification.Kind.DECISION)
        assert told.body == "涉及借贷推广" and held.title in told.title
        assert held not in post_list(helper) and held not in post_list(held.author)
        assert posts_near(helper, origin=building, radius_m=1000).total == 0
        assert not Dispatch.objects.filter(post=held).exists()
        [entry] = AuditEntry.objects.all()
        assert (entry.actor, entry.action, entry.subject, entry.reason) == (
            committee,
            AuditEntry.Action.HELD_REJECTED,
            held.author,
            "涉及借贷推广",
        )

    def test_the_relaying_staff_member_is_told_too(self, committee, grid_worker, resident, community, building, listed):
        post = create(committee, community, building, resident=resident, assisted_consent="by_phone")
        post_reject(actor=grid_worker, post=post, reason="请换个说法")
        told = Notification.objects.filter(kind=Notification.Kind.DECISION).values_list("user", flat=True)
        assert sorted(told) == sorted([resident.pk, committee.pk])

    @pytest.mark.parametrize("reason", ["", "   ", "长" * 301])
    def test_a_reason_is_required_and_short(self, held, committee, reason):
        with pytest.raises(ValidationError):
            post_reject(actor=committee, post=held, reason=reason)
        held.refresh_from_db()
        assert (held.status, held.is_hidden) == (AidPost.Status.HELD, False)
        assert not Notification.objects.filter(kind=Notification.Kind.DECISION).exists()
        assert not AuditEntry.objects.exists()

    def test_a_failure_after_the_decision_leaves_nothing_behind(self, held, committee, monkeypatch):
        from aid_posts.services import review

        def broken(*args, **kwargs):
            raise RuntimeError("the notification could not be stored")

        monkeypatch.setattr(review, "_notify_poster", broken)
        with pytest.raises(RuntimeError):
            post_reject(actor=committee, post=held, reason="涉及借贷推广")
        held.refresh_from_db()
        assert (held.status, held.is_hidden) == (AidPost.Status.HELD, False)
        assert not AuditEntry.objects.exists()


class TestExpiry:
    def test_a_held_request_past_its_expiry_expires_in_the_sweep(self, held, committee, listed):
        AidPost.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

        call_command("requests_sweep", stdout=io.StringIO())

        held.refresh_from_db()
        assert held.status == AidPost.Status.EXPIRED
        assert list(posts_reviewable_by(committee).filter(status=AidPost.Status.HELD)) == []
        assert Notification.objects.filter(user=held.author, kind=Notification.Kind.REQUEST_UPDATE).exists()

    def test_a_held_request_still_in_time_stays_held(self, held):
        call_command("requests_sweep", stdout=io.StringIO())
        held.refresh_from_db()
        assert held.status == AidPost.Status.HELD


class TestCancelWhileHeld:
    def test_its_author_calls_it_off_and_it_leaves_the_held_queue(self, client, held, committee, grid_worker):
        # Given a request held for review: its author may cancel it, and sees the button
        assert can_cancel(held.author, held)
        client.force_login(held.author)
        page = client.get(reverse("aid_posts:detail", args=[held.pk]), HTTP_ACCEPT_LANGUAGE="en")
        cancel_url = reverse("aid_posts:cancel", args=[held.pk])
        assert f'action="{cancel_url}"' in page.content.decode()

        # When they cancel it
        response = client.post(cancel_url, follow=True, HTTP_ACCEPT_LANGUAGE="en")

        # Then it is cancelled, recorded as theirs, and off the committee's held queue
        assert flashed(response) == ["The request was cancelled."]
        held.refresh_from_db()
        assert held.status == AidPost.Status.CANCELLED and not held.is_hidden
        event = held.events.get(action=PostEvent.Action.CANCELLED)
        assert (event.actor, event.from_status, event.to_status) == (
            held.author,
            AidPost.Status.HELD,
            AidPost.Status.CANCELLED,
        )
        assert held_queue_for(committee).posts == []
        # And a reviewer acting on a page read before is told why, and nothing is decided
        with pytest.raises(ValidationError, match="Its author cancelled this request while it waited for review"):
            post_release(actor=committee, post=held)
        with pytest.raises(ValidationError, match="Its author cancelled this request while it waited for review"):
            post_reject(actor=grid_worker, post=held, reason="涉及借贷推广")
        held.refresh_from_db()
        assert held.status == AidPost.Status.CANCELLED and not held.is_hidden
        assert not AuditEntry.objects.exists()
        assert not Dispatch.objects.filter(post=held).exists()

    def test_whoever_posted_it_for_the_resident_may_cancel_it_too(
        self, committee, grid_worker, resident, community, building, listed
    ):
        post = create(committee, community, building, resident=resident, assisted_consent="by_phone")
        assert can_cancel(committee, post) and can_cancel(resident, post)
        aid_post_cancel(actor=committee, post=post)
        post.refresh_from_db()
        assert post.status == AidPost.Status.CANCELLED
        assert held_queue_for(grid_worker).posts == []

    @pytest.mark.parametrize("who", ["helper", "committee", "grid_worker", "outsider"])
    def test_nobody_else_cancels_it(self, request, held, who):
        someone = request.getfixturevalue(who)
        assert not can_cancel(someone, held)
        with pytest.raises(PermissionDenied):
            aid_post_cancel(actor=someone, post=held)
        held.refresh_from_db()
        assert held.status == AidPost.Status.HELD
        assert not held.events.filter(action=PostEvent.Action.CANCELLED).exists()

    def test_a_rejected_request_is_already_reviewed_not_cancelled_by_its_author(self, held, committee, grid_worker):
        post_reject(actor=committee, post=held, reason="涉及借贷推广")
        held.refresh_from_db()
        assert not can_cancel(held.author, held)
        with pytest.raises(PermissionDenied):
            aid_post_cancel(actor=held.author, post=held)
        with pytest.raises(ValidationError, match="already been reviewed"):
            post_release(actor=grid_worker, post=held)
