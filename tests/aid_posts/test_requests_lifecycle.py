"""Requests in depth: seats, going ahead, closing with several helpers, disputes, ratings,
follow-ups, assisted posting, private details, photos, and the scheduled sweep."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone, translation
from PIL import Image

from aid_posts.models import AidPost, Claim, Feedback, FollowUp, PostEvent, PostPhoto, Reminder
from aid_posts.services import (
    DISPUTE_CLOSE,
    DISPUTE_CONFIRM,
    aid_post_cancel,
    aid_post_claim,
    aid_post_confirm,
    aid_post_create,
    aid_post_dispute,
    aid_post_mark_done,
    aid_post_start,
    aid_post_take_over,
    claim_accept,
    claim_decline,
    dispute_resolve,
    feedback_give,
    follow_up_record,
    posts_escalate,
    posts_expire,
    posts_remind,
)
from messaging.models import Conversation, Notification
from neighbors.images import image_process
from neighbors.models import AuditEntry, Consent, LedgerEntry, Membership, Partnership
from neighbors.services import consent_grant, consent_withdraw
from talent_pool.models import HelpRecord
from tests.factories import skill, window

pytestmark = pytest.mark.django_db


def new_post(author, community, building, **kwargs) -> AidPost:
    arguments = {
        "actor": author,
        "community": community,
        "category": skill(),
        "title": "搬衣柜下楼",
        "description": "衣柜很重，需要几个人一起搬。",
        "place": building,
        **window(),
    }
    arguments.update(kwargs)
    return aid_post_create(**arguments)


def photo(colour: str = "red") -> object:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(data, "JPEG")
    return image_process(SimpleUploadedFile("家门口.jpg", data.getvalue(), content_type="image/jpeg"))


def refreshed(post: AidPost) -> AidPost:
    return AidPost.objects.get(pk=post.pk)


class TestBadInputWhenPosting:
    @pytest.mark.parametrize(
        ("times", "field"),
        [
            ({"window_starts_at": -5, "window_ends_at": -2}, "window_ends_at"),
            ({"window_starts_at": 3, "window_ends_at": 2}, "window_ends_at"),
            ({"window_starts_at": 1, "window_ends_at": 24 * 40}, "window_ends_at"),
            ({"window_starts_at": 1, "window_ends_at": 4, "expires_at": -1}, "expires_at"),
            ({"window_starts_at": 1, "window_ends_at": 4, "expires_at": 5}, "expires_at"),
        ],
    )
    def test_times_in_the_past_or_out_of_order_are_refused(self, resident, community, building, times, field):
        now = timezone.now()
        arguments = {name: now + timedelta(hours=hours) for name, hours in times.items()}
        with pytest.raises(ValidationError) as error:
            new_post(resident, community, building, **arguments)
        assert field in error.value.error_dict
        assert not AidPost.objects.exists()

    def test_more_than_four_photos_are_refused_and_nothing_is_stored(self, resident, community, building):
        with pytest.raises(ValidationError) as error:
            new_post(resident, community, building, photos=[photo() for _ in range(5)])
        assert "photos" in error.value.error_dict
        assert not AidPost.objects.exists()
        assert not PostPhoto.objects.exists()

    @pytest.mark.parametrize("seats", [0, 11])
    def test_seats_out_of_range_are_refused(self, resident, community, building, seats):
        with pytest.raises(ValidationError):
            new_post(resident, community, building, seats=seats)
        assert not AidPost.objects.exists()

    def test_private_details_need_the_health_consent(self, resident, community, building):
        with pytest.raises(ValidationError) as error:
            new_post(resident, community, building, sensitive_details="我有糖尿病，需要按时吃药")
        assert "sensitive_details" in error.value.error_dict
        assert not AidPost.objects.exists()
        assert not Consent.objects.filter(user=resident, kind=Consent.Kind.HEALTH).exists()


class TestPosting:
    def test_defaults_and_the_recorded_event(self, resident, community, building):
        post = new_post(resident, community, building, urgency=AidPost.Urgency.URGENT)
        assert (post.seats, post.live_claims, post.expires_at) == (1, 0, post.window_ends_at)
        event = post.events.get()
        assert (event.actor, event.action, event.to_status) == (resident, PostEvent.Action.POSTED, "open")

    def test_photos_are_stored_in_order_without_their_names(self, resident, community, building):
        post = new_post(resident, community, building, photos=[photo("red"), photo("blue")])
        stored = list(post.photos.all())
        assert [p.position for p in stored] == [0, 1]
        assert all("家门口" not in p.image.name for p in stored)

    def test_private_details_only_for_the_accepted_helpers(self, resident, helper, make_member, community, building):
        from aid_posts.permissions import can_view_sensitive

        post = new_post(resident, community, building, sensitive_details="我有糖尿病", grant_health_consent=True)
        committee = make_member(role=Membership.Role.COMMITTEE)
        claim = aid_post_claim(actor=helper, post=post)
        assert not can_view_sensitive(helper, refreshed(post))
        claim_accept(actor=resident, claim=claim)
        post = refreshed(post)
        assert can_view_sensitive(helper, post)
        assert can_view_sensitive(resident, post)
        assert not can_view_sensitive(committee, post)
        assert not can_view_sensitive(make_member(), post)
        # Withdrawing the consent hides the details at once, from everyone.
        consent_withdraw(actor=resident, kind=Consent.Kind.HEALTH)
        assert not can_view_sensitive(helper, post)


class TestSeats:
    def test_three_seats_fill_then_go_in_progress_when_all_accepted(self, resident, community, building, make_member):
        post = new_post(resident, community, building, seats=3)
        helpers = [make_member() for _ in range(4)]
        claims = [aid_post_claim(actor=person, post=refreshed(post)) for person in helpers[:3]]
        assert refreshed(post).status == AidPost.Status.CLAIMED
        with pytest.raises(ValidationError):
            aid_post_claim(actor=helpers[3], post=refreshed(post))
        claim_decline(actor=resident, claim=claims[0])
        assert (refreshed(post).status, refreshed(post).live_claims) == (AidPost.Status.OPEN, 2)
        claims.append(aid_post_claim(actor=helpers[3], post=refreshed(post)))
        for claim in claims[1:]:
            claim_accept(actor=resident, claim=claim)
        post = refreshed(post)
        assert post.status == AidPost.Status.IN_PROGRESS
        conversation = Conversation.objects.get(subject=post.subject)
        assert {p.user for p in conversation.participants.all()} == {resident, *helpers[1:]}

    def test_one_person_one_offer(self, resident, helper, community, building):
        post = new_post(resident, community, building, seats=2)
        aid_post_claim(actor=helper, post=post)
        with pytest.raises(ValidationError):
            aid_post_claim(actor=helper, post=refreshed(post))
        assert refreshed(post).live_claims == 1

    def test_go_ahead_with_fewer_helpers(self, resident, helper, community, building, make_member):
        post = new_post(resident, community, building, seats=3)
        waiting = make_member()
        claim_accept(actor=resident, claim=aid_post_claim(actor=helper, post=post))
        late = aid_post_claim(actor=waiting, post=refreshed(post))
        with pytest.raises(PermissionDenied):
            aid_post_start(actor=helper, post=refreshed(post))
        aid_post_start(actor=resident, post=refreshed(post))
        post = refreshed(post)
        assert (post.status, post.seats, post.live_claims) == (AidPost.Status.IN_PROGRESS, 1, 1)
        late.refresh_from_db()
        assert late.status == Claim.Status.DECLINED
        assert Notification.objects.filter(user=waiting, kind=Notification.Kind.CLAIM_DECIDED).exists()

    def test_nothing_to_go_ahead_with_is_refused(self, resident, community, building):
        post = new_post(resident, community, building, seats=2)
        with pytest.raises(PermissionDenied):
            aid_post_start(actor=resident, post=post)


class TestClosing:
    @pytest.fixture
    def two_helpers(self, resident, community, building, make_member):
        post = new_post(resident, community, building, seats=2)
        helpers = [make_member(), make_member()]
        for person in helpers:
            claim_accept(actor=resident, claim=aid_post_claim(actor=person, post=refreshed(post)))
        return refreshed(post), helpers

    def test_each_helper_marks_their_part_then_confirm_pays_each_once(self, resident, two_helpers, settings):
        post, (first, second) = two_helpers
        aid_post_mark_done(actor=first, post=post, hours=Decimal("2"))
        assert refreshed(post).status == AidPost.Status.IN_PROGRESS
        with pytest.raises(PermissionDenied):
            aid_post_mark_done(actor=first, post=refreshed(post), hours=Decimal("3"))
        aid_post_mark_done(actor=second, post=refreshed(post), hours=Decimal("1.5"))
        assert refreshed(post).status == AidPost.Status.DONE
        with pytest.raises(PermissionDenied):
            aid_post_confirm(actor=first, post=refreshed(post))
        aid_post_confirm(actor=resident, post=refreshed(post))
        entries = {entry.user: entry for entry in LedgerEntry.objects.all()}
        assert {user: entries[user].hours for user in entries} == {first: Decimal("2"), second: Decimal("1.5")}
        assert all(entry.points == settings.POINTS_PER_CONFIRMED_HELP for entry in entries.values())
        assert HelpRecord.objects.count() == 2
        with pytest.raises(PermissionDenied):
            aid_post_confirm(actor=resident, post=refreshed(post))
        assert LedgerEntry.objects.count() == 2

    def test_rating_reaches_each_helper_once(self, resident, two_helpers):
        post, helpers = two_helpers
        for person in helpers:
            aid_post_mark_done(actor=person, post=refreshed(post), hours=Decimal("1"))
        with pytest.raises(PermissionDenied):
            feedback_give(actor=resident, post=refreshed(post), rating=5)
        aid_post_confirm(actor=resident, post=refreshed(post))
        with pytest.raises(PermissionDenied):
            feedback_give(actor=helpers[0], post=refreshed(post), rating=5)
        for bad in (0, 6):
            with pytest.raises(ValidationError):
                feedback_give(actor=resident, post=refreshed(post), rating=bad)
        feedback_give(actor=resident, post=refreshed(post), rating=4, comment="很准时")
        assert set(HelpRecord.objects.values_list("rating", flat=True)) == {4}
        with pytest.raises(PermissionDenied):
            feedback_give(actor=resident, post=refreshed(post), rating=1)
        assert Feedback.objects.get().rating == 4

    def test_dispute_goes_to_the_committee_who_decide(self, resident, two_helpers, make_member):
        post, helpers = two_helpers
        committee = make_member(role=Membership.Role.COMMITTEE)
        for person in helpers:
            aid_post_mark_done(actor=person, post=refreshed(post), hours=Decimal("1"))
        with pytest.raises(ValidationError):
            aid_post_dispute(actor=resident, post=refreshed(post), reason="  ")
        aid_post_dispute(actor=resident, post=refreshed(post), reason="只来了一个人")
        assert refreshed(post).status == AidPost.Status.DISPUTED
        assert Notification.objects.filter(user=committee, kind=Notification.Kind.ESCALATION).exists()
        for someone in (resident, helpers[0], make_member()):
            with pytest.raises(PermissionDenied):
                dispute_resolve(actor=someone, post=refreshed(post), outcome=DISPUTE_CLOSE, reason="x")
        with pytest.raises(ValidationError):
            dispute_resolve(actor=committee, post=refreshed(post), outcome="maybe", reason="x")
        assert not AuditEntry.objects.filter(action=AuditEntry.Action.DISPUTE_RESOLVED).exists()
        dispute_resolve(actor=committee, post=refreshed(post), outcome=DISPUTE_CLOSE, reason="核实后确未完成")
        assert refreshed(post).status == AidPost.Status.CLOSED
        assert not LedgerEntry.objects.exists()
        assert not Partnership.objects.filter(subject=post.subject, until__isnull=True).exists()
        follow_up_record(actor=committee, post=refreshed(post), method="phone", satisfaction=2, note="不太满意")
        assert FollowUp.objects.get().satisfaction == 2

    def test_dispute_decided_for_the_helpers_pays_them(self, resident, two_helpers, make_member):
        post, helpers = two_helpers
        committee = make_member(role=Membership.Role.COMMITTEE)
        for person in helpers:
            aid_post_mark_done(actor=person, post=refreshed(post), hours=Decimal("1"))
        aid_post_dispute(actor=resident, post=refreshed(post), reason="不满意")
        dispute_resolve(actor=committee, post=refreshed(post), outcome=DISPUTE_CONFIRM, reason="邻居作证已完成")
        assert refreshed(post).status == AidPost.Status.CONFIRMED
        assert LedgerEntry.objects.count() == 2
        entry = AuditEntry.objects.get(action=AuditEntry.Action.DISPUTE_RESOLVED)
        assert (entry.actor, entry.subject, entry.target) == (committee, resident, post.subject)
        assert (entry.reason, entry.detail) == ("邻居作证已完成", {"outcome": AidPost.Status.CONFIRMED})

    def test_follow_up_only_by_the_committee_on_finished_requests(self, post, resident, make_member):
        committee = make_member(role=Membership.Role.COMMITTEE)
        with pytest.raises(PermissionDenied):
            follow_up_record(actor=committee, post=post, method="phone", satisfaction=5)
        assert not FollowUp.objects.exists()

    def test_confirming_someone_elses_request_is_refused(self, post, helper, make_member):
        claim_accept(actor=post.author, claim=aid_post_claim(actor=helper, post=post))
        aid_post_mark_done(actor=helper, post=refreshed(post), hours=Decimal("1"))
        with pytest.raises(PermissionDenied):
            aid_post_confirm(actor=make_member(), post=refreshed(post))
        assert refreshed(post).status == AidPost.Status.DONE


class TestAssistedPosting:
    def test_a_grid_worker_posts_for_a_resident_and_relays_until_they_take_over(
        self, resident, helper, community, building, grid_worker
    ):
        post = new_post(
            grid_worker,
            community,
            building,
            resident=resident,
            assisted_consent=AidPost.AssistedConsent.BY_PHONE,
            assisted_note="电话中王阿姨同意",
        )
        assert (post.author, post.assisted_by, post.is_relayed) == (resident, grid_worker, True)
        claim = aid_post_claim(actor=helper, post=post)
        # The relayer decides for the resident, and joins the conversation to relay it.
        claim_accept(actor=grid_worker, claim=claim)
        conversation = Conversation.objects.get(subject=post.subject)
        assert {p.user for p in conversation.participants.all()} == {resident, helper, grid_worker}
        with pytest.raises(PermissionDenied):
            aid_post_take_over(actor=grid_worker, post=refreshed(post))
        aid_post_take_over(actor=resident, post=refreshed(post))
        post = refreshed(post)
        assert not post.is_relayed
        assert {p.user for p in conversation.participants.all()} == {resident, helper}
        assert post.events.filter(action=PostEvent.Action.TAKEN_OVER, actor=resident).exists()
        aid_post_mark_done(actor=helper, post=post, hours=Decimal("1"))
        with pytest.raises(PermissionDenied):
            aid_post_confirm(actor=grid_worker, post=refreshed(post))

    def test_the_agreement_must_be_recorded(self, resident, community, building, grid_worker):
        with pytest.raises(ValidationError) as error:
            new_post(grid_worker, community, building, resident=resident)
        assert "assisted_consent" in error.value.error_dict
        assert not AidPost.objects.exists()

    def test_only_staff_who_look_after_the_resident(self, resident, community, building, make_member):
        volunteer = make_member(role=Membership.Role.VOLUNTEER)
        with pytest.raises(PermissionDenied):
            new_post(volunteer, community, building, resident=resident, assisted_consent="in_person")
        assert not AidPost.objects.exists()

    def test_the_relayer_cannot_claim_the_request(self, resident, community, building, grid_worker):
        post = new_post(grid_worker, community, building, resident=resident, assisted_consent="in_person")
        with pytest.raises(ValidationError):
            aid_post_claim(actor=grid_worker, post=post)


class TestSweep:
    def test_expiry_without_helpers_and_going_ahead_with_some(self, resident, helper, community, building, make_member):
        lonely = new_post(resident, community, building)
        half = new_post(resident, community, building, seats=2)
        waiting = aid_post_claim(actor=make_member(), post=lonely)
        claim_accept(actor=resident, claim=aid_post_claim(actor=helper, post=half))
        later = timezone.now() + timedelta(days=1)

        assert posts_expire(now=later) == 2
        assert refreshed(lonely).status == AidPost.Status.EXPIRED
        assert refreshed(half).status == AidPost.Status.IN_PROGRESS
        waiting.refresh_from_db()
        assert waiting.status == Claim.Status.DECLINED
        event = refreshed(lonely).events.get(action=PostEvent.Action.EXPIRED)
        assert event.actor is None
        # Idempotent: a second run finds nothing left to do.
        assert posts_expire(now=later) == 0
        with pytest.raises(ValidationError):
            aid_post_claim(actor=make_member(), post=refreshed(lonely))

    def test_an_expired_request_cannot_be_claimed_before_the_sweep(self, resident, community, building, make_member):
        post = new_post(resident, community, building, **window(starts_in_hours=0, hours=1))
        AidPost.objects.filter(pk=post.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        with pytest.raises(ValidationError):
            aid_post_claim(actor=make_member(), post=refreshed(post))
        assert not Claim.objects.exists()

    def test_escalation_per_urgency_reaches_the_grid_worker_and_committee_once(
        self, resident, community, building, grid_worker, make_member, settings
    ):
        committee = make_member(role=Membership.Role.COMMITTEE)
        urgent = new_post(resident, community, building, urgency=AidPost.Urgency.URGENT)
        normal = new_post(resident, community, building, urgency=AidPost.Urgency.NORMAL)
        soon_after = timezone.now() + timedelta(minutes=settings.REQUEST_ESCALATE_AFTER_MINUTES[2] + 1)

        assert posts_escalate(now=soon_after) == 1
        assert refreshed(urgent).escalated_at is not None
        assert refreshed(normal).escalated_at is None
        for person in (grid_worker, committee):
            assert Notification.objects.filter(user=person, kind=Notification.Kind.ESCALATION).count() == 1
        assert posts_escalate(now=soon_after) == 0
        assert Notification.objects.filter(kind=Notification.Kind.ESCALATION).count() == 2

    def test_a_claimed_request_is_not_escalated(self, post, helper, settings):
        aid_post_claim(actor=helper, post=post)
        assert posts_escalate(now=timezone.now() + timedelta(days=2)) == 0

    def test_reminders_are_sent_once(self, post, resident, helper):
        aid_post_claim(actor=helper, post=post)
        later = timezone.now() + timedelta(days=2)
        assert posts_remind(now=later) == 1
        assert posts_remind(now=later) == 0
        assert Reminder.objects.count() == 1
        assert Notification.objects.filter(user=resident, kind=Notification.Kind.REMINDER).count() == 1

    def test_the_command_runs_every_step_and_is_idempotent(self, post, capsys):
        AidPost.objects.filter(pk=post.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        call_command("requests_sweep")
        call_command("requests_sweep")
        output = capsys.readouterr().out.splitlines()
        assert output == ["expired 1, escalated 0, reminders sent 0", "expired 0, escalated 0, reminders sent 0"]
        assert refreshed(post).status == AidPost.Status.EXPIRED


def test_cancel_with_accepted_helpers_tells_them(resident, helper, community, building):
    post = new_post(resident, community, building, seats=2)
    claim_accept(actor=resident, claim=aid_post_claim(actor=helper, post=post))
    aid_post_cancel(actor=resident, post=refreshed(post))
    assert refreshed(post).status == AidPost.Status.CANCELLED
    with translation.override("en"):
        assert Notification.objects.filter(user=helper, kind=Notification.Kind.REQUEST_UPDATE).exists()
    assert not Partnership.objects.filter(subject=post.subject, until__isnull=True).exists()


def test_granting_the_health_consent_on_the_form(resident, community, building):
    post = new_post(resident, community, building, sensitive_details="行动不便", grant_health_consent=True)
    assert post.sensitive_details == "行动不便"
    assert Consent.objects.filter(user=resident, kind=Consent.Kind.HEALTH, withdrawn_at__isnull=True).exists()


def test_health_consent_granted_earlier_is_enough(resident, community, building):
    consent_grant(actor=resident, kind=Consent.Kind.HEALTH)
    post = new_post(resident, community, building, sensitive_details="行动不便")
    assert post.sensitive_details == "行动不便"


def test_notifications_speak_the_recipients_language_and_name_nobody(post, resident, helper):
    helper.profile.language = "en"
    helper.profile.save()
    with translation.override("zh-hans"):
        claim_accept(actor=resident, claim=aid_post_claim(actor=helper, post=post))
    to_helper = Notification.objects.get(user=helper, kind=Notification.Kind.CLAIM_DECIDED)
    assert to_helper.title == f"Your offer on “{post.title}” was accepted"
    to_poster = Notification.objects.get(user=resident, kind=Notification.Kind.CLAIM)
    assert post.title in to_poster.title
    assert helper.profile.display_name not in to_poster.title
