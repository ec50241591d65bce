import pytest
from django.contrib.auth.models import AnonymousUser

from neighbors.models import Membership
from neighbors.permissions import (
    can_decide_membership,
    can_view_contact,
    communities_visible_to,
    is_committee,
    is_member,
    memberships_decidable_by,
)
from neighbors.services import partnership_open
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_member_sees_only_their_communities(community, resident, outsider):
    assert list(communities_visible_to(resident)) == [community]
    assert community not in communities_visible_to(outsider)
    assert is_member(resident, community)
    assert not is_member(outsider, community)


def test_pending_and_anonymous_see_nothing(community, building):
    pending = UserFactory()
    MembershipFactory(user=pending, community=community, home_place=building, status=Membership.Status.PENDING)
    assert not communities_visible_to(pending).exists()
    assert not communities_visible_to(AnonymousUser()).exists()
    assert not is_member(AnonymousUser(), community)


def test_committee_decides_pending_requests_but_not_their_own(community, building, committee, resident):
    pending = MembershipFactory(community=community, home_place=building, status=Membership.Status.PENDING)
    assert is_committee(committee, community)
    assert not is_committee(resident, community)
    assert can_decide_membership(committee, pending)
    assert not can_decide_membership(resident, pending)
    assert list(memberships_decidable_by(committee)) == [pending]
    assert not memberships_decidable_by(resident).exists()
    own = MembershipFactory(user=committee, community=MembershipFactory().community, status=Membership.Status.PENDING)
    assert not can_decide_membership(committee, own)


def test_contact_visible_to_self_and_partners_only(resident, helper, make_member):
    stranger = make_member()
    assert can_view_contact(resident, resident, kind="phone", subject="aid_post:1")
    assert not can_view_contact(helper, resident, kind="phone", subject="aid_post:1")
    partnership_open(user_a=resident, user_b=helper, subject="aid_post:1")
    assert can_view_contact(helper, resident, kind="phone", subject="aid_post:1")
    assert can_view_contact(resident, helper, kind="phone", subject="aid_post:1")
    assert not can_view_contact(stranger, resident, kind="phone", subject="aid_post:1")
    assert not can_view_contact(AnonymousUser(), resident, kind="phone", subject="aid_post:1")
