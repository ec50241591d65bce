import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from neighbors.services import block_add
from talent_pool.selectors import talents_visible_to
from talent_pool.services import talent_profile_ensure, talent_skill_add, talent_skill_verify
from tests.factories import phone_of, skill

pytestmark = pytest.mark.django_db


def test_committee_verifies_a_skill_of_a_member(committee, helper):
    talent_skill = talent_skill_add(actor=helper, skill=skill("tutoring"))
    assert not talent_skill.is_verified
    talent_skill_verify(actor=committee, talent_skill=talent_skill)
    talent_skill.refresh_from_db()
    assert talent_skill.is_verified
    assert talent_skill.verified_by == committee


def test_a_skill_that_needs_a_certificate_is_not_vouched_for(committee, helper):
    talent_skill = talent_skill_add(actor=helper, skill=skill("legal-mediation"))
    with pytest.raises(ValidationError):
        talent_skill_verify(actor=committee, talent_skill=talent_skill)
    talent_skill.refresh_from_db()
    assert talent_skill.verified_by is None


def test_nobody_else_verifies(committee, helper, resident, outsider):
    talent_skill = talent_skill_add(actor=helper, skill=skill("tutoring"))
    for someone in (resident, helper, outsider):
        with pytest.raises(PermissionDenied):
            talent_skill_verify(actor=someone, talent_skill=talent_skill)
    own = talent_skill_add(actor=committee, skill=skill("tutoring"))
    with pytest.raises(PermissionDenied):
        talent_skill_verify(actor=committee, talent_skill=own)
    talent_skill.refresh_from_db()
    assert not talent_skill.is_verified


def test_directory_lists_talents_of_my_communities_without_contacts(resident, helper, outsider):
    talent_profile_ensure(actor=helper, headline="水电师傅")
    talent_skill_add(actor=helper, skill=skill("electrical"))
    talent_skill_add(actor=outsider, skill=skill("electrical"))
    assert [t.user for t in talents_visible_to(resident)] == [helper]
    assert [t.user for t in talents_visible_to(outsider)] == [outsider]

    client = Client()
    client.force_login(resident)
    page = client.get(reverse("talent_pool:directory")).content.decode()
    assert "水电师傅" in page
    assert phone_of(helper) not in page
    assert outsider.profile.display_name not in page


def test_directory_query_count_is_flat(resident, make_member, django_assert_max_num_queries):
    client = Client()
    client.force_login(resident)
    talent_skill_add(actor=make_member(), skill=skill("tutoring"))
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("talent_pool:directory"))
    for _ in range(10):
        talent_skill_add(actor=make_member(), skill=skill("tutoring"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("talent_pool:directory"))


def test_a_talent_who_blocked_me_is_not_in_my_directory(resident, helper):
    talent_profile_ensure(actor=helper, headline="修水管")
    assert talents_visible_to(resident).filter(user=helper).exists()
    block_add(actor=helper, person=resident)
    assert not talents_visible_to(resident).filter(user=helper).exists()
    # The one who blocked still sees the other in their directory.
    talent_profile_ensure(actor=resident, headline="陪聊天")
    assert talents_visible_to(helper).filter(user=resident).exists()
