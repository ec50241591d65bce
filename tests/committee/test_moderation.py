"""Acting on a report (committee.services.moderation): hide what it is about, warn, suspend or
remove its author; every open report about the same target closes as acted on, with who and
when. Warning a member directly; restoring hidden content; and what the queue tells a reviewer."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from aid_posts.models import AidPost, WelfareRole
from committee.models import Report
from committee.selectors.moderation import hidden_content_for, report_queue_for, suspensions_in_force_for
from committee.services.moderation import (
    content_restore,
    member_warn,
    report_hide,
    report_remove,
    report_suspend,
)
from committee.services.reports import report_file
from messaging.models import Message, Notification
from messaging.services import conversation_open
from neighbors.models import AuditEntry, Membership, Profile
from neighbors.permissions import communities_visible_to, is_suspended
from neighbors.services import suspension_start
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

REASON = "散布诈骗信息"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def message(conversation, resident, send):
    return send(resident, conversation, "转账到这个账户，保证翻倍")


@pytest.fixture
def neighbour(make_member, conversation):
    """A second reporter, seated in the request's conversation too."""
    person = make_member(username="zhao")
    conversation_open(kind=conversation.kind, subject=conversation.subject, title="", participants=[person])
    return person


def file(reporter, kind, target_id, reason="fraud"):
    return report_file(actor=reporter, target_kind=kind, target_id=target_id, reason=reason)


def target_of(kind, *, message, post, role, resident):
    return {
        Report.TargetKind.MESSAGE: message.pk,
        Report.TargetKind.REQUEST: post.pk,
        Report.TargetKind.ROLE: role.pk,
        Report.TargetKind.PROFILE: resident.pk,
    }[kind]


def hidden(kind, target_id) -> bool:
    model = {
        Report.TargetKind.MESSAGE: Message.objects.filter(pk=target_id),
        Report.TargetKind.REQUEST: AidPost.objects.filter(pk=target_id),
        Report.TargetKind.ROLE: WelfareRole.objects.filter(pk=target_id),
        Report.TargetKind.PROFILE: Profile.objects.filter(user_id=target_id),
    }[kind]
    return model.get().is_hidden


class TestHide:
    @pytest.mark.parametrize("kind", Report.TargetKind.values)
    def test_hiding_closes_every_open_report_about_it(
        self, kind, message, post, role, resident, helper, neighbour, committee
    ):
        # Given two open reports about the same thing, and one about something else
        target_id = target_of(kind, message=message, post=post, role=role, resident=resident)
        first, second = file(helper, kind, target_id), file(neighbour, kind, target_id)
        unrelated = file(helper, "request" if kind != "request" else "role", post.pk if kind != "request" else role.pk)

        # When a committee member hides it from the first report
        report_hide(actor=committee, report=first, reason=REASON)

        # Then it is hidden, and both reports about it are closed as acted on, by them
        assert hidden(kind, target_id)
        for report in (first, second):
            report.refresh_from_db()
            assert (report.status, report.decided_by, report.decided_at is not None) == ("actioned", committee, True)
        unrelated.refresh_from_db()
        assert unrelated.status == Report.Status.OPEN
        assert AuditEntry.objects.get(action=AuditEntry.Action.CONTENT_HIDDEN).reason == REASON

    def test_a_grid_worker_is_told_a_role_is_the_committees_to_hide(self, role, helper, grid_worker):
        report = file(helper, "role", role.pk)
        with pytest.raises(ValidationError, match="Your role does not let you hide this"):
            report_hide(actor=grid_worker, report=report, reason=REASON)
        report.refresh_from_db()
        role.refresh_from_db()
        assert (report.status, role.is_hidden) == (Report.Status.OPEN, False)

    def test_acting_twice_is_refused_and_changes_nothing(self, message, helper, committee, grid_worker):
        report = file(helper, "message", message.pk)
        report_hide(actor=committee, report=report, reason=REASON)
        with pytest.raises(ValidationError, match="already been decided"):
            report_hide(actor=grid_worker, report=report, reason="再来一次")
        assert AuditEntry.objects.filter(action=AuditEntry.Action.CONTENT_HIDDEN).count() == 1
        assert Message.objects.get(pk=message.pk).hidden_by == committee

    def test_a_missing_reason_rolls_everything_back(self, message, helper, committee):
        report = file(helper, "message", message.pk)
        with pytest.raises(ValidationError):
            report_hide(actor=committee, report=report, reason=" ")
        report.refresh_from_db()
        assert report.status == Report.Status.OPEN
        assert not Message.objects.get(pk=message.pk).is_hidden

    def test_a_reviewer_never_acts_on_a_report_about_themselves(self, make_member, helper, committee):
        # Given a report about a committee member's profile
        colleague = make_member(role=Membership.Role.COMMITTEE, username="colleague")
        report = file(helper, "profile", colleague.pk)
        # Then they cannot act on it; another committee member can
        for act in (
            lambda: report_hide(actor=colleague, report=report, reason=REASON),
            lambda: member_warn(actor=colleague, report=report, reason=REASON),
            lambda: report_suspend(actor=colleague, report=report, days=3, reason=REASON),
            lambda: report_remove(actor=colleague, report=report, reason=REASON),
        ):
            with pytest.raises(PermissionDenied):
                act()
        report_hide(actor=committee, report=report, reason=REASON)

    def test_people_with_no_part_in_it_are_refused(self, message, helper, resident, other_committee):
        report = file(helper, "message", message.pk)
        for someone in (resident, helper, other_committee):
            with pytest.raises(PermissionDenied):
                report_hide(actor=someone, report=report, reason=REASON)
        report.refresh_from_db()
        assert report.status == Report.Status.OPEN


class TestAuthor:
    def test_warning_from_a_report_counts_and_tells_them(self, post, helper, resident, committee, community):
        report = file(helper, "request", post.pk)

        entry = member_warn(actor=committee, report=report, reason=REASON)

        assert (entry.action, entry.subject, entry.community, entry.detail) == (
            AuditEntry.Action.MEMBER_WARNED,
            resident,
            community,
            {"report": report.pk},
        )
        told = Notification.objects.get(user=resident, kind=Notification.Kind.DECISION)
        assert told.body == REASON and community.name in told.title
        report.refresh_from_db()
        assert report.status == Report.Status.ACTIONED
        # Directly from their page too: the count goes on
        member_warn(actor=committee, membership=resident.memberships.get(), reason="第二次")
        assert AuditEntry.objects.filter(action=AuditEntry.Action.MEMBER_WARNED, subject=resident).count() == 2

    def test_warning_needs_one_target_and_a_reason(self, resident, committee, post, helper):
        with pytest.raises(TypeError):
            member_warn(actor=committee, reason=REASON)
        with pytest.raises(ValidationError):
            member_warn(actor=committee, membership=resident.memberships.get(), reason="")
        report = file(helper, "request", post.pk)
        with pytest.raises(ValidationError):
            member_warn(actor=committee, report=report, reason="")
        report.refresh_from_db()
        assert report.status == Report.Status.OPEN
        assert not AuditEntry.objects.filter(action=AuditEntry.Action.MEMBER_WARNED).exists()

    def test_suspending_from_a_report(self, message, helper, resident, committee, community):
        report = file(helper, "message", message.pk)
        suspension = report_suspend(actor=committee, report=report, days=14, reason=REASON)
        assert (suspension.user, suspension.community) == (resident, community)
        assert is_suspended(resident, community.pk)
        report.refresh_from_db()
        assert report.status == Report.Status.ACTIONED

    @pytest.mark.parametrize("days", [0, 400])
    def test_bad_days_leave_the_report_open(self, message, helper, resident, committee, community, days):
        report = file(helper, "message", message.pk)
        with pytest.raises(ValidationError, match="Suspend for 1 to 365 days."):
            report_suspend(actor=committee, report=report, days=days, reason=REASON)
        report.refresh_from_db()
        assert report.status == Report.Status.OPEN
        assert not is_suspended(resident, community.pk)

    def test_a_grid_worker_suspending_a_committee_member_is_told_why_not(
        self, make_member, helper, grid_worker, committee, community
    ):
        colleague = make_member(role=Membership.Role.COMMITTEE, username="colleague")
        report = file(helper, "profile", colleague.pk)
        for act, words in (
            (lambda: report_suspend(actor=grid_worker, report=report, days=3, reason=REASON), "suspend"),
            (lambda: member_warn(actor=grid_worker, report=report, reason=REASON), "warn"),
        ):
            with pytest.raises(ValidationError, match=f"A grid worker cannot {words} a committee member."):
                act()
        with pytest.raises(ValidationError, match="Only the committee removes"):
            report_remove(actor=grid_worker, report=report, reason=REASON)
        report.refresh_from_db()
        assert report.status == Report.Status.OPEN
        assert not is_suspended(colleague, community.pk)

    def test_removing_from_a_report(self, post, helper, resident, committee):
        report = file(helper, "request", post.pk)
        membership = report_remove(actor=committee, report=report, reason=REASON)
        assert membership.status == Membership.Status.REMOVED
        assert not communities_visible_to(resident).exists()

    def test_a_role_report_names_nobody_to_act_on(self, role, helper, committee):
        report = file(helper, "role", role.pk)
        with pytest.raises(ValidationError, match="names nobody to act on"):
            report_suspend(actor=committee, report=report, days=3, reason=REASON)


class TestRestore:
    def test_restoring_each_kind(self, message, post, role, resident, helper, committee):
        targets = {
            "message": message.pk,
            "request": post.pk,
            "role": role.pk,
            "profile": resident.pk,
        }
        for kind, target_id in targets.items():
            report_hide(actor=committee, report=file(helper, kind, target_id), reason=REASON)
        content = hidden_content_for(committee)
        assert (content.messages, content.posts, content.roles, [p.user for p in content.profiles]) == (
            [message],
            [post],
            [role],
            [resident],
        )

        for kind, target_id in targets.items():
            content_restore(actor=committee, kind=kind, target_id=target_id)
            assert not hidden(kind, target_id)
        assert hidden_content_for(committee).empty
        assert AuditEntry.objects.filter(action=AuditEntry.Action.CONTENT_RESTORED).count() == 4

    def test_unknown_missing_or_not_theirs_is_refused_alike(self, message, helper, committee, other_committee):
        report_hide(actor=committee, report=file(helper, "message", message.pk), reason=REASON)
        for kind, target_id, actor in (
            ("poll", message.pk, committee),
            ("message", 2_147_483_647, committee),
            ("message", message.pk, other_committee),
            ("message", message.pk, helper),
        ):
            with pytest.raises(PermissionDenied):
                content_restore(actor=actor, kind=kind, target_id=target_id)
        assert Message.objects.get(pk=message.pk).is_hidden
        assert hidden_content_for(other_committee).empty and hidden_content_for(helper).empty


class TestQueue:
    def test_each_report_says_what_the_reviewer_may_do(
        self, message, post, role, resident, helper, committee, grid_worker, make_member, community
    ):
        # Given reports about a resident's message, a role, and a committee member's profile
        colleague = make_member(role=Membership.Role.COMMITTEE, username="colleague")
        about_message = file(helper, "message", message.pk)
        about_role = file(helper, "role", role.pk)
        about_colleague = file(helper, "profile", colleague.pk)
        member_warn(actor=committee, membership=resident.memberships.get(), reason="第一次")
        report_suspend(actor=committee, report=file(helper, "request", post.pk), days=3, reason=REASON)

        by_committee = {report.pk: report for report in report_queue_for(committee).reports}
        by_grid_worker = {report.pk: report for report in report_queue_for(grid_worker).reports}

        # Then the committee may do everything; the grid worker not to a role nor a committee member
        mine = by_committee[about_message.pk]
        assert (mine.can_hide, mine.author_membership_id, mine.can_remove_author) == (
            True,
            resident.memberships.get().pk,
            True,
        )
        assert mine.author_warnings == 1 and mine.author_suspended_until is not None
        assert by_committee[about_role.pk].can_hide and not by_grid_worker[about_role.pk].can_hide
        theirs = by_grid_worker[about_colleague.pk]
        assert (theirs.can_hide, theirs.author_membership_id, theirs.can_remove_author) == (False, None, False)
        assert by_grid_worker[about_message.pk].author_membership_id == resident.memberships.get().pk
        assert not by_grid_worker[about_message.pk].can_remove_author
        # The colleague never sees the report about themselves
        assert about_colleague.pk not in {report.pk for report in report_queue_for(colleague).reports}

    def test_the_queue_reads_a_fixed_number_of_queries(
        self, conversation, resident, helper, committee, send, community, building
    ):
        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                report_queue_for(committee)
            return len(queries)

        send(helper, conversation, "你好")  # every reported message has context, the first too
        file(helper, "message", send(resident, conversation, "第一条").pk)
        file(helper, "profile", resident.pk)
        few = count()
        for index in range(5):
            reporter = UserFactory(username=f"reporter-{index}")
            MembershipFactory(user=reporter, community=community, home_place=building)
            author = UserFactory(username=f"author-{index}")
            MembershipFactory(user=author, community=community, home_place=building)
            file(reporter, "profile", author.pk)
            file(helper, "message", send(resident, conversation, f"第{index}条").pk)
        assert count() == few

    def test_suspensions_in_force_are_listed_for_who_may_lift_them(
        self, message, helper, resident, committee, grid_worker, make_member, other_committee
    ):
        report_suspend(actor=committee, report=file(helper, "message", message.pk), days=3, reason=REASON)
        colleague = make_member(role=Membership.Role.COMMITTEE, username="colleague")
        suspension_start(actor=committee, membership=colleague.memberships.get(), days=5, reason=REASON)

        assert [s.user for s in suspensions_in_force_for(committee)] == [resident, colleague]
        assert [s.user for s in suspensions_in_force_for(grid_worker)] == [resident]
        assert suspensions_in_force_for(other_committee) == []
        assert suspensions_in_force_for(committee)[0].membership_id == resident.memberships.get().pk
