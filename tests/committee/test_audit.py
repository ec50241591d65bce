"""The audit trail: every committee decision writes exactly one entry (who, what, about whom,
why) inside its own transaction, and the audit page lists the entries of the communities the
viewer works for, newest first, filtered and paginated, readable, with nothing to edit."""

import contextlib
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from aid_posts.models import RoleClaim
from aid_posts.services import (
    duty_confirm,
    duty_log,
    duty_reject,
    role_claim,
    role_claim_approve,
    role_claim_decline,
)
from committee.models import Report
from committee.selectors.audit import PER_PAGE
from committee.services.reports import report_dismiss, report_file
from messaging.services import message_send
from neighbors.models import AuditEntry, Membership
from neighbors.services import audit_record, ledger_award, membership_role_change
from talent_pool.models import Credential
from talent_pool.services import credential_reject, credential_verify, talent_skill_add, talent_skill_verify
from tests.factories import CommunityFactory, MembershipFactory, UserFactory, skill

pytestmark = pytest.mark.django_db

CERTIFIED = "legal-mediation"  # seeded as needing a verified certificate


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def pending_credential(user) -> Credential:
    return Credential.objects.create(
        talent_skill=talent_skill_add(actor=user, skill=skill(CERTIFIED)),
        image="credentials/x.jpg",
        thumbnail="credentials/x-thumb.jpg",
        number=f"N-{user.pk}",
        expires_on=timezone.localdate() + timedelta(days=365),
    )


@pytest.fixture
def claim(role, helper) -> RoleClaim:
    talent_skill_add(actor=helper, skill=role.skill)
    return role_claim(actor=helper, role=role)


def only_entry() -> AuditEntry:
    [entry] = AuditEntry.objects.all()
    return entry


def who_what_whom_why(entry: AuditEntry) -> tuple:
    return entry.actor, entry.action, entry.subject, entry.target, entry.reason


class TestEachDecisionIsRecordedOnce:
    def test_report_dismissed(self, committee, helper, resident, post):
        report = report_file(actor=helper, target_kind=Report.TargetKind.REQUEST, target_id=post.pk, reason="spam")

        report_dismiss(actor=committee, report=report)

        entry = only_entry()
        assert who_what_whom_why(entry) == (
            committee,
            AuditEntry.Action.REPORT_DISMISSED,
            resident,
            f"aid_post:{post.pk}",
            "",
        )
        assert entry.community == post.community
        assert entry.detail == {"report": report.pk, "why_reported": "spam"}

    def test_a_reported_profile_is_named_by_its_profile(self, committee, helper, resident):
        report = report_file(actor=helper, target_kind=Report.TargetKind.PROFILE, target_id=resident.pk, reason="spam")
        report_dismiss(actor=committee, report=report)
        assert only_entry().target == f"profile:{resident.profile.pk}"

    def test_credential_verified_and_rejected(self, committee, helper, resident, community):
        verified, rejected = pending_credential(helper), pending_credential(resident)

        credential_verify(actor=committee, credential=verified)
        credential_reject(actor=committee, credential=rejected, reason=" 照片看不清 ")

        first, second = AuditEntry.objects.order_by("pk")
        assert who_what_whom_why(first) == (
            committee,
            AuditEntry.Action.CREDENTIAL_VERIFIED,
            helper,
            f"credential:{verified.pk}",
            "",
        )
        assert who_what_whom_why(second) == (
            committee,
            AuditEntry.Action.CREDENTIAL_REJECTED,
            resident,
            f"credential:{rejected.pk}",
            "照片看不清",
        )
        assert first.community == second.community == community
        assert first.detail == {"skill": CERTIFIED, "valid_until": str(verified.expires_on)}

    def test_a_skill_vouched_for(self, committee, helper):
        talent_skill = talent_skill_add(actor=helper, skill=skill())
        talent_skill_verify(actor=committee, talent_skill=talent_skill)
        entry = only_entry()
        assert who_what_whom_why(entry) == (
            committee,
            AuditEntry.Action.CREDENTIAL_VERIFIED,
            helper,
            f"talent_skill:{talent_skill.pk}",
            "",
        )
        assert entry.detail == {"skill": skill().code, "vouched": True}

    def test_role_claims_approved_and_declined(self, committee, claim, helper, resident, role):
        role_claim_approve(actor=committee, claim=claim)
        talent_skill_add(actor=resident, skill=role.skill)
        declined = role_claim_decline(actor=committee, claim=role_claim(actor=resident, role=role), reason="名额已满")

        approved_entry, declined_entry = AuditEntry.objects.order_by("pk")
        assert who_what_whom_why(approved_entry) == (
            committee,
            AuditEntry.Action.ROLE_CLAIM_APPROVED,
            helper,
            f"role_claim:{claim.pk}",
            "",
        )
        assert who_what_whom_why(declined_entry) == (
            committee,
            AuditEntry.Action.ROLE_CLAIM_DECLINED,
            resident,
            f"role_claim:{declined.pk}",
            "名额已满",
        )
        assert approved_entry.community_id == role.community_id

    def test_a_duty_confirmed_with_its_points(self, committee, claim, helper, role):
        role_claim_approve(actor=committee, claim=claim)
        served_on = timezone.localdate()  # the role's term starts today
        duty = duty_log(actor=helper, role=role, served_on=served_on, hours=Decimal("2"), summary="调解")

        duty_confirm(actor=committee, duty=duty)

        entry = AuditEntry.objects.get(action=AuditEntry.Action.DUTY_CONFIRMED)
        assert (entry.actor, entry.subject, entry.target) == (committee, helper, f"duty:{duty.pk}")
        assert entry.detail == {"points": 20, "hours": "2.00", "role": role.title, "served_on": str(served_on)}

    def test_a_duty_not_confirmed_with_why(self, committee, claim, helper, role):
        role_claim_approve(actor=committee, claim=claim)
        duty = duty_log(actor=helper, role=role, served_on=timezone.localdate(), hours=Decimal("1"), summary="值班")

        duty_reject(actor=committee, duty=duty, reason="那天调解室没有开门")

        rejected = AuditEntry.objects.get(action=AuditEntry.Action.DUTY_REJECTED)
        assert (rejected.subject, rejected.target, rejected.reason) == (helper, duty.subject, "那天调解室没有开门")

    def test_refused_decisions_write_nothing(self, committee, claim, helper, resident, post):
        with pytest.raises(ValidationError):
            role_claim_decline(actor=committee, claim=claim, reason="  ")
        expired = pending_credential(helper)
        Credential.objects.filter(pk=expired.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
        expired.refresh_from_db()
        with pytest.raises(ValidationError):
            credential_verify(actor=committee, credential=expired)
        report = report_file(actor=helper, target_kind=Report.TargetKind.REQUEST, target_id=post.pk, reason="spam")
        report_dismiss(actor=committee, report=report)
        with pytest.raises(ValidationError):
            report_dismiss(actor=committee, report=report)
        assert AuditEntry.objects.count() == 1


class TestRolledBackDecisionsLeaveNoEntry:
    """A failure after the entry is written (telling the person) takes the entry back with the
    decision; a failure to write the entry takes the decision back."""

    @staticmethod
    def broken(*args, **kwargs):
        raise RuntimeError("could not be stored")

    def test_role_claim_decline(self, committee, claim, monkeypatch):
        from aid_posts.services import roles

        monkeypatch.setattr(roles, "notification_send_translated", self.broken)
        with pytest.raises(RuntimeError):
            role_claim_decline(actor=committee, claim=claim, reason="名额已满")
        claim.refresh_from_db()
        assert claim.status == RoleClaim.Status.PENDING
        assert not AuditEntry.objects.exists()

    def test_credential_verify(self, committee, helper, monkeypatch):
        import talent_pool.services

        credential = pending_credential(helper)
        monkeypatch.setattr(talent_pool.services, "notice_send", self.broken)
        with pytest.raises(RuntimeError):
            credential_verify(actor=committee, credential=credential)
        credential.refresh_from_db()
        assert credential.status == Credential.Status.PENDING
        assert not AuditEntry.objects.exists()

    def test_report_dismiss_without_its_record(self, committee, helper, post, monkeypatch):
        from committee.services import reports

        report = report_file(actor=helper, target_kind=Report.TargetKind.REQUEST, target_id=post.pk, reason="spam")
        monkeypatch.setattr(reports, "audit_record", self.broken)
        with pytest.raises(RuntimeError):
            report_dismiss(actor=committee, report=report)
        report.refresh_from_db()
        assert report.status == Report.Status.OPEN


# --- The page ------------------------------------------------------------------------------


@contextlib.contextmanager
def recorded_at(monkeypatch, moment: datetime):
    """Entries written inside are dated `moment` (created_at is set on insert, never after)."""
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment)
        yield


def record(actor, community, *, action=AuditEntry.Action.ROLE_CHANGED, subject=None, **fields) -> AuditEntry:
    return audit_record(actor=actor, action=action, community=community, subject=subject, **fields)


def audit_page(client, **params):
    return client.get(reverse("committee:audit"), params, HTTP_ACCEPT_LANGUAGE="en")


def listed(response) -> list[AuditEntry]:
    return list(response.context["page"].object_list)


class TestPageAccess:
    def test_residents_get_the_403_page_and_visitors_log_in(self, client, resident):
        assert audit_page(client).status_code == 302
        client.force_login(resident)
        response = audit_page(client)
        assert response.status_code == 403
        assert 'id="workspace-denied"' in response.content.decode()

    @pytest.mark.parametrize("staff", ["committee", "grid_worker"])
    def test_staff_see_their_communities_entries_only(self, request, client, staff, committee, community, outsider):
        viewer = request.getfixturevalue(staff)
        ours = record(committee, community, target="membership:1", reason="ours")
        elsewhere = outsider.memberships.get().community
        record(outsider, elsewhere, reason="theirs")
        record(committee, None, action=AuditEntry.Action.SENSITIVE_WORD_ADDED, reason="district")
        client.force_login(viewer)

        response = audit_page(client)

        assert response.status_code == 200
        assert listed(response) == [ours]
        assert "theirs" not in response.content.decode()

    def test_the_page_offers_nothing_to_change(self, client, committee, community):
        entry = record(committee, community, reason="原因")
        client.force_login(committee)
        html = audit_page(client).content.decode()
        assert f'id="audit-{entry.pk}"' in html
        assert 'method="post"' not in html.split('id="audit-entries"')[1]
        assert client.post(reverse("committee:audit")).status_code == 405


class TestPageListing:
    def test_newest_first_with_who_what_whom_when_why(self, client, committee, resident, community, monkeypatch):
        now = timezone.now()
        with recorded_at(monkeypatch, now - timedelta(days=2)):
            older = record(committee, community, subject=resident, reason="较早")
        newer = record(committee, community, action=AuditEntry.Action.MEMBER_WARNED, subject=resident, reason="较新")
        client.force_login(committee)

        response = audit_page(client)

        assert listed(response) == [newer, older]
        html = response.content.decode()
        assert "Member warned" in html and "Role changed" in html
        assert str(committee.profile) in html and str(resident.profile) in html
        assert "较早" in html and "较新" in html

    def test_targets_link_where_the_viewer_may_open_them(
        self, client, committee, resident, community, post, conversation
    ):
        message, _created = message_send(actor=resident, conversation_id=conversation.pk, body="你好")
        on_post = record(committee, community, target=post.subject)
        on_message = record(committee, community, target=f"message:{message.pk}")
        on_missing = record(committee, community, target="aid_post:999999")
        unknown = record(committee, community, target="something-else")
        client.force_login(committee)

        entries = {entry.pk: entry for entry in listed(audit_page(client))}

        assert entries[on_post.pk].target_url == reverse("aid_posts:detail", args=[post.pk])
        assert entries[on_post.pk].target_label == f"Help request #{post.pk}"
        # The committee does not read a request's conversation it was not asked into: named only
        assert entries[on_message.pk].target_url == ""
        assert entries[on_message.pk].target_label == f"Message #{message.pk}"
        assert entries[on_missing.pk].target_url == ""
        assert (entries[unknown.pk].target_label, entries[unknown.pk].target_url) == ("something-else", "")

    def test_a_link_only_for_whom_the_page_is_open(self, client, committee, grid_worker, helper, community):
        entry = ledger_award(
            user=helper, community=community, points=5, hours=Decimal("0"), reason="help_confirmed", source="x:1"
        )
        recorded = record(
            committee, community, action=AuditEntry.Action.POINTS_AWARDED, target=f"ledger_entry:{entry.pk}"
        )
        membership = Membership.objects.get(user=helper, community=community)

        client.force_login(committee)
        [shown] = listed(audit_page(client))
        assert (shown.pk, shown.target_url) == (recorded.pk, reverse("committee:member_ledger", args=[membership.pk]))
        # Grid workers read the record but do not adjust ledgers: named, not linked
        client.force_login(grid_worker)
        [shown] = listed(audit_page(client))
        assert (shown.target_label, shown.target_url) == (f"Ledger entry #{entry.pk}", "")

    def test_details_read_as_words(self, client, committee, resident, community, grid, claim, role, helper):
        membership = Membership.objects.get(user=resident, community=community)
        membership_role_change(
            actor=committee, membership=membership, role=Membership.Role.GRID_WORKER, reason="换岗", grids=[grid]
        )
        role_claim_approve(actor=committee, claim=claim)
        duty = duty_log(
            actor=helper,
            role=role,
            served_on=timezone.localdate(),
            hours=Decimal("1.5"),
            summary="值班",
        )
        duty_confirm(actor=committee, duty=duty)
        credential_verify(actor=committee, credential=pending_credential(helper))
        client.force_login(committee)

        entries = {entry.action: entry for entry in listed(audit_page(client))}

        lines = {line.label: line.value for line in entries[AuditEntry.Action.ROLE_CHANGED].detail_lines}
        assert lines == {"Role": "Resident → Grid worker", "Grids": grid.name}
        points = {line.label: line.value for line in entries[AuditEntry.Action.DUTY_CONFIRMED].detail_lines}
        assert points["Points"] == "+15" and points["Hours"] == "1.50" and points["Welfare role"] == role.title
        credential = {line.label: line.value for line in entries[AuditEntry.Action.CREDENTIAL_VERIFIED].detail_lines}
        assert credential["Skill"] == "Legal mediation"
        html = audit_page(client).content.decode()
        assert "Resident → Grid worker" in html and "+15" in html and "Legal mediation" in html

    def test_other_decisions_details_read_too(self, client, committee, community):
        exported = record(
            committee,
            community,
            action=AuditEntry.Action.EXPORTED,
            detail={"from": "2025-01-01", "to": "2025-03-31", "columns": ["title", "status"], "rows": 3},
        )
        suspended = record(
            committee,
            community,
            action=AuditEntry.Action.MEMBER_SUSPENDED,
            detail={"until": "2025-05-01T10:30:00+08:00"},
        )
        changed = record(
            committee, community, action=AuditEntry.Action.REWARD_SAVED, detail={"changed": {"points": [10, 20]}}
        )
        created = record(
            committee,
            community,
            action=AuditEntry.Action.REWARD_SAVED,
            detail={"created": {"title": "代金券", "kind": "voucher", "active": True}},
        )
        resolved = record(committee, community, action=AuditEntry.Action.DISPUTE_RESOLVED, detail={"outcome": "closed"})
        client.force_login(committee)

        lines = {
            entry.pk: {line.label: line.value for line in entry.detail_lines} for entry in listed(audit_page(client))
        }

        assert lines[exported.pk] == {"Period": "01/01/2025 – 03/31/2025", "Columns": "title, status", "Rows": "3"}
        assert lines[suspended.pk] == {"Until": "05/01/2025 10:30 a.m."}
        assert lines[changed.pk] == {"Changed": "points: 10 → 20"}
        assert lines[created.pk] == {"Created with": "title: 代金券; kind: Local merchant voucher; offered: yes"}
        assert lines[resolved.pk] == {"Outcome": "Closed by the committee"}


class TestPageFilters:
    def test_by_kind_of_decision(self, client, committee, community):
        warned = record(committee, community, action=AuditEntry.Action.MEMBER_WARNED)
        record(committee, community, action=AuditEntry.Action.ROLE_CHANGED)
        client.force_login(committee)
        assert listed(audit_page(client, action=AuditEntry.Action.MEMBER_WARNED)) == [warned]

    def test_by_period_inclusive_of_both_days(self, client, committee, community, monkeypatch):
        today = timezone.localdate()

        def at(days_ago: int) -> datetime:
            return timezone.make_aware(datetime.combine(today - timedelta(days=days_ago), datetime.min.time()))

        entries = {}
        for days_ago in (10, 5, 3, 0):
            with recorded_at(monkeypatch, at(days_ago) + timedelta(hours=23, minutes=59)):
                entries[days_ago] = record(committee, community, reason=f"{days_ago}")
        client.force_login(committee)

        shown = listed(
            audit_page(client, date_from=str(today - timedelta(days=5)), date_to=str(today - timedelta(days=3)))
        )

        assert shown == [entries[3], entries[5]]
        assert listed(audit_page(client, date_from=str(today))) == [entries[0]]
        assert listed(audit_page(client, date_to=str(today - timedelta(days=10)))) == [entries[10]]

    def test_by_person(self, client, committee, resident, helper, community):
        about_resident = record(committee, community, subject=resident)
        record(committee, community, subject=helper)
        client.force_login(committee)

        response = audit_page(client, subject=resident.pk)

        assert listed(response) == [about_resident]
        choices = [choice for choice, _label in response.context["form"].fields["subject"].choices if choice]
        assert sorted(int(str(choice)) for choice in choices) == sorted([resident.pk, helper.pk])

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            ({"date_from": "2025-13-40"}, "date_from", "Enter a date such as 2025-03-01."),
            ({"date_from": "2025-03-02", "date_to": "2025-03-01"}, "date_to", "The end date is before the start date."),
            ({"action": "edited"}, "action", "Choose a kind of decision from the list."),
            ({"subject": "999999"}, "subject", "Choose a person from the list."),
            ({"subject": "x"}, "subject", "Choose a person from the list."),
        ],
    )
    def test_bad_filters_are_refused_clearly(self, client, committee, community, params, field, message):
        record(committee, community)
        client.force_login(committee)

        response = audit_page(client, **params)

        assert response.status_code == 400
        assert response.context["form"].errors[field] == [message]
        assert message in response.content.decode()
        assert response.context["page"] is None

    def test_someone_elses_subject_is_not_offered(self, client, committee, community, outsider):
        record(outsider, outsider.memberships.get().community, subject=outsider)
        client.force_login(committee)
        assert audit_page(client, subject=outsider.pk).status_code == 400


class TestPagination:
    def test_fifty_a_page_the_rest_on_the_next(self, client, committee, community):
        entries = [record(committee, community, reason=f"{number}") for number in range(PER_PAGE + 1)]
        client.force_login(committee)

        first = audit_page(client)
        second = audit_page(client, page=2)

        assert PER_PAGE == 50
        assert listed(first) == entries[::-1][:PER_PAGE]
        assert listed(second) == [entries[0]]
        assert "page=2" in first.content.decode()
        # Filters stay with the pages
        paged = audit_page(client, action=AuditEntry.Action.ROLE_CHANGED).content.decode()
        assert "action=role_changed&amp;page=2" in paged
        assert listed(audit_page(client, page=99)) == [entries[0]]

    def test_the_page_takes_the_same_queries_for_few_and_many_entries(
        self, client, committee, helper, resident, community, grid, post, role
    ):
        def decisions(count: int) -> None:
            for number in range(count):
                person = UserFactory()
                membership = MembershipFactory(user=person, community=community)
                record(
                    committee,
                    community,
                    subject=person,
                    target=f"membership:{membership.pk}",
                    detail={"from": "resident", "to": "grid_worker", "grids": [grid.pk]},
                )
                record(committee, community, subject=resident, target=post.subject, reason=f"{number}")
                record(committee, community, target=f"welfare_role:{role.pk}")
                record(
                    committee,
                    community,
                    action=AuditEntry.Action.CREDENTIAL_VERIFIED,
                    subject=helper,
                    target=f"credential:{number}",
                    detail={"skill": CERTIFIED},
                )
                # The rewards' kinds too: each looked up once for the page, linked or not
                for kind in ("reward", "redemption", "certificate", "ledger_entry", "sensitive_word"):
                    record(committee, community, target=f"{kind}:{number + 1}")

        client.force_login(committee)
        decisions(2)
        with CaptureQueriesContext(connection) as few:
            assert len(listed(audit_page(client))) == 18
        decisions(3)
        with CaptureQueriesContext(connection) as many:
            assert len(listed(audit_page(client))) == 45
        assert len(many.captured_queries) == len(few.captured_queries)


def test_a_second_community_of_the_viewer_is_listed_with_its_name(client, committee, community):
    other = CommunityFactory(name="第二社区")
    MembershipFactory(user=committee, community=other, role=Membership.Role.GRID_WORKER)
    record(committee, other, reason="那边的")
    client.force_login(committee)
    html = audit_page(client).content.decode()
    assert "第二社区" in html and "那边的" in html
