"""Sharing one's own contact detail by name: it opens that detail to those people about that
subject, for a while, whatever its scope; every reveal is still logged; never a child's,
never to someone blocked."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone

from neighbors.models import ContactDisclosure, ContactMethod, ContactShare, Profile
from neighbors.permissions import can_view_contact, contact_ground
from neighbors.services import block_add, contact_reveal, contact_share
from tests.factories import phone_of

pytestmark = pytest.mark.django_db
SUBJECT = "aid_post:1"
PHONE = ContactMethod.Kind.PHONE


@pytest.fixture
def private_phone(resident):
    """The resident's phone, shown to nobody by its scope: only a share can open it."""
    ContactMethod.objects.filter(user=resident, kind=PHONE).update(scope=ContactMethod.Scope.PRIVATE)
    return phone_of(resident)


def reveal(viewer, owner, subject=SUBJECT, kind=PHONE) -> str:
    return contact_reveal(viewer=viewer, owner=owner, kind=kind, subject=subject, subject_title="修水龙头")


def test_a_share_opens_the_detail_to_the_named_people_and_each_reveal_is_logged(resident, helper, private_phone):
    assert not can_view_contact(helper, resident, kind=PHONE, subject=SUBJECT)

    reached = contact_share(owner=resident, viewers=[helper], kind=PHONE, subject=SUBJECT)

    assert reached == 1
    assert contact_ground(helper, resident, scope=ContactMethod.Scope.PRIVATE, subject=SUBJECT, kind=PHONE) == "shared"
    assert reveal(helper, resident) == private_phone
    assert reveal(helper, resident) == private_phone
    disclosures = ContactDisclosure.objects.filter(viewer=helper, owner=resident, field=PHONE, subject=SUBJECT)
    assert disclosures.count() == 2
    assert disclosures.first().subject_title == "修水龙头"


def test_a_share_is_for_that_person_that_detail_and_that_subject_only(resident, helper, make_member, private_phone):
    ContactMethod.objects.create(user=resident, kind=ContactMethod.Kind.WECHAT, value="wang_ayi", scope="private")
    bystander = make_member()
    contact_share(owner=resident, viewers=[helper], kind=PHONE, subject=SUBJECT)

    with pytest.raises(PermissionDenied):
        reveal(bystander, resident)
    with pytest.raises(PermissionDenied):
        reveal(helper, resident, kind=ContactMethod.Kind.WECHAT)
    with pytest.raises(PermissionDenied):
        reveal(helper, resident, subject="aid_post:2")
    assert not ContactDisclosure.objects.exists()


def test_a_share_runs_out_and_sharing_again_renews_it(resident, helper, private_phone):
    contact_share(owner=resident, viewers=[helper], kind=PHONE, subject=SUBJECT)
    share = ContactShare.objects.get()
    expected_until = timezone.now() + timedelta(days=settings.CONTACT_SHARE_DAYS)
    assert abs(share.until - expected_until) < timedelta(minutes=1)

    ContactShare.objects.update(until=timezone.now() - timedelta(seconds=1))
    with pytest.raises(PermissionDenied):
        reveal(helper, resident)
    assert not ContactDisclosure.objects.exists()

    contact_share(owner=resident, viewers=[helper], kind=PHONE, subject=SUBJECT)
    assert ContactShare.objects.count() == 1
    assert reveal(helper, resident) == private_phone


def test_someone_blocked_is_not_reached_and_a_later_block_closes_the_share(
    resident, helper, make_member, private_phone
):
    blocked = make_member()
    block_add(actor=blocked, person=resident)

    reached = contact_share(owner=resident, viewers=[helper, blocked, resident], kind=PHONE, subject=SUBJECT)

    assert reached == 1
    assert list(ContactShare.objects.values_list("viewer", flat=True)) == [helper.pk]
    block_add(actor=resident, person=helper)
    with pytest.raises(PermissionDenied):
        reveal(helper, resident)
    assert not ContactDisclosure.objects.exists()


def test_a_child_cannot_share_and_an_old_share_stops_counting(resident, helper, private_phone):
    contact_share(owner=resident, viewers=[helper], kind=PHONE, subject=SUBJECT)
    Profile.objects.filter(user=resident).update(is_minor=True)

    with pytest.raises(ValidationError):
        contact_share(owner=resident, viewers=[helper], kind=PHONE, subject="aid_post:2")
    with pytest.raises(PermissionDenied):
        reveal(helper, resident)
    assert ContactShare.objects.count() == 1
    assert not ContactDisclosure.objects.exists()


@pytest.mark.parametrize("kind", ["fax", ContactMethod.Kind.WECHAT])
def test_an_unknown_or_missing_detail_is_refused(resident, helper, kind):
    with pytest.raises(ValidationError):
        contact_share(owner=resident, viewers=[helper], kind=kind, subject=SUBJECT)
    assert not ContactShare.objects.exists()


def test_nobody_shares_with_themselves(resident):
    assert contact_share(owner=resident, viewers=[resident], kind=PHONE, subject=SUBJECT) == 0
    with pytest.raises(IntegrityError):
        ContactShare.objects.create(owner=resident, viewer=resident, kind=PHONE, subject=SUBJECT, until=timezone.now())
