"""Exports (一表通): CSV files that a spreadsheet opens with the Chinese intact, holding exactly
the chosen columns and only what the committee may see, each one on the audit trail; refused
to anyone but the community's committee, and bad requests answered with a form error."""

import codecs
import csv
import html
import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from aid_posts.models import AidPost
from aid_posts.services import (
    aid_post_confirm,
    aid_post_create,
    duty_confirm,
    duty_log,
    feedback_give,
    role_claim,
    role_claim_approve,
)
from committee.selectors.dashboard import Period
from committee.selectors.exports import DATASETS
from committee.services.exports import export_log
from neighbors.models import AuditEntry, Grid, LedgerEntry, Profile
from tests.aid_posts.test_measures import fresh, help_through
from tests.aid_posts.test_roles_services import make_role, qualify
from tests.factories import MembershipFactory, PlaceFactory, UserFactory, ledger_entry_at, phone_of, skill, window

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
TODAY = timezone.localdate()
START, END = (TODAY - timedelta(days=30)).isoformat(), TODAY.isoformat()
SECRET = "血压高，药在床头柜第二格"
FORMULA_TITLE = '=HYPERLINK("http://example.test","点我")'
NOTE_FORMULA = "=cmd|' /C calc'!A0"


def post_for(author, community, building, title: str, **kwargs) -> AidPost:
    return aid_post_create(
        **window(),
        actor=kwargs.pop("actor", author),
        community=community,
        category=skill(),
        title=title,
        description="需要邻居帮一下忙。",
        place=building,
        **kwargs,
    )


@dataclass
class Data:
    posts: dict[str, AidPost]
    far_grid: Grid
    spender: object


@pytest.fixture
def data(community, building, grid, resident, helper, committee, outsider) -> Data:
    """Three requests of this month (one with private health details, one posted for the
    resident by the committee, titles that look like formulas), a duty, a redemption with a
    formula in its note, and a request of another community that no export may hold."""
    Profile.objects.filter(user=helper).update(display_name="李师傅")
    Profile.objects.filter(user=resident).update(display_name="王阿姨")
    far = PlaceFactory(
        community=community, name="5号楼", grid=Grid.objects.create(community=community, name="第二网格")
    )
    posts = {
        "leak": post_for(
            resident, community, building, "厨房水龙头漏水", sensitive_details=SECRET, grant_health_consent=True
        ),
        "formula": post_for(
            resident, community, far, FORMULA_TITLE, actor=committee, resident=resident, assisted_consent="in_person"
        ),
        "minus": post_for(resident, community, building, "-1+1 求助"),
    }
    help_through(posts["leak"], poster=resident, helper=helper)
    aid_post_confirm(actor=resident, post=fresh(posts["leak"]))
    feedback_give(actor=resident, post=fresh(posts["leak"]), rating=5)
    AidPost.objects.filter(pk=posts["leak"].pk).update(escalated_at=timezone.now())

    role = make_role(committee, community, building, title="周六作业辅导")
    qualify(helper)
    role_claim_approve(actor=committee, claim=role_claim(actor=helper, role=role))
    duty = duty_log(actor=helper, role=role, served_on=TODAY - timedelta(days=1), hours=Decimal("2"), summary="辅导")
    duty_confirm(actor=committee, duty=duty)

    spender = UserFactory(username="spender")
    MembershipFactory(user=spender, community=community, home_place=far)
    Profile.objects.filter(user=spender).update(display_name="赵大爷")
    ledger_entry_at(timezone.now(), user=spender, community=community, hours=0, points=-50, reason="redemption")
    # A note written by the committee, through a raw entry: the award service is not this test's
    LedgerEntry.objects.create(
        user=spender, community=community, points=5, reason="committee_award", source="test:note", note=NOTE_FORMULA
    )

    theirs = outsider.memberships.get()
    post_for(outsider, theirs.community, theirs.home_place, "别的社区的求助")
    return Data(posts=posts, far_grid=far.grid, spender=spender)


def download_url(community) -> str:
    return reverse("committee:export_download", args=[community.pk])


def form_data(dataset: str = "requests", columns=None, start: str = START, end: str = END, grid="") -> dict:
    return {
        "dataset": dataset,
        f"{dataset}-start": start,
        f"{dataset}-end": end,
        f"{dataset}-grid": grid,
        f"{dataset}-columns": DATASETS[dataset].column_keys if columns is None else columns,
    }


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def table(content: bytes) -> list[list[str]]:
    """Read back as a spreadsheet would: UTF-8 with its BOM, then CSV."""
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def exported(**detail) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditEntry.Action.EXPORTED, **detail))


class TestRequests:
    def test_every_column_with_chinese_intact_and_the_export_on_the_record(
        self, data, client, committee, community, helper, resident
    ):
        client.force_login(committee)

        response = client.post(download_url(community), form_data(), **EN)

        # Then a CSV file, starting with the byte order mark that tells a spreadsheet it is UTF-8
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        content = body(response)
        assert content.startswith(codecs.BOM_UTF8) and not content[3:].startswith(codecs.BOM_UTF8)
        rows = table(content)
        with translation.override("en"):
            assert rows[0] == [str(column.header) for column in DATASETS["requests"].columns]
        # One row per request of the community, oldest first
        assert [row[2] for row in rows[1:]] == ["厨房水龙头漏水", "'" + FORMULA_TITLE, "'-1+1 求助"]
        leak = dict(zip(DATASETS["requests"].column_keys, rows[1], strict=True))
        assert leak["id"] == str(data.posts["leak"].pk)
        assert (leak["status"], leak["urgency"], leak["building"], leak["grid"]) == (
            "Confirmed",
            "Normal",
            "2号楼",
            "第一网格",
        )
        assert (leak["rating"], leak["escalated"], leak["assisted"]) == ("5", "Yes", "No")
        assert leak["first_claim"] and leak["confirmed"] >= leak["first_claim"] >= leak["created"]
        assisted = dict(zip(DATASETS["requests"].column_keys, rows[2], strict=True))
        assert (assisted["assisted"], assisted["rating"], assisted["confirmed"], assisted["grid"]) == (
            "Yes",
            "",
            "",
            "第二网格",
        )
        # And on the audit trail, with the row count
        (entry,) = exported()
        assert (entry.actor, entry.community) == (committee, community)
        assert entry.detail == {
            "dataset": "requests",
            "columns": DATASETS["requests"].column_keys,
            "from": START,
            "to": END,
            "rows": 3,
            "grid": None,
        }

    def test_never_private_details_contact_details_or_logins(
        self, data, client, committee, community, helper, resident
    ):
        client.force_login(committee)

        for dataset in DATASETS:
            content = body(client.post(download_url(community), form_data(dataset), **EN)).decode("utf-8-sig")
            assert SECRET not in content
            for person in (helper, resident, data.spender):
                assert phone_of(person) not in content
                assert person.email not in content
            assert "别的社区的求助" not in content
        assert len(exported()) == len(DATASETS)

    def test_in_the_default_language_the_headers_are_translated(self, data, client, committee, community):
        client.force_login(committee)

        rows = table(body(client.post(download_url(community), form_data(columns=["title", "category"]))))

        with translation.override("zh-hans"):
            assert rows[0] == [str(DATASETS["requests"].columns[2].header), str(DATASETS["requests"].columns[3].header)]
        assert rows[1][0] == "厨房水龙头漏水"

    def test_only_the_chosen_columns_in_the_registrys_order(self, data, client, committee, community):
        client.force_login(committee)

        rows = table(body(client.post(download_url(community), form_data(columns=["status", "title"]), **EN)))

        assert rows[0] == ["Title", "Status"]
        assert rows[1] == ["厨房水龙头漏水", "Confirmed"]
        assert all(len(row) == 2 for row in rows)
        assert exported()[0].detail["columns"] == ["title", "status"]

    def test_a_grid(self, data, client, committee, community):
        client.force_login(committee)

        rows = table(body(client.post(download_url(community), form_data(columns=["title"], grid=data.far_grid.pk))))

        assert rows[1:] == [["'" + FORMULA_TITLE]]
        assert exported()[0].detail["grid"] == data.far_grid.pk

    def test_a_chinese_file_name_with_a_plain_one_beside_it(self, data, client, committee, community):
        client.force_login(committee)

        response = client.post(download_url(community), form_data())

        disposition = response["Content-Disposition"]
        plain = f'filename="jinlin-requests-community-{community.pk}-{START}-{END}.csv"'
        assert disposition.startswith(f"attachment; {plain}; filename*=UTF-8''")
        assert unquote(disposition.split("''", 1)[1]) == f"jinlin-requests-莲兴社区-{START}-{END}.csv"
        assert response["Cache-Control"] == "no-store"


class TestPeopleAndLedger:
    def test_volunteers_hours_by_display_name(self, data, client, committee, community):
        client.force_login(committee)

        rows = table(body(client.post(download_url(community), form_data("hours"), **EN)))

        assert rows[0] == ["Volunteer", "Hours", "Points earned", "Requests helped", "Duties served"]
        # One help (1 h, 10 points) and one duty (2 h, 20 points); the award is earned, the
        # redemption is spending and not in it
        assert rows[1:] == [["李师傅", "3", "30", "1", "1"], ["赵大爷", "0", "5", "0", "0"]]

    def test_roles_and_duties(self, data, client, committee, community):
        client.force_login(committee)

        rows = table(body(client.post(download_url(community), form_data("roles"), **EN)))

        served = (TODAY - timedelta(days=1)).isoformat()
        assert rows == [
            ["Welfare role", "Holder", "Served on", "Hours", "Status"],
            ["周六作业辅导", "李师傅", served, "2", "Confirmed"],
        ]

    def test_the_ledger_with_negative_numbers_kept_and_formulas_neutralised(self, data, client, committee, community):
        client.force_login(committee)

        rows = table(body(client.post(download_url(community), form_data("ledger"), **EN)))

        assert rows[0] == ["Date", "Person", "Reason", "Points", "Hours", "Why"]
        assert [row[1:] for row in rows[1:]] == [
            ["李师傅", "Help confirmed", "10", "1", ""],
            ["李师傅", "Duty confirmed", "20", "2", ""],
            ["赵大爷", "Redemption", "-50", "0", ""],
            ["赵大爷", "Committee award", "5", "0", "'" + NOTE_FORMULA],
        ]
        assert all(row[0].startswith(TODAY.isoformat()[:4]) for row in rows[1:])

    def test_a_grid_takes_the_people_who_live_in_it(self, data, client, committee, community):
        client.force_login(committee)

        rows = table(
            body(client.post(download_url(community), form_data("ledger", columns=["person"], grid=data.far_grid.pk)))
        )

        assert rows[1:] == [["赵大爷"], ["赵大爷"]]


class TestEdges:
    def test_no_rows_still_a_file_and_still_on_the_record(self, data, client, committee, community):
        client.force_login(committee)

        response = client.post(download_url(community), form_data("ledger", start="2020-01-01", end="2020-12-31"), **EN)

        assert response.status_code == 200
        rows = table(body(response))
        assert rows == [["Date", "Person", "Reason", "Points", "Hours", "Why"]]
        assert exported()[0].detail["rows"] == 0

    def test_served_under_asgi_it_streams_without_reading_everything_first(self, data, committee, community):
        # Warnings are errors in the tests: Django warns when ASGI is handed a synchronous iterator.
        client = AsyncClient()
        client.force_login(committee)

        response = async_to_sync(client.post)(download_url(community), form_data(), headers={"accept-language": "en"})

        async def read() -> bytes:
            return b"".join([chunk async for chunk in response.streaming_content])

        assert response.status_code == 200
        assert response.is_async
        rows = table(async_to_sync(read)())
        assert [row[2] for row in rows[1:]] == ["厨房水龙头漏水", "'" + FORMULA_TITLE, "'-1+1 求助"]

    def test_a_fixed_number_of_queries_whatever_the_rows(self, data, client, committee, community, building, resident):
        client.force_login(committee)

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                body(client.post(download_url(community), form_data(), **EN))
            return len(queries)

        before = count()
        for index in range(5):
            post_for(resident, community, building, f"又一个求助 {index}")
        assert count() == before


class TestBadRequests:
    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"dataset": "people"}, "Choose one of the datasets listed."),
            ({"columns": ["title", "phone"]}, "Select a valid choice. phone is not one of the available choices."),
            ({"columns": []}, "Choose at least one column."),
            ({"start": "2024-02-30"}, "Enter a valid date."),
            ({"start": END, "end": START}, "The period must end on or after its first day."),
            ({"start": "2021-01-01", "end": "2023-12-31"}, "Choose a period of at most two years."),
            ({"grid": "999999"}, "Select a valid choice."),
        ],
    )
    def test_a_form_error_and_nothing_exported(self, changes, message, data, client, committee, community):
        client.force_login(committee)
        dataset = changes.pop("dataset", "requests")
        fields = form_data(**changes)
        fields["dataset"] = dataset

        response = client.post(download_url(community), fields, **EN)

        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert message in html.unescape(response.content.decode())
        assert exported() == []

    def test_a_grid_of_another_community(self, data, client, committee, community, outsider):
        theirs = Grid.objects.create(community=outsider.memberships.get().community, name="第一网格")
        client.force_login(committee)

        response = client.post(download_url(community), form_data(grid=theirs.pk), **EN)

        assert response.status_code == 400
        assert exported() == []


class TestWhoMayExport:
    def test_the_committee_gets_the_form_with_every_column_chosen(self, client, committee, community):
        client.force_login(committee)

        page = client.get(reverse("committee:exports"), **EN)

        assert page.status_code == 200
        content = page.content.decode()
        for dataset in DATASETS.values():
            assert f'name="dataset" value="{dataset.key}"' in content
            for key in dataset.column_keys:
                assert f'name="{dataset.key}-columns" value="{key}"' in content
        assert content.count("checked") == sum(len(dataset.columns) for dataset in DATASETS.values())

    def test_another_communitys_committee_is_refused_with_a_clear_message(
        self, data, client, other_committee, community
    ):
        client.force_login(other_committee)

        for response in (
            client.get(reverse("committee:community_exports", args=[community.pk]), **EN),
            client.post(download_url(community), form_data(), **EN),
        ):
            assert response.status_code == 403
            assert "Exports are for committee members, of their own community only" in html.unescape(
                response.content.decode()
            )
            assert "厨房水龙头漏水" not in response.content.decode()
        assert exported() == []

    def test_grid_workers_and_residents_are_refused(self, data, client, grid_worker, resident, community):
        for person in (grid_worker, resident):
            client.force_login(person)
            assert client.get(reverse("committee:exports"), **EN).status_code == 403
            response = client.post(download_url(community), form_data(), **EN)
            assert response.status_code == 403
            assert "Grid workers read the figures of their grids on the dashboard" in response.content.decode()
        assert exported() == []

    def test_anonymous_is_sent_to_log_in_and_a_get_is_not_a_download(self, data, client, committee, community):
        response = client.post(download_url(community), form_data())
        assert response.status_code == 302
        client.force_login(committee)
        assert client.get(download_url(community)).status_code == 405
        assert exported() == []

    def test_the_service_checks_too(self, data, grid_worker, committee, community):
        period = Period(start=TODAY, end=TODAY)
        with pytest.raises(PermissionDenied):
            export_log(
                actor=grid_worker, community=community, dataset="requests", columns=["id"], period=period, rows=0
            )
        with pytest.raises(ValidationError):
            export_log(
                actor=committee, community=community, dataset="requests", columns=["phone"], period=period, rows=0
            )
        assert exported() == []
