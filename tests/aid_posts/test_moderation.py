"""The committee hides a help request or a welfare role (and restores it): only its author, whoever
posted it for them and the community's staff see it then, marked with the reason; nobody else
lists, opens, claims or is asked to help with it. And a suspended member neither posts nor
claims in their community, told until when and why."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from aid_posts.models import AidPost, Claim, PostEvent, Reminder, RoleClaim, WelfareRole
from aid_posts.permissions import (
    can_claim_post,
    can_claim_role,
    can_moderate_post,
    can_moderate_role,
    can_view_post,
    posts_moderated_by,
    posts_visible_to,
    roles_moderated_by,
    roles_visible_to,
)
from aid_posts.selectors import post_list, posts_by, role_list
from aid_posts.selectors.nearby import posts_near
from aid_posts.selectors.queue import escalated_unclaimed
from aid_posts.services import (
    aid_post_claim,
    aid_post_create,
    aid_post_mark_done,
    claim_accept,
    post_hide,
    post_restore,
    posts_escalate,
    posts_expire,
    posts_remind,
    role_claim,
    role_hide,
    role_restore,
    welfare_role_create,
)
from aid_posts.services.dispatch import dispatch_invite
from messaging.models import Notification
from neighbors.models import AuditEntry, Membership
from neighbors.services import Suspended, suspension_start
from talent_pool.services import talent_skill_add
from tests.factories import AidPostFactory, CommunityFactory, MembershipFactory, UserFactory, skill, window

pytestmark = pytest.mark.django_db

REASON = "含有虚假中介信息"
SUSPENDED_FOR = "多次发布广告"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def flashed(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


@pytest.fixture
def role(committee, community, building):
    today = timezone.localdate()
    return welfare_role_create(
        actor=committee,
        community=community,
        title="周六作业辅导",
        description="在社区活动室辅导小学生作业。",
        skill=skill("tutoring"),
        seats=2,
        weekday=WelfareRole.Weekday.SATURDAY,
        starts_at=time(9),
        ends_at=time(11),
        term_start=today,
        term_end=today + timedelta(days=300),
        place=building,
    )


def suspend(committee, person, days=7):
    return suspension_start(actor=committee, membership=person.memberships.get(), days=days, reason=SUSPENDED_FOR)


class TestHidingRequests:
    def test_a_hidden_request_is_seen_only_by_its_people_and_the_staff(
        self, post, committee, grid_worker, resident, helper, building
    ):
        # When a committee member hides the resident's open request
        hidden = post_hide(actor=committee, post=post, reason=f" {REASON} ")

        # Then it is marked, recorded, and its author told why
        assert (hidden.hidden_by, hidden.hidden_reason, hidden.status) == (committee, REASON, AidPost.Status.OPEN)
        entry = AuditEntry.objects.get(action=AuditEntry.Action.CONTENT_HIDDEN)
        assert (entry.actor, entry.subject, entry.target, entry.reason) == (committee, resident, post.subject, REASON)
        told = Notification.objects.get(user=resident, kind=Notification.Kind.DECISION)
        assert (told.body, told.url) == (REASON, reverse("aid_posts:detail", args=[post.pk]))
        # And a neighbour neither lists, opens, maps nor claims it (all 404, as if missing)
        assert not can_view_post(helper, post)
        assert post not in post_list(helper)
        assert posts_near(helper, origin=building, radius_m=1000).total == 0
        helper_client = logged_in(helper)
        assert helper_client.get(reverse("aid_posts:detail", args=[post.pk])).status_code == 404
        for url in (reverse("aid_posts:list"), reverse("home")):
            response = helper_client.get(url)
            assert response.status_code == 200
            assert post.title not in response.content.decode()
        assert helper_client.post(reverse("aid_posts:claim", args=[post.pk])).status_code == 404
        assert not Claim.objects.exists()
        # And its author and the staff open it, marked with the reason, but it is off the open lists
        for insider in (resident, committee, grid_worker):
            page = logged_in(insider).get(reverse("aid_posts:detail", args=[post.pk]))
            assert page.status_code == 200
            assert f"Hidden by the committee: {REASON}" in page.content.decode()
            assert post not in post_list(insider)
            assert not can_claim_post(insider, post)
        assert post in posts_by(resident)

    def test_the_staff_cannot_claim_it_or_ask_anyone_to_help(self, post, committee, grid_worker, helper):
        post_hide(actor=committee, post=post, reason=REASON)
        with pytest.raises(ValidationError):
            aid_post_claim(actor=grid_worker, post=post)
        with pytest.raises(ValidationError, match="The committee hid this request"):
            dispatch_invite(actor=committee, post=post, talent=helper)
        post.refresh_from_db()
        assert (post.live_claims, post.dispatches.count()) == (0, 0)

    def test_restoring_puts_it_back_as_it_was(self, post, committee, helper, resident, building):
        post_hide(actor=committee, post=post, reason=REASON)

        restored = post_restore(actor=committee, post=post)

        assert not restored.is_hidden and restored.hidden_reason == ""
        assert can_view_post(helper, post) and post in post_list(helper)
        assert posts_near(helper, origin=building, radius_m=1000).total == 1
        assert can_claim_post(helper, post)
        assert AuditEntry.objects.filter(action=AuditEntry.Action.CONTENT_RESTORED, target=post.subject).exists()
        # Told in their own language (the resident's is zh-hans).
        with translation.override("zh-hans"):
            shown_again = gettext("Your request “%(title)s” is shown again") % {"title": post.title}
        assert Notification.objects.filter(user=resident, title=shown_again).exists()

    def test_whoever_posted_it_for_the_resident_still_sees_it(
        self, grid_worker, committee, resident, helper, community
    ):
        # Given a request a grid worker posted for a resident
        relayed = aid_post_create(
            **window(),
            actor=grid_worker,
            resident=resident,
            assisted_consent=AidPost.AssistedConsent.IN_PERSON,
            community=community,
            category=skill(),
            title="代办：买药",
            description="帮忙去药店买降压药。",
            place=resident.memberships.get().home_place,
        )
        post_hide(actor=committee, post=relayed, reason=REASON)
        assert can_view_post(grid_worker, relayed) and can_view_post(resident, relayed)
        assert not can_view_post(helper, relayed)
        # Both hear why
        assert Notification.objects.filter(kind=Notification.Kind.DECISION, body=REASON).count() == 2

    def test_who_may_not_hide(self, post, resident, helper, other_committee, committee):
        for someone in (resident, helper, other_committee):
            with pytest.raises(PermissionDenied):
                post_hide(actor=someone, post=post, reason=REASON)
        assert not AidPost.objects.filter(hidden_at__isnull=False).exists()
        # Nor a member of staff their own request
        own = AidPostFactory(community=post.community, author=committee, place=post.place)
        with pytest.raises(PermissionDenied):
            post_hide(actor=committee, post=own, reason=REASON)

    def test_without_a_reason_twice_or_restoring_what_is_shown_is_refused(self, post, committee):
        with pytest.raises(ValidationError) as refused:
            post_hide(actor=committee, post=post, reason="  ")
        assert "reason" in refused.value.message_dict
        with pytest.raises(ValidationError, match="not hidden"):
            post_restore(actor=committee, post=post)
        post_hide(actor=committee, post=post, reason=REASON)
        with pytest.raises(ValidationError, match="already hidden"):
            post_hide(actor=committee, post=post, reason=REASON)
        assert AuditEntry.objects.filter(action=AuditEntry.Action.CONTENT_HIDDEN).count() == 1


class TestHeldAndHiddenVisibility:
    @pytest.mark.parametrize("state", ["held", "hidden", "open"])
    def test_the_rule_and_its_queryset_agree(
        self, state, community, building, resident, helper, committee, grid_worker, outsider
    ):
        # Given a post held for review, hidden, or open
        post = AidPostFactory(community=community, author=resident, place=building)
        if state == "held":
            AidPost.objects.filter(pk=post.pk).update(status=AidPost.Status.HELD, held_for="x")
        elif state == "hidden":
            AidPost.objects.filter(pk=post.pk).update(hidden_at=timezone.now(), hidden_reason=REASON)
        # Then its author and the staff see it, a neighbour only when open, an outsider never
        expected = {resident: True, committee: True, grid_worker: True, helper: state == "open", outsider: False}
        for viewer, sees in expected.items():
            assert can_view_post(viewer, post) is sees, viewer
            assert posts_visible_to(viewer).filter(pk=post.pk).exists() is sees, viewer

    def test_the_moderation_rules_and_their_querysets_agree(self, post, role, committee, grid_worker, helper):
        for viewer in (committee, grid_worker, helper, post.author):
            assert can_moderate_post(viewer, post) is posts_moderated_by(viewer).filter(pk=post.pk).exists()
            assert can_moderate_role(viewer, role) is roles_moderated_by(viewer).filter(pk=role.pk).exists()
        assert can_moderate_post(grid_worker, post) and not can_moderate_role(grid_worker, role)
        assert not can_moderate_post(post.author, post)


class TestHidingRoles:
    def test_a_hidden_role_is_the_staffs_alone(self, role, committee, grid_worker, helper, make_member):
        # Given a holder of a seat
        holder = make_member(username="holder")
        RoleClaim.objects.create(role=role, holder=holder, status=RoleClaim.Status.APPROVED)

        # When the committee hides the role
        role_hide(actor=committee, role=role, reason=REASON)

        # Then a member (its holder too) no longer sees or lists it; staff do, marked
        today = timezone.localdate()
        for member in (helper, holder):
            assert not roles_visible_to(member).filter(pk=role.pk).exists()
            assert logged_in(member).get(reverse("aid_posts:role_detail", args=[role.pk])).status_code == 404
        page = logged_in(grid_worker).get(reverse("aid_posts:role_detail", args=[role.pk]))
        assert f"Hidden by the committee: {REASON}" in page.content.decode()
        assert role not in role_list(committee, today=today)
        # And nobody claims it, staff included
        assert not can_claim_role(grid_worker, role, today)
        talent_skill_add(actor=grid_worker, skill=skill("tutoring"))
        with pytest.raises(ValidationError, match="hid this role"):
            role_claim(actor=grid_worker, role=role)
        # The holder is told why
        assert Notification.objects.get(user=holder, kind=Notification.Kind.DECISION).body == REASON
        entry = AuditEntry.objects.get(action=AuditEntry.Action.CONTENT_HIDDEN)
        assert entry.target == role.subject

    def test_only_the_committee_hides_and_restores(self, role, committee, grid_worker, helper):
        for someone in (grid_worker, helper):
            with pytest.raises(PermissionDenied):
                role_hide(actor=someone, role=role, reason=REASON)
        role_hide(actor=committee, role=role, reason=REASON)
        with pytest.raises(PermissionDenied):
            role_restore(actor=grid_worker, role=role)
        role_restore(actor=committee, role=role)
        assert roles_visible_to(helper).filter(pk=role.pk).exists()
        with pytest.raises(ValidationError, match="not hidden"):
            role_restore(actor=committee, role=role)

    def test_a_reason_is_required(self, role, committee):
        with pytest.raises(ValidationError):
            role_hide(actor=committee, role=role, reason="")
        role.refresh_from_db()
        assert not role.is_hidden


class TestSuspended:
    def test_a_suspended_member_cannot_post_and_the_form_says_why(self, committee, resident, community, building):
        suspend(committee, resident)
        with pytest.raises(ValidationError) as refused:
            aid_post_create(
                **window(),
                actor=resident,
                community=community,
                category=skill(),
                title="帮忙",
                description="帮忙搬东西",
                place=building,
            )
        assert f"You are suspended in {community.name} until" in " ".join(refused.value.messages)

        # Through the page: a form error, nothing stored
        starts = timezone.localtime() + timedelta(hours=2)
        response = logged_in(resident).post(
            reverse("aid_posts:create"),
            {
                "community": community.pk,
                "category": skill().pk,
                "title": "帮忙搬米",
                "description": "一袋米",
                "urgency": 0,
                "seats": 1,
                "place": building.pk,
                "window_starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
                "window_ends_at": (starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            },
        )
        assert response.status_code == 400
        text = response.content.decode()
        assert "You are suspended in" in text and SUSPENDED_FOR in text
        assert not AidPost.objects.exists()

    def test_nobody_posts_for_a_suspended_resident_nor_does_a_suspended_grid_worker(
        self, committee, grid_worker, resident, helper, community, building
    ):
        def post_for(actor, person):
            return aid_post_create(
                **window(),
                actor=actor,
                resident=person,
                assisted_consent=AidPost.AssistedConsent.BY_PHONE,
                community=community,
                category=skill(),
                title="代办",
                description="代办",
                place=building,
            )

        suspend(committee, resident)
        with pytest.raises(ValidationError, match=f"{resident.profile} is suspended in"):
            post_for(grid_worker, resident)
        suspend(committee, grid_worker)
        with pytest.raises(ValidationError, match="You are suspended in"):
            post_for(grid_worker, helper)
        assert not AidPost.objects.exists()

    def test_a_suspended_member_cannot_offer_help_and_is_told_why(self, committee, helper, post):
        suspend(committee, helper)

        response = logged_in(helper).post(reverse("aid_posts:claim", args=[post.pk]))

        assert response.status_code == 302
        [message] = flashed(response)
        assert message.startswith(f"You are suspended in {post.community.name} until ")
        assert message.endswith(SUSPENDED_FOR)
        assert not Claim.objects.exists()
        post.refresh_from_db()
        assert post.live_claims == 0

    def test_a_suspended_talent_cannot_claim_a_role(self, committee, helper, role):
        talent_skill_add(actor=helper, skill=skill("tutoring"))
        suspend(committee, helper)
        with pytest.raises(ValidationError, match="You are suspended in"):
            role_claim(actor=helper, role=role)
        assert not RoleClaim.objects.exists()

    def test_once_it_ends_claiming_works_again_at_once(self, committee, helper, post):
        suspension = suspend(committee, helper)
        type(suspension).objects.filter(pk=suspension.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
        aid_post_claim(actor=helper, post=post)
        assert Claim.objects.filter(helper=helper).exists()


# --- Nothing automatic goes out about a hidden request ------------------------------------------


def later(days: float = 2):
    """A sweep's "now" well past every deadline of a request posted now (its window ends within hours)."""
    return timezone.now() + timedelta(days=days)


class TestHiddenRequestsAreNotChased:
    def test_a_hidden_request_does_not_escalate_and_does_once_restored(self, post, committee, grid_worker, resident):
        # Given an open request nobody offered to help with, hidden by the committee
        post_hide(actor=committee, post=post, reason=REASON)
        AidPost.objects.filter(pk=post.pk).update(created_at=timezone.now() - timedelta(days=2))

        # When the sweep looks for overdue requests
        escalated = posts_escalate()

        # Then it is not escalated: no queue entry, no event, no staff told
        post.refresh_from_db()
        assert (escalated, post.escalated_at) == (0, None)
        assert not post.events.filter(action=PostEvent.Action.ESCALATED).exists()
        assert not Notification.objects.filter(kind=Notification.Kind.ESCALATION).exists()
        assert post not in escalated_unclaimed(committee)

        # And once restored, the next run escalates it as any other
        post_restore(actor=committee, post=post)
        assert posts_escalate() == 1
        told = Notification.objects.filter(kind=Notification.Kind.ESCALATION).values_list("user", flat=True)
        assert sorted(told) == sorted([committee.pk, grid_worker.pk])

    @pytest.mark.parametrize("waiting", ["decide", "confirm", "mark_done"])
    def test_no_reminder_about_a_hidden_request(self, waiting, post, committee, resident, helper):
        # Given a request waiting on someone: an offer to decide, help to confirm, or to mark done
        claim = aid_post_claim(actor=helper, post=post)
        if waiting != "decide":
            claim_accept(actor=resident, claim=claim)
        if waiting == "confirm":
            aid_post_mark_done(actor=helper, post=AidPost.objects.get(pk=post.pk), hours=Decimal("1"))
        reminded = resident if waiting in ("decide", "confirm") else helper
        # And the committee hid it
        post_hide(actor=committee, post=AidPost.objects.get(pk=post.pk), reason=REASON)

        # When the reminders run long after
        sent = posts_remind(now=later())

        # Then nobody is reminded, and nothing is marked as sent
        assert sent == 0
        assert not Reminder.objects.exists()
        assert not Notification.objects.filter(kind=Notification.Kind.REMINDER).exists()

        # And restored, the reminder goes out
        post_restore(actor=committee, post=AidPost.objects.get(pk=post.pk))
        assert posts_remind(now=later()) == 1
        [reminder] = Notification.objects.filter(kind=Notification.Kind.REMINDER)
        assert reminder.user == reminded

    def test_a_hidden_request_expires_without_telling_anyone(
        self, post, committee, resident, helper, community, building
    ):
        # Given two requests past their expiry with an offer waiting, one hidden
        shown = aid_post_create(
            **window(),
            actor=resident,
            community=community,
            category=skill(),
            title="换灯泡",
            description="换灯泡",
            place=building,
        )
        for each in (post, shown):
            aid_post_claim(actor=helper, post=each)
        post_hide(actor=committee, post=AidPost.objects.get(pk=post.pk), reason=REASON)
        told_before = set(Notification.objects.values_list("pk", flat=True))

        # When the sweep runs
        assert posts_expire(now=later()) == 2

        # Then both expire and their offers end, but only the shown one's people hear of it
        for each in (post, shown):
            each.refresh_from_db()
            assert each.status == AidPost.Status.EXPIRED
            assert not each.claims.filter(status__in=Claim.LIVE).exists()
        told = Notification.objects.exclude(pk__in=told_before)
        assert {(n.user, n.url) for n in told} == {
            (resident, reverse("aid_posts:detail", args=[shown.pk])),
            (helper, reverse("aid_posts:detail", args=[shown.pk])),
        }

    def test_the_queue_marks_a_request_hidden_after_it_escalated_and_offers_no_button_on_it(
        self, post, committee, resident, community, building
    ):
        # Given two escalated requests, one hidden afterwards
        shown = aid_post_create(
            **window(),
            actor=resident,
            community=community,
            category=skill(),
            title="换灯泡",
            description="换灯泡",
            place=building,
        )
        AidPost.objects.filter(pk__in=[post.pk, shown.pk]).update(created_at=timezone.now() - timedelta(days=2))
        assert posts_escalate() == 2
        post_hide(actor=committee, post=AidPost.objects.get(pk=post.pk), reason=REASON)

        # When the committee opens its queue
        response = logged_in(committee).get(reverse("aid_posts:queue"))

        # Then both are listed, the hidden one marked with the reason and without invite or take-on
        html = response.content.decode()
        assert [p.title for p in response.context["queue"].escalated.posts] == [post.title, shown.title]
        assert html.count(f"Hidden by the committee: {REASON}") == 1
        assert "Nobody can be invited or offer help while it is hidden." in html
        for pk, offered in ((post.pk, False), (shown.pk, True)):
            assert (f'action="{reverse("aid_posts:claim", args=[pk])}"' in html) is offered
            assert (f'href="{reverse("aid_posts:detail", args=[pk])}#dispatch-h"' in html) is offered


# --- A suspended member is told, not offered buttons that refuse --------------------------------


def suspended_sentence(suspension) -> str:
    """The page's sentence: the very one the services refuse with."""
    return escape(Suspended(suspension).message)


class TestSuspendedPages:
    def test_the_request_page_says_why_instead_of_offering_help(self, committee, helper, make_member, post):
        # Given a suspended member and one who is not
        suspension = suspend(committee, helper)
        neighbour = make_member(username="neighbour")
        claim_url = f'action="{reverse("aid_posts:claim", args=[post.pk])}"'

        # Then the suspended member reads why, and gets no "I can help"
        html = logged_in(helper).get(reverse("aid_posts:detail", args=[post.pk])).content.decode()
        assert suspended_sentence(suspension) in html
        assert SUSPENDED_FOR in html
        assert claim_url not in html and "I can help" not in html
        # And the other one gets the button, and no sentence
        html = logged_in(neighbour).get(reverse("aid_posts:detail", args=[post.pk])).content.decode()
        assert claim_url in html and "I can help" in html
        assert "You are suspended" not in html

    def test_a_lifted_or_ended_suspension_brings_the_button_back(self, committee, helper, post):
        suspension = suspend(committee, helper)
        type(suspension).objects.filter(pk=suspension.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
        html = logged_in(helper).get(reverse("aid_posts:detail", args=[post.pk])).content.decode()
        assert f'action="{reverse("aid_posts:claim", args=[post.pk])}"' in html
        assert "You are suspended" not in html

    def test_the_author_sees_no_sentence_where_no_button_would_be(self, committee, resident, post):
        # Their own request: nothing to claim, so nothing to refuse
        suspend(committee, resident)
        html = logged_in(resident).get(reverse("aid_posts:detail", args=[post.pk])).content.decode()
        assert "You are suspended" not in html
        assert f'action="{reverse("aid_posts:claim", args=[post.pk])}"' not in html

    def test_the_role_page_says_why_instead_of_the_claim_form(self, committee, helper, make_member, role):
        # Given two qualified talents, one suspended
        talent = make_member(username="talent")
        for person in (helper, talent):
            talent_skill_add(actor=person, skill=skill("tutoring"))
        suspension = suspend(committee, helper)
        claim_url = f'action="{reverse("aid_posts:role_claim", args=[role.pk])}"'

        html = logged_in(helper).get(reverse("aid_posts:role_detail", args=[role.pk])).content.decode()
        assert suspended_sentence(suspension) in html
        assert claim_url not in html and "Claim a seat" not in html

        html = logged_in(talent).get(reverse("aid_posts:role_detail", args=[role.pk])).content.decode()
        assert claim_url in html and "Claim a seat" in html
        assert "You are suspended" not in html

    def test_suspended_in_every_community_the_ask_page_says_why_instead_of_the_form(self, committee, resident):
        suspension = suspend(committee, resident)

        response = logged_in(resident).get(reverse("aid_posts:create"))

        assert response.status_code == 200
        html = response.content.decode()
        assert suspended_sentence(suspension) in html
        assert "Post the request" not in html and 'enctype="multipart/form-data"' not in html

    def test_suspended_in_one_community_of_two_the_form_stays(self, committee, resident):
        # Given a resident of a second community, suspended in the first only
        elsewhere = CommunityFactory(name="海滨社区")
        other_committee = UserFactory(username="haibin-committee")
        MembershipFactory(user=other_committee, community=elsewhere, role=Membership.Role.COMMITTEE)
        there = MembershipFactory(user=resident, community=elsewhere)
        here = suspension_start(
            actor=committee, membership=resident.memberships.exclude(pk=there.pk).get(), days=7, reason=SUSPENDED_FOR
        )

        # Then the form stays (the service refuses the first community with the sentence)
        html = logged_in(resident).get(reverse("aid_posts:create")).content.decode()
        assert "Post the request" in html
        assert "You are suspended" not in html

        # And suspended in the second too, both sentences replace it, one per community
        there_too = suspension_start(actor=other_committee, membership=there, days=3, reason="发布虚假信息")
        html = logged_in(resident).get(reverse("aid_posts:create")).content.decode()
        assert suspended_sentence(here) in html and suspended_sentence(there_too) in html
        assert "Post the request" not in html

    def test_not_suspended_the_ask_page_shows_the_form(self, resident):
        html = logged_in(resident).get(reverse("aid_posts:create")).content.decode()
        assert "Post the request" in html
        assert "You are suspended" not in html
