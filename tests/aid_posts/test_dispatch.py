"""智能派发: the ranking's factors and exclusions, the dispatch service, the committee's invitation."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from geopy.distance import great_circle

from aid_posts.models import AidPost, Claim, Dispatch, PostEvent
from aid_posts.selectors.dispatch import (
    PART_LABELS,
    candidates_for_invite,
    dispatches_seen_by,
    rank_talents,
)
from aid_posts.services.dispatch import dispatch_for_post, dispatch_invite
from messaging.models import Notification
from neighbors.models import Block, Consent, Grid, Membership, Place, Profile
from talent_pool.models import AvailabilitySlot, Credential, HelpRecord, TalentProfile, TalentSkill
from tests.factories import AidPostFactory, CommunityFactory, MembershipFactory, PlaceFactory, UserFactory, skill

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The services' messages in the source language, whatever the catalogues say."""
    with translation.override("en"):
        yield


SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers = count()


def place_at(origin: Place, *, north_m: float = 0, community=None) -> Place:
    """A building `north_m` metres due north of `origin` (a degree of latitude is ~110.6 km here)."""
    return PlaceFactory(
        community=community or origin.community,
        name=f"dispatch-building-{next(_numbers)}",
        latitude=origin.latitude + Decimal(f"{north_m / 110_600:.6f}"),
        longitude=origin.longitude,
    )


def make_talent(
    home: Place,
    *,
    code: str = "home-repair",
    level: str = TalentSkill.Level.EXPERIENCED,
    verified: bool = False,
    radius_m: int = 2000,
    accepting: bool = True,
    **user_kwargs,
):
    """An approved member living in `home`, offering `code` at `level`."""
    user = UserFactory(**user_kwargs)
    MembershipFactory(user=user, community=home.community, home_place=home)
    profile = TalentProfile.objects.create(user=user, service_radius_m=radius_m, accepting_requests=accepting)
    TalentSkill.objects.create(
        talent=profile, skill=skill(code), level=level, verified_at=timezone.now() if verified else None
    )
    return user


def add_credential(user, code: str, *, status=Credential.Status.VERIFIED, expires_in_days: int = 365) -> Credential:
    number = next(_numbers)
    return Credential.objects.create(
        talent_skill=TalentSkill.objects.get(talent__user=user, skill__code=code),
        image=f"credentials/{number}.webp",
        thumbnail=f"credentials/{number}-thumb.webp",
        number=f"CERT-{number}",
        expires_on=timezone.localdate() + timedelta(days=expires_in_days),
        status=status,
    )


def next_local(weekday: int, at: time) -> datetime:
    """The next such weekday and time in the district's time zone, at least a day ahead."""
    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime.combine(day, at, SHANGHAI)


@pytest.fixture
def request_post(resident, community, building):
    """An open request for home repair in `building`, Saturday 10:00–12:00 local time."""
    starts = next_local(AvailabilitySlot.Weekday.SATURDAY, time(10))
    return AidPostFactory(
        community=community,
        author=resident,
        place=building,
        category=skill("home-repair"),
        title="阳台晾衣架松了",
        window_starts_at=starts,
        window_ends_at=starts + timedelta(hours=2),
        expires_at=starts + timedelta(hours=2),
    )


def ranked_ids(post: AidPost, **kwargs) -> list[int]:
    return [candidate.user.pk for candidate in rank_talents(post, **kwargs)]


# --- The factors: each one moves a talent the way it should -----------------------------


def test_identical_talents_tie_break_on_the_lower_user_id(request_post, building):
    first, second = make_talent(building), make_talent(building)
    ranked = rank_talents(request_post)
    assert [candidate.user for candidate in ranked] == [first, second]
    assert ranked[0].score == ranked[1].score


@pytest.mark.parametrize(
    ("worse", "better"),
    [
        (TalentSkill.Level.BEGINNER, TalentSkill.Level.EXPERIENCED),
        (TalentSkill.Level.EXPERIENCED, TalentSkill.Level.PROFESSIONAL),
    ],
)
def test_a_higher_skill_level_ranks_first(request_post, building, worse, better):
    # The better one is created second: it wins on merit, not on the tie-break.
    low = make_talent(building, level=worse)
    high = make_talent(building, level=better)
    assert ranked_ids(request_post) == [high.pk, low.pk]


def test_a_verified_skill_earns_a_bonus_where_none_is_required(request_post, building):
    plain = make_talent(building)
    vouched = make_talent(building, verified=True)
    ranked = rank_talents(request_post)
    assert [candidate.user for candidate in ranked] == [vouched, plain]
    bonus = settings.DISPATCH_WEIGHTS["skill"] * 0.2
    assert ranked[0].parts["skill"] - ranked[1].parts["skill"] == pytest.approx(bonus, abs=1e-4)


def test_closer_is_better_relative_to_the_talents_own_radius(request_post, building):
    far = make_talent(place_at(building, north_m=1500))
    near = make_talent(place_at(building, north_m=300))
    assert ranked_ids(request_post) == [near.pk, far.pk]
    # The same 1.5 km is a small share of a 20 km radius: that talent now comes first.
    TalentProfile.objects.filter(user=far).update(service_radius_m=20_000)
    assert ranked_ids(request_post) == [far.pk, near.pk]


def test_distance_is_rounded_to_100_m_and_measured_per_building(request_post, building):
    home = place_at(building, north_m=1234)
    make_talent(home)
    make_talent(home)
    exact = great_circle(
        (float(building.latitude), float(building.longitude)), (float(home.latitude), float(home.longitude))
    ).meters
    assert {candidate.distance_m for candidate in rank_talents(request_post)} == {round(exact / 100) * 100}


def test_a_slot_in_the_window_beats_no_slots_which_beats_slots_elsewhere(request_post, building):
    busy = make_talent(building)
    AvailabilitySlot.objects.create(
        talent=busy.talent_profile, weekday=AvailabilitySlot.Weekday.MONDAY, starts_at=time(9), ends_at=time(12)
    )
    unknown = make_talent(building)
    free = make_talent(building)
    AvailabilitySlot.objects.create(
        talent=free.talent_profile, weekday=AvailabilitySlot.Weekday.SATURDAY, starts_at=time(11), ends_at=time(13)
    )
    ranked = rank_talents(request_post)
    assert [candidate.user for candidate in ranked] == [free, unknown, busy]
    weight = settings.DISPATCH_WEIGHTS["availability"]
    assert [candidate.parts["availability"] for candidate in ranked] == pytest.approx([weight, weight / 2, 0])


def test_a_slot_that_only_touches_the_window_does_not_overlap(request_post, building):
    talent = make_talent(building)
    AvailabilitySlot.objects.create(
        talent=talent.talent_profile, weekday=AvailabilitySlot.Weekday.SATURDAY, starts_at=time(12), ends_at=time(14)
    )
    assert rank_talents(request_post)[0].parts["availability"] == 0


def test_availability_is_read_in_local_time_across_midnight(request_post, building):
    """Friday 23:00 to Saturday 01:00 in Xiamen is Friday 15:00–17:00 UTC: the slots are local."""
    starts = next_local(AvailabilitySlot.Weekday.FRIDAY, time(23))
    AidPost.objects.filter(pk=request_post.pk).update(
        window_starts_at=starts, window_ends_at=starts + timedelta(hours=2), expires_at=starts + timedelta(hours=2)
    )
    request_post.refresh_from_db()
    after_midnight = make_talent(building)
    AvailabilitySlot.objects.create(
        talent=after_midnight.talent_profile,
        weekday=AvailabilitySlot.Weekday.SATURDAY,
        starts_at=time(0, 30),
        ends_at=time(6),
    )
    friday_afternoon = make_talent(building)  # the window's UTC hours, wrongly read as local ones
    AvailabilitySlot.objects.create(
        talent=friday_afternoon.talent_profile,
        weekday=AvailabilitySlot.Weekday.FRIDAY,
        starts_at=time(15),
        ends_at=time(17),
    )
    late_friday = make_talent(building)
    AvailabilitySlot.objects.create(
        talent=late_friday.talent_profile,
        weekday=AvailabilitySlot.Weekday.FRIDAY,
        starts_at=time(22),
        ends_at=time(23, 30),
    )
    parts = {candidate.user: candidate.parts["availability"] for candidate in rank_talents(request_post)}
    weight = settings.DISPATCH_WEIGHTS["availability"]
    assert parts == {after_midnight: weight, friday_afternoon: 0, late_friday: weight}


def test_a_window_of_a_week_or_more_takes_in_every_slot(request_post, building):
    starts = next_local(AvailabilitySlot.Weekday.MONDAY, time(8))
    AidPost.objects.filter(pk=request_post.pk).update(
        window_starts_at=starts, window_ends_at=starts + timedelta(days=8), expires_at=starts + timedelta(days=8)
    )
    request_post.refresh_from_db()
    talent = make_talent(building)
    AvailabilitySlot.objects.create(
        talent=talent.talent_profile, weekday=AvailabilitySlot.Weekday.SUNDAY, starts_at=time(20), ends_at=time(21)
    )
    assert rank_talents(request_post)[0].parts["availability"] == settings.DISPATCH_WEIGHTS["availability"]


def test_fewer_live_claims_on_live_requests_is_better(request_post, building, community):
    busy = make_talent(building)
    idle = make_talent(building)
    other = AidPostFactory(community=community, place=building)
    Claim.objects.create(post=other, helper=busy, status=Claim.Status.ACCEPTED)
    assert ranked_ids(request_post) == [idle.pk, busy.pk]
    # A claim on a finished request, or a declined one, is no load.
    AidPost.objects.filter(pk=other.pk).update(status=AidPost.Status.CONFIRMED)
    Claim.objects.create(
        post=AidPostFactory(community=community, place=building), helper=busy, status=Claim.Status.DECLINED
    )
    assert ranked_ids(request_post) == [busy.pk, idle.pk]


def _rate(user, *ratings: int) -> None:
    for rating in ratings:
        HelpRecord.objects.create(
            user=user, skill=skill(), hours=Decimal("1"), rating=rating, source=f"test:{next(_numbers)}"
        )


def test_a_better_rating_ranks_first_and_none_is_the_neutral_prior(request_post, building):
    poor = make_talent(building)
    _rate(poor, 2, 3)
    newcomer = make_talent(building)
    HelpRecord.objects.create(user=newcomer, skill=skill(), hours=Decimal("1"), rating=None, source="unrated")
    good = make_talent(building)
    _rate(good, 5, 5, 5)
    ranked = rank_talents(request_post)
    assert [candidate.user for candidate in ranked] == [good, newcomer, poor]
    # No ratings: the prior of 4 out of 5, i.e. three quarters of the weight.
    assert ranked[1].parts["rating"] == pytest.approx(settings.DISPATCH_WEIGHTS["rating"] * 0.75)


def test_someone_asked_recently_gives_way_and_the_window_forgets(request_post, building, community):
    asked = make_talent(building)
    rested = make_talent(building)
    earlier = AidPostFactory(community=community, place=building)
    dispatch = Dispatch.objects.create(post=earlier, talent=asked, rank=1, score=0.5)
    ranked = rank_talents(request_post)
    assert [candidate.user for candidate in ranked] == [rested, asked]
    assert ranked[1].parts["fairness"] < 0 == ranked[0].parts["fairness"]

    old = timezone.now() - timedelta(days=settings.DISPATCH_FAIRNESS_DAYS, hours=1)
    Dispatch.objects.filter(pk=dispatch.pk).update(created_at=old)
    assert ranked_ids(request_post) == [asked.pk, rested.pk]


def test_the_fairness_penalty_grows_then_stops(request_post, building, community):
    talent = make_talent(building)
    penalties = []
    for _ in range(4):
        Dispatch.objects.create(post=AidPostFactory(community=community, place=building), talent=talent)
        penalties.append(rank_talents(request_post)[0].parts["fairness"])
    weight = settings.DISPATCH_WEIGHTS["fairness"]
    assert penalties == pytest.approx([-weight / 3, -2 * weight / 3, -weight, -weight])


def test_parts_are_weighted_and_sum_to_the_score(request_post, building, community):
    professional = make_talent(place_at(building, north_m=700), level=TalentSkill.Level.PROFESSIONAL, verified=True)
    _rate(professional, 4, 5)
    AvailabilitySlot.objects.create(
        talent=professional.talent_profile,
        weekday=AvailabilitySlot.Weekday.SATURDAY,
        starts_at=time(8),
        ends_at=time(18),
    )
    Dispatch.objects.create(post=AidPostFactory(community=community, place=building), talent=professional)
    make_talent(place_at(building, north_m=1900), level=TalentSkill.Level.BEGINNER)
    weights = settings.DISPATCH_WEIGHTS
    for candidate in rank_talents(request_post):
        assert set(candidate.parts) == set(PART_LABELS)
        assert sum(candidate.parts.values()) == pytest.approx(candidate.score, abs=1e-3)
        for name, value in candidate.parts.items():
            low, high = (-weights[name], 0) if name == "fairness" else (0, weights[name])
            assert low <= value <= high, name


def test_limit_keeps_the_best(request_post, building):
    talents = [make_talent(building, level=level) for level in TalentSkill.Level.values]
    assert ranked_ids(request_post, limit=2) == [talents[2].pk, talents[1].pk]


# --- Who is never ranked --------------------------------------------------------------------


@pytest.fixture
def eligible(request_post, building):
    """One talent who qualifies, to show that each rule leaves out only the one it should."""
    return make_talent(building, username="eligible")


def _withdraw_location(user) -> None:
    Consent.objects.filter(user=user, kind=Consent.Kind.LOCATION).update(withdrawn_at=timezone.now())


def _deactivate(user) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


def _make_minor(user) -> None:
    Profile.objects.filter(user=user).update(is_minor=True)


EXCLUSIONS = {
    "no skill": lambda building, **_: make_talent(building, code="tutoring"),
    "not accepting requests": lambda building, **_: make_talent(building, accepting=False),
    "outside their own radius": lambda building, **_: make_talent(place_at(building, north_m=1500), radius_m=1000),
    "no location consent": lambda building, **_: _then(make_talent(building), _withdraw_location),
    "a child": lambda building, **_: _then(make_talent(building), _make_minor),
    "deactivated": lambda building, **_: _then(make_talent(building), _deactivate),
    "blocked by the author": lambda building, author, **_: _then(
        make_talent(building), lambda u: Block.objects.create(blocker=author, blocked=u)
    ),
    "blocking the author": lambda building, author, **_: _then(
        make_talent(building), lambda u: Block.objects.create(blocker=u, blocked=author)
    ),
    "membership pending": lambda building, **_: _then(
        make_talent(building), lambda u: Membership.objects.filter(user=u).update(status=Membership.Status.PENDING)
    ),
    "another community": lambda building, **_: make_talent(
        PlaceFactory(community=CommunityFactory(), latitude=building.latitude, longitude=building.longitude)
    ),
    "already offering help": lambda building, post, **_: _then(
        make_talent(building), lambda u: Claim.objects.create(post=post, helper=u)
    ),
}


def _then(user, change):
    change(user)
    return user


@pytest.mark.parametrize("rule", EXCLUSIONS)
def test_each_exclusion_leaves_out_only_its_talent(request_post, building, eligible, rule):
    excluded = EXCLUSIONS[rule](building, author=request_post.author, post=request_post)
    assert excluded.pk not in ranked_ids(request_post)
    assert ranked_ids(request_post) == [eligible.pk]


def test_the_author_and_the_one_relaying_are_never_ranked(request_post, building, resident, committee, eligible):
    for person in (resident, committee):
        TalentProfile.objects.create(user=person, service_radius_m=2000)
        TalentSkill.objects.create(talent=person.talent_profile, skill=request_post.category)
    AidPost.objects.filter(pk=request_post.pk).update(
        assisted_by=committee, assisted_consent=AidPost.AssistedConsent.BY_PHONE
    )
    request_post.refresh_from_db()
    assert ranked_ids(request_post) == [eligible.pk]


def test_a_home_in_the_box_but_a_second_community_elsewhere_does_not_count(request_post, building, eligible):
    """Only the home in the post's community is measured, not a closer one somewhere else."""
    far_home = place_at(building, north_m=5000)
    talent = make_talent(far_home)
    elsewhere = CommunityFactory()
    MembershipFactory(
        user=talent, community=elsewhere, home_place=PlaceFactory(community=elsewhere, latitude=building.latitude)
    )
    assert ranked_ids(request_post) == [eligible.pk]


class TestCredentialRequired:
    @pytest.fixture
    def legal_post(self, request_post):
        legal = skill("legal-aid")
        legal.requires_credential = True
        legal.save()
        AidPost.objects.filter(pk=request_post.pk).update(category=legal)
        request_post.refresh_from_db()
        return request_post

    def test_only_a_verified_unexpired_credential_qualifies(self, legal_post, building):
        certified = make_talent(building, code="legal-aid")
        add_credential(certified, "legal-aid")
        unverified = make_talent(building, code="legal-aid")
        add_credential(unverified, "legal-aid", status=Credential.Status.PENDING)
        expired = make_talent(building, code="legal-aid")
        add_credential(expired, "legal-aid", expires_in_days=-1)
        vouched_only = make_talent(building, code="legal-aid", verified=True)  # no credential at all
        rejected_then_verified = make_talent(building, code="legal-aid")
        add_credential(rejected_then_verified, "legal-aid", status=Credential.Status.REJECTED)
        add_credential(rejected_then_verified, "legal-aid")

        assert ranked_ids(legal_post) == [certified.pk, rejected_then_verified.pk]
        assert unverified.pk not in ranked_ids(legal_post)
        assert expired.pk not in ranked_ids(legal_post)
        assert vouched_only.pk not in ranked_ids(legal_post)

    def test_a_credential_valid_until_today_still_counts(self, legal_post, building):
        talent = make_talent(building, code="legal-aid")
        add_credential(talent, "legal-aid", expires_in_days=0)
        assert ranked_ids(legal_post) == [talent.pk]


def test_the_query_count_does_not_grow_with_the_pool(request_post, building, community):
    def pool(size: int) -> int:
        TalentProfile.objects.all().delete()
        for index in range(size):
            talent = make_talent(place_at(building, north_m=100 * (index % 7)))
            AvailabilitySlot.objects.create(
                talent=talent.talent_profile, weekday=index % 7, starts_at=time(9), ends_at=time(12)
            )
            _rate(talent, 1 + index % 5)
            if index % 3 == 0:
                Claim.objects.create(post=AidPostFactory(community=community, place=building), helper=talent)
                Dispatch.objects.create(post=AidPostFactory(community=community, place=building), talent=talent)
        with CaptureQueriesContext(connection) as queries:
            ranked = rank_talents(request_post)
        assert len(ranked) == size
        return len(queries)

    assert pool(5) == pool(50)


# --- The dispatch service ----------------------------------------------------------------


def test_dispatch_asks_the_top_few_and_tells_each_of_them(request_post, building, django_capture_on_commit_callbacks):
    talents = [make_talent(building, level=TalentSkill.Level.PROFESSIONAL) for _ in range(3)]
    last = make_talent(building, level=TalentSkill.Level.BEGINNER)
    assert settings.DISPATCH_NOTIFY_TOP == 3

    # Asked now, they will give way next time (fairness): their parts are those from before.
    ranked = {candidate.user: candidate for candidate in rank_talents(request_post)}

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        dispatches = dispatch_for_post(post=request_post)

    assert [dispatch.talent for dispatch in dispatches] == talents
    assert [dispatch.rank for dispatch in dispatches] == [1, 2, 3]
    for dispatch in Dispatch.objects.filter(post=request_post):
        assert dispatch.kind == Dispatch.Kind.RANKED
        assert dispatch.invited_by is None
        assert dispatch.parts == ranked[dispatch.talent].parts
        assert dispatch.score == pytest.approx(sum(dispatch.parts.values()), abs=1e-3)
    notifications = Notification.objects.filter(kind=Notification.Kind.DISPATCH)
    assert sorted(notification.user_id for notification in notifications) == sorted(user.pk for user in talents)
    assert not Notification.objects.filter(user=last).exists()
    for notification in notifications:
        assert notification.url == reverse("aid_posts:detail", args=[request_post.pk])
        assert request_post.title in notification.title
    assert len(callbacks) == 3  # one push per notification, after commit


def test_each_talent_hears_in_their_own_language(request_post, building, monkeypatch):
    from aid_posts.services import dispatch as service

    monkeypatch.setattr(service, "_", lambda text: f"[{translation.get_language()}]{text}")
    english = make_talent(building)
    Profile.objects.filter(user=english).update(language="en")
    chinese = make_talent(building)
    Profile.objects.filter(user=chinese).update(language="zh-hans")
    with translation.override("zh-hans"):
        dispatch_for_post(post=request_post)
    assert Notification.objects.get(user=english).title.startswith("[en]")
    assert Notification.objects.get(user=chinese).title.startswith("[zh-hans]")


def test_dispatching_again_asks_the_next_best_never_the_same_person(request_post, building):
    talents = [make_talent(building) for _ in range(5)]
    first = dispatch_for_post(post=request_post)
    second = dispatch_for_post(post=request_post)
    assert [dispatch.talent for dispatch in first + second] == talents
    assert [dispatch.rank for dispatch in second] == [4, 5]
    assert dispatch_for_post(post=request_post) == []


def test_nobody_is_asked_about_a_request_that_no_longer_seeks_help(request_post, building):
    make_talent(building)
    AidPost.objects.filter(pk=request_post.pk).update(status=AidPost.Status.CANCELLED)
    request_post.refresh_from_db()
    assert dispatch_for_post(post=request_post) == []
    assert not Dispatch.objects.exists()
    assert not Notification.objects.exists()


def test_the_dispatch_query_count_does_not_grow_with_the_pool(request_post, building):
    def pool(size: int) -> int:
        Dispatch.objects.all().delete()
        TalentProfile.objects.all().delete()
        for _ in range(size):
            make_talent(building)
        with CaptureQueriesContext(connection) as queries:
            dispatch_for_post(post=request_post)
        return len(queries)

    assert pool(5) == pool(50)


# --- The committee's direct invitation ----------------------------------------------------


@pytest.fixture
def grid(building):
    grid = Grid.objects.create(community=building.community, name="第一网格")
    Place.objects.filter(pk=building.pk).update(grid=grid)
    building.refresh_from_db()
    return grid


@pytest.fixture
def talent(building):
    return make_talent(building, username="talent")


def test_the_committee_invites_a_talent_directly(request_post, committee, talent, django_capture_on_commit_callbacks):
    parts = rank_talents(request_post, user_ids=[talent.pk])[0].parts
    with django_capture_on_commit_callbacks(execute=True):
        dispatch = dispatch_invite(actor=committee, post=request_post, talent=talent)

    assert dispatch.kind == Dispatch.Kind.DIRECT
    assert dispatch.invited_by == committee
    assert dispatch.rank is None
    assert dispatch.parts == parts
    event = PostEvent.objects.get(post=request_post, action=PostEvent.Action.INVITED)
    assert (event.actor, event.note) == (committee, str(talent.profile))
    assert event.from_status == event.to_status == AidPost.Status.OPEN
    notification = Notification.objects.get(user=talent)
    assert notification.kind == Notification.Kind.DISPATCH
    assert notification.url == reverse("aid_posts:detail", args=[request_post.pk])


def test_an_invited_talent_outside_the_ranking_has_no_parts(request_post, committee, make_member):
    neighbour = make_member()  # a member with no talent profile at all
    dispatch = dispatch_invite(actor=committee, post=request_post, talent=neighbour)
    assert dispatch.parts == {}
    assert dispatch.score is None


def test_the_grid_worker_of_the_buildings_grid_may_invite(request_post, grid, make_member, talent):
    worker = make_member(role=Membership.Role.GRID_WORKER)
    worker.memberships.get().grids.add(grid)
    request_post.refresh_from_db()
    assert dispatch_invite(actor=worker, post=request_post, talent=talent).invited_by == worker


def test_a_grid_worker_of_another_grid_may_not(request_post, grid, make_member, talent, community):
    worker = make_member(role=Membership.Role.GRID_WORKER)
    worker.memberships.get().grids.add(Grid.objects.create(community=community, name="第二网格"))
    with pytest.raises(PermissionDenied):
        dispatch_invite(actor=worker, post=request_post, talent=talent)
    assert not Dispatch.objects.exists()


@pytest.mark.parametrize("role", [Membership.Role.RESIDENT, Membership.Role.VOLUNTEER])
def test_residents_and_volunteers_may_not_invite(request_post, make_member, talent, role):
    with pytest.raises(PermissionDenied):
        dispatch_invite(actor=make_member(role=role), post=request_post, talent=talent)
    assert not Dispatch.objects.exists()
    assert not Notification.objects.exists()


def test_the_committee_of_another_community_may_not(request_post, talent):
    other = CommunityFactory()
    outsider_committee = UserFactory()
    MembershipFactory(user=outsider_committee, community=other, role=Membership.Role.COMMITTEE)
    with pytest.raises(PermissionDenied):
        dispatch_invite(actor=outsider_committee, post=request_post, talent=talent)


@pytest.mark.parametrize(
    "status", [AidPost.Status.CLAIMED, AidPost.Status.IN_PROGRESS, AidPost.Status.CANCELLED, AidPost.Status.EXPIRED]
)
def test_no_invitation_once_the_request_stops_seeking(request_post, committee, talent, status):
    AidPost.objects.filter(pk=request_post.pk).update(status=status)
    with pytest.raises(ValidationError, match="open"):
        dispatch_invite(actor=committee, post=request_post, talent=talent)
    assert not Dispatch.objects.exists()


def test_no_invitation_when_every_seat_is_taken(request_post, committee, talent, helper):
    Claim.objects.create(post=request_post, helper=helper)
    AidPost.objects.filter(pk=request_post.pk).update(live_claims=1)
    with pytest.raises(ValidationError):
        dispatch_invite(actor=committee, post=request_post, talent=talent)


def test_a_talent_is_invited_once(request_post, committee, talent):
    dispatch_invite(actor=committee, post=request_post, talent=talent)
    with pytest.raises(ValidationError, match="already been asked"):
        dispatch_invite(actor=committee, post=request_post, talent=talent)
    assert Dispatch.objects.count() == 1
    assert PostEvent.objects.filter(action=PostEvent.Action.INVITED).count() == 1


def test_nobody_dispatched_by_the_ranking_is_invited_again(request_post, committee, talent):
    dispatch_for_post(post=request_post)
    with pytest.raises(ValidationError, match="already been asked"):
        dispatch_invite(actor=committee, post=request_post, talent=talent)


def test_refusals_for_the_wrong_person(request_post, committee, resident, outsider, talent, helper):
    with pytest.raises(ValidationError, match="Only members"):
        dispatch_invite(actor=committee, post=request_post, talent=outsider)
    with pytest.raises(ValidationError, match="asked for help"):
        dispatch_invite(actor=committee, post=request_post, talent=resident)
    with pytest.raises(ValidationError, match="yourself"):
        dispatch_invite(actor=committee, post=request_post, talent=committee)
    Block.objects.create(blocker=resident, blocked=talent)
    with pytest.raises(ValidationError, match="cannot be invited"):
        dispatch_invite(actor=committee, post=request_post, talent=talent)
    Claim.objects.create(post=request_post, helper=helper)
    with pytest.raises(ValidationError, match="already offered"):
        dispatch_invite(actor=committee, post=request_post, talent=helper)
    assert not Dispatch.objects.exists()
    assert not Notification.objects.exists()


def test_a_pending_member_is_not_invited(request_post, committee, talent):
    Membership.objects.filter(user=talent).update(status=Membership.Status.PENDING)
    with pytest.raises(ValidationError, match="Only members"):
        dispatch_invite(actor=committee, post=request_post, talent=talent)


# --- What the committee sees ---------------------------------------------------------------


def test_only_staff_see_the_dispatches_and_the_candidates(request_post, committee, resident, helper, talent):
    dispatch_for_post(post=request_post)
    assert list(dispatches_seen_by(committee, request_post).values_list("talent", flat=True)) == [talent.pk]
    for person in (resident, helper, talent):
        assert not dispatches_seen_by(person, request_post).exists()
        assert candidates_for_invite(person, request_post) == []


def test_invite_candidates_leave_out_those_already_asked(request_post, committee, building):
    talents = [make_talent(building) for _ in range(5)]
    dispatch_for_post(post=request_post)
    assert [candidate.user for candidate in candidates_for_invite(committee, request_post)] == talents[3:]
    assert [candidate.user for candidate in candidates_for_invite(committee, request_post, limit=1)] == talents[3:4]


def test_the_panel_shows_the_parts_and_an_invite_form(request_post, committee, building):
    asked = make_talent(building, username="asked")
    waiting = make_talent(building, username="waiting")
    Dispatch.objects.create(
        post=request_post,
        talent=asked,
        rank=1,
        score=0.5,
        parts={"skill": 0.2, "distance": 0.1, "availability": 0.1, "load": 0.05, "rating": 0.1, "fairness": -0.05},
    )
    request = RequestFactory().get("/")
    request.user = committee
    html = render_to_string(
        "aid_posts/_dispatch_panel.html",
        {
            "post": request_post,
            "dispatches": dispatches_seen_by(committee, request_post),
            "invite_candidates": candidates_for_invite(committee, request_post),
        },
        request=request,
    )
    assert str(asked.profile) in html
    assert "-0.05" in html
    for label in PART_LABELS.values():
        assert f">{label}</th>" in html
    assert reverse("aid_posts:invite", args=[request_post.pk]) in html
    assert f'name="talent" value="{waiting.pk}"' in html
    assert f'name="talent" value="{asked.pk}"' not in html


# --- The invite view ----------------------------------------------------------------------


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_committee_invites_through_the_page(request_post, committee, talent):
    response = logged_in(committee).post(reverse("aid_posts:invite", args=[request_post.pk]), {"talent": talent.pk})
    assert response.status_code == 302
    assert response.url == reverse("aid_posts:detail", args=[request_post.pk])
    assert Dispatch.objects.get().talent == talent
    assert flashed(response) == [f"{talent.profile} has been asked to help."]


def test_a_resident_gets_403_and_an_outsider_404(request_post, resident, helper, outsider, talent):
    url = reverse("aid_posts:invite", args=[request_post.pk])
    assert logged_in(helper).post(url, {"talent": talent.pk}).status_code == 403
    assert logged_in(outsider).post(url, {"talent": talent.pk}).status_code == 404
    assert logged_in(helper).post(reverse("aid_posts:invite", args=[2_147_483_647]), {"talent": 1}).status_code == 404
    assert not Dispatch.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in_and_get_is_refused(request_post, committee, talent):
    url = reverse("aid_posts:invite", args=[request_post.pk])
    response = Client().post(url, {"talent": talent.pk})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert logged_in(committee).get(url).status_code == 405


@pytest.mark.parametrize("value", ["", "abc", "-1", "9" * 40, "٣", "2147483647"])
def test_a_bad_talent_value_is_a_message_not_an_error(request_post, committee, value):
    response = logged_in(committee).post(reverse("aid_posts:invite", args=[request_post.pk]), {"talent": value})
    assert response.status_code == 302
    assert flashed(response) == ["Choose a person to invite."]
    assert not Dispatch.objects.exists()


def test_a_refusal_comes_back_as_a_message(request_post, committee, outsider):
    response = logged_in(committee).post(reverse("aid_posts:invite", args=[request_post.pk]), {"talent": outsider.pk})
    assert response.status_code == 302
    assert flashed(response) == ["Only members of the request's community can be invited."]
    assert not Dispatch.objects.exists()


def test_the_one_relaying_for_the_resident_is_not_invited(request_post, committee, make_member):
    relayer = make_member(role=Membership.Role.GRID_WORKER)
    AidPost.objects.filter(pk=request_post.pk).update(
        assisted_by=relayer, assisted_consent=AidPost.AssistedConsent.IN_PERSON
    )
    request_post.refresh_from_db()
    with pytest.raises(ValidationError, match="relays for them"):
        dispatch_invite(actor=committee, post=request_post, talent=relayer)
    assert not Dispatch.objects.exists()
