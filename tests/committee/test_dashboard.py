"""The committee's dashboard: the figures of a known history for a community, a grid and a
street, hours by local month, who may read which dashboard, bad filters, and query counts."""

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aid_posts.models import AidPost
from aid_posts.services import aid_post_confirm, feedback_give, posts_expire
from aid_posts.services.dispatch import dispatch_invite
from committee.permissions import (
    can_view_dashboard,
    can_view_street_dashboard,
    dashboard_communities,
    dashboard_streets,
)
from committee.selectors.dashboard import (
    Period,
    community_access,
    dashboard_for,
    hours_by_month,
    months_back,
    street_access,
)
from committee.services.reports import report_file
from neighbors.models import Grid, LedgerEntry, Membership
from tests.aid_posts.test_measures import fresh, help_through, new_post, set_times
from tests.factories import CommunityFactory, MembershipFactory, PlaceFactory, UserFactory, ledger_entry_at

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def text(page) -> str:
    return html.unescape(page.content.decode())


def resident_of(community, home, username: str):
    person = UserFactory(username=username)
    MembershipFactory(user=person, community=community, home_place=home)
    return person


@pytest.fixture
def far_building(community):
    """A building of the community in a second grid."""
    return PlaceFactory(
        community=community, name="5号楼", grid=Grid.objects.create(community=community, name="第二网格")
    )


@dataclass
class History:
    posts: dict[str, AidPost]
    period: Period
    far_grid: Grid


@pytest.fixture
def history(community, building, grid, far_building, resident, helper, committee) -> History:
    """Five requests posted three days ago, one in the period before, one elsewhere.

    | post     | building (grid)  | what happened                                          |
    |----------|------------------|--------------------------------------------------------|
    | fast     | 2号楼 (第一网格) | invited helper li claims at 10 min, confirmed at 2 h, 5 |
    | slow     | 2号楼 (第一网格) | escalated; zhou claims at 30 min, confirmed at 4 h, 3   |
    | quiet    | 2号楼 (第一网格) | open, reported                                          |
    | waiting  | 5号楼 (第二网格) | open, escalated: waiting now                            |
    | expired  | 5号楼 (第二网格) | expired                                                 |
    | old      | 2号楼            | open, tutoring, posted 15 days ago: the period before   |

    li lives in 2号楼 and zhou in 5号楼: each earns one hour, today.
    """
    zhou = resident_of(community, far_building, "zhou")
    zhao = resident_of(community, far_building, "zhao")
    posts: dict[str, AidPost] = {}

    posts["fast"] = new_post(resident, community, building)
    dispatch_invite(actor=committee, post=posts["fast"], talent=helper)
    help_through(posts["fast"], poster=resident, helper=helper)
    aid_post_confirm(actor=resident, post=fresh(posts["fast"]))
    feedback_give(actor=resident, post=fresh(posts["fast"]), rating=5)

    posts["slow"] = new_post(resident, community, building)
    help_through(posts["slow"], poster=resident, helper=zhou)
    aid_post_confirm(actor=resident, post=fresh(posts["slow"]))
    feedback_give(actor=resident, post=fresh(posts["slow"]), rating=3)

    posts["quiet"] = new_post(resident, community, building)
    posts["waiting"] = new_post(zhao, community, far_building)
    posts["expired"] = new_post(zhao, community, far_building, code="errands")
    AidPost.objects.filter(pk=posts["expired"].pk).update(expires_at=timezone.now() - MINUTE)
    assert posts_expire() == 1
    posts["old"] = new_post(resident, community, building, code="tutoring")

    base = timezone.now() - timedelta(days=3)
    set_times(posts["fast"], posted=base, first_claim_after=10 * MINUTE, confirmed_after=2 * HOUR)
    set_times(posts["slow"], posted=base, first_claim_after=30 * MINUTE, confirmed_after=4 * HOUR)
    for name in ("quiet", "waiting", "expired"):
        set_times(posts[name], posted=base)
    set_times(posts["old"], posted=timezone.now() - timedelta(days=15))
    AidPost.objects.filter(pk__in=[posts["slow"].pk, posts["waiting"].pk]).update(escalated_at=base + HOUR)

    report_file(actor=helper, target_kind="request", target_id=posts["quiet"].pk, reason="spam")
    today = timezone.localdate()
    return History(posts=posts, period=Period(start=today - timedelta(days=9), end=today), far_grid=far_building.grid)


def url(community, **query) -> str:
    address = reverse("committee:community_dashboard", args=[community.pk])
    return address + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def period_query(period: Period) -> dict:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


class TestFiguresOfAKnownHistory:
    def test_the_committee_reads_the_whole_community(self, history, committee, community):
        # Given the committee's view of the community over the period
        board = dashboard_for(committee, community_access(committee, community).scope(), history.period)

        # Then the requests posted in it are counted, by status now
        measures = board.measures
        assert measures.total == 5
        assert {status: count for status, count in measures.by_status.items() if count} == {
            "confirmed": 2,
            "open": 2,
            "expired": 1,
        }
        assert [(row.category.code, row.count) for row in measures.by_category] == [
            ("home-repair", 4),
            ("errands", 1),
        ]
        # And each figure over them
        assert measures.time_to_first_claim == 20 * MINUTE
        assert measures.time_to_resolution == 3 * HOUR
        assert (measures.confirmed, measures.settled) == (2, 3)
        assert (measures.rating_mean, measures.rating_count) == (4.0, 2)
        assert (measures.dispatched_first, measures.claimed) == (1, 2)
        assert (measures.confirmed_in_grid, measures.confirmed) == (1, 2)
        # And the period before has only the old request
        assert board.previous.total == 1
        # And what waits now: the escalated request still open, and the report
        assert (board.open_escalations, board.open_reports) == (1, 1)
        # And both helpers' hours, earned today
        assert (board.total_hours, board.volunteers) == (Decimal("2"), 2)

    def test_a_grid_counts_its_buildings_and_the_people_who_live_there(self, history, committee, community, grid):
        access = community_access(committee, community)

        first = dashboard_for(committee, access.scope(grid), history.period)
        second = dashboard_for(committee, access.scope(history.far_grid), history.period)

        assert (first.measures.total, first.measures.confirmed, first.measures.settled) == (3, 2, 2)
        assert (second.measures.total, second.measures.confirmed, second.measures.settled) == (2, 0, 1)
        assert (first.open_escalations, second.open_escalations) == (0, 1)
        # li lives in the first grid, zhou in the second, whoever they helped
        assert (first.total_hours, first.volunteers) == (Decimal("1"), 1)
        assert (second.total_hours, second.volunteers) == (Decimal("1"), 1)
        # Reports name no building: the whole community's, whichever grid
        assert first.open_reports == second.open_reports == 1

    def test_a_grid_worker_is_held_to_their_grids(self, history, grid_worker, community, grid):
        access = community_access(grid_worker, community)
        assert access.limit == (grid,)
        assert access.grid_choices == (grid,)

        board = dashboard_for(grid_worker, access.scope(), history.period)
        assert board.measures.total == 3
        assert board.open_escalations == 0
        # And a grid that is not theirs is refused, not widened
        with pytest.raises(ValueError, match="not one the viewer may pick"):
            access.scope(history.far_grid)

    def test_a_street_adds_up_only_the_communities_where_the_viewer_is_on_the_committee(
        self, history, committee, community, outsider
    ):
        # Given a second community of the street where our committee member is also on the
        # committee, and the outsider's community of the same street where they are not
        second = CommunityFactory(name="湖滨社区", street=community.street)
        second_home = PlaceFactory(community=second)
        MembershipFactory(user=committee, community=second, home_place=second_home, role=Membership.Role.COMMITTEE)
        poster = resident_of(second, second_home, "hu")
        new_post(poster, second, second_home)
        theirs = outsider.memberships.get().community
        assert theirs.street == community.street
        new_post(outsider, theirs, outsider.memberships.get().home_place)

        # When they read the street
        access = street_access(committee, community.street)
        board = dashboard_for(committee, access.scope(), history.period)

        # Then the two communities are added up, and the third is not
        assert [included.name for included in access.communities] == ["湖滨社区", "莲兴社区"]
        assert board.measures.total == 5 + 1


class TestHoursByMonth:
    @pytest.fixture
    def entries(self, community, helper, far_building):
        """li (2号楼) and zhou (5号楼) around the turn of January 2024, in Shanghai time."""
        zhou = resident_of(community, far_building, "zhou")
        spender = resident_of(community, far_building, "spender")

        def at(*args):
            return datetime(*args, tzinfo=SHANGHAI)

        ledger_entry_at(at(2023, 12, 31, 23, 59), user=helper, community=community, hours=5)
        ledger_entry_at(at(2024, 1, 10, 12, 0), user=helper, community=community, hours=2)
        # 15:30 UTC on 31 January: still January here
        ledger_entry_at(at(2024, 1, 31, 23, 30), user=helper, community=community, hours=1.5, reason="duty_confirmed")
        # 16:30 UTC on 31 January: February here
        ledger_entry_at(at(2024, 2, 1, 0, 30), user=zhou, community=community, hours=1)
        ledger_entry_at(at(2024, 2, 10, 9, 0), user=helper, community=community, hours=-0.5, reason="correction")
        ledger_entry_at(
            at(2024, 2, 12, 9, 0), user=spender, community=community, hours=0, points=-50, reason="redemption"
        )
        # Midnight starting 1 April here, 31 March in UTC: after the period
        ledger_entry_at(at(2024, 4, 1, 0, 0), user=zhou, community=community, hours=7)
        return zhou

    def test_local_months_corrections_count_spending_does_not(self, entries, committee, community):
        scope = community_access(committee, community).scope()

        months = hours_by_month(scope, Period(start=date(2024, 1, 1), end=date(2024, 3, 31)))

        assert [(month.month, month.hours, month.volunteers) for month in months] == [
            (date(2024, 1, 1), Decimal("3.5"), 1),
            (date(2024, 2, 1), Decimal("0.5"), 1),
            (date(2024, 3, 1), Decimal("0"), 0),
        ]

    def test_a_grid_takes_the_hours_of_its_residents(self, entries, committee, community, grid):
        scope = community_access(committee, community).scope(grid)

        months = hours_by_month(scope, Period(start=date(2024, 1, 15), end=date(2024, 2, 29)))

        # Only li's, and only from the 15th of January
        assert [(month.hours, month.volunteers) for month in months] == [(Decimal("1.5"), 1), (Decimal("-0.5"), 0)]

    def test_the_page_shows_the_months_and_their_total(self, entries, client, committee, community):
        client.force_login(committee)

        page = client.get(url(community, start="2024-01-01", end="2024-03-31"), **EN)

        assert page.status_code == 200
        table = text(page).split('id="months-table"')[1].split("</table>")[0]
        for row in (
            '<th scope="row">January 2024</th><td>3.5</td><td>1</td>',
            '<th scope="row">February 2024</th><td>0.5</td><td>1</td>',
            '<th scope="row">March 2024</th><td>0</td><td>0</td>',
            "<td>4</td><td>2</td>",
        ):
            assert row in table


class TestPeriods:
    def test_presets_are_whole_calendar_months_up_to_today(self):
        today = date(2024, 3, 15)
        assert months_back(today, 1) == Period(start=date(2024, 3, 1), end=today)
        assert months_back(today, 3) == Period(start=date(2024, 1, 1), end=today)
        assert months_back(today, 12) == Period(start=date(2023, 4, 1), end=today)

    def test_the_period_before_has_the_same_length(self):
        period = Period(start=date(2024, 3, 1), end=date(2024, 3, 31))
        assert period.previous() == Period(start=date(2024, 1, 30), end=date(2024, 2, 29))

    def test_bounds_are_local_midnights(self):
        start, end = Period(start=date(2024, 2, 1), end=date(2024, 2, 29)).bounds()
        assert start == datetime(2024, 1, 31, 16, 0, tzinfo=ZoneInfo("UTC"))
        assert end == datetime(2024, 2, 29, 16, 0, tzinfo=ZoneInfo("UTC"))


class TestThePage:
    def test_the_committee_reads_charts_and_the_same_numbers_in_tables(self, history, client, committee, community):
        client.force_login(committee)

        page = client.get(url(community, **period_query(history.period)), **EN)

        assert page.status_code == 200
        content = text(page)
        assert "Dashboard: 莲兴社区" in content
        # Four charts, each an accessible image with its title
        assert content.count('role="img"') == 4
        for title in (
            "Requests posted in the period, by status now",
            "Requests posted in the period, by category",
            "Volunteer hours by month",
            "Active volunteers by month",
        ):
            assert f'-title">{title}</title>' in content
        # And the figures in words
        assert "67% (2 of 3)" in content
        assert '<dd id="open-escalations">1</dd>' in content
        assert '<dd id="open-reports">1</dd>' in content
        assert '<th scope="row">Confirmed</th><td>2</td><td>0</td>' in content
        # And the categories of both periods, those of the period before last
        assert [(row.recent, row.all_time) for row in page.context["categories"]] == [
            ("4", "0"),
            ("1", "0"),
            ("0", "1"),
        ]
        # And the committee may export from here
        assert reverse("committee:community_exports", args=[community.pk]) in content

    def test_without_filters_the_last_three_months(self, history, client, committee):
        client.force_login(committee)

        page = client.get(reverse("committee:dashboard"), **EN)

        assert page.status_code == 200
        assert page.context["board"].period == months_back(timezone.localdate(), 3)
        assert page.context["board"].measures.total == 6

    def test_a_grid_chosen_in_the_filters(self, history, client, committee, community):
        client.force_login(committee)

        page = client.get(url(community, grid=history.far_grid.pk, **period_query(history.period)), **EN)

        assert page.status_code == 200
        assert page.context["board"].measures.total == 2
        # The period links keep the grid
        assert all(f"grid={history.far_grid.pk}" in preset.url for preset in page.context["presets"])

    def test_a_grid_worker_sees_their_grids_and_no_export(self, history, client, grid_worker, community):
        client.force_login(grid_worker)

        page = client.get(url(community, **period_query(history.period)), **EN)

        assert page.status_code == 200
        assert page.context["board"].measures.total == 3
        assert "the figures are those of your grids only" in text(page)
        assert reverse("committee:community_exports", args=[community.pk]) not in text(page)

    def test_a_grid_worker_cannot_pick_another_grid(self, history, client, grid_worker, community):
        client.force_login(grid_worker)

        page = client.get(url(community, grid=history.far_grid.pk), **EN)

        assert page.status_code == 400
        assert "board" not in page.context
        assert "Select a valid choice" in text(page)

    def test_the_street_page_says_which_communities_it_adds_up(self, history, client, committee, community):
        client.force_login(committee)

        page = client.get(reverse("committee:street_dashboard", args=[community.street.pk]), **EN)

        assert page.status_code == 200
        content = text(page)
        assert "This street's figures add up the communities where you are on the committee" in content
        assert reverse("committee:community_dashboard", args=[community.pk]) in content


class TestBadFilters:
    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"start": "2024-13-01", "end": "2024-12-31"}, "Enter a valid date."),
            ({"start": "2024-03-01", "end": "2024-02-01"}, "The period must end on or after its first day."),
            ({"start": "2021-01-01", "end": "2024-01-01"}, "Choose a period of at most two years."),
            ({"start": "2024-03-01"}, "Give both dates, or neither for the last three months."),
            ({"grid": "999999"}, "Select a valid choice"),
            ({"grid": "abc"}, "Select a valid choice"),
        ],
    )
    def test_a_clear_message_and_no_figures(self, query, message, client, committee, community, grid):
        client.force_login(committee)

        page = client.get(url(community, **query), **EN)

        assert page.status_code == 400
        assert message in text(page)
        assert "board" not in page.context

    def test_a_grid_of_another_community_is_not_a_choice(self, client, committee, community, outsider):
        theirs = Grid.objects.create(community=outsider.memberships.get().community, name="第一网格")
        client.force_login(committee)

        page = client.get(url(community, grid=theirs.pk), **EN)

        assert page.status_code == 400


class TestWhoMayRead:
    def test_a_resident_is_told_who_it_is_for(self, history, client, resident, community):
        client.force_login(resident)

        for address in (reverse("committee:dashboard"), url(community)):
            page = client.get(address, **EN)
            assert page.status_code == 403
            assert "The dashboard is for the community committee and grid workers" in text(page)

    def test_anonymous_is_sent_to_log_in(self, client, community):
        page = client.get(url(community))
        assert page.status_code == 302
        assert page["Location"].startswith(reverse("account_login"))

    def test_another_communitys_committee_gets_403_and_no_figures(self, history, client, other_committee, community):
        client.force_login(other_committee)

        page = client.get(url(community), **EN)

        assert page.status_code == 403
        assert "board" not in page.context
        assert "莲兴社区" not in text(page)
        # A community that does not exist looks the same
        missing = client.get(reverse("committee:community_dashboard", args=[2_147_483_647]), **EN)
        assert missing.status_code == 403

    def test_a_site_admin_is_not_special(self, client, community):
        admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
        client.force_login(admin)

        assert client.get(url(community)).status_code == 403
        assert client.get(reverse("committee:street_dashboard", args=[community.street.pk])).status_code == 403

    def test_a_street_needs_a_committee_seat_in_it(self, client, grid_worker, outsider, other_committee, community):
        # Grid workers answer for grids, not streets
        client.force_login(grid_worker)
        page = client.get(reverse("committee:street_dashboard", args=[community.street.pk]), **EN)
        assert page.status_code == 403
        assert "you are on the committee of none of this street's communities" in text(page)
        # And a street that does not exist looks the same
        assert client.get(reverse("committee:street_dashboard", args=[2_147_483_647])).status_code == 403

    def test_permission_twins_agree(self, committee, grid_worker, resident, other_committee, community):
        for person, community_ok, street_ok in (
            (committee, True, True),
            (grid_worker, True, False),
            (resident, False, False),
            (other_committee, False, True),
        ):
            assert can_view_dashboard(person, community) is community_ok
            assert dashboard_communities(person).filter(pk=community.pk).exists() is community_ok
            assert can_view_street_dashboard(person, community.street) is street_ok
            assert dashboard_streets(person).filter(pk=community.street.pk).exists() is street_ok


class TestQueryCounts:
    def grow(self, community, building, far_building, resident, helper, count: int) -> None:
        """More requests and ledger entries of every kind the dashboard reads."""
        for index in range(count):
            post = new_post(resident, community, building if index % 2 else far_building)
            help_through(post, poster=resident, helper=helper)
            aid_post_confirm(actor=resident, post=fresh(post))
            feedback_give(actor=resident, post=fresh(post), rating=4)
            ledger_entry_at(timezone.now() - timedelta(days=40 * index), user=helper, community=community, hours=1)

    def test_the_selector_reads_in_a_fixed_number_of_queries(
        self, history, committee, community, building, far_building, resident, helper
    ):
        access = community_access(committee, community)
        period = months_back(timezone.localdate(), 12)
        with CaptureQueriesContext(connection) as small:
            dashboard_for(committee, access.scope(), period)

        self.grow(community, building, far_building, resident, helper, 6)
        with CaptureQueriesContext(connection) as large:
            board = dashboard_for(committee, access.scope(), period)

        assert board.measures.total == 6 + 6
        assert len(large) == len(small) <= 11

    def test_the_page_too(self, history, client, committee, community, building, far_building, resident, helper):
        client.force_login(committee)
        address = url(
            community, start=(timezone.localdate() - timedelta(days=365)).isoformat(), end=timezone.localdate()
        )
        client.get(address)
        with CaptureQueriesContext(connection) as small:
            assert client.get(address).status_code == 200

        self.grow(community, building, far_building, resident, helper, 6)
        with CaptureQueriesContext(connection) as large:
            assert client.get(address).status_code == 200

        assert len(large) == len(small)
        assert LedgerEntry.objects.filter(community=community).count() > 6
