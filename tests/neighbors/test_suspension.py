"""The committee's decisions about people (neighbors.services.moderation): suspending for a
while and lifting early, removing from a community, hiding a profile's photo and "about me";
and who may do which to whom."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from messaging.models import Notification
from neighbors.models import AuditEntry, Grid, Membership, Profile, Suspension
from neighbors.permissions import (
    can_moderate_member,
    can_remove_member,
    can_see_profile_in_full,
    communities_visible_to,
    is_suspended,
    memberships_moderated_by,
    memberships_removable_by,
    profiles_shown_in_full_to,
)
from neighbors.services import (
    Suspended,
    membership_remove,
    profile_hide,
    profile_restore,
    suspension_check,
    suspension_lift,
    suspension_start,
)
from tests.factories import MembershipFactory, PlaceFactory

pytestmark = pytest.mark.django_db

REASON = "在群里反复发布借贷广告"


def membership_of(user) -> Membership:
    return user.memberships.get()


def errors_of(error: ValidationError) -> str:
    return " ".join(error.messages)


@pytest.fixture
def other_grid_worker(community, make_member):
    """A grid worker of another grid of the same community."""
    worker = make_member(role=Membership.Role.GRID_WORKER, username="other-grid")
    worker.memberships.get().grids.add(Grid.objects.create(community=community, name="第二网格"))
    return worker


@pytest.fixture
def other_committee(outsider):
    """A committee member of the outsider's community, not of ours."""
    return MembershipFactory(community=outsider.memberships.get().community, role=Membership.Role.COMMITTEE).user


@pytest.fixture
def far_resident(community):
    """A resident of the community whose building is in no grid worker's grid."""
    membership = MembershipFactory(community=community, home_place=PlaceFactory(community=community))
    return membership.user


class TestSuspend:
    def test_the_committee_suspends_a_member_who_is_told_until_when_and_why(self, committee, resident, community):
        # Given an approved resident
        membership = membership_of(resident)

        # When a committee member suspends them for 7 days
        before = timezone.now()
        suspension = suspension_start(actor=committee, membership=membership, days=7, reason=f"  {REASON} ")

        # Then it is in force for a week, recorded with who and why, and the resident is told
        assert (suspension.user, suspension.community, suspension.created_by) == (resident, community, committee)
        assert suspension.reason == REASON
        assert before + timedelta(days=7) <= suspension.ends_at <= timezone.now() + timedelta(days=7)
        assert is_suspended(resident, community.pk)
        entry = AuditEntry.objects.get(action=AuditEntry.Action.MEMBER_SUSPENDED)
        assert (entry.actor, entry.subject, entry.community, entry.target) == (
            committee,
            resident,
            community,
            f"membership:{membership.pk}",
        )
        assert (entry.reason, entry.detail["days"]) == (REASON, 7)
        told = Notification.objects.get(user=resident)
        assert told.kind == Notification.Kind.DECISION
        assert told.body == REASON
        assert timezone.localtime(suspension.ends_at).strftime("%Y-%m-%d") in told.title

    def test_until_a_moment_within_a_year(self, committee, resident):
        until = timezone.now() + timedelta(days=30)
        suspension = suspension_start(actor=committee, membership=membership_of(resident), until=until, reason=REASON)
        assert suspension.ends_at == until

    def test_a_grid_worker_suspends_a_resident_of_their_grid(self, grid_worker, resident):
        suspension = suspension_start(actor=grid_worker, membership=membership_of(resident), days=3, reason=REASON)
        assert suspension.created_by == grid_worker

    @pytest.mark.parametrize(
        ("target", "message"),
        [
            ("committee", "A grid worker cannot suspend a committee member."),
            ("other_grid_worker", "A grid worker cannot suspend another grid worker."),
            ("far_resident", "You look after the residents of your own grids"),
            ("grid_worker", "You cannot suspend yourself."),
        ],
    )
    def test_a_grid_worker_is_told_why_not(self, request, grid_worker, target, message):
        # Given a member of the same community the grid worker may not discipline
        membership = membership_of(request.getfixturevalue(target))

        # When they try, then they are refused with a sentence saying why, and nothing is stored
        with translation.override("en"), pytest.raises(ValidationError) as refused:
            suspension_start(actor=grid_worker, membership=membership, days=3, reason=REASON)
        assert message in errors_of(refused.value)
        assert not Suspension.objects.exists()
        assert not AuditEntry.objects.filter(action=AuditEntry.Action.MEMBER_SUSPENDED).exists()

    def test_a_committee_member_does_not_suspend_themselves(self, committee):
        with translation.override("en"), pytest.raises(ValidationError, match="You cannot suspend yourself."):
            suspension_start(actor=committee, membership=membership_of(committee), days=3, reason=REASON)

    def test_a_committee_member_suspends_another_committee_member(self, committee, make_member):
        colleague = make_member(role=Membership.Role.COMMITTEE, username="colleague")
        suspension_start(actor=committee, membership=membership_of(colleague), days=3, reason=REASON)
        assert is_suspended(colleague, membership_of(colleague).community_id)

    @pytest.mark.parametrize("actor", ["resident", "helper", "other_committee"])
    def test_people_with_no_part_in_it_are_refused_as_if_it_did_not_exist(self, request, actor, resident):
        membership = (
            membership_of(resident) if actor != "resident" else membership_of(request.getfixturevalue("helper"))
        )
        with pytest.raises(PermissionDenied):
            suspension_start(actor=request.getfixturevalue(actor), membership=membership, days=3, reason=REASON)
        assert not Suspension.objects.exists()

    @pytest.mark.parametrize("days", [0, -1, 366, 400, True, "abc", 1.5])
    def test_the_length_is_one_to_365_days(self, committee, resident, days):
        with translation.override("en"), pytest.raises(ValidationError) as refused:
            suspension_start(actor=committee, membership=membership_of(resident), days=days, reason=REASON)
        assert "Suspend for 1 to 365 days." in errors_of(refused.value)
        assert not Suspension.objects.exists()

    @pytest.mark.parametrize(
        "until", [timedelta(days=-1), timedelta(0), timedelta(days=366)], ids=["past", "now", "too-far"]
    )
    def test_an_end_in_the_past_or_beyond_a_year_is_refused(self, committee, resident, until):
        with pytest.raises(ValidationError):
            suspension_start(
                actor=committee, membership=membership_of(resident), until=timezone.now() + until, reason=REASON
            )
        assert not Suspension.objects.exists()

    def test_days_or_until_but_one_of_them(self, committee, resident):
        membership = membership_of(resident)
        with pytest.raises(ValidationError):
            suspension_start(actor=committee, membership=membership, reason=REASON)
        with pytest.raises(ValidationError):
            suspension_start(
                actor=committee, membership=membership, days=3, until=timezone.now() + timedelta(days=3), reason=REASON
            )

    @pytest.mark.parametrize("reason", ["", "   ", "长" * 301])
    def test_a_reason_is_required_and_short(self, committee, resident, reason):
        with pytest.raises(ValidationError) as refused:
            suspension_start(actor=committee, membership=membership_of(resident), days=3, reason=reason)
        assert "reason" in refused.value.message_dict
        assert not Suspension.objects.exists()

    def test_twice_is_refused_while_the_first_is_in_force(self, committee, resident):
        membership = membership_of(resident)
        suspension_start(actor=committee, membership=membership, days=3, reason=REASON)

        with translation.override("en"), pytest.raises(ValidationError, match="already suspended here until"):
            suspension_start(actor=committee, membership=membership, days=30, reason=REASON)
        assert Suspension.objects.count() == 1

    def test_a_member_no_longer_approved_is_not_suspended(self, committee, resident):
        membership = membership_of(resident)
        Membership.objects.filter(pk=membership.pk).update(status=Membership.Status.LEFT)
        membership.refresh_from_db()
        with translation.override("en"), pytest.raises(ValidationError, match="no longer a member"):
            suspension_start(actor=committee, membership=membership, days=3, reason=REASON)


class TestLift:
    def test_lifting_early_ends_it_and_keeps_the_record(self, committee, resident, community):
        suspension = suspension_start(actor=committee, membership=membership_of(resident), days=7, reason=REASON)

        lifted = suspension_lift(actor=committee, suspension=suspension, reason="已当面道歉")

        assert (lifted.lifted_by, lifted.lifted_at is not None) == (committee, True)
        assert not is_suspended(resident, community.pk)
        entry = AuditEntry.objects.get(action=AuditEntry.Action.SUSPENSION_LIFTED)
        assert (entry.subject, entry.reason) == (resident, "已当面道歉")
        assert Notification.objects.filter(user=resident, body="已当面道歉").exists()

    def test_twice_is_refused(self, committee, resident):
        suspension = suspension_start(actor=committee, membership=membership_of(resident), days=7, reason=REASON)
        suspension_lift(actor=committee, suspension=suspension, reason="已道歉")
        with translation.override("en"), pytest.raises(ValidationError, match="already ended or been lifted"):
            suspension_lift(actor=committee, suspension=suspension, reason="再次")

    def test_a_reason_is_required(self, committee, resident):
        suspension = suspension_start(actor=committee, membership=membership_of(resident), days=7, reason=REASON)
        with pytest.raises(ValidationError):
            suspension_lift(actor=committee, suspension=suspension, reason=" ")
        suspension.refresh_from_db()
        assert suspension.lifted_at is None

    def test_a_grid_worker_cannot_lift_a_committee_members_suspension(self, committee, grid_worker, make_member):
        colleague = make_member(role=Membership.Role.COMMITTEE, username="colleague")
        suspension = suspension_start(actor=committee, membership=membership_of(colleague), days=7, reason=REASON)
        with translation.override("en"), pytest.raises(ValidationError, match="cannot lift a committee member's"):
            suspension_lift(actor=grid_worker, suspension=suspension, reason="算了")

    def test_the_suspended_person_cannot_lift_their_own(self, committee, resident):
        suspension = suspension_start(actor=committee, membership=membership_of(resident), days=7, reason=REASON)
        with pytest.raises(PermissionDenied):
            suspension_lift(actor=resident, suspension=suspension, reason="我错了")


class TestSuspensionCheck:
    def test_it_says_where_until_when_and_why(self, committee, resident, community):
        suspension = suspension_start(actor=committee, membership=membership_of(resident), days=7, reason=REASON)
        with translation.override("en"), pytest.raises(Suspended) as refused:
            suspension_check(user=resident, community_id=community.pk)
        text = errors_of(refused.value)
        assert text.startswith(f"You are suspended in {community.name} until ")
        assert text.endswith(f": {REASON}")
        assert refused.value.suspension == suspension

    def test_on_behalf_names_the_person(self, committee, resident, community):
        suspension_start(actor=committee, membership=membership_of(resident), days=7, reason=REASON)
        with translation.override("en"), pytest.raises(Suspended) as refused:
            suspension_check(user=resident, community_id=community.pk, on_behalf=True)
        assert errors_of(refused.value).startswith(f"{resident.profile} is suspended in {community.name} until ")

    def test_elsewhere_ended_or_lifted_it_lets_them_through(self, committee, resident, community, outsider):
        suspension = suspension_start(actor=committee, membership=membership_of(resident), days=7, reason=REASON)
        other = outsider.memberships.get().community
        suspension_check(user=resident, community_id=other.pk)
        Suspension.objects.filter(pk=suspension.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
        suspension_check(user=resident, community_id=community.pk)


class TestRemove:
    def test_the_committee_removes_a_grid_worker_who_loses_access_at_once(self, committee, grid_worker, community):
        # Given a grid worker with a grid
        membership = membership_of(grid_worker)
        assert communities_visible_to(grid_worker).exists()

        # When the committee removes them
        removed = membership_remove(actor=committee, membership=membership, reason=REASON)

        # Then they are removed, a resident again, with no grids, and see the community no more
        assert (removed.status, removed.role, removed.decided_by, removed.decision_reason) == (
            Membership.Status.REMOVED,
            Membership.Role.RESIDENT,
            committee,
            REASON,
        )
        assert not removed.grids.exists()
        assert not communities_visible_to(grid_worker).exists()
        entry = AuditEntry.objects.get(action=AuditEntry.Action.MEMBER_REMOVED)
        assert (entry.subject, entry.community, entry.detail) == (grid_worker, community, {"role": "grid_worker"})
        assert Notification.objects.get(user=grid_worker).body == REASON

    def test_grid_workers_do_not_remove(self, grid_worker, resident):
        with translation.override("en"), pytest.raises(ValidationError, match="Only the committee removes"):
            membership_remove(actor=grid_worker, membership=membership_of(resident), reason=REASON)
        assert membership_of(resident).status == Membership.Status.APPROVED

    def test_not_oneself(self, committee):
        with translation.override("en"), pytest.raises(ValidationError, match="leave the community instead"):
            membership_remove(actor=committee, membership=membership_of(committee), reason=REASON)

    @pytest.mark.parametrize("actor", ["helper", "other_committee"])
    def test_others_are_refused_as_if_it_did_not_exist(self, request, actor, resident):
        with pytest.raises(PermissionDenied):
            membership_remove(actor=request.getfixturevalue(actor), membership=membership_of(resident), reason=REASON)

    def test_twice_and_without_a_reason_are_refused(self, committee, resident):
        membership = membership_of(resident)
        with pytest.raises(ValidationError):
            membership_remove(actor=committee, membership=membership, reason="")
        membership_remove(actor=committee, membership=membership, reason=REASON)
        with translation.override("en"), pytest.raises(ValidationError, match="no longer a member"):
            membership_remove(actor=committee, membership=membership, reason=REASON)
        assert AuditEntry.objects.filter(action=AuditEntry.Action.MEMBER_REMOVED).count() == 1


class TestProfile:
    def test_hidden_the_photo_and_about_me_show_only_to_them_and_the_staff(
        self, client, committee, grid_worker, resident, helper, community
    ):
        # Given a resident with something in "about me"
        Profile.objects.filter(user=resident).update(bio="加我微信领红包")

        # When the committee hides it
        profile = profile_hide(actor=committee, profile=resident.profile, reason="广告")

        # Then a neighbour's view of the person page says so, without the text
        assert profile.hidden_reason == "广告"
        client.force_login(helper)
        page = client.get(reverse("neighbors:person", args=[resident.pk]), HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        text = page.content.decode()
        assert "加我微信领红包" not in text
        assert "were hidden by the committee" in text
        # And the person and the staff still read it, marked with the reason
        for viewer in (resident, committee, grid_worker):
            client.force_login(viewer)
            text = client.get(reverse("neighbors:person", args=[resident.pk])).content.decode()
            assert "加我微信领红包" in text
            assert "广告" in text
        # And the rule's two forms agree
        for viewer, sees in ((resident, True), (committee, True), (grid_worker, True), (helper, False)):
            assert can_see_profile_in_full(viewer, resident) is sees
            assert profiles_shown_in_full_to(viewer).filter(user=resident).exists() is sees
        entry = AuditEntry.objects.get(action=AuditEntry.Action.CONTENT_HIDDEN)
        assert (entry.target, entry.community) == (f"profile:{profile.pk}", community)
        assert Notification.objects.get(user=resident).body == "广告"

    def test_restoring_shows_it_again(self, committee, resident, helper):
        profile_hide(actor=committee, profile=resident.profile, reason="广告")
        profile = profile_restore(actor=committee, profile=resident.profile)
        assert not profile.is_hidden
        assert can_see_profile_in_full(helper, resident)
        assert AuditEntry.objects.filter(action=AuditEntry.Action.CONTENT_RESTORED, subject=resident).exists()

    def test_twice_missing_reason_and_no_part_in_it_are_refused(self, committee, resident, helper, grid_worker):
        with pytest.raises(ValidationError):
            profile_hide(actor=committee, profile=resident.profile, reason="")
        profile_hide(actor=committee, profile=resident.profile, reason="广告")
        with translation.override("en"), pytest.raises(ValidationError, match="already hidden"):
            profile_hide(actor=committee, profile=resident.profile, reason="广告")
        with pytest.raises(PermissionDenied):
            profile_restore(actor=helper, profile=resident.profile)
        with translation.override("en"), pytest.raises(ValidationError, match="committee member's profile"):
            profile_hide(actor=grid_worker, profile=committee.profile, reason="广告")


class TestRules:
    def test_the_queryset_twins_agree_with_the_single_checks(
        self, committee, grid_worker, resident, helper, far_resident, other_grid_worker, outsider
    ):
        people = [committee, grid_worker, resident, helper, far_resident, other_grid_worker, outsider]
        memberships = [membership_of(person) for person in people]
        for actor in people:
            moderated = set(memberships_moderated_by(actor))
            removable = set(memberships_removable_by(actor))
            for membership in memberships:
                assert can_moderate_member(actor, membership) is (membership in moderated)
                assert can_remove_member(actor, membership) is (membership in removable)
        assert set(memberships_moderated_by(grid_worker)) == {membership_of(resident), membership_of(helper)}
        assert membership_of(committee) not in memberships_moderated_by(committee)
        assert set(memberships_removable_by(grid_worker)) == set()
