"""Committee decisions made in the lower apps (membership, certificates) reach the person's
notifications through the sender messaging registers in neighbors.notices."""

import pytest
from django.urls import reverse
from django.utils import translation

from messaging.models import Notification
from neighbors.models import Profile
from neighbors.services import membership_approve, membership_decline, membership_request
from talent_pool.services import credential_reject, credential_verify
from tests.factories import UserFactory
from tests.talent_pool.test_credentials import submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(community, building):
    user = UserFactory()
    return user, membership_request(actor=user, community=community, home_place=building, tenure="owner")


def decisions_of(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=Notification.Kind.DECISION))


def test_an_approved_member_hears_of_it(committee, newcomer, community, django_capture_on_commit_callbacks):
    user, membership = newcomer
    with django_capture_on_commit_callbacks(execute=True):
        membership_approve(actor=committee, membership=membership)

    [notice] = decisions_of(user)
    assert community.name in notice.title
    assert notice.url == reverse("neighbors:communities")


def test_a_declined_request_carries_the_reason_in_the_persons_language(committee, newcomer, community):
    user, membership = newcomer
    Profile.objects.filter(user=user).update(language="en")
    user.profile.refresh_from_db()

    with translation.override("zh-hans"):
        membership_decline(actor=committee, membership=membership, reason="请先提供住址证明")

    [notice] = decisions_of(user)
    assert notice.title == f"Your request to join {community.name} was declined"
    assert notice.body == "请先提供住址证明"


def test_nobody_else_hears_and_an_undecided_request_tells_nobody(committee, newcomer, resident):
    user, membership = newcomer
    assert decisions_of(user) == []
    membership_approve(actor=committee, membership=membership)
    assert decisions_of(resident) == []
    assert decisions_of(committee) == []


def test_a_talent_hears_whether_their_certificate_was_verified(helper, committee):
    Profile.objects.filter(user=helper).update(language="en")
    helper.profile.refresh_from_db()
    first = submitted(helper)
    credential_verify(actor=committee, credential=first)
    second = submitted(helper, number="J-2024-002")
    credential_reject(actor=committee, credential=second, reason="照片看不清")

    verified, rejected = sorted(decisions_of(helper), key=lambda notice: notice.pk)
    with translation.override("en"):
        skill = str(first.talent_skill.skill)
    assert verified.title == f"Your certificate for {skill} was verified"
    assert rejected.title == f"Your certificate for {skill} was not accepted"
    assert rejected.body == "照片看不清"
    assert verified.url == reverse("talent_pool:my_profile")
