"""Grids, roles and their record, leaving, and the guardian's consent for children under 14."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from neighbors.models import Grid, GuardianConsent, Membership, Place, Profile, RoleChange
from neighbors.permissions import can_decide_membership, communities_visible_to, is_member, memberships_decidable_by
from neighbors.services import (
    Guardian,
    membership_approve,
    membership_leave,
    membership_request,
    membership_role_change,
)
from tests.factories import CommunityFactory, PlaceFactory, UserFactory
from tests.neighbors.test_views import signup_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def grids(community, building):
    first = Grid.objects.create(community=community, name="第一网格")
    second = Grid.objects.create(community=community, name="第二网格")
    Place.objects.filter(pk=building.pk).update(grid=first)
    return first, second


@pytest.fixture
def grid_worker(make_member, grids):
    worker = make_member(role=Membership.Role.GRID_WORKER)
    worker.memberships.get().grids.add(grids[0])
    return worker


class TestPlaces:
    def test_a_grid_belongs_to_the_buildings_community(self, building):
        foreign = Grid.objects.create(community=CommunityFactory(), name="外社区网格")
        building.grid = foreign
        with pytest.raises(ValidationError):
            building.full_clean()


class TestGridWorkerQueue:
    def test_a_grid_worker_decides_requests_from_their_grids_only(self, community, grids, grid_worker):
        in_grid = membership_request(
            actor=UserFactory(), community=community, home_place=Place.objects.get(grid=grids[0]), tenure="owner"
        )
        elsewhere = PlaceFactory(community=community, grid=grids[1], name="9号楼")
        outside_grid = membership_request(
            actor=UserFactory(), community=community, home_place=elsewhere, tenure="owner"
        )
        assert can_decide_membership(grid_worker, in_grid)
        assert not can_decide_membership(grid_worker, outside_grid)
        assert list(memberships_decidable_by(grid_worker)) == [in_grid]
        membership_approve(actor=grid_worker, membership=in_grid)
        with pytest.raises(PermissionDenied):
            membership_approve(actor=grid_worker, membership=outside_grid)

    def test_a_former_grid_worker_decides_nothing(self, community, grids, grid_worker, committee):
        pending = membership_request(
            actor=UserFactory(), community=community, home_place=Place.objects.get(grid=grids[0]), tenure="tenant"
        )
        membership_role_change(
            actor=committee, membership=grid_worker.memberships.get(), role=Membership.Role.RESIDENT, reason="调岗"
        )
        assert not can_decide_membership(grid_worker, pending)


class TestRoles:
    def test_a_role_change_is_recorded(self, committee, resident, grids):
        membership = resident.memberships.get()
        membership_role_change(
            actor=committee,
            membership=membership,
            role=Membership.Role.GRID_WORKER,
            reason="新任网格员",
            grids=[grids[1]],
        )
        membership.refresh_from_db()
        assert membership.role == Membership.Role.GRID_WORKER
        assert list(membership.grids.all()) == [grids[1]]
        change = RoleChange.objects.get()
        assert (change.user, change.changed_by, change.from_role, change.to_role, change.reason) == (
            resident,
            committee,
            Membership.Role.RESIDENT,
            Membership.Role.GRID_WORKER,
            "新任网格员",
        )

    @pytest.mark.parametrize(
        ("role", "reason", "grid_index", "field"),
        [
            ("mayor", "x", None, "role"),
            (Membership.Role.VOLUNTEER, "  ", None, "reason"),
            (Membership.Role.GRID_WORKER, "网格员", None, "grids"),
            (Membership.Role.VOLUNTEER, "志愿者", 0, "grids"),
            (Membership.Role.RESIDENT, "已是居民", None, "role"),
        ],
    )
    def test_bad_changes_are_refused_and_nothing_recorded(
        self, committee, resident, grids, role, reason, grid_index, field
    ):
        chosen = [grids[grid_index]] if grid_index is not None else None
        with pytest.raises(ValidationError) as error:
            membership_role_change(
                actor=committee, membership=resident.memberships.get(), role=role, reason=reason, grids=chosen
            )
        assert field in error.value.message_dict
        assert not RoleChange.objects.exists()
        assert resident.memberships.get().role == Membership.Role.RESIDENT

    def test_grids_of_another_community_are_refused(self, committee, resident):
        foreign = Grid.objects.create(community=CommunityFactory(), name="外社区")
        with pytest.raises(ValidationError):
            membership_role_change(
                actor=committee,
                membership=resident.memberships.get(),
                role=Membership.Role.GRID_WORKER,
                reason="x",
                grids=[foreign],
            )

    def test_only_the_committee_changes_roles_and_never_their_own(
        self, committee, resident, helper, outsider, grid_worker
    ):
        for actor in (resident, outsider, grid_worker):
            with pytest.raises(PermissionDenied):
                membership_role_change(
                    actor=actor, membership=helper.memberships.get(), role=Membership.Role.COMMITTEE, reason="x"
                )
        with pytest.raises(PermissionDenied):
            membership_role_change(
                actor=committee, membership=committee.memberships.get(), role=Membership.Role.RESIDENT, reason="x"
            )
        assert not RoleChange.objects.exists()

    def test_the_members_page_changes_a_role(self, committee, resident, client):
        client.force_login(committee)
        membership = resident.memberships.get()
        page = client.get(reverse("neighbors:members"))
        assert resident.profile.display_name in page.content.decode()
        response = client.post(
            reverse("neighbors:membership_role_change", args=[membership.pk]),
            {f"m{membership.pk}-role": "volunteer", f"m{membership.pk}-reason": "报名志愿者"},
        )
        assert response.status_code == 302
        assert Membership.objects.get(pk=membership.pk).role == Membership.Role.VOLUNTEER
        assert "报名志愿者" in client.get(reverse("neighbors:members")).content.decode()

    def test_the_members_page_is_the_committees_only(self, resident, helper, client):
        client.force_login(resident)
        assert client.get(reverse("neighbors:members")).status_code == 404
        membership = helper.memberships.get()
        response = client.post(
            reverse("neighbors:membership_role_change", args=[membership.pk]),
            {f"m{membership.pk}-role": "committee", f"m{membership.pk}-reason": "我自己任命"},
        )
        assert response.status_code == 404
        assert Membership.objects.get(pk=membership.pk).role == Membership.Role.RESIDENT


class TestLeaving:
    def test_leaving_is_one_click_and_ends_visibility(self, resident, community, client):
        membership = resident.memberships.get()
        client.force_login(resident)
        response = client.post(reverse("neighbors:membership_leave", args=[membership.pk]))
        assert response.status_code == 302
        membership.refresh_from_db()
        assert membership.status == Membership.Status.LEFT
        assert membership.left_at is not None
        assert not is_member(resident, community)

    def test_a_leaver_may_ask_again(self, resident, community, building):
        membership = resident.memberships.get()
        membership_leave(actor=resident, membership=membership)
        again = membership_request(actor=resident, community=community, home_place=building, tenure="family")
        assert (again.pk, again.status, again.tenure) == (membership.pk, Membership.Status.PENDING, "family")

    def test_leaving_drops_a_staff_role(self, grid_worker):
        membership = grid_worker.memberships.get()
        membership_leave(actor=grid_worker, membership=membership)
        membership.refresh_from_db()
        assert membership.role == Membership.Role.RESIDENT
        assert not membership.grids.exists()

    def test_nobody_else_can_make_you_leave(self, resident, helper, client):
        membership = resident.memberships.get()
        with pytest.raises(PermissionDenied):
            membership_leave(actor=helper, membership=membership)
        client.force_login(helper)
        assert client.post(reverse("neighbors:membership_leave", args=[membership.pk])).status_code == 404
        assert Membership.objects.get(pk=membership.pk).status == Membership.Status.APPROVED

    def test_a_resident_belongs_to_several_communities(self, resident, committee, community):
        other = CommunityFactory(name="第二社区")
        second = membership_request(
            actor=resident, community=other, home_place=PlaceFactory(community=other), tenure="tenant"
        )
        Membership.objects.filter(pk=second.pk).update(status=Membership.Status.APPROVED)
        assert set(communities_visible_to(resident)) == {community, other}


class TestMinors:
    @pytest.fixture
    def child_request(self, community, building):
        child = UserFactory()
        Profile.objects.filter(user=child).update(is_minor=True)
        return membership_request(actor=child, community=community, home_place=building, tenure="family")

    def test_no_approval_without_the_guardians_consent(self, committee, child_request):
        with pytest.raises(ValidationError):
            membership_approve(actor=committee, membership=child_request)
        child_request.refresh_from_db()
        assert child_request.status == Membership.Status.PENDING
        assert not GuardianConsent.objects.exists()

    def test_the_committee_records_the_consent_and_approves(self, committee, child_request):
        guardian = Guardian(name="刘女士", relation="母亲", method=GuardianConsent.Method.IN_PERSON)
        membership_approve(actor=committee, membership=child_request, guardian=guardian)
        child_request.refresh_from_db()
        assert child_request.status == Membership.Status.APPROVED
        consent = GuardianConsent.objects.get()
        assert (consent.minor_id, consent.guardian_name, consent.recorded_by) == (
            child_request.user_id,
            "刘女士",
            committee,
        )

    def test_a_bad_guardian_record_approves_nothing(self, committee, child_request):
        with pytest.raises(ValidationError):
            membership_approve(
                actor=committee, membership=child_request, guardian=Guardian(name="", relation="母亲", method="fax")
            )
        child_request.refresh_from_db()
        assert child_request.status == Membership.Status.PENDING
        assert not GuardianConsent.objects.exists()

    def test_the_queue_asks_for_the_guardian(self, committee, child_request):
        client = Client()
        client.force_login(committee)
        page = client.get(reverse("neighbors:membership_queue")).content.decode()
        assert 'name="guardian_name"' in page
        response = client.post(reverse("neighbors:membership_approve", args=[child_request.pk]))
        assert response.status_code == 302
        child_request.refresh_from_db()
        assert child_request.status == Membership.Status.PENDING
        client.post(
            reverse("neighbors:membership_approve", args=[child_request.pk]),
            {"guardian_name": "刘女士", "relation": "母亲", "method": "in_person"},
        )
        child_request.refresh_from_db()
        assert child_request.status == Membership.Status.APPROVED

    def test_signing_up_as_under_14_marks_the_profile(self, client):
        client.post(reverse("account_signup"), signup_data(age_group="minor"))
        assert Profile.objects.get(user__email="new@example.test").is_minor

    def test_the_profile_keeps_the_language_the_person_signed_up_in(self, client):
        # Logging in applies the profile's language: one left at the default would greet
        # someone who signed up in English in Chinese from their first login on.
        client.post(reverse("account_signup"), signup_data(), HTTP_ACCEPT_LANGUAGE="en")
        client.post(reverse("account_signup"), signup_data(email="zh@example.test"), HTTP_ACCEPT_LANGUAGE="zh-hans")

        assert Profile.objects.get(user__email="new@example.test").language == "en"
        assert Profile.objects.get(user__email="zh@example.test").language == "zh-hans"
