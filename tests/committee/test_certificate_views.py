"""Certificate pages: issuing from the members list, the committee's list with revoke, the
member's page and PDF (read back), and the public check: minimal, forgiving of how a code is
typed, a 404 for a code that names nothing, and slowed down for whoever tries many."""

import io
import zoneinfo
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from committee.models import Certificate
from committee.selectors.certificates import code_grouped
from committee.services.certificates import certificate_checks_reset, certificate_issue, certificate_revoke
from neighbors.models import Membership
from tests.factories import ledger_entry_at, phone_of

pytestmark = pytest.mark.django_db

XIAMEN = zoneinfo.ZoneInfo("Asia/Shanghai")
SITE_URL = "https://jinlin.example.gov.cn"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _fresh_checks(settings):
    settings.SITE_URL = SITE_URL
    certificate_checks_reset()
    yield


@pytest.fixture
def membership(helper, community):
    return Membership.objects.get(user=helper, community=community)


@pytest.fixture
def served(helper, community):
    ledger_entry_at(datetime(2024, 3, 10, 9, tzinfo=XIAMEN), user=helper, community=community, hours="10.5")
    ledger_entry_at(
        datetime(2024, 9, 1, 9, tzinfo=XIAMEN), user=helper, community=community, hours="2", reason="duty_confirmed"
    )


@pytest.fixture
def issued(committee, membership, served):
    return certificate_issue(
        actor=committee, membership=membership, period_start=date(2024, 1, 1), period_end=date(2024, 12, 31)
    )


def issue_url(membership) -> str:
    return reverse("committee:certificate_issue", args=[membership.pk])


def page_url(certificate) -> str:
    return reverse("rewards:certificate", args=[certificate.pk])


def pdf_url(certificate) -> str:
    return reverse("rewards:certificate_pdf", args=[certificate.pk])


def check_url(code: str) -> str:
    return reverse("rewards:verify_code", args=[code])


# --- Issuing and the committee's list -------------------------------------------------------


class TestIssuePage:
    def test_the_members_list_links_to_issuing(self, client, committee, membership):
        client.force_login(committee)

        page = client.get(reverse("neighbors:members"))

        assert issue_url(membership) in page.content.decode()

    def test_check_the_hours_then_issue(self, client, committee, membership, served):
        client.force_login(committee)
        period = {"period_start": "2024-01-01", "period_end": "2024-12-31"}

        form = client.get(issue_url(membership), **EN)
        assert form.status_code == 200
        assert 'type="date"' in form.content.decode()

        preview = client.post(issue_url(membership), {**period, "action": "preview"}, **EN)
        assert preview.status_code == 200
        assert "12.5 hours in this period" in preview.content.decode()
        assert not Certificate.objects.exists()

        response = client.post(issue_url(membership), {**period, "action": "issue"}, **EN)
        certificate = Certificate.objects.get()
        assert response.status_code == 302
        assert response["Location"] == page_url(certificate)
        assert certificate.hours == Decimal("12.50")

    @pytest.mark.parametrize(
        ("period", "message"),
        [
            ({"period_start": "2023-01-01", "period_end": "2023-12-31"}, "there is nothing to certify"),
            ({"period_start": "2024-12-31", "period_end": "2024-01-01"}, "must end on or after the day it starts"),
            ({"period_start": "2024-01-01", "period_end": "2999-01-01"}, "must be over by today"),
            ({"period_start": "", "period_end": "2024-12-31"}, "Give the first day of the period."),
            ({"period_start": "31/31/2024", "period_end": "2024-12-31"}, "Enter a valid date."),
        ],
    )
    def test_a_refusal_is_shown_on_the_form(self, period, message, client, committee, membership, served):
        client.force_login(committee)

        response = client.post(issue_url(membership), {**period, "action": "issue"}, **EN)

        assert response.status_code == 400
        assert message in response.content.decode()
        assert not Certificate.objects.exists()

    @pytest.mark.parametrize("who", ["grid_worker", "resident", "other_committee", "helper"])
    def test_anyone_but_the_members_committee_gets_a_404(self, who, request, client, membership, served):
        client.force_login(request.getfixturevalue(who))

        assert client.get(issue_url(membership)).status_code == 404
        response = client.post(
            issue_url(membership), {"period_start": "2024-01-01", "period_end": "2024-12-31", "action": "issue"}
        )

        assert response.status_code == 404
        assert not Certificate.objects.exists()

    def test_not_for_oneself(self, client, committee, community):
        client.force_login(committee)
        own = Membership.objects.get(user=committee, community=community)

        assert client.get(issue_url(own)).status_code == 404


class TestCommitteeList:
    def test_lists_what_was_issued_and_revokes_with_a_reason(self, client, committee, issued):
        client.force_login(committee)

        page = client.get(reverse("committee:certificates"), **EN)
        body = page.content.decode()
        assert page.status_code == 200
        assert issued.code in body
        assert reverse("committee:certificate_revoke", args=[issued.pk]) in body

        refused = client.post(reverse("committee:certificate_revoke", args=[issued.pk]), {"reason": ""}, **EN)
        assert refused.status_code == 302
        issued.refresh_from_db()
        assert issued.revoked_at is None
        assert "Say why the certificate is revoked" in client.get(refused["Location"], **EN).content.decode()

        revoked = client.post(reverse("committee:certificate_revoke", args=[issued.pk]), {"reason": "录入有误"}, **EN)
        assert revoked.status_code == 302
        issued.refresh_from_db()
        assert issued.revoked_reason == "录入有误"
        after = client.get(revoked["Location"], **EN).content.decode()
        assert "The certificate is revoked" in after
        assert "Revoked on" in after

        again = client.post(reverse("committee:certificate_revoke", args=[issued.pk]), {"reason": "再来"}, **EN)
        assert "already been revoked" in client.get(again["Location"], **EN).content.decode()

    def test_the_lists_cost_the_same_queries_whatever_their_length(
        self, client, committee, helper, membership, issued, make_member, community
    ):
        def queries(user, url) -> int:
            client.force_login(user)
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            return len(captured)

        committee_list = reverse("committee:certificates")
        mine = reverse("rewards:certificates")
        before = (queries(committee, committee_list), queries(helper, mine))

        # Given more certificates, for the helper and for other members, by another colleague
        colleague = make_member(role=Membership.Role.COMMITTEE, username="zhou")
        for year in (2021, 2022, 2023):
            ledger_entry_at(datetime(year, 5, 1, tzinfo=XIAMEN), user=helper, community=community, hours="1")
            certificate_issue(
                actor=colleague, membership=membership, period_start=date(year, 1, 1), period_end=date(year, 12, 31)
            )
        other = make_member(username="zhao")
        ledger_entry_at(datetime(2024, 5, 1, tzinfo=XIAMEN), user=other, community=community, hours="1")
        certificate_issue(
            actor=committee,
            membership=Membership.objects.get(user=other, community=community),
            period_start=date(2024, 1, 1),
            period_end=date(2024, 12, 31),
        )

        assert Certificate.objects.count() == 5
        assert (queries(committee, committee_list), queries(helper, mine)) == before

    @pytest.mark.parametrize("who", ["grid_worker", "helper", "resident"])
    def test_is_for_the_committee_only(self, who, request, client, issued):
        client.force_login(request.getfixturevalue(who))

        page = client.get(reverse("committee:certificates"), **EN)

        assert page.status_code == 403
        assert "This page is for the community committee" in page.content.decode()
        assert issued.code not in page.content.decode()

    @pytest.mark.parametrize("who", ["grid_worker", "helper", "other_committee"])
    def test_others_cannot_revoke(self, who, request, client, issued):
        client.force_login(request.getfixturevalue(who))

        response = client.post(reverse("committee:certificate_revoke", args=[issued.pk]), {"reason": "不对"})

        assert response.status_code == 404
        issued.refresh_from_db()
        assert issued.revoked_at is None


# --- The member's page and PDF --------------------------------------------------------------


class TestCertificatePage:
    @pytest.mark.parametrize("who", ["helper", "committee", "grid_worker"])
    def test_the_member_and_their_staff_open_the_printable_page(self, who, request, client, issued):
        client.force_login(request.getfixturevalue(who))

        page = client.get(page_url(issued), **EN)
        body = page.content.decode()

        assert page.status_code == 200
        assert "志愿服务时长证明" in body
        assert code_grouped(issued.code) in body
        assert "12.5 hours" in body
        assert f"{SITE_URL}/rewards/verify/{issued.code}/" in body
        assert "css/certificate.css" in body
        assert 'onclick="window.print()"' in body
        assert "data:image/svg+xml;base64," in body

    @pytest.mark.parametrize("who", ["resident", "outsider", "other_committee", "other_grid_worker"])
    def test_anyone_else_gets_a_404(self, who, request, client, issued):
        client.force_login(request.getfixturevalue(who))

        assert client.get(page_url(issued)).status_code == 404
        assert client.get(pdf_url(issued)).status_code == 404

    def test_logged_out_goes_to_the_login(self, client, issued):
        response = client.get(pdf_url(issued))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_the_pdf_reads_back_with_the_code_the_hours_and_the_chinese_title(self, client, helper, issued):
        client.force_login(helper)

        response = client.get(pdf_url(issued))

        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="certificate-{issued.code}.pdf"'
        reader = PdfReader(io.BytesIO(response.content))
        assert len(reader.pages) == 1
        text = reader.pages[0].extract_text()
        assert "志愿服务时长证明" in text
        assert "Certificate of Volunteer Service Hours" in text
        assert code_grouped(issued.code) in text
        assert "12.5" in text
        assert issued.display_name in text
        assert "莲兴社区" in text
        assert "2024-01-01" in text
        assert "2024-12-31" in text
        assert f"{SITE_URL}/rewards/verify/{issued.code}/" in text
        assert "Revoked" not in text

    def test_a_revoked_certificates_pdf_says_so(self, client, committee, helper, issued):
        certificate_revoke(actor=committee, certificate=issued, reason="录入有误")
        client.force_login(helper)

        text = PdfReader(io.BytesIO(client.get(pdf_url(issued)).content)).pages[0].extract_text()

        assert "Revoked on" in text

    def test_the_member_lists_their_own_only(self, client, helper, resident, issued):
        client.force_login(helper)
        mine = client.get(reverse("rewards:certificates"), **EN)
        assert mine.status_code == 200
        assert page_url(issued) in mine.content.decode()

        client.force_login(resident)
        theirs = client.get(reverse("rewards:certificates"), **EN)
        assert page_url(issued) not in theirs.content.decode()
        assert "No certificate yet" in theirs.content.decode()


# --- The public check -----------------------------------------------------------------------


class TestPublicCheck:
    def test_anyone_checks_a_code_and_reads_only_what_is_printed(self, client, issued, helper, building):
        page = client.get(check_url(issued.code), **EN)
        body = page.content.decode()

        assert page.status_code == 200
        assert "Valid: the community committee issued this certificate" in body
        for printed in (
            issued.display_name,
            "莲兴社区",
            "2024-01-01",
            "2024-12-31",
            "12.5 hours",
            code_grouped(issued.code),
        ):
            assert printed in body
        # Nothing else about the person: no profile link, no contact, no building, no account
        assert reverse("neighbors:person", args=[helper.pk]) not in body
        assert phone_of(helper) not in body
        assert building.name not in body
        assert helper.email not in body
        assert reverse("rewards:certificate", args=[issued.pk]) not in body
        assert '<meta name="robots" content="noindex">' in body

    @pytest.mark.parametrize("typed", ["lower", "grouped-lower", "spaced"])
    def test_a_code_typed_in_lower_case_or_in_groups_verifies(self, typed, client, issued):
        code = {
            "lower": issued.code.lower(),
            "grouped-lower": code_grouped(issued.code).lower(),
            "spaced": " " + code_grouped(issued.code).replace("-", " ") + " ",
        }[typed]

        # Through the form, to the check's own address
        response = client.get(reverse("rewards:verify"), {"code": code})
        assert response.status_code == 302
        assert response["Location"] == check_url(issued.code)

        # And typed straight into the address
        direct = client.get(check_url(code.strip()), **EN)
        assert direct.status_code == 200
        assert "Valid:" in direct.content.decode()

    def test_the_form_is_public_and_says_what_is_wrong_with_a_code(self, client):
        assert client.get(reverse("rewards:verify")).status_code == 200

        response = client.get(reverse("rewards:verify"), {"code": "ABC"}, **EN)

        assert response.status_code == 400
        assert "A code has 12 letters and digits" in response.content.decode()
        empty = client.get(reverse("rewards:verify"), {"code": ""}, **EN)
        assert empty.status_code == 400
        assert "Type the code printed on the certificate." in empty.content.decode()

    @pytest.mark.parametrize("code", ["ABCDEFGHJKMN", "not-a-code", "0000"])
    def test_a_code_that_names_no_certificate_is_a_404_saying_so(self, code, client, issued):
        if code == issued.code:
            pytest.skip("the random code happened to be this one")

        response = client.get(check_url(code), **EN)

        assert response.status_code == 404
        assert "This code matches no certificate issued on this site." in response.content.decode()

    def test_a_revoked_certificate_is_shown_as_revoked(self, client, committee, issued):
        certificate_revoke(actor=committee, certificate=issued, reason="时长录入有误")

        body = client.get(check_url(issued.code), **EN).content.decode()

        assert "Revoked: the committee revoked this certificate on" in body
        assert "Valid:" not in body
        # Why is for the member and the committee, not for whoever holds the paper
        assert "时长录入有误" not in body

    def test_too_many_checks_from_one_address_get_a_429(self, client, settings, issued):
        settings.CERTIFICATE_CHECK_RATE_LIMITS = "3 per minute"

        for _attempt in range(3):
            assert client.get(check_url("ABCDEFGHJKMN"), REMOTE_ADDR="203.0.113.9").status_code in (200, 404)
        limited = client.get(check_url(issued.code), REMOTE_ADDR="203.0.113.9", **EN)

        assert limited.status_code == 429
        assert "Too many certificates were checked from your connection" in limited.content.decode()
        assert 1 <= int(limited["Retry-After"]) <= 61
        assert code_grouped(issued.code) not in limited.content.decode()
        assert "Valid:" not in limited.content.decode()
        # Another address checks on
        assert client.get(check_url(issued.code), REMOTE_ADDR="198.51.100.4").status_code == 200
