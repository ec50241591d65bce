"""The workspace's front page: for staff only, with one count per queue, each through the rule
its own page uses."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from committee.models import Report
from committee.services.reports import report_file
from tests.committee.conftest import WORD

pytestmark = pytest.mark.django_db

HOME = reverse("committee:home")


def waiting(client):
    return client.get(HOME, HTTP_ACCEPT_LANGUAGE="en").context["waiting"]


def test_residents_get_the_403_page_and_visitors_log_in(client, resident):
    assert client.get(HOME).status_code == 302
    client.force_login(resident)
    response = client.get(HOME, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "This page is for the community committee and grid workers." in response.content.decode()


def test_the_committee_sees_what_waits_and_every_part(
    client, committee, resident, helper, post, sensitive_word, send, conversation
):
    report_file(actor=helper, target_kind=Report.TargetKind.REQUEST, target_id=post.pk, reason="spam")
    send(helper, conversation, f"{WORD}，日息三分")
    client.force_login(committee)

    counts = waiting(client)

    assert (counts.reports, counts.held, counts.redemptions, counts.total) == (1, 1, 0, 2)
    assert counts.is_committee
    html = client.get(HOME, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for page in ("committee:reports", "committee:held", "committee:exports", "committee:audit", "committee:dashboard"):
        assert f'href="{reverse(page)}"' in html


def test_a_grid_worker_is_not_offered_the_committee_only_parts(client, grid_worker, community):
    client.force_login(grid_worker)

    counts = waiting(client)

    assert not counts.is_committee
    html = client.get(HOME, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "certificates to check" not in html
    assert f'href="{reverse("committee:exports")}" ' not in html.split('id="parts-heading"')[1]


def test_a_report_about_the_viewer_is_not_counted_for_them(client, committee, helper, resident, make_member):
    other = make_member(role="committee")
    report_file(actor=helper, target_kind="profile", target_id=committee.pk, reason="harassment", note="")
    client.force_login(committee)
    assert waiting(client).reports == 0
    client.force_login(other)
    assert waiting(client).reports == 1


def test_the_page_takes_the_same_queries_however_much_waits(client, committee, helper, make_member, post):
    client.force_login(committee)
    with CaptureQueriesContext(connection) as few:
        client.get(HOME)
    for _ in range(5):
        report_file(actor=make_member(), target_kind=Report.TargetKind.REQUEST, target_id=post.pk, reason="spam")
    with CaptureQueriesContext(connection) as many:
        client.get(HOME)
    assert len(many) == len(few)
