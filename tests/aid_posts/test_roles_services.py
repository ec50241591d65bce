"""Welfare roles: who may claim, seats never overfilled (also under concurrency), duties paid once."""

import threading
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.utils import timezone, translation

from aid_posts.models import Duty, RoleClaim, WelfareRole
from aid_posts.services import (
    duty_confirm,
    duty_log,
    duty_reject,
    role_claim,
    role_claim_approve,
    role_claim_decline,
    role_claim_withdraw,
    role_step_down,
    welfare_role_create,
)
from neighbors.data_rights import account_data
from neighbors.models import LedgerEntry, Membership
from neighbors.selectors import ledger_totals
from neighbors.services import account_delete
from talent_pool.models import Credential
from talent_pool.services import talent_skill_add
from tests.factories import CommunityFactory, PlaceFactory, skill

TODAY = timezone.localdate()


def make_role(committee, community, building, *, code="tutoring", seats=1, **overrides) -> WelfareRole:
    fields = {
        "title": "周六作业辅导",
        "description": "在社区活动室辅导小学生作业。",
        "skill": skill(code),
        "seats": seats,
        "weekday": WelfareRole.Weekday.SATURDAY,
        "starts_at": time(9),
        "ends_at": time(11),
        "term_start": TODAY - timedelta(days=30),
        "term_end": TODAY + timedelta(days=300),
        "place": building,
    }
    fields.update(overrides)
    return welfare_role_create(actor=committee, community=community, **fields)


def qualify(user, code="tutoring", *, certificate_until=None):
    """Give the user the skill; for a skill that needs one, a verified certificate valid until the date."""
    talent_skill = talent_skill_add(actor=user, skill=skill(code))
    if certificate_until is not None:
        Credential.objects.create(
            talent_skill=talent_skill,
            image="credentials/x.jpg",
            thumbnail="credentials/x-thumb.jpg",
            number=f"N-{user.pk}",
            expires_on=certificate_until,
            status=Credential.Status.VERIFIED,
        )
    return user


@pytest.fixture
def role(committee, community, building):
    return make_role(committee, community, building)


@pytest.mark.django_db
class TestCreate:
    def test_only_the_committee_creates(self, resident, outsider, community, building):
        for someone in (resident, outsider):
            with pytest.raises(PermissionDenied):
                make_role(someone, community, building)
        assert not WelfareRole.objects.exists()

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"term_end": TODAY - timedelta(days=1)}, "term_end"),
            ({"term_start": TODAY + timedelta(days=10), "term_end": TODAY + timedelta(days=5)}, None),
            ({"starts_at": time(11), "ends_at": time(9)}, None),
            ({"seats": 0}, "seats"),
            ({"title": ""}, "title"),
        ],
    )
    def test_bad_roles_are_refused(self, committee, community, building, overrides, field):
        with pytest.raises(ValidationError) as error:
            make_role(committee, community, building, **overrides)
        if field:
            assert field in error.value.message_dict
        assert not WelfareRole.objects.exists()

    def test_a_place_of_another_community_is_refused(self, committee, community):
        with pytest.raises(ValidationError):
            make_role(committee, community, PlaceFactory(community=CommunityFactory()))


@pytest.mark.django_db
class TestClaim:
    def test_a_qualified_member_claims_with_a_conflict_declaration(self, role, helper):
        claim = role_claim(actor=qualify(helper), role=role, conflict_of_interest=" 无 ")
        assert (claim.status, claim.conflict_of_interest) == (RoleClaim.Status.PENDING, "无")

    def test_without_the_skill_nothing_is_recorded(self, role, helper):
        with pytest.raises(ValidationError):
            role_claim(actor=helper, role=role)
        assert not RoleClaim.objects.exists()

    def test_a_skill_that_needs_a_certificate_needs_a_valid_one(self, committee, community, building, helper):
        mediation = make_role(committee, community, building, code="legal-mediation")
        talent_skill_add(actor=helper, skill=skill("legal-mediation"))
        with pytest.raises(ValidationError):
            role_claim(actor=helper, role=mediation)
        qualify(helper, "legal-mediation", certificate_until=TODAY - timedelta(days=1))
        with pytest.raises(ValidationError):
            role_claim(actor=helper, role=mediation)
        assert not RoleClaim.objects.exists()
        Credential.objects.update(expires_on=TODAY + timedelta(days=365))
        assert role_claim(actor=helper, role=mediation).status == RoleClaim.Status.PENDING

    def test_after_the_term_ended_nothing_is_recorded(self, role, helper):
        WelfareRole.objects.filter(pk=role.pk).update(term_end=TODAY - timedelta(days=1))
        role.refresh_from_db()
        with pytest.raises(ValidationError):
            role_claim(actor=qualify(helper), role=role)
        assert not RoleClaim.objects.exists()

    def test_twice_is_refused_and_outsiders_never_see_it(self, role, helper, outsider):
        role_claim(actor=qualify(helper), role=role)
        with pytest.raises(ValidationError):
            role_claim(actor=helper, role=role)
        with pytest.raises(PermissionDenied):
            role_claim(actor=qualify(outsider), role=role)
        assert RoleClaim.objects.count() == 1


@pytest.mark.django_db
class TestDecide:
    def test_approve_until_the_seats_are_full(self, role, committee, make_member):
        first, second = (role_claim(actor=qualify(make_member()), role=role) for _ in range(2))
        role_claim_approve(actor=committee, claim=first)
        with pytest.raises(ValidationError):
            role_claim_approve(actor=committee, claim=second)
        second.refresh_from_db()
        assert second.status == RoleClaim.Status.PENDING

    def test_only_the_committee_decides_and_never_on_itself(self, role, committee, helper, resident):
        claim = role_claim(actor=qualify(helper), role=role)
        for someone in (helper, resident):
            with pytest.raises(PermissionDenied):
                role_claim_approve(actor=someone, claim=claim)
        own = role_claim(actor=qualify(committee), role=role)
        with pytest.raises(PermissionDenied):
            role_claim_approve(actor=committee, claim=own)

    def test_no_approval_after_the_term_or_for_someone_who_left(self, role, committee, helper, make_member):
        late = role_claim(actor=qualify(helper), role=role)
        leaver_claim = role_claim(actor=qualify(leaver := make_member()), role=role)
        Membership.objects.filter(user=leaver).update(status=Membership.Status.LEFT)
        with pytest.raises(ValidationError):
            role_claim_approve(actor=committee, claim=leaver_claim)
        WelfareRole.objects.filter(pk=role.pk).update(term_end=TODAY - timedelta(days=1))
        with pytest.raises(ValidationError):
            role_claim_approve(actor=committee, claim=late)
        assert not RoleClaim.objects.filter(status=RoleClaim.Status.APPROVED).exists()

    def test_approving_twice_says_it_was_decided(self, role, committee, helper):
        claim = role_claim(actor=qualify(helper), role=role)
        role_claim_approve(actor=committee, claim=claim)
        with pytest.raises(ValidationError, match="already been decided"):
            with translation.override("en"):
                role_claim_approve(actor=committee, claim=claim)

    def test_decline_needs_a_reason(self, role, committee, helper):
        claim = role_claim(actor=qualify(helper), role=role)
        with pytest.raises(ValidationError):
            role_claim_decline(actor=committee, claim=claim, reason=" ")
        role_claim_decline(actor=committee, claim=claim, reason="该案件涉及亲属，需回避")
        claim.refresh_from_db()
        assert (claim.status, claim.decision_reason, claim.decided_by) == (
            "declined",
            "该案件涉及亲属，需回避",
            committee,
        )

    def test_an_expired_certificate_stops_the_approval(self, committee, community, building, helper):
        mediation = make_role(committee, community, building, code="legal-mediation")
        claim = role_claim(
            actor=qualify(helper, "legal-mediation", certificate_until=TODAY + timedelta(days=1)), role=mediation
        )
        Credential.objects.update(expires_on=TODAY - timedelta(days=1))
        with pytest.raises(ValidationError):
            role_claim_approve(actor=committee, claim=claim)

    def test_withdraw_then_step_down_reopens_the_seat_and_tells_the_committee(
        self, role, committee, helper, make_member, mailoutbox, django_capture_on_commit_callbacks
    ):
        claim = role_claim(actor=qualify(helper), role=role)
        with pytest.raises(PermissionDenied):
            role_claim_withdraw(actor=committee, claim=claim)
        role_claim_approve(actor=committee, claim=claim)
        with django_capture_on_commit_callbacks(execute=True):
            role_step_down(actor=helper, claim=claim)
        claim.refresh_from_db()
        assert claim.status == RoleClaim.Status.STEPPED_DOWN
        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == [committee.email]
        # The seat is free again.
        newcomer = role_claim(actor=qualify(make_member()), role=role)
        role_claim_approve(actor=committee, claim=newcomer)
        with pytest.raises(ValidationError):
            role_step_down(actor=helper, claim=claim)


@pytest.mark.django_db
class TestDuties:
    @pytest.fixture
    def holder(self, role, committee, helper):
        role_claim_approve(actor=committee, claim=role_claim(actor=qualify(helper), role=role))
        return helper

    def test_a_confirmed_duty_pays_hours_and_points_once(self, role, committee, holder):
        duty = duty_log(
            actor=holder, role=role, served_on=TODAY - timedelta(days=2), hours=Decimal("2"), summary="调解两起"
        )
        duty_confirm(actor=committee, duty=duty)
        with pytest.raises(ValidationError):
            duty_confirm(actor=committee, duty=duty)
        assert ledger_totals(holder) == {"points": 20, "hours": Decimal("2")}
        entry = LedgerEntry.objects.get(user=holder)
        assert (entry.reason, entry.source) == (LedgerEntry.Reason.DUTY_CONFIRMED, f"duty:{duty.pk}")

    @pytest.mark.parametrize(
        "served_on",
        [TODAY + timedelta(days=1), TODAY - timedelta(days=31), TODAY + timedelta(days=301)],
        ids=["future", "before-term", "after-term"],
    )
    def test_dates_outside_the_term_or_to_come_are_refused(self, role, holder, served_on):
        with pytest.raises(ValidationError) as error:
            duty_log(actor=holder, role=role, served_on=served_on, hours=Decimal("1"), summary="x")
        assert "served_on" in error.value.message_dict
        assert not Duty.objects.exists()

    def test_the_same_day_twice_is_refused(self, role, holder):
        duty_log(actor=holder, role=role, served_on=TODAY, hours=Decimal("1"), summary="值班")
        with pytest.raises(ValidationError):
            duty_log(actor=holder, role=role, served_on=TODAY, hours=Decimal("1"), summary="又一次")
        assert Duty.objects.count() == 1

    def test_only_holders_log_and_only_the_committee_confirms(self, role, committee, holder, resident):
        with pytest.raises(PermissionDenied):
            duty_log(actor=resident, role=role, served_on=TODAY, hours=Decimal("1"), summary="x")
        duty = duty_log(actor=holder, role=role, served_on=TODAY, hours=Decimal("1"), summary="x")
        for someone in (holder, resident):
            with pytest.raises(PermissionDenied):
                duty_confirm(actor=someone, duty=duty)
        with pytest.raises(ValidationError):
            duty_reject(actor=committee, duty=duty, reason="")
        duty_reject(actor=committee, duty=duty, reason="当天未开放调解室")
        assert not LedgerEntry.objects.exists()

    def test_bad_hours_are_refused(self, role, holder):
        with pytest.raises(ValidationError):
            duty_log(actor=holder, role=role, served_on=TODAY, hours=Decimal("13"), summary="x")
        assert not Duty.objects.exists()


SEATS = 2
CLAIMANTS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_fill_more_seats_than_there_are(committee, community, building, make_member):
    """Several committee members approve different claims at the same moment."""
    role = make_role(committee, community, building, seats=SEATS)
    claims = [role_claim(actor=qualify(make_member()), role=role) for _ in range(CLAIMANTS)]
    deciders = [committee] + [make_member(role="committee") for _ in range(CLAIMANTS - 1)]
    barrier = threading.Barrier(CLAIMANTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def approve(decider, claim_id: int) -> None:
        try:
            barrier.wait()
            role_claim_approve(actor=decider, claim=RoleClaim.objects.get(pk=claim_id))
            result = "approved"
        except ValidationError:
            result = "refused"
        except Exception as error:  # noqa: BLE001 - any other failure is what the test reports
            result = f"error: {error!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=approve, args=pair) for pair in zip(deciders, [c.pk for c in claims], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["approved"] * SEATS + ["refused"] * (CLAIMANTS - SEATS), outcomes
    assert RoleClaim.objects.filter(role=role, status=RoleClaim.Status.APPROVED).count() == SEATS


@pytest.mark.django_db
def test_my_data_holds_my_claims_and_duties_and_deletion_gives_up_the_seat(role, committee, helper):
    claim = role_claim(actor=qualify(helper), role=role, conflict_of_interest="调解对象是我表哥")
    role_claim_approve(actor=committee, claim=claim)
    duty_log(actor=helper, role=role, served_on=TODAY, hours=Decimal("2"), summary="调解一起纠纷")

    exported = account_data(helper)["aid_posts"]
    assert exported["welfare_roles"][0]["conflict_of_interest"] == "调解对象是我表哥"
    assert exported["duties"][0]["what_was_done"] == "调解一起纠纷"

    account_delete(actor=helper, user=helper)
    claim.refresh_from_db()
    assert claim.status == RoleClaim.Status.STEPPED_DOWN
