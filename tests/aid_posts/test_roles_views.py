"""Welfare roles over HTTP: who may reach which page, and what a refusal leaves behind (nothing)."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aid_posts.models import Duty, RoleClaim, WelfareRole
from aid_posts.services import duty_log, role_claim, role_claim_approve, welfare_role_create
from neighbors.models import LedgerEntry, Membership
from talent_pool.models import Credential, Skill, TalentProfile, TalentSkill
from tests.factories import MembershipFactory, PlaceFactory, UserFactory

pytestmark = pytest.mark.django_db

# An id no row has, on SQLite and on PostgreSQL alike.
MISSING = 2_147_483_647
ROLE_TITLE = "周六法律调解值班"
CONFLICT = "我的表妹住在本社区3号楼，可能是纠纷一方。"


def logged_in(user, language: str = "en") -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def flashed(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def today():
    return timezone.localdate()


@pytest.fixture
def mediation() -> Skill:
    found, _created = Skill.objects.update_or_create(
        code="legal-mediation",
        defaults={"name_zh_hans": "法律调解", "name_en": "Legal mediation", "requires_credential": True},
    )
    return found


def talent_skill_of(user, skill: Skill) -> TalentSkill:
    talent, _created = TalentProfile.objects.get_or_create(user=user)
    return TalentSkill.objects.create(talent=talent, skill=skill, level=TalentSkill.Level.PROFESSIONAL)


def certify(user, skill: Skill, *, status=Credential.Status.VERIFIED, expires_in_days: int = 365) -> Credential:
    """The talent has the skill and a certificate for it in the given state."""
    return Credential.objects.create(
        talent_skill=talent_skill_of(user, skill),
        image="credentials/test.jpg",
        thumbnail="credentials/test-thumb.jpg",
        number=f"TJ-{user.pk}",
        expires_on=today() + timedelta(days=expires_in_days),
        status=status,
    )


def make_role(committee, community, building, skill, **overrides) -> WelfareRole:
    fields = {
        "title": ROLE_TITLE,
        "description": "每周六上午在社区调解室值班。",
        "seats": 2,
        "weekday": WelfareRole.Weekday.SATURDAY,
        "starts_at": time(9),
        "ends_at": time(11),
        "term_start": today() - timedelta(days=14),
        "term_end": today() + timedelta(days=300),
    } | overrides
    return welfare_role_create(actor=committee, community=community, skill=skill, place=building, **fields)


@pytest.fixture
def role(committee, community, building, mediation) -> WelfareRole:
    return make_role(committee, community, building, mediation)


@pytest.fixture
def judge(make_member, mediation):
    user = make_member(username="judge-lin")
    certify(user, mediation)
    return user


@pytest.fixture
def holder(judge, role, committee):
    claim = role_claim(actor=judge, role=role)
    role_claim_approve(actor=committee, claim=claim)
    return judge


# --- Who reaches what -----------------------------------------------------------------


@pytest.fixture
def world(role, holder, committee, make_member, outsider, mediation):
    """A role with one holder, a pending claim by another talent, and a pending duty."""
    claimant = make_member(username="claimant")
    certify(claimant, mediation)
    pending = role_claim(actor=claimant, role=role, conflict_of_interest=CONFLICT)
    duty = duty_log(
        actor=holder, role=role, served_on=today() - timedelta(days=1), hours=Decimal("2"), summary="调解停车纠纷"
    )
    return {
        "role": role,
        "claim": pending,
        "duty": duty,
        "users": {
            "anonymous": None,
            "outsider": outsider,
            "member": make_member(username="plain-member"),
            "committee": committee,
            "holder": holder,
        },
    }


WHO = ("anonymous", "outsider", "member", "committee", "holder")
# route name, method, the ids it takes, the status for each of WHO (302: a redirect, to the
# login page for the anonymous visitor and back to the role page with a message otherwise).
GRID = [
    ("role_list", "get", (), (302, 200, 200, 200, 200)),
    ("role_create", "get", (), (302, 404, 404, 200, 404)),
    ("role_detail", "get", ("role",), (302, 404, 200, 200, 200)),
    ("role_claim", "post", ("role",), (302, 404, 302, 302, 302)),
    ("role_claim_withdraw", "post", ("role",), (302, 404, 302, 302, 302)),
    ("role_step_down", "post", ("role",), (302, 404, 302, 302, 302)),
    ("role_claim_approve", "post", ("role", "claim"), (302, 404, 404, 302, 404)),
    ("role_claim_decline", "post", ("role", "claim"), (302, 404, 404, 302, 404)),
    ("duty_log", "post", ("role",), (302, 404, 302, 302, 302)),
    ("duty_confirm", "post", ("role", "duty"), (302, 404, 404, 302, 404)),
    ("duty_reject", "post", ("role", "duty"), (302, 404, 404, 302, 404)),
]


def _form_data(name: str) -> dict:
    if name == "duty_log":
        return {"served_on": (today() - timedelta(days=2)).isoformat(), "hours": "2", "summary": "调解"}
    if name in ("role_claim_decline", "duty_reject"):
        return {"reason": "名额已满"}
    return {}


def _request(client: Client, name: str, method: str, args: list[int]):
    url = reverse(f"aid_posts:{name}", args=args)
    if method == "get":
        return client.get(url)
    return client.post(url, _form_data(name))


@pytest.mark.parametrize(("name", "method", "ids", "expected"), GRID, ids=[row[0] for row in GRID])
@pytest.mark.parametrize("who", WHO)
def test_who_reaches_each_role_route(world, who, name, method, ids, expected):
    client = logged_in(world["users"][who])
    response = _request(client, name, method, [world[key].pk for key in ids])
    assert response.status_code == expected[WHO.index(who)], f"{who} on {name}"
    if who == "anonymous":
        assert response.url.startswith(reverse("account_login"))
    elif response.status_code == 302:
        assert response.url == reverse("aid_posts:role_detail", args=[world["role"].pk])
    if who == "outsider":
        assert ROLE_TITLE not in response.content.decode()


@pytest.mark.parametrize(("name", "method", "ids", "_expected"), [row for row in GRID if row[2]])
@pytest.mark.parametrize("who", [w for w in WHO if w != "anonymous"])
def test_a_missing_id_is_404_for_everyone(world, who, name, method, ids, _expected):
    """The last id is the missing one: a missing role, or a missing claim or duty of a real role."""
    args = [world[key].pk for key in ids[:-1]] + [MISSING]
    assert _request(logged_in(world["users"][who]), name, method, args).status_code == 404


def test_an_outsider_learns_nothing_from_the_list(world):
    page = logged_in(world["users"]["outsider"]).get(reverse("aid_posts:role_list")).content.decode()
    assert ROLE_TITLE not in page
    assert "Needs attention" not in page


def test_a_committee_member_cannot_decide_their_own_claim(role, committee, mediation):
    certify(committee, mediation)
    claim = role_claim(actor=committee, role=role)
    client = logged_in(committee)
    assert client.post(reverse("aid_posts:role_claim_approve", args=[role.pk, claim.pk])).status_code == 404
    assert RoleClaim.objects.get(pk=claim.pk).status == RoleClaim.Status.PENDING


# --- Creating a role --------------------------------------------------------------------


def role_form(community, building, mediation, **overrides) -> dict:
    return {
        "community": community.pk,
        "title": "周六法律调解值班",
        "description": "在社区调解室调解邻里纠纷。",
        "skill": mediation.pk,
        "seats": "2",
        "weekday": str(WelfareRole.Weekday.SATURDAY),
        "starts_at": "09:00",
        "ends_at": "11:00",
        "term_start": today().isoformat(),
        "term_end": (today() + timedelta(days=365)).isoformat(),
        "place": building.pk,
    } | overrides


def test_the_committee_creates_a_role(committee, community, building, mediation):
    client = logged_in(committee)
    form = client.get(reverse("aid_posts:role_create")).content.decode()
    assert 'type="time"' in form
    assert 'type="date"' in form

    response = client.post(reverse("aid_posts:role_create"), role_form(community, building, mediation))

    role = WelfareRole.objects.get()
    assert response.url == reverse("aid_posts:role_detail", args=[role.pk])
    assert (role.weekday, role.starts_at, role.ends_at, role.seats) == (5, time(9), time(11), 2)
    assert role.created_by == committee
    page = client.get(response.url).content.decode()
    assert "Saturdays 9 a.m.–11 a.m." in page


def _other_place():
    return PlaceFactory(name="别处的楼").pk


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"term_end": (timezone.localdate() - timedelta(days=1)).isoformat()}, "term_end"),  # before the start
        ({"starts_at": "11:00", "ends_at": "09:00"}, "ends_at"),
        ({"place": _other_place}, "place"),
        ({"seats": "0"}, "seats"),
        ({"seats": "51"}, "seats"),
        ({"title": ""}, "title"),
        # A whole term in the past: the form lets it through, the service refuses it.
        (
            {
                "term_start": (timezone.localdate() - timedelta(days=30)).isoformat(),
                "term_end": (timezone.localdate() - timedelta(days=1)).isoformat(),
            },
            "term_end",
        ),
    ],
    ids=[
        "term-end-before-start",
        "to-before-from",
        "place-of-another-community",
        "no-seat",
        "51-seats",
        "no-title",
        "term-over",
    ],
)
def test_bad_input_creates_no_role(committee, community, building, mediation, overrides, field):
    overrides = {key: value() if callable(value) else value for key, value in overrides.items()}
    response = logged_in(committee).post(
        reverse("aid_posts:role_create"), role_form(community, building, mediation, **overrides)
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not WelfareRole.objects.exists()


def test_a_place_of_another_of_the_committees_communities_is_refused(committee, community, building, mediation):
    """Both communities are the user's to manage: the form offers both, and refuses a mix."""
    other_place = PlaceFactory(name="9号楼")
    MembershipFactory(
        user=committee, community=other_place.community, home_place=other_place, role=Membership.Role.COMMITTEE
    )
    response = logged_in(committee).post(
        reverse("aid_posts:role_create"), role_form(community, building, mediation, place=other_place.pk)
    )
    assert response.status_code == 400
    assert "not in the chosen community" in str(response.context["form"].errors["place"])
    assert not WelfareRole.objects.exists()


# --- Claiming a seat --------------------------------------------------------------------


@pytest.mark.parametrize(
    "certificate",
    ["no-skill", "no-certificate", "pending", "rejected", "expired"],
)
def test_a_claim_without_a_valid_verified_certificate_is_refused(role, make_member, mediation, certificate):
    talent = make_member(username="talent")
    if certificate == "no-certificate":
        talent_skill_of(talent, mediation)
    elif certificate == "expired":
        certify(talent, mediation, expires_in_days=-1)
    elif certificate != "no-skill":
        certify(talent, mediation, status=certificate)
    client = logged_in(talent)
    page = client.get(reverse("aid_posts:role_detail", args=[role.pk])).content.decode()
    assert "with a certificate, and wait until the committee has verified it" in page

    response = client.post(reverse("aid_posts:role_claim", args=[role.pk]), {"conflict_of_interest": ""}, follow=True)

    assert flashed(response) == [
        "You need the skill “Legal mediation” with a verified, valid certificate to claim this role."
    ]
    assert not RoleClaim.objects.exists()


def test_a_claim_after_the_term_ended_is_refused(role, judge):
    WelfareRole.objects.filter(pk=role.pk).update(
        term_start=today() - timedelta(days=60), term_end=today() - timedelta(days=1)
    )
    response = logged_in(judge).post(reverse("aid_posts:role_claim", args=[role.pk]), follow=True)
    assert flashed(response) == ["This role's term has ended."]
    assert "The term of this role has ended" in response.content.decode()
    assert not RoleClaim.objects.exists()


def test_the_committee_reads_the_conflict_declaration_before_approving(role, judge, committee, make_member):
    response = logged_in(judge).post(
        reverse("aid_posts:role_claim", args=[role.pk]), {"conflict_of_interest": CONFLICT}, follow=True
    )
    assert flashed(response) == ["You claimed a seat. The committee will read your declaration and decide."]
    claim = RoleClaim.objects.get()
    assert (claim.holder, claim.status, claim.conflict_of_interest) == (judge, RoleClaim.Status.PENDING, CONFLICT)

    committee_page = logged_in(committee).get(reverse("aid_posts:role_detail", args=[role.pk]))
    section = committee_page.content.decode().split('id="claims-to-decide"')[1]
    assert "Conflicts of interest declared" in section
    assert CONFLICT in section
    # Another neighbour never sees it.
    assert (
        CONFLICT not in logged_in(make_member()).get(reverse("aid_posts:role_detail", args=[role.pk])).content.decode()
    )


def test_a_second_claim_by_the_same_talent_is_refused(role, judge):
    client = logged_in(judge)
    client.post(reverse("aid_posts:role_claim", args=[role.pk]), follow=True)
    response = client.post(reverse("aid_posts:role_claim", args=[role.pk]), follow=True)
    assert flashed(response) == ["You have already claimed this role."]
    assert RoleClaim.objects.count() == 1


def test_a_talent_withdraws_a_pending_claim(role, judge):
    client = logged_in(judge)
    client.post(reverse("aid_posts:role_claim", args=[role.pk]), follow=True)
    response = client.post(reverse("aid_posts:role_claim_withdraw", args=[role.pk]), follow=True)
    assert flashed(response) == ["You withdrew your claim."]
    assert RoleClaim.objects.get().status == RoleClaim.Status.WITHDRAWN


def test_a_too_long_declaration_is_a_form_error(role, judge):
    response = logged_in(judge).post(
        reverse("aid_posts:role_claim", args=[role.pk]), {"conflict_of_interest": "x" * 1001}
    )
    assert response.status_code == 400
    assert response.context["claim_form"].errors["conflict_of_interest"]
    assert not RoleClaim.objects.exists()


# --- Deciding claims --------------------------------------------------------------------


def test_approving_stops_when_the_seats_are_full(role, committee, make_member, mediation):
    claims = []
    for name in ("talent-a", "talent-b", "talent-c"):
        talent = make_member(username=name)
        certify(talent, mediation)
        claims.append(role_claim(actor=talent, role=role))
    client = logged_in(committee)

    for claim in claims[:2]:
        response = client.post(reverse("aid_posts:role_claim_approve", args=[role.pk, claim.pk]), follow=True)
        assert flashed(response) == [f"{claim.holder.profile.display_name} now holds a seat."]
    response = client.post(reverse("aid_posts:role_claim_approve", args=[role.pk, claims[2].pk]), follow=True)

    assert flashed(response) == ["All seats of this role are taken."]
    assert [RoleClaim.objects.get(pk=claim.pk).status for claim in claims] == ["approved", "approved", "pending"]
    holders = response.content.decode().split('id="holders"')[1].split("</section>")[0]
    assert "talent-a" in holders and "talent-b" in holders and "talent-c" not in holders
    assert "2 of 2 seats taken" in holders
    listed = client.get(reverse("aid_posts:role_list")).content.decode()
    assert "2 of 2 seats taken: talent-a, talent-b" in listed


def test_approving_twice_says_it_was_decided(role, judge, committee):
    claim = role_claim(actor=judge, role=role)
    client = logged_in(committee)
    client.post(reverse("aid_posts:role_claim_approve", args=[role.pk, claim.pk]), follow=True)
    response = client.post(reverse("aid_posts:role_claim_approve", args=[role.pk, claim.pk]), follow=True)
    assert flashed(response) == ["This claim no longer waits for a decision (Holding a seat)."]
    assert response.context["claims_to_decide"] == []


def test_declining_needs_a_reason(role, judge, committee):
    claim = role_claim(actor=judge, role=role)
    client = logged_in(committee)
    url = reverse("aid_posts:role_claim_decline", args=[role.pk, claim.pk])

    response = client.post(url, {"reason": "   "})

    assert response.status_code == 400
    assert "Give a reason, so that they know what to do next." in response.content.decode()
    assert RoleClaim.objects.get().status == RoleClaim.Status.PENDING

    response = client.post(url, {"reason": "表妹是纠纷一方，请回避本季度"}, follow=True)
    assert flashed(response) == ["You declined the claim. judge-lin will see your reason."]
    claim.refresh_from_db()
    assert (claim.status, claim.decision_reason) == (RoleClaim.Status.DECLINED, "表妹是纠纷一方，请回避本季度")
    seen = logged_in(judge).get(reverse("aid_posts:role_detail", args=[role.pk])).content.decode()
    assert "The committee's reason: 表妹是纠纷一方，请回避本季度" in seen


def test_stepping_down_reopens_the_seat_and_mails_the_committee(
    role, holder, committee, make_member, mediation, mailoutbox, django_capture_on_commit_callbacks
):
    WelfareRole.objects.filter(pk=role.pk).update(seats=1)
    client = logged_in(holder)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("aid_posts:role_step_down", args=[role.pk]), follow=True)

    assert flashed(response) == ["You stepped down. The seat is open again and the committee has been told."]
    assert RoleClaim.objects.get(holder=holder).status == RoleClaim.Status.STEPPED_DOWN
    assert [mail.to for mail in mailoutbox] == [[committee.email]]
    assert ROLE_TITLE in mailoutbox[0].subject
    assert "judge-lin" in mailoutbox[0].body
    assert "0 of 1 seats taken" in response.content.decode()
    # The seat is free for the next talent.
    talent = make_member(username="next")
    certify(talent, mediation)
    claim = role_claim(actor=talent, role=role)
    logged_in(committee).post(reverse("aid_posts:role_claim_approve", args=[role.pk, claim.pk]))
    assert RoleClaim.objects.get(pk=claim.pk).status == RoleClaim.Status.APPROVED


def test_stepping_down_without_a_seat_is_refused(role, judge):
    response = logged_in(judge).post(reverse("aid_posts:role_step_down", args=[role.pk]), follow=True)
    assert flashed(response) == ["You do not hold a seat in this role."]


# --- Duties -----------------------------------------------------------------------------


def duty_form(served_on, hours: str = "2", summary: str = "调解了两起停车纠纷") -> dict:
    return {"served_on": served_on.isoformat(), "hours": hours, "summary": summary}


def test_a_holder_logs_a_duty(role, holder):
    client = logged_in(holder)
    page = client.get(reverse("aid_posts:role_detail", args=[role.pk])).content.decode()
    assert 'id="duty-form"' in page
    assert f'max="{today().isoformat()}"' in page

    response = client.post(reverse("aid_posts:duty_log", args=[role.pk]), duty_form(today()), follow=True)

    assert flashed(response) == ["Duty logged. The committee will confirm it; then its hours and points count."]
    duty = Duty.objects.get()
    assert (duty.holder, duty.served_on, duty.hours, duty.status) == (holder, today(), Decimal("2"), "pending")
    assert "Awaiting confirmation" in response.content.decode()


@pytest.mark.parametrize(
    ("days_from_today", "message"),
    [
        (-15, "That day is outside the role&#x27;s term."),  # the term started 14 days ago
        (1, "A duty is logged after it is served, not before."),
    ],
    ids=["before-the-term", "in-the-future"],
)
def test_a_duty_on_a_wrong_day_is_a_form_error(role, holder, days_from_today, message):
    served_on = today() + timedelta(days=days_from_today)
    response = logged_in(holder).post(reverse("aid_posts:duty_log", args=[role.pk]), duty_form(served_on))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Duty.objects.exists()


def test_a_duty_after_the_term_is_a_form_error(role, holder):
    WelfareRole.objects.filter(pk=role.pk).update(term_end=today() - timedelta(days=3))
    response = logged_in(holder).post(
        reverse("aid_posts:duty_log", args=[role.pk]), duty_form(today() - timedelta(days=1))
    )
    assert response.status_code == 400
    assert response.context["duty_form"].errors["served_on"] == ["That day is outside the role's term."]
    assert not Duty.objects.exists()


def test_two_duties_on_one_day_are_refused(role, holder):
    client = logged_in(holder)
    day = today() - timedelta(days=1)
    client.post(reverse("aid_posts:duty_log", args=[role.pk]), duty_form(day))
    response = client.post(reverse("aid_posts:duty_log", args=[role.pk]), duty_form(day, hours="1"))
    assert response.status_code == 400
    assert response.context["duty_form"].errors["served_on"] == ["You have already logged a duty on that day."]
    assert list(Duty.objects.values_list("hours", flat=True)) == [Decimal("2")]


@pytest.mark.parametrize("hours", ["0", "12.5", "zwei"])
def test_hours_out_of_range_are_a_form_error(role, holder, hours):
    response = logged_in(holder).post(reverse("aid_posts:duty_log", args=[role.pk]), duty_form(today(), hours=hours))
    assert response.status_code == 400
    assert response.context["duty_form"].errors["hours"]
    assert not Duty.objects.exists()


def test_a_member_without_a_seat_cannot_log_a_duty(role, judge):
    response = logged_in(judge).post(reverse("aid_posts:duty_log", args=[role.pk]), duty_form(today()), follow=True)
    assert flashed(response) == ["Only the holders of a seat log duties for this role."]
    assert not Duty.objects.exists()


def test_confirming_a_duty_pays_hours_and_points_once(role, holder, committee):
    duty = duty_log(actor=holder, role=role, served_on=today(), hours=Decimal("2.5"), summary="调解")
    client = logged_in(committee)
    assert (
        "调解"
        in client.get(reverse("aid_posts:role_detail", args=[role.pk]))
        .content.decode()
        .split('id="duties-to-confirm"')[1]
    )

    response = client.post(reverse("aid_posts:duty_confirm", args=[role.pk, duty.pk]), follow=True)
    assert flashed(response) == ["Duty confirmed. Its hours and points are now in judge-lin's record."]
    again = client.post(reverse("aid_posts:duty_confirm", args=[role.pk, duty.pk]), follow=True)

    assert flashed(again) == ["This duty was already decided (Confirmed)."]
    assert again.context["duties_to_confirm"] == []
    entry = LedgerEntry.objects.get()
    assert (entry.user, entry.hours, entry.points, entry.reason) == (holder, Decimal("2.5"), 25, "duty_confirmed")
    own = logged_in(holder)
    totals = own.get(reverse("aid_posts:role_detail", args=[role.pk])).context["totals"]
    assert (totals["points"], totals["hours"]) == (25, Decimal("2.5"))
    assert own.get(reverse("neighbors:points")).context["totals"]["points"] == 25


def test_rejecting_a_duty_needs_a_reason_and_pays_nothing(role, holder, committee):
    duty = duty_log(actor=holder, role=role, served_on=today(), hours=Decimal("2"), summary="调解")
    client = logged_in(committee)
    url = reverse("aid_posts:duty_reject", args=[role.pk, duty.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert Duty.objects.get().status == Duty.Status.PENDING

    response = client.post(url, {"reason": "当天调解室未开放"}, follow=True)

    assert flashed(response) == ["The duty was not confirmed. judge-lin will see your reason."]
    assert Duty.objects.get().status == Duty.Status.REJECTED
    assert not LedgerEntry.objects.exists()
    assert (
        "当天调解室未开放" in logged_in(holder).get(reverse("aid_posts:role_detail", args=[role.pk])).content.decode()
    )


def test_the_holder_cannot_confirm_their_own_duty(role, holder, committee):
    Membership.objects.filter(user=holder).update(role=Membership.Role.COMMITTEE)
    duty = duty_log(actor=holder, role=role, served_on=today(), hours=Decimal("2"), summary="调解")
    assert logged_in(holder).post(reverse("aid_posts:duty_confirm", args=[role.pk, duty.pk])).status_code == 404
    assert not LedgerEntry.objects.exists()


# --- The list ---------------------------------------------------------------------------


def test_the_committee_sees_what_needs_attention(committee, community, building, mediation, make_member):
    ending = make_role(
        committee,
        community,
        building,
        mediation,
        title="即将到期的岗位",
        seats=1,
        term_end=today() + timedelta(days=settings.ROLE_TERM_ENDING_DAYS - 1),
    )
    empty_seat = make_role(committee, community, building, mediation, title="空缺的岗位", seats=2)
    full = make_role(committee, community, building, mediation, title="满员的岗位", seats=1)
    for role in (ending, empty_seat, full):
        talent = make_member()
        certify(talent, mediation)
        role_claim_approve(actor=committee, claim=role_claim(actor=talent, role=role))

    page = logged_in(committee).get(reverse("aid_posts:role_list")).content.decode()

    attention = page.split('id="needs-attention"')[1].split("</section>")[0]
    assert "即将到期的岗位" in attention
    assert "Term ends" in attention
    assert "空缺的岗位" in attention
    assert "1 seat free" in attention
    assert "满员的岗位" not in attention
    current = page.split('id="roles"')[1]
    assert all(title in current for title in ("即将到期的岗位", "空缺的岗位", "满员的岗位"))
    assert "Needs attention" not in logged_in(make_member()).get(reverse("aid_posts:role_list")).content.decode()


def test_waiting_claims_and_duties_show_in_the_committees_list(role, holder, committee, make_member, mediation):
    talent = make_member()
    certify(talent, mediation)
    role_claim(actor=talent, role=role)
    duty_log(actor=holder, role=role, served_on=today(), hours=Decimal("1"), summary="值班")
    attention = (
        logged_in(committee).get(reverse("aid_posts:role_list")).content.decode().split('id="needs-attention"')[1]
    )
    assert "1 claim to decide" in attention
    assert "1 duty to confirm" in attention


def test_empty_states_say_what_to_do_next(committee, make_member):
    assert "Create the first one" in logged_in(committee).get(reverse("aid_posts:role_list")).content.decode()
    member_page = logged_in(make_member()).get(reverse("aid_posts:role_list")).content.decode()
    assert "When the committee creates one, it appears here" in member_page
    newcomer_page = logged_in(UserFactory()).get(reverse("aid_posts:role_list")).content.decode()
    assert "Join yours first" in newcomer_page


def test_the_list_costs_the_same_queries_for_one_role_or_many(committee, community, building, mediation, make_member):
    def queries() -> int:
        client = logged_in(committee)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("aid_posts:role_list")).status_code == 200
        return len(captured)

    role = make_role(committee, community, building, mediation)
    talent = make_member()
    certify(talent, mediation)
    role_claim_approve(actor=committee, claim=role_claim(actor=talent, role=role))
    one = queries()
    for number in range(4):
        other = make_role(committee, community, building, mediation, title=f"岗位{number}")
        talent = make_member()
        certify(talent, mediation)
        role_claim_approve(actor=committee, claim=role_claim(actor=talent, role=other))
    assert queries() == one
