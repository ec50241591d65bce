from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from aid_posts.models import AidPost, Claim, PostEvent
from aid_posts.services import (
    aid_post_cancel,
    aid_post_claim,
    aid_post_confirm,
    aid_post_create,
    aid_post_mark_done,
    claim_accept,
    claim_decline,
    claim_withdraw,
)
from messaging.models import Conversation
from neighbors.models import LedgerEntry, Partnership
from neighbors.selectors import ledger_totals
from tests.factories import PlaceFactory, skill, window

pytestmark = pytest.mark.django_db


def accepted(post, resident, helper) -> Claim:
    claim = aid_post_claim(actor=helper, post=post)
    claim_accept(actor=resident, claim=claim)
    claim.refresh_from_db()
    post.refresh_from_db()
    return claim


class TestCreate:
    def test_member_posts_and_the_creation_is_recorded(self, post, resident):
        assert post.status == AidPost.Status.OPEN
        event = PostEvent.objects.get(post=post)
        assert (event.actor, event.from_status, event.to_status) == (resident, "", "open")

    def test_outsider_cannot_post_in_the_community(self, outsider, community, building):
        with pytest.raises(PermissionDenied):
            aid_post_create(
                **window(),
                actor=outsider,
                community=community,
                category=skill(),
                title="t",
                description="d",
                place=building,
            )
        assert not AidPost.objects.exists()

    @pytest.mark.parametrize(("title", "description"), [("", "d"), ("t" * 101, "d"), ("t", ""), ("   ", "d")])
    def test_empty_or_overlong_fields_are_refused(self, resident, community, building, title, description):
        with pytest.raises(ValidationError):
            aid_post_create(
                **window(),
                actor=resident,
                community=community,
                category=skill(),
                title=title,
                description=description,
                place=building,
            )
        assert not AidPost.objects.exists()

    def test_place_must_be_in_the_community(self, resident, community):
        with pytest.raises(ValidationError):
            aid_post_create(
                **window(),
                actor=resident,
                community=community,
                category=skill(),
                title="t",
                description="d",
                place=PlaceFactory(),
            )


class TestClaim:
    def test_a_neighbour_claims_an_open_post(self, post, helper):
        claim = aid_post_claim(actor=helper, post=post)
        post.refresh_from_db()
        assert claim.status == Claim.Status.PENDING
        assert post.status == AidPost.Status.CLAIMED

    def test_a_second_claim_is_refused_with_a_clear_message(self, post, helper, make_member):
        aid_post_claim(actor=helper, post=post)
        with pytest.raises(ValidationError) as error, translation.override("en"):
            aid_post_claim(actor=make_member(), post=AidPost.objects.get(pk=post.pk))
        assert "Every seat on this request is taken" in error.value.messages[0]
        assert Claim.objects.count() == 1

    def test_a_stale_copy_of_the_post_still_loses(self, post, helper, make_member):
        stale = AidPost.objects.get(pk=post.pk)
        aid_post_claim(actor=helper, post=post)
        with pytest.raises(ValidationError):
            aid_post_claim(actor=make_member(), post=stale)
        assert Claim.objects.count() == 1

    def test_own_post_cannot_be_claimed(self, post, resident):
        with pytest.raises(ValidationError) as error, translation.override("en"):
            aid_post_claim(actor=resident, post=post)
        assert "own request" in error.value.messages[0]

    def test_outsider_cannot_claim(self, post, outsider):
        with pytest.raises(PermissionDenied):
            aid_post_claim(actor=outsider, post=post)
        assert not Claim.objects.exists()

    def test_closed_post_cannot_be_claimed(self, post, resident, helper):
        aid_post_cancel(actor=resident, post=post)
        with pytest.raises(ValidationError):
            aid_post_claim(actor=helper, post=post)


class TestAcceptAndClose:
    def test_accept_opens_partnership_and_conversation(self, post, resident, helper):
        claim = accepted(post, resident, helper)
        assert claim.status == Claim.Status.ACCEPTED
        assert post.status == AidPost.Status.IN_PROGRESS
        conversation = Conversation.objects.get(subject=post.subject)
        assert {p.user for p in conversation.participants.all()} == {resident, helper}
        assert Partnership.objects.filter(subject=post.subject, until__isnull=True).count() == 2

    def test_only_the_poster_accepts(self, post, helper, make_member):
        claim = aid_post_claim(actor=helper, post=post)
        for someone in (helper, make_member()):
            with pytest.raises(PermissionDenied):
                claim_accept(actor=someone, claim=claim)
        assert not Conversation.objects.exists()

    def test_decline_reopens(self, post, resident, helper):
        claim = aid_post_claim(actor=helper, post=post)
        claim_decline(actor=resident, claim=claim)
        post.refresh_from_db()
        assert post.status == AidPost.Status.OPEN
        assert claim.status == Claim.Status.DECLINED

    def test_withdraw_reopens_and_only_by_the_helper(self, post, resident, helper):
        claim = aid_post_claim(actor=helper, post=post)
        with pytest.raises(PermissionDenied):
            claim_withdraw(actor=resident, claim=claim)
        claim_withdraw(actor=helper, claim=claim)
        post.refresh_from_db()
        assert post.status == AidPost.Status.OPEN

    def test_done_then_confirm_awards_points_once(self, post, resident, helper, settings):
        accepted(post, resident, helper)
        aid_post_mark_done(actor=helper, post=post, hours=Decimal("1.5"))
        aid_post_confirm(actor=resident, post=post)

        post.refresh_from_db()
        assert post.status == AidPost.Status.CONFIRMED
        assert ledger_totals(helper) == {"points": settings.POINTS_PER_CONFIRMED_HELP, "hours": Decimal("1.5")}
        with pytest.raises(PermissionDenied):
            aid_post_confirm(actor=resident, post=post)
        assert LedgerEntry.objects.filter(user=helper).count() == 1
        # The grants now run out after the grace period instead of staying open.
        assert not Partnership.objects.filter(subject=post.subject, until__isnull=True).exists()
        transitions = list(PostEvent.objects.filter(post=post).values_list("to_status", flat=True))
        assert transitions == ["open", "claimed", "in_progress", "done", "confirmed"]

    def test_only_the_helper_marks_done_with_sane_hours(self, post, resident, helper):
        accepted(post, resident, helper)
        with pytest.raises(PermissionDenied):
            aid_post_mark_done(actor=resident, post=post, hours=Decimal("1"))
        for hours in (Decimal("0"), Decimal("25")):
            with pytest.raises(ValidationError):
                aid_post_mark_done(actor=helper, post=post, hours=hours)
        post.refresh_from_db()
        assert post.status == AidPost.Status.IN_PROGRESS
        assert not Claim.objects.filter(hours__isnull=False).exists()

    def test_only_the_poster_confirms(self, post, resident, helper):
        accepted(post, resident, helper)
        aid_post_mark_done(actor=helper, post=post, hours=Decimal("2"))
        with pytest.raises(PermissionDenied):
            aid_post_confirm(actor=helper, post=post)
        assert not LedgerEntry.objects.exists()

    def test_cancel_declines_the_pending_claim(self, post, resident, helper):
        claim = aid_post_claim(actor=helper, post=post)
        with pytest.raises(PermissionDenied):
            aid_post_cancel(actor=helper, post=post)
        aid_post_cancel(actor=resident, post=post)
        claim.refresh_from_db()
        assert claim.status == Claim.Status.DECLINED
        assert AidPost.objects.get(pk=post.pk).status == AidPost.Status.CANCELLED
