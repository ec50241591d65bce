"""The nearby page: the list, its filters and pages, the map's data, the live partial, and refusals."""

import json
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from geopy.distance import geodesic

from aid_posts.models import AidPost
from neighbors.models import Consent, Membership, Place
from tests.factories import AidPostFactory, CommunityFactory, MembershipFactory, PlaceFactory, UserFactory, skill

pytestmark = pytest.mark.django_db

URL = reverse("aid_posts:nearby")
FRAGMENT = {"HTTP_X_REQUESTED_WITH": "fetch"}


def logged_in(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def place_from(origin: Place, metres: float, bearing: float = 60.0, **fields) -> Place:
    there = geodesic(meters=metres).destination((float(origin.latitude), float(origin.longitude)), bearing)
    return PlaceFactory(
        latitude=Decimal(there.latitude).quantize(Decimal("0.000001")),
        longitude=Decimal(there.longitude).quantize(Decimal("0.000001")),
        **fields,
    )


def request_at(place: Place, author, **fields) -> AidPost:
    return AidPostFactory(community=place.community, place=place, author=author, **fields)


def rows_of(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-post="(\d+)"', response.content.decode())]


def json_of(response, element_id: str):
    found = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert found, f"no #{element_id} in the page"
    return json.loads(found.group(1))


@pytest.fixture
def viewer(resident):
    return resident


@pytest.fixture
def home(building):
    return building


class TestTheList:
    def test_rows_show_what_a_helper_needs_to_decide(self, viewer, helper, home, community):
        # Given a request 1.2 km away, two helpers wanted, one offered, urgent
        helper.profile.display_name = "王阿姨"
        helper.profile.save()
        away = place_from(home, 1210, community=community, name="8号楼")
        post = request_at(away, helper, title="搬一台冰箱", seats=2, live_claims=1, urgency=AidPost.Urgency.URGENT)

        # When the resident opens the page (English), nothing chosen yet: their home, 1 km
        response = logged_in(viewer).get(URL)
        assert response.status_code == 200
        assert rows_of(response) == []
        assert response.context["form"].cleaned_data["building"] == home
        response = logged_in(viewer).get(URL, {"radius": 2000})

        # Then the row names it, its kind, urgency, building, rounded distance, seats and window, with a link
        page = response.content.decode()
        assert rows_of(response) == [post.pk]
        assert "搬一台冰箱" in page
        assert reverse("aid_posts:detail", args=[post.pk]) in page
        assert str(skill()) in page
        assert "Urgent" in page
        assert "8号楼" in page
        assert "about 1.2 km away" in page
        assert "1 helper still needed" in page
        assert "<time datetime=" in page
        assert "1 open request within 2 km." in page
        # Not who asked: beside a building and a distance, a name would say where they live
        assert helper.profile.display_name not in page

    def test_distances_under_a_kilometre_and_in_the_same_building(self, viewer, helper, home, community):
        request_at(place_from(home, 340, community=community), helper)
        request_at(home, helper)
        page = logged_in(viewer).get(URL).content.decode()
        assert "about 300 m away" in page
        assert "under 50 m away" in page

    def test_chinese_is_the_default_language(self, viewer, helper, home, community):
        request_at(home, helper)
        response = logged_in(viewer, language="zh-hans").get(URL)
        assert response.status_code == 200
        assert '<html lang="zh-hans"' in response.content.decode()

    def test_filters_and_sort_reach_the_list(self, viewer, helper, home, community):
        near, far = place_from(home, 200, community=community), place_from(home, 800, community=community)
        legal = skill("legal-aid")
        near_repair = request_at(near, helper)
        far_legal = request_at(far, helper, category=legal, urgency=AidPost.Urgency.URGENT)
        client = logged_in(viewer)
        assert rows_of(client.get(URL)) == [near_repair.pk, far_legal.pk]
        assert rows_of(client.get(URL, {"sort": "urgency"})) == [far_legal.pk, near_repair.pk]
        assert rows_of(client.get(URL, {"category": legal.pk})) == [far_legal.pk]
        assert rows_of(client.get(URL, {"urgency": AidPost.Urgency.NORMAL})) == [near_repair.pk]
        assert rows_of(client.get(URL, {"radius": 500})) == [near_repair.pk]

    def test_pagination_links_keep_the_filters(self, viewer, helper, home, community):
        legal = skill("legal-aid")
        for n in range(25):
            request_at(place_from(home, 30 * n + 10, community=community), helper, category=legal)
        request_at(home, helper)  # another kind: filtered out
        client = logged_in(viewer)
        query = {"radius": 2000, "category": legal.pk, "sort": "urgency"}

        first = client.get(URL, query)
        next_link = re.search(r'rel="next" href="\?([^"]+)"', first.content.decode()).group(1).replace("&amp;", "&")
        second = client.get(f"{URL}?{next_link}")

        assert f"category={legal.pk}" in next_link and "radius=2000" in next_link and "sort=urgency" in next_link
        assert "page=2" in next_link
        assert len(rows_of(first)) == 20 and len(rows_of(second)) == 5
        assert set(rows_of(first)) | set(rows_of(second)) == set(
            AidPost.objects.filter(category=legal).values_list("pk", flat=True)
        )
        assert 'rel="prev"' in second.content.decode()
        assert "Page 2 of 2" in second.content.decode()

    def test_the_empty_state_says_what_to_do_next(self, viewer, helper, home, community):
        request_at(place_from(home, 1500, community=community), helper, category=skill("legal-aid"))
        response = logged_in(viewer).get(URL, {"category": skill("legal-aid").pk})
        page = response.content.decode()
        assert rows_of(response) == []
        assert "No open requests within 1 km right now." in page
        assert "Look within 2 km" in page
        assert "Show every kind and urgency" in page
        assert reverse("aid_posts:create") in page
        wider = re.search(r'href="\?([^"]*radius=2000[^"]*)"', page).group(1).replace("&amp;", "&")
        assert len(rows_of(logged_in(viewer).get(f"{URL}?{wider}"))) == 1

    def test_a_page_past_the_end_offers_the_first(self, viewer, helper, home):
        request_at(home, helper)
        response = logged_in(viewer).get(URL, {"page": 3})
        assert response.status_code == 200
        assert "Back to the first page" in response.content.decode()

    def test_another_building_of_the_community_by_link(self, viewer, helper, home, community):
        school = place_from(home, 3000, community=community, name="实验小学")
        post = request_at(place_from(school, 300, community=community), helper)
        response = logged_in(viewer).get(URL, {"building": school.pk})
        assert rows_of(response) == [post.pk]
        assert re.search(rf'<option value="{school.pk}" selected>', response.content.decode())

    def test_query_count_does_not_grow_with_the_rows(self, viewer, helper, home, community, django_assert_num_queries):
        request_at(home, helper)
        client = logged_in(viewer)
        client.get(URL)  # the session and language settle on the first request
        with CaptureQueriesContext(connection) as one:
            client.get(URL)
        for n in range(30):
            request_at(place_from(home, 20 * n + 5, bearing=11 * n, community=community), helper)
        with django_assert_num_queries(len(one.captured_queries)):
            assert len(rows_of(client.get(URL))) == 20

    def test_query_count_does_not_grow_with_the_viewers_communities(self, viewer, home, django_assert_num_queries):
        client = logged_in(viewer)
        client.get(URL)
        with CaptureQueriesContext(connection) as one:
            client.get(URL)
        for _n in range(3):
            MembershipFactory(user=viewer)
        with django_assert_num_queries(len(one.captured_queries)):
            response = client.get(URL)
        assert response.content.decode().count("(your home)") == 4


class TestTheMap:
    def test_markers_per_request_building_never_the_origin(self, viewer, helper, home, community):
        east = place_from(home, 400, bearing=90, community=community, name="东楼")
        first, second = request_at(east, helper, title="修门锁"), request_at(east, helper, title="<b>取药</b>")
        west = place_from(home, 700, bearing=270, community=community, name="西楼")
        third = request_at(west, helper, urgency=AidPost.Urgency.URGENT)
        response = logged_in(viewer).get(URL)

        buildings = json_of(response, "nearby-map-data")
        assert [building["name"] for building in buildings] == ["东楼", "西楼"]
        assert buildings[0]["lat"] == float(east.latitude) and buildings[0]["lng"] == float(east.longitude)
        assert {post["id"] for post in buildings[0]["posts"]} == {first.pk, second.pk}
        assert buildings[1]["posts"] == [
            {"id": third.pk, "title": third.title, "url": reverse("aid_posts:detail", args=[third.pk]), "urgent": True}
        ]
        # The viewer's home (the origin) appears nowhere on the page, and user text stays inert.
        page = response.content.decode()
        assert str(home.latitude) not in page and str(home.longitude) not in page
        assert "<b>取药</b>" not in page

    def test_no_tiles_in_tests_and_the_configured_ones_otherwise(self, viewer, helper, home):
        request_at(home, helper)
        config = json_of(logged_in(viewer).get(URL), "nearby-config")
        assert config["tileUrl"] == ""
        assert config["labels"]["noTiles"]
        with override_settings(MAP_TILE_URL="https://tiles.district.example/{z}/{x}/{y}.png"):
            config = json_of(logged_in(viewer).get(URL), "nearby-config")
        assert config["tileUrl"] == "https://tiles.district.example/{z}/{x}/{y}.png"
        assert config["attribution"] == settings.MAP_TILE_ATTRIBUTION

    def test_leaflet_is_served_from_the_site(self, viewer, helper, home):
        request_at(home, helper)
        page = logged_in(viewer).get(URL).content.decode()
        assert f"{settings.STATIC_URL}vendor/leaflet-1.9.4/leaflet.js" in page
        assert f"{settings.STATIC_URL}vendor/leaflet-1.9.4/leaflet.css" in page
        assert f"{settings.STATIC_URL}js/nearby.js" in page
        assert "unpkg" not in page and "cdn" not in page.lower()


class TestThePartial:
    def test_the_partial_has_the_same_rows_and_map_data(self, viewer, helper, home, community):
        for n in range(5):
            request_at(place_from(home, 100 * n + 50, community=community), helper)
        client = logged_in(viewer)
        query = {"radius": 1000, "sort": "urgency"}

        full = client.get(URL, query)
        partial = client.get(URL, query, **FRAGMENT)

        assert partial.status_code == 200
        assert [template.name for template in partial.templates][0] == "aid_posts/_nearby_results.html"
        body = partial.content.decode()
        assert "<html" not in body and "<form" not in body and 'id="nearby-config"' not in body
        assert rows_of(partial) == rows_of(full) and len(rows_of(full)) == 5
        assert json_of(partial, "nearby-map-data") == json_of(full, "nearby-map-data")
        assert "X-Requested-With" in partial["Vary"] and "X-Requested-With" in full["Vary"]

    def test_the_partial_follows_changes(self, viewer, helper, home, community):
        client = logged_in(viewer)
        assert rows_of(client.get(URL, **FRAGMENT)) == []
        post = request_at(home, helper)
        assert rows_of(client.get(URL, **FRAGMENT)) == [post.pk]
        AidPost.objects.filter(pk=post.pk).update(status=AidPost.Status.CLAIMED)
        assert rows_of(client.get(URL, **FRAGMENT)) == []

    def test_the_partial_after_consent_is_withdrawn(self, viewer, helper, home):
        request_at(home, helper)
        Consent.objects.filter(user=viewer, kind=Consent.Kind.LOCATION).update(withdrawn_at=timezone.now())
        response = logged_in(viewer).get(URL, **FRAGMENT)
        assert response.status_code == 200
        assert rows_of(response) == []
        assert "no longer available" in response.content.decode()


class TestRefused:
    def test_anonymous_visitors_are_sent_to_log_in(self):
        response = Client().get(URL)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
        assert Client().get(URL, **FRAGMENT).status_code == 302

    def test_without_location_consent_the_page_asks_for_it_and_lists_nothing(self, viewer, helper, home):
        post = request_at(home, helper, title="帮忙取快递")
        Consent.objects.filter(user=viewer, kind=Consent.Kind.LOCATION).update(withdrawn_at=timezone.now())
        with CaptureQueriesContext(connection) as queries:
            response = logged_in(viewer).get(URL, {"radius": 500})
        page = response.content.decode()
        assert response.status_code == 200
        assert "needs your consent to use your location" in page
        assert f'href="{reverse("neighbors:consents")}#consent-location"' in page
        assert post.title not in page and rows_of(response) == []
        assert 'id="nearby-map-data"' not in page and "leaflet" not in page
        assert not any("aid_posts_aidpost" in query["sql"] for query in queries.captured_queries)

    def test_consent_to_an_older_text_is_not_consent(self, viewer, helper, home):
        request_at(home, helper)
        Consent.objects.filter(user=viewer, kind=Consent.Kind.LOCATION).update(version="2020-01")
        assert "needs your consent" in logged_in(viewer).get(URL).content.decode()

    def test_a_child_sees_the_page_turned_off(self, viewer, helper, home):
        request_at(home, helper)
        viewer.profile.is_minor = True
        viewer.profile.save()
        response = logged_in(viewer).get(URL)
        page = response.content.decode()
        assert "turned off for residents under 14" in page
        assert rows_of(response) == []
        assert "Give location consent" not in page

    @pytest.mark.parametrize("status", [Membership.Status.PENDING, Membership.Status.LEFT])
    def test_without_an_approved_membership_the_page_says_to_join(self, status):
        user = UserFactory()
        membership = MembershipFactory(user=user, status=status)
        request_at(membership.home_place, UserFactory())
        response = logged_in(user).get(URL)
        assert response.status_code == 200
        assert "Join a community" in response.content.decode()
        assert rows_of(response) == []

    def test_a_building_of_another_community_looks_like_one_that_does_not_exist(self, viewer, home):
        stranger = CommunityFactory()
        their_building = place_from(home, 100, community=stranger)
        request_at(their_building, UserFactory())
        client = logged_in(viewer)
        foreign = client.get(URL, {"building": their_building.pk})
        missing = client.get(URL, {"building": 999_999})
        assert foreign.status_code == missing.status_code == 400
        assert foreign.context["form"].errors == missing.context["form"].errors
        assert rows_of(foreign) == []
        assert str(their_building.latitude) not in foreign.content.decode()

    @pytest.mark.parametrize(
        "query",
        [
            {"radius": 0},
            {"radius": 1_000_000},
            {"radius": 750},
            {"radius": "abc"},
            {"radius": ""},
            {"building": "x"},
            {"category": 999_999},
            {"category": "abc"},
            {"urgency": 7},
            {"urgency": "high"},
            {"sort": "newest"},
            {"page": 0},
            {"page": "last"},
            {"page": 10**9},
        ],
    )
    def test_bad_input_is_a_form_error_not_a_crash(self, viewer, home, query):
        response = logged_in(viewer).get(URL, query)
        assert response.status_code == 400
        assert response.context["form"].errors
        assert 'role="alert"' in response.content.decode()
        assert 'id="nearby-results"' not in response.content.decode()


class TestTheMapLabels:
    def test_the_count_on_a_marker_has_its_plural_forms_in_each_language(self, viewer):
        # The page picks the form with Intl.PluralRules: English "one" and "other", Chinese "other".
        english = json_of(logged_in(viewer, "en").get(URL), "nearby-config")["labels"]["requests"]
        chinese = json_of(logged_in(viewer, "zh-hans").get(URL), "nearby-config")["labels"]["requests"]

        assert english == {"one": "%(count)s open request", "other": "%(count)s open requests"}
        assert chinese["other"] == "%(count)s 条待认领的求助"
