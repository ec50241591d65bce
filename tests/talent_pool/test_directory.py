from datetime import time, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from geopy.distance import geodesic

from neighbors.models import Consent, Place, Profile
from neighbors.services import block_add
from talent_pool.models import AvailabilitySlot, Credential, HelpRecord, TalentProfile
from talent_pool.selectors import SORT_BY_RATING, talent_search
from talent_pool.services import availability_set, talent_profile_ensure, talent_skill_add, talent_skill_verify
from tests.factories import MembershipFactory, PlaceFactory, UserFactory, phone_of, skill

pytestmark = pytest.mark.django_db

SATURDAY = AvailabilitySlot.Weekday.SATURDAY
_numbers = count()


def place_at(origin: Place, *, north: str = "0", east: str = "0", community=None) -> Place:
    """A building at a known offset in degrees from `origin` (0.0045° of latitude is about 500 m)."""
    return PlaceFactory(
        community=community or origin.community,
        name=f"test-building-{next(_numbers)}",
        latitude=origin.latitude + Decimal(north),
        longitude=origin.longitude + Decimal(east),
    )


def make_talent(place: Place, *, skills=("tutoring",), headline: str = "", **user_kwargs):
    """An approved member living in `place` with a talent profile offering `skills`."""
    user = UserFactory(**user_kwargs)
    MembershipFactory(user=user, community=place.community, home_place=place)
    talent_profile_ensure(actor=user, headline=headline or f"headline-{user.username}")
    for code in skills:
        talent_skill_add(actor=user, skill=skill(code))
    return user


def add_credential(user, code: str, *, status=Credential.Status.VERIFIED, expires_in_days: int = 365) -> Credential:
    number = next(_numbers)
    return Credential.objects.create(
        talent_skill=user.talent_profile.skills.get(skill__code=code),
        image=f"credentials/{number}.webp",
        thumbnail=f"credentials/{number}-thumb.webp",
        number=f"CERT-{number}",
        expires_on=timezone.localdate() + timedelta(days=expires_in_days),
        status=status,
    )


def vouch(committee, user, code: str) -> None:
    talent_skill_verify(actor=committee, talent_skill=user.talent_profile.skills.get(skill__code=code))


def rate(user, *ratings) -> None:
    for rating in ratings:
        HelpRecord.objects.create(
            user=user, skill=skill("tutoring"), hours=Decimal(1), rating=rating, source=f"test:{next(_numbers)}"
        )


def users(results) -> list:
    return [result.talent.user for result in results]


def withdraw_location_consent(user) -> None:
    Consent.objects.filter(user=user, kind=Consent.Kind.LOCATION).update(withdrawn_at=timezone.now())


def page(user, **params) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("talent_pool:directory"), params, HTTP_ACCEPT_LANGUAGE="en")
    return response.status_code, response.content.decode()


def results_part(html: str) -> str:
    """The list of results, without the search form (whose building list names every building)."""
    return html.split('<ul class="list">', 1)[1]


def test_search_by_skill(resident, building):
    tutor = make_talent(building, skills=("tutoring",))
    electrician = make_talent(building, skills=("electrical", "home-repair"))

    assert users(talent_search(resident, skill=skill("tutoring"))) == [tutor]
    assert users(talent_search(resident, skill=skill("electrical"))) == [electrician]
    assert talent_search(resident, skill=skill("legal-mediation")) == []

    status, html = page(resident, skill=skill("electrical").pk)
    assert status == 200
    assert electrician.talent_profile.headline in html
    assert tutor.talent_profile.headline not in html


def test_only_talents_taking_requests_are_listed(resident, building):
    busy = make_talent(building)
    TalentProfile.objects.filter(user=busy).update(accepting_requests=False)
    assert talent_search(resident) == []


def test_verified_only_counts_vouching_and_only_valid_certificates(resident, committee, building):
    vouched = make_talent(building, skills=("tutoring",))
    vouch(committee, vouched, "tutoring")
    unvouched = make_talent(building, skills=("tutoring",))
    certified = make_talent(building, skills=("legal-mediation",))
    add_credential(certified, "legal-mediation")
    expired = make_talent(building, skills=("legal-mediation",))
    add_credential(expired, "legal-mediation", expires_in_days=-1)
    pending = make_talent(building, skills=("legal-mediation",))
    add_credential(pending, "legal-mediation", status=Credential.Status.PENDING)
    # Vouching does not stand in for a certificate where the skill needs one.
    vouched_only = make_talent(building, skills=("legal-mediation",))
    vouched_only.talent_profile.skills.update(verified_by=committee, verified_at=timezone.now())
    # Verified in one skill, not in the other.
    lawyer_tutor = make_talent(building, skills=("legal-mediation", "tutoring"))
    add_credential(lawyer_tutor, "legal-mediation")

    assert set(users(talent_search(resident, verified_only=True))) == {vouched, certified, lawyer_tutor}
    assert users(talent_search(resident, skill=skill("tutoring"), verified_only=True)) == [vouched]
    assert set(users(talent_search(resident, skill=skill("legal-mediation"), verified_only=True))) == {
        certified,
        lawyer_tutor,
    }
    assert {unvouched, expired, pending, vouched_only} <= set(users(talent_search(resident)))

    badges = {
        str(badge.skill.code): badge.verified
        for result in talent_search(resident)
        if result.talent.user == lawyer_tutor
        for badge in result.skills
    }
    assert badges == {"legal-mediation": True, "tutoring": False}


def test_a_certificate_verified_today_expiring_today_still_counts(resident, building):
    certified = make_talent(building, skills=("legal-mediation",))
    add_credential(certified, "legal-mediation", expires_in_days=0)
    assert users(talent_search(resident, verified_only=True)) == [certified]


def test_search_by_weekday(resident, building):
    saturday = make_talent(building)
    availability_set(actor=saturday, slots=[(SATURDAY, time(9), time(11))])
    monday = make_talent(building)
    availability_set(actor=monday, slots=[(AvailabilitySlot.Weekday.MONDAY, time(19), time(21))])
    make_talent(building)  # no times at all

    assert users(talent_search(resident, weekday=SATURDAY)) == [saturday]
    assert talent_search(resident, weekday=AvailabilitySlot.Weekday.SUNDAY) == []


def test_radius_keeps_exactly_those_within_it(resident, building):
    offsets = [
        ("0.00451", "0"),  # 499.6 m north
        ("0.00452", "0"),  # 500.7 m north
        ("-0.00451", "0"),
        ("-0.00452", "0"),
        ("0", "0.00493"),  # 499.8 m east: the box is wider in degrees of longitude than of latitude
        ("0", "0.00494"),  # 500.8 m east
        ("0", "-0.00493"),
        ("0", "-0.00494"),
        ("0.0031", "0.00341"),  # 487 m north-east
        ("0.0032", "0.00352"),  # 503 m north-east
        ("0.0100", "0.0100"),
        ("0", "0"),
    ]
    talents = [make_talent(place_at(building, north=north, east=east)) for north, east in offsets]

    found = talent_search(resident, origin=building, radius_m=500)

    def brute_force_distance(talent) -> float:
        home = talent.memberships.get().home_place
        return geodesic((building.latitude, building.longitude), (home.latitude, home.longitude)).meters

    expected = [talent for talent in talents if brute_force_distance(talent) <= 500]
    assert len(expected) == 6
    assert set(users(found)) == set(expected)
    assert [result.distance_m for result in found] == sorted(result.distance_m for result in found)
    assert len(talent_search(resident, origin=building, radius_m=2000)) == len(talents)


def test_radius_reaches_across_the_antimeridian_and_over_a_pole(resident, building):
    east_edge = place_at(building, north="-40.978100", east="61.853700")  # (-16.5, 179.999)
    across = make_talent(place_at(east_edge, east="-359.998"))  # 213 m west, at -179.999
    make_talent(place_at(east_edge, east="-359.989"))  # 1.2 km
    assert users(talent_search(resident, origin=east_edge, radius_m=500)) == [across]

    near_pole = place_at(building, north="65.5218", east="-118.1453")  # (89.9999, 0)
    other_side = make_talent(place_at(near_pole, north="-0.0009", east="180"))  # 122 m, over the pole
    assert users(talent_search(resident, origin=near_pole, radius_m=500)) == [other_side]


def test_without_location_consent_a_talent_has_no_distance_and_no_radius_match(resident, building):
    near = place_at(building, north="0.0027")
    consenting = make_talent(near)
    withdrawn = make_talent(near)
    withdraw_location_consent(withdrawn)
    child = make_talent(near)
    Profile.objects.filter(user=child).update(is_minor=True)

    listed = talent_search(resident, origin=building)
    assert users(listed)[0] == consenting
    assert {result.talent.user: result.distance_m for result in listed} == {
        consenting: 300,
        withdrawn: None,
        child: None,
    }
    assert users(talent_search(resident, origin=building, radius_m=1000)) == [consenting]

    status, html = page(resident, origin=building.pk, radius_km="1")
    assert status == 200
    assert "A distance search leaves out neighbours who have not agreed" in html
    assert withdrawn.talent_profile.headline not in html
    _status, html = page(resident, origin=building.pk)
    assert withdrawn.talent_profile.headline in html
    assert html.count("m away") == 1


def test_a_talent_who_blocked_me_or_lives_elsewhere_never_appears(resident, building, outsider):
    friend = make_talent(building)
    blocker = make_talent(building)
    block_add(actor=blocker, person=resident)
    stranger = make_talent(place_at(building, community=outsider.memberships.get().community))

    for search in ({}, {"origin": building}, {"origin": building, "radius_m": 5000}, {"sort": SORT_BY_RATING}):
        assert users(talent_search(resident, **search)) == [friend]
    _status, html = page(resident, origin=building.pk, radius_km="5")
    assert friend.talent_profile.headline in html
    assert blocker.talent_profile.headline not in html
    assert stranger.talent_profile.headline not in html


def test_the_distance_is_to_a_home_in_a_community_we_share(resident, building, outsider):
    """A home in a community the viewer does not belong to is never measured, however near."""
    talent = make_talent(place_at(building, north="0.009"))
    MembershipFactory(
        user=talent,
        community=outsider.memberships.get().community,
        home_place=place_at(building, community=outsider.memberships.get().community),
    )
    [result] = talent_search(resident, origin=building)
    assert result.distance_m == 1000


def test_the_distance_is_shown_rounded_to_100_m(resident, building):
    make_talent(place_at(building, north="0.00452"))  # 500.7 m
    make_talent(place_at(building, north="0.0027"))  # 299.1 m
    make_talent(building)

    assert [result.distance_m for result in talent_search(resident, origin=building)] == [0, 300, 500]
    # With no search, the distance is from my own building.
    status, html = page(resident)
    assert status == 200
    assert "less than 100 m away" in html
    assert "about 300 m away" in html
    assert "about 500 m away" in html
    assert "299" not in html
    assert "500.7" not in html


def test_my_building_is_the_starting_point_only_with_my_consent(resident, building):
    make_talent(place_at(building, north="0.0027"))
    withdraw_location_consent(resident)
    _status, html = page(resident)
    assert "m away" not in html
    _status, html = page(resident, origin=building.pk)
    assert "about 300 m away" in html


def test_a_child_searches_without_distances(make_member, building):
    child = make_member()
    Profile.objects.filter(user=child).update(is_minor=True)
    make_talent(place_at(building, north="0.0027"))
    status, html = page(child, origin=building.pk, radius_km="1")
    assert status == 200
    assert 'name="origin"' not in html
    assert "m away" not in html


def test_the_page_shows_no_contact_value_no_building_and_no_coordinates(resident, building):
    home = place_at(building, north="0.0027")
    talent = make_talent(home, headline="退休律师")
    talent.contact_methods.create(kind="address", value="5号楼3单元502室", scope="community")
    talent.contact_methods.create(kind="wechat", value="lawyer_li_88", scope="community")

    status, html = page(resident)
    assert status == 200
    assert "退休律师" in html
    for secret in (phone_of(talent), talent.email, "502", "lawyer_li_88", home.name):
        assert secret not in results_part(html)
    for secret in (phone_of(talent), talent.email, "502", "lawyer_li_88"):
        assert secret not in html
    for value in (home.latitude, home.longitude, building.latitude, building.longitude):
        assert str(value) not in html
        assert str(value.normalize()) not in html


def test_sort_by_rating(resident, building):
    new = make_talent(building)
    unrated = make_talent(building)
    rate(unrated, None)
    good_once = make_talent(building)
    rate(good_once, 4)
    good_often = make_talent(building)
    rate(good_often, 3, 5)
    best = make_talent(building)
    rate(best, 5, 5)

    results = talent_search(resident, sort=SORT_BY_RATING)
    assert users(results) == [best, good_often, good_once, unrated, new]
    assert [(result.rating, result.helps) for result in results] == [(5.0, 2), (4.0, 2), (4.0, 1), (None, 1), (None, 0)]
    _status, html = page(resident, sort="rating")
    assert "helped 2 times, rated 5.0 of 5 on average" in html
    assert "helped once, rated 4.0 of 5" in html


def test_bad_input_shows_the_errors_and_no_results(resident, building, outsider):
    talent = make_talent(building)
    other_building = outsider.memberships.get().home_place
    for params in (
        {"origin": other_building.pk},
        {"origin": "abc"},
        {"origin": building.pk, "radius_km": "abc"},
        {"origin": building.pk, "radius_km": "3"},
        {"radius_km": "1"},
        {"weekday": "9"},
        {"skill": "999999"},
        {"sort": "name"},
    ):
        status, html = page(resident, **params)
        assert status == 400, params
        assert 'class="error"' in html, params
        assert talent.talent_profile.headline not in html, params
        assert "Correct the search above" in html, params
    _status, html = page(resident, radius_km="1")
    assert "Choose a building to measure the distance from." in html


def test_no_distances_from_a_building_of_another_community(resident, outsider):
    with pytest.raises(PermissionDenied):
        talent_search(resident, origin=outsider.memberships.get().home_place)


def test_an_empty_search_says_what_to_do_next(resident, building):
    make_talent(building)
    _status, html = page(resident, weekday=SATURDAY)
    assert "No talent matches this search. Try a wider distance" in html


def test_anonymous_visitors_are_sent_to_log_in():
    response = Client().get(reverse("talent_pool:directory"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def add_talents(how_many: int, *, committee, building) -> None:
    """Talents with all a result shows: two verified skills, one by certificate, a time, ratings."""
    for _ in range(how_many):
        talent = make_talent(
            place_at(building, north=f"0.00{next(_numbers) % 30:02d}"), skills=("tutoring", "legal-mediation")
        )
        vouch(committee, talent, "tutoring")
        add_credential(talent, "legal-mediation")
        availability_set(actor=talent, slots=[(SATURDAY, time(9), time(11))])
        rate(talent, 4, 5)


def test_the_query_count_does_not_grow_with_the_pool(resident, committee, building):
    client = Client()
    client.force_login(resident)
    url = reverse("talent_pool:directory")
    searches = {
        "default": {},
        "by skill and distance": {"skill": skill("tutoring").pk, "origin": building.pk},
        "everything": {
            "skill": skill("tutoring").pk,
            "verified_only": "on",
            "origin": building.pk,
            "radius_km": "1",
            "weekday": SATURDAY,
            "sort": "rating",
        },
    }

    def query_counts() -> dict[str, int]:
        counts = {}
        for name, params in searches.items():
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, params)
            assert response.status_code == 200
            assert response.content.decode().count('<li class="card">') == TalentProfile.objects.count()
            counts[name] = len(queries)
        return counts

    add_talents(3, committee=committee, building=building)
    client.get(url)  # the first request of a session warms what the later ones share
    few = query_counts()
    add_talents(27, committee=committee, building=building)
    many = query_counts()

    assert TalentProfile.objects.count() == 30
    assert many == few
