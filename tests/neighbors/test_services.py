from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from neighbors.models import ContactDisclosure, LedgerEntry, Membership, Partnership
from neighbors.services import (
    contact_reveal,
    ledger_award,
    membership_approve,
    membership_decline,
    membership_request,
    partnership_close,
    partnership_open,
    profile_update,
)
from tests.factories import PlaceFactory, UserFactory, phone_of

pytestmark = pytest.mark.django_db


class TestMembership:
    def test_request_then_approve_makes_a_member(self, community, building, committee):
        newcomer = UserFactory()
        membership = membership_request(actor=newcomer, community=community, home_place=building, tenure="owner")
        assert membership.status == Membership.Status.PENDING

        membership_approve(actor=committee, membership=membership)

        membership.refresh_from_db()
        assert membership.status == Membership.Status.APPROVED
        assert membership.decided_by == committee
        assert membership.decided_at is not None

    def test_building_must_be_in_the_community(self, community):
        other_place = PlaceFactory()
        with pytest.raises(ValidationError):
            membership_request(actor=UserFactory(), community=community, home_place=other_place, tenure="owner")
        assert not Membership.objects.filter(community=community).exists()

    def test_asking_twice_is_refused(self, community, building):
        newcomer = UserFactory()
        membership_request(actor=newcomer, community=community, home_place=building, tenure="owner")
        with pytest.raises(ValidationError):
            membership_request(actor=newcomer, community=community, home_place=building, tenure="owner")

    def test_a_resident_cannot_approve(self, community, building, resident):
        membership = membership_request(actor=UserFactory(), community=community, home_place=building, tenure="owner")
        with pytest.raises(PermissionDenied):
            membership_approve(actor=resident, membership=membership)
        membership.refresh_from_db()
        assert membership.status == Membership.Status.PENDING

    def test_committee_of_another_community_cannot_approve(self, community, building, outsider):
        Membership.objects.filter(user=outsider).update(role=Membership.Role.COMMITTEE)
        membership = membership_request(actor=UserFactory(), community=community, home_place=building, tenure="owner")
        with pytest.raises(PermissionDenied):
            membership_approve(actor=outsider, membership=membership)

    def test_decline_needs_a_reason_the_resident_sees(self, community, building, committee):
        membership = membership_request(actor=UserFactory(), community=community, home_place=building, tenure="owner")
        with pytest.raises(ValidationError):
            membership_decline(actor=committee, membership=membership, reason="   ")
        membership_decline(actor=committee, membership=membership, reason="不是本社区居民")
        membership.refresh_from_db()
        assert membership.status == Membership.Status.DECLINED
        assert membership.decision_reason == "不是本社区居民"

    def test_a_declined_resident_may_ask_again(self, community, building, committee):
        newcomer = UserFactory()
        membership = membership_request(actor=newcomer, community=community, home_place=building, tenure="owner")
        membership_decline(actor=committee, membership=membership, reason="请填写正确楼栋")
        again = membership_request(actor=newcomer, community=community, home_place=building, tenure="owner")
        assert again.pk == membership.pk
        assert again.status == Membership.Status.PENDING
        assert again.decision_reason == ""

    def test_a_decision_is_made_once(self, community, building, committee, make_member):
        second = make_member(role=Membership.Role.COMMITTEE)
        membership = membership_request(actor=UserFactory(), community=community, home_place=building, tenure="owner")
        membership_approve(actor=committee, membership=membership)
        with pytest.raises(PermissionDenied):
            membership_decline(actor=second, membership=membership, reason="重复")


class TestProfile:
    def test_owner_updates_their_profile(self, resident):
        profile = profile_update(
            actor=resident,
            profile=resident.profile,
            display_name=" 王阿姨 ",
            bio="会说闽南话",
            spoken_languages=["nan"],
            language="en",
            large_text=True,
        )
        assert (profile.display_name, profile.spoken_languages, profile.large_text) == ("王阿姨", ["nan"], True)

    def test_unknown_language_is_a_validation_error(self, resident):
        with pytest.raises(ValidationError) as error:
            profile_update(
                actor=resident, profile=resident.profile, display_name="王", spoken_languages=["xx"], language="en"
            )
        assert "spoken_languages" in error.value.message_dict

    def test_nobody_else_edits_a_profile(self, resident, helper):
        with pytest.raises(PermissionDenied):
            profile_update(actor=helper, profile=resident.profile, display_name="x", language="en")


class TestContactReveal:
    def test_partner_sees_the_number_and_it_is_logged(self, resident, helper):
        partnership_open(user_a=resident, user_b=helper, subject="aid_post:1")

        value = contact_reveal(viewer=helper, owner=resident, kind="phone", subject="aid_post:1")

        assert value == phone_of(resident)
        log = ContactDisclosure.objects.get()
        assert (log.viewer, log.owner, log.field, log.subject) == (helper, resident, "phone", "aid_post:1")

    def test_a_neighbour_without_partnership_is_refused_and_nothing_logged(self, resident, helper):
        with pytest.raises(PermissionDenied):
            contact_reveal(viewer=helper, owner=resident, kind="phone", subject="aid_post:1")
        assert not ContactDisclosure.objects.exists()

    def test_partnership_about_another_post_does_not_count(self, resident, helper):
        partnership_open(user_a=resident, user_b=helper, subject="aid_post:1")
        with pytest.raises(PermissionDenied):
            contact_reveal(viewer=helper, owner=resident, kind="phone", subject="aid_post:2")

    def test_grace_period_then_refused(self, resident, helper, settings):
        partnership_open(user_a=resident, user_b=helper, subject="aid_post:1")
        partnership_close(subject="aid_post:1")
        # Within the grace period the partner may still call.
        assert contact_reveal(viewer=helper, owner=resident, kind="phone", subject="aid_post:1")
        Partnership.objects.update(until=timezone.now() - timedelta(seconds=1))
        with pytest.raises(PermissionDenied):
            contact_reveal(viewer=helper, owner=resident, kind="phone", subject="aid_post:1")

    def test_unknown_field_is_refused(self, resident, helper):
        partnership_open(user_a=resident, user_b=helper, subject="aid_post:1")
        with pytest.raises(ValidationError):
            contact_reveal(viewer=helper, owner=resident, kind="password", subject="aid_post:1")

    def test_no_partnership_with_oneself(self, resident):
        with pytest.raises(ValidationError):
            partnership_open(user_a=resident, user_b=resident, subject="aid_post:1")


class TestLedger:
    def test_the_same_source_pays_once(self, community, helper):
        award = {
            "user": helper,
            "community": community,
            "points": 10,
            "hours": Decimal("1.5"),
            "reason": LedgerEntry.Reason.HELP_CONFIRMED,
            "source": "aid_post:7",
        }
        first = ledger_award(**award)
        second = ledger_award(**award)
        assert first is not None
        assert second is None
        assert LedgerEntry.objects.filter(user=helper).count() == 1

    def test_the_database_refuses_a_second_award(self, community, helper):
        from django.db import IntegrityError, transaction

        LedgerEntry.objects.create(
            user=helper, community=community, points=10, reason="help_confirmed", source="aid_post:7"
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(
                user=helper, community=community, points=10, reason="help_confirmed", source="aid_post:7"
            )
