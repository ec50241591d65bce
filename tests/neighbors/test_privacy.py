"""Contact scopes, consents, minors and blocks: who may see which detail, and the log of it."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from neighbors.models import (
    Block,
    Consent,
    ContactDisclosure,
    ContactMethod,
    Grid,
    Membership,
    Partnership,
    Profile,
)
from neighbors.permissions import can_view_contact, community_subject, contact_ground, has_consent
from neighbors.services import (
    block_add,
    block_remove,
    consent_grant,
    consent_withdraw,
    contact_method_set,
    contact_reveal,
    partnership_close,
    partnership_open,
)
from tests.factories import phone_of

pytestmark = pytest.mark.django_db
POST = "aid_post:1"
Scope = ContactMethod.Scope


def set_scope(user, scope: str, kind: str = "phone") -> None:
    ContactMethod.objects.filter(user=user, kind=kind).update(scope=scope)


@pytest.fixture
def neighbour(make_member):
    return make_member()


# scope → who, besides the owner, may see it (partner on a post / committee / grid worker / neighbour)
SCOPE_GRID = {
    Scope.PRIVATE: {"partner": False, "committee": False, "grid_worker": False, "neighbour": False},
    Scope.PARTNERS: {"partner": True, "committee": False, "grid_worker": False, "neighbour": False},
    Scope.COMMITTEE: {"partner": True, "committee": True, "grid_worker": True, "neighbour": False},
    Scope.COMMUNITY: {"partner": True, "committee": True, "grid_worker": True, "neighbour": True},
}


@pytest.mark.parametrize("scope", list(SCOPE_GRID))
def test_each_scope_reaches_exactly_its_audience(
    scope, resident, helper, committee, grid_worker, neighbour, outsider, community
):
    set_scope(resident, scope)
    partnership_open(user_a=resident, user_b=helper, subject=POST)
    in_community = community_subject(community.pk)
    seen = {
        "partner": can_view_contact(helper, resident, kind="phone", subject=POST),
        "committee": can_view_contact(committee, resident, kind="phone", subject=in_community),
        "grid_worker": can_view_contact(grid_worker, resident, kind="phone", subject=in_community),
        "neighbour": can_view_contact(neighbour, resident, kind="phone", subject=in_community),
    }
    assert seen == SCOPE_GRID[scope]
    # Never: outsiders, anonymous, a neighbour naming a post they are not partner on.
    assert not can_view_contact(outsider, resident, kind="phone", subject=in_community)
    assert not can_view_contact(outsider, resident, kind="phone", subject=community_subject(outsider.pk))
    assert not can_view_contact(AnonymousUser(), resident, kind="phone", subject=in_community)
    assert not can_view_contact(neighbour, resident, kind="phone", subject=POST)
    # The owner always sees their own.
    assert can_view_contact(resident, resident, kind="phone", subject=POST)


def test_a_grid_worker_sees_only_the_residents_of_their_grids(resident, community, make_member):
    ContactMethod.objects.filter(user=resident).update(scope=Scope.COMMITTEE)
    elsewhere = make_member(role=Membership.Role.GRID_WORKER)
    elsewhere.memberships.get().grids.add(Grid.objects.create(community=community, name="第二网格"))
    assert not can_view_contact(elsewhere, resident, kind="phone", subject=community_subject(community.pk))


def test_forged_subjects_are_refused(resident, helper, outsider, community):
    set_scope(resident, Scope.COMMUNITY)
    for subject in ("community:", "community:abc", "community:-1", f"community:{community.pk} ", "aid_post:999"):
        assert contact_ground(helper, resident, scope=Scope.COMMUNITY, subject=subject) is None, subject
    # A community the owner is not in does not count, even if the viewer is in it.
    other = outsider.memberships.get().community
    assert not can_view_contact(outsider, resident, kind="phone", subject=community_subject(other.pk))


def test_every_reveal_is_logged_with_its_reason(resident, committee, community):
    set_scope(resident, Scope.COMMITTEE)
    subject = community_subject(community.pk)
    with pytest.raises(ValidationError) as error:
        contact_reveal(viewer=committee, owner=resident, kind="phone", subject=subject)
    assert "reason" in error.value.message_dict
    assert not ContactDisclosure.objects.exists()

    value = contact_reveal(
        viewer=committee, owner=resident, kind="phone", subject=subject, subject_title="莲兴社区", reason="核实独居老人"
    )

    assert value == phone_of(resident)
    log = ContactDisclosure.objects.get()
    assert (log.viewer, log.owner, log.field, log.subject, log.reason) == (
        committee,
        resident,
        "phone",
        subject,
        "核实独居老人",
    )


def test_looking_at_ones_own_detail_is_not_logged(resident):
    assert contact_reveal(viewer=resident, owner=resident, kind="phone", subject=POST) == phone_of(resident)
    assert not ContactDisclosure.objects.exists()


def test_a_refused_reveal_logs_nothing_and_a_missing_detail_is_refused(resident, helper):
    partnership_open(user_a=resident, user_b=helper, subject=POST)
    with pytest.raises(PermissionDenied):
        contact_reveal(viewer=helper, owner=resident, kind="wechat", subject=POST)
    set_scope(resident, Scope.PRIVATE)
    with pytest.raises(PermissionDenied):
        contact_reveal(viewer=helper, owner=resident, kind="phone", subject=POST)
    assert not ContactDisclosure.objects.exists()


class TestContactMethods:
    @pytest.mark.parametrize(
        ("kind", "good", "bad"),
        [
            ("phone", "13812345678", "12345"),
            ("wechat", "wang_ayi88", "王阿姨"),
            ("email", "wang@example.test", "wang@"),
            ("address", "3单元502室", ""),
        ],
    )
    def test_each_kind_is_validated(self, resident, kind, good, bad):
        method = contact_method_set(actor=resident, kind=kind, value=good, scope=Scope.PARTNERS)
        assert method.value == good
        if bad:
            with pytest.raises(ValidationError):
                contact_method_set(actor=resident, kind=kind, value=bad, scope=Scope.PARTNERS)
            assert ContactMethod.objects.get(user=resident, kind=kind).value == good

    def test_an_empty_value_removes_the_detail(self, resident):
        assert contact_method_set(actor=resident, kind="phone", value=" ", scope=Scope.PARTNERS) is None
        assert not ContactMethod.objects.filter(user=resident, kind="phone").exists()

    @pytest.mark.parametrize(("kind", "scope"), [("fax", Scope.PARTNERS), ("phone", "everyone")])
    def test_forged_kind_or_scope_is_refused(self, resident, kind, scope):
        with pytest.raises(ValidationError):
            contact_method_set(actor=resident, kind=kind, value="13812345678", scope=scope)
        assert ContactMethod.objects.get(user=resident, kind="phone").scope == Scope.PARTNERS

    def test_sharing_with_people_needs_the_sharing_consent(self, resident):
        consent_withdraw(actor=resident, kind=Consent.Kind.CONTACT_SHARING)
        with pytest.raises(ValidationError):
            contact_method_set(actor=resident, kind="wechat", value="wang_ayi88", scope=Scope.COMMUNITY)
        assert not ContactMethod.objects.filter(user=resident, kind="wechat").exists()
        # The committee is the site's operator: that scope needs no sharing consent.
        contact_method_set(actor=resident, kind="wechat", value="wang_ayi88", scope=Scope.COMMITTEE)
        # Ticking the box records the consent together with the detail.
        contact_method_set(
            actor=resident, kind="email", value="w@example.test", scope=Scope.PARTNERS, grant_sharing_consent=True
        )
        assert has_consent(resident, Consent.Kind.CONTACT_SHARING)

    @pytest.mark.parametrize(
        ("value", "masked"),
        [("13812345678", "138****5678"), ("wang_ayi88", "w****8"), ("wang@example.test", "w***@example.test")],
    )
    def test_masking(self, value, masked):
        kind = "phone" if value[0] == "1" else "email" if "@" in value else "wechat"
        assert ContactMethod(kind=kind, value=value).masked == masked
        assert ContactMethod(kind="address", value="3单元502室").masked == ""


class TestConsents:
    def test_withdrawing_sharing_stops_partners_at_once_but_not_the_committee(
        self, resident, helper, committee, community
    ):
        set_scope(resident, Scope.COMMITTEE)
        partnership_open(user_a=resident, user_b=helper, subject=POST)
        assert can_view_contact(helper, resident, kind="phone", subject=POST)

        consent_withdraw(actor=resident, kind=Consent.Kind.CONTACT_SHARING)

        assert not can_view_contact(helper, resident, kind="phone", subject=POST)
        assert can_view_contact(committee, resident, kind="phone", subject=community_subject(community.pk))
        # The record stays, dated.
        withdrawn = Consent.objects.get(user=resident, kind=Consent.Kind.CONTACT_SHARING)
        assert withdrawn.withdrawn_at is not None
        # Given again: a new record; the partner sees it again.
        consent_grant(actor=resident, kind=Consent.Kind.CONTACT_SHARING)
        assert Consent.objects.filter(user=resident, kind=Consent.Kind.CONTACT_SHARING).count() == 2
        assert can_view_contact(helper, resident, kind="phone", subject=POST)

    def test_a_consent_to_an_old_version_does_not_count(self, resident, settings):
        settings.CONSENT_VERSIONS = {**settings.CONSENT_VERSIONS, "location": "2099-01"}
        assert not has_consent(resident, Consent.Kind.LOCATION)
        consent_grant(actor=resident, kind=Consent.Kind.LOCATION)
        assert has_consent(resident, Consent.Kind.LOCATION)

    def test_the_privacy_notice_is_withdrawn_only_by_deleting_the_account(self, resident):
        with pytest.raises(ValidationError):
            consent_withdraw(actor=resident, kind=Consent.Kind.PRIVACY_NOTICE)
        assert has_consent(resident, Consent.Kind.PRIVACY_NOTICE)

    def test_granting_twice_keeps_one_live_record(self, resident):
        consent_grant(actor=resident, kind=Consent.Kind.HEALTH)
        consent_grant(actor=resident, kind=Consent.Kind.HEALTH)
        assert Consent.objects.filter(user=resident, kind=Consent.Kind.HEALTH, withdrawn_at=None).count() == 1

    def test_unknown_consent_is_refused(self, resident):
        with pytest.raises(ValidationError):
            consent_grant(actor=resident, kind="marketing")


class TestMinors:
    @pytest.fixture
    def child(self, make_member):
        child = make_member()
        Profile.objects.filter(user=child).update(is_minor=True)
        return child

    def test_contact_and_location_stay_off(self, child, helper, committee, community):
        partnership_open(user_a=child, user_b=helper, subject=POST)
        set_scope(child, Scope.COMMUNITY)
        assert not can_view_contact(helper, child, kind="phone", subject=POST)
        assert not can_view_contact(committee, child, kind="phone", subject=community_subject(community.pk))
        with pytest.raises(ValidationError):
            contact_method_set(actor=child, kind="wechat", value="kid_wechat1", scope=Scope.PRIVATE)
        with pytest.raises(ValidationError):
            consent_grant(actor=child, kind=Consent.Kind.LOCATION)
        with pytest.raises(ValidationError):
            consent_grant(actor=child, kind=Consent.Kind.CONTACT_SHARING)


class TestPartnerships:
    def test_the_grace_period_then_nothing(self, resident, helper):
        partnership_open(user_a=resident, user_b=helper, subject=POST, title="修水管")
        assert Partnership.objects.filter(subject=POST, title="修水管").count() == 2
        partnership_close(subject=POST)
        assert can_view_contact(helper, resident, kind="phone", subject=POST)
        Partnership.objects.update(until=timezone.now() - timedelta(seconds=1))
        assert not can_view_contact(helper, resident, kind="phone", subject=POST)

    def test_a_partnership_is_never_about_a_whole_community(self, resident, helper, community):
        with pytest.raises(ValidationError):
            partnership_open(user_a=resident, user_b=helper, subject=community_subject(community.pk))
        assert not Partnership.objects.exists()


class TestBlocks:
    def test_a_block_hides_details_both_ways_until_lifted(self, resident, helper):
        partnership_open(user_a=resident, user_b=helper, subject=POST)
        block_add(actor=resident, person=helper)
        assert not can_view_contact(helper, resident, kind="phone", subject=POST)
        assert not can_view_contact(resident, helper, kind="phone", subject=POST)
        with pytest.raises(PermissionDenied):
            contact_reveal(viewer=helper, owner=resident, kind="phone", subject=POST)
        block_remove(actor=resident, person=helper)
        assert can_view_contact(helper, resident, kind="phone", subject=POST)

    def test_blocking_is_idempotent_and_never_oneself(self, resident, helper):
        block_add(actor=resident, person=helper)
        block_add(actor=resident, person=helper)
        assert Block.objects.count() == 1
        with pytest.raises(ValidationError):
            block_add(actor=resident, person=resident)
        # Only the blocker can lift it.
        block_remove(actor=helper, person=resident)
        assert Block.objects.count() == 1
