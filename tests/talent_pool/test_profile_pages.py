"""The talent's own page, the page neighbours see, vouching, and the admin."""

import io
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from neighbors.images import image_process
from neighbors.models import Membership
from neighbors.services import block_add
from talent_pool.models import AvailabilitySlot, Credential, Skill, SkillArea, TalentProfile, TalentSkill
from talent_pool.services import (
    availability_set,
    credential_submit,
    help_record_add,
    talent_profile_update,
    talent_skill_add,
)
from tests.factories import UserFactory, phone_of, skill

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def slots_data(*rows) -> dict:
    data = {}
    for index, (day, start, end) in enumerate(rows):
        data.update({f"weekday_{index}": day, f"starts_at_{index}": start, f"ends_at_{index}": end})
    return data


@pytest.fixture
def talent(helper):
    """`helper` as a talent: a profile, a skill, two weekly times."""
    talent_profile_update(
        actor=helper, headline="退休律师，擅长邻里调解", accepting_requests=True, service_radius_m=1500
    )
    talent_skill_add(actor=helper, skill=skill("tutoring"), level="professional", description="初中数学、物理辅导")
    availability_set(actor=helper, slots=[(5, time(9), time(11)), (2, time(19), time(21))])
    return helper


class TestMyProfile:
    def test_anonymous_is_sent_to_log_in(self, client):
        response = client.get(reverse("talent_pool:my_profile"))
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]

    def test_a_member_without_a_profile_sees_the_forms_and_nothing_is_created(self, resident):
        response = logged_in(resident).get(reverse("talent_pool:my_profile"))
        assert response.status_code == 200
        assert response.context["profile"] is None
        assert response.context["profile_form"]["service_radius_m"].value() == 1000
        assert not TalentProfile.objects.exists()

    def test_skills_are_offered_grouped_by_area(self, resident):
        page = logged_in(resident).get(reverse("talent_pool:my_profile")).content.decode()
        legal = SkillArea.objects.get(code="legal")
        assert f'<optgroup label="{legal}">' in page
        assert page.index(f'<optgroup label="{legal}">') < page.index(str(Skill.objects.get(code="legal-mediation")))

    def test_save_headline_taking_requests_and_radius(self, resident):
        response = logged_in(resident).post(
            reverse("talent_pool:my_profile"), {"headline": " 会修水电 ", "service_radius_m": "3000"}
        )
        assert response.status_code == 302
        profile = TalentProfile.objects.get(user=resident)
        assert (profile.headline, profile.accepting_requests, profile.service_radius_m) == ("会修水电", False, 3000)

    @pytest.mark.parametrize("radius", ["50", "20001", "far", ""])
    def test_a_radius_out_of_range_is_refused(self, talent, radius):
        response = logged_in(talent).post(
            reverse("talent_pool:my_profile"),
            {"headline": "改了", "accepting_requests": "on", "service_radius_m": radius},
        )
        assert response.status_code == 400
        assert response.context["profile_form"].errors["service_radius_m"]
        profile = TalentProfile.objects.get(user=talent)
        assert (profile.headline, profile.service_radius_m) == ("退休律师，擅长邻里调解", 1500)

    def test_add_a_skill_then_change_it(self, resident):
        client = logged_in(resident)
        tutoring = skill("tutoring")
        data = {"skill": tutoring.pk, "level": "beginner", "description": "小学语文"}
        assert client.post(reverse("talent_pool:skill_add"), data).status_code == 302
        assert client.post(reverse("talent_pool:skill_add"), {**data, "level": "professional"}).status_code == 302
        talent_skill = TalentSkill.objects.get(talent__user=resident)
        assert (talent_skill.skill, talent_skill.level, talent_skill.description) == (
            tutoring,
            "professional",
            "小学语文",
        )
        page = client.get(reverse("talent_pool:my_profile")).content.decode()
        assert "小学语文" in page

    @pytest.mark.parametrize(
        "data",
        [{"skill": 999_999, "level": "beginner"}, {"level": "beginner"}, {"skill": "tutoring", "level": "guru"}],
    )
    def test_a_forged_skill_or_level_is_a_form_error(self, resident, data):
        if data.get("skill") == "tutoring":
            data = {**data, "skill": skill("tutoring").pk}
        response = logged_in(resident).post(reverse("talent_pool:skill_add"), data)
        assert response.status_code == 400
        assert response.context["skill_form"].errors
        assert not TalentSkill.objects.exists()

    def test_remove_my_skill_but_not_someone_elses(self, talent, resident):
        theirs = talent_skill_add(actor=resident, skill=skill("electrical"))
        mine = TalentSkill.objects.get(talent__user=talent)
        client = logged_in(talent)
        assert client.post(reverse("talent_pool:skill_remove", args=[theirs.pk])).status_code == 404
        assert client.post(reverse("talent_pool:skill_remove", args=[mine.pk])).status_code == 302
        assert list(TalentSkill.objects.all()) == [theirs]


class TestAvailability:
    def test_posting_replaces_all_times(self, talent):
        response = logged_in(talent).post(
            reverse("talent_pool:availability"), slots_data(("0", "08:00", "10:00"), ("0", "14:00", "16:30"))
        )
        assert response.status_code == 302
        assert [(s.weekday, s.starts_at, s.ends_at) for s in AvailabilitySlot.objects.filter(talent__user=talent)] == [
            (0, time(8), time(10)),
            (0, time(14), time(16, 30)),
        ]

    def test_the_editor_shows_the_current_times(self, talent):
        form = logged_in(talent).get(reverse("talent_pool:my_profile")).context["availability_form"]
        assert (form["weekday_0"].value(), form["starts_at_0"].value()) == (2, time(19))
        assert 'type="time"' in str(form["starts_at_0"])

    @pytest.mark.parametrize(
        ("rows", "field"),
        [
            ((("1", "09:00", "11:00"), ("1", "10:30", "12:00")), None),
            ((("1", "11:00", "09:00"),), "ends_at_0"),
            ((("1", "09:00", "09:00"),), "ends_at_0"),
            ((("1", "09:00", ""),), "ends_at_0"),
            ((("", "09:00", "10:00"),), "weekday_0"),
            ((("9", "09:00", "10:00"),), "weekday_0"),
            ((("1", "25:00", "26:00"),), "starts_at_0"),
        ],
    )
    def test_bad_times_are_refused_and_nothing_changes(self, talent, rows, field):
        response = logged_in(talent).post(reverse("talent_pool:availability"), slots_data(*rows))
        assert response.status_code == 400
        form = response.context["availability_form"]
        assert form.errors[field or "__all__"]
        assert AvailabilitySlot.objects.filter(talent__user=talent).count() == 2


class TestTalentPage:
    @pytest.mark.parametrize(
        ("who", "status"),
        [("owner", 200), ("member", 200), ("committee", 200), ("outsider", 404), ("anonymous", 302)],
    )
    def test_who_sees_it(self, talent, resident, committee, outsider, client, who, status):
        user = {"owner": talent, "member": resident, "committee": committee, "outsider": outsider}.get(who)
        if user is not None:
            client.force_login(user)
        assert client.get(reverse("talent_pool:talent", args=[talent.pk])).status_code == status

    def test_blocked_no_profile_and_nobody_are_the_same_404(self, talent, resident, make_member):
        block_add(actor=talent, person=resident)
        client = logged_in(resident)
        for pk in (talent.pk, make_member().pk, 999_999):
            assert client.get(reverse("talent_pool:talent", args=[pk])).status_code == 404

    def test_what_a_neighbour_sees_and_does_not(self, talent, resident):
        response = logged_in(resident).get(reverse("talent_pool:talent", args=[talent.pk]))
        page = response.content.decode()
        for shown in ("退休律师，擅长邻里调解", "初中数学、物理辅导", "1500", "09:00", "21:00"):
            assert shown in page
        assert str(TalentSkill.Level.PROFESSIONAL.label) in page
        assert response.context["profile"].accepting_requests
        assert phone_of(talent) not in page
        assert talent.email not in page
        # No vouching for a plain neighbour.
        assert "/vouch/" not in page

    def test_not_taking_requests_is_shown(self, talent, resident):
        talent_profile_update(actor=talent, headline="", accepting_requests=False, service_radius_m=1500)
        response = logged_in(resident).get(reverse("talent_pool:talent", args=[talent.pk]))
        assert not response.context["profile"].accepting_requests


class TestStats:
    def test_helps_hours_and_rating_per_skill(self, talent, resident):
        tutoring, electrical = skill("tutoring"), skill("electrical")
        talent_skill_add(actor=talent, skill=electrical)
        help_record_add(user=talent, skill=tutoring, hours=Decimal("1.5"), rating=4, source="post:1")
        help_record_add(user=talent, skill=tutoring, hours=Decimal("2"), rating=5, source="post:2")
        help_record_add(user=talent, skill=tutoring, hours=Decimal("1"), rating=None, source="post:3")
        help_record_add(user=resident, skill=tutoring, hours=Decimal("9"), rating=1, source="post:4")
        response = logged_in(resident).get(reverse("talent_pool:talent", args=[talent.pk]))
        stats = {row.talent_skill.skill: row.stats for row in response.context["rows"]}
        assert (stats[tutoring].helps, stats[tutoring].hours, stats[tutoring].rating) == (3, Decimal("4.5"), 4.5)
        assert (stats[electrical].helps, stats[electrical].hours, stats[electrical].rating) == (0, Decimal(0), None)
        page = response.content.decode()
        assert "4.5 / 5" in page
        assert "—" in page

    def test_the_page_costs_the_same_queries_for_3_or_10_skills(
        self, talent, committee, django_assert_num_queries, django_assert_max_num_queries
    ):
        def offer(codes):
            for code in codes:
                talent_skill = talent_skill_add(actor=talent, skill=skill(code))
                help_record_add(user=talent, skill=talent_skill.skill, hours=Decimal(1), rating=5, source=f"h:{code}")

        offer(["s1", "s2"])
        Skill.objects.filter(code="s2").update(requires_credential=True)
        credential_submit(
            actor=talent,
            talent_skill=TalentSkill.objects.get(skill__code="s2"),
            image=image_process(io.BytesIO(jpeg())),
            number="N-1",
            expires_on=timezone.localdate() + timedelta(days=90),
        )
        client = logged_in(committee)
        url = reverse("talent_pool:talent", args=[talent.pk])
        with django_assert_max_num_queries(25) as three:
            assert len(client.get(url).context["rows"]) == 3
        offer([f"s{n}" for n in range(3, 10)])
        with django_assert_num_queries(len(three.captured_queries)):
            assert len(client.get(url).context["rows"]) == 10

    def test_my_profile_page_is_flat_too(self, talent, django_assert_max_num_queries):
        client = logged_in(talent)
        url = reverse("talent_pool:my_profile")
        with django_assert_max_num_queries(30) as few:
            client.get(url)
        for n in range(8):
            talent_skill_add(actor=talent, skill=skill(f"m{n}"))
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(url)


class TestVouch:
    def test_the_committee_vouches_and_sees_who_and_when(self, talent, committee, resident):
        talent_skill = TalentSkill.objects.get(talent__user=talent)
        client = logged_in(committee)
        url = reverse("talent_pool:talent", args=[talent.pk])
        vouch = reverse("talent_pool:skill_vouch", args=[talent_skill.pk])
        assert vouch in client.get(url).content.decode()
        response = client.post(vouch)
        assert response.status_code == 302
        assert response["Location"] == url
        talent_skill.refresh_from_db()
        assert (talent_skill.verified_by, talent_skill.is_verified) == (committee, True)
        page = client.get(url).content.decode()
        assert committee.profile.display_name in page
        assert vouch not in page
        # A neighbour sees the badge, not who gave it.
        neighbour = logged_in(resident).get(url).content.decode()
        assert "✓" in neighbour
        assert committee.profile.display_name not in neighbour

    def test_vouching_again_changes_nothing(self, talent, committee, make_member):
        second = make_member(role=Membership.Role.COMMITTEE, username="lin")
        talent_skill = TalentSkill.objects.get(talent__user=talent)
        logged_in(committee).post(reverse("talent_pool:skill_vouch", args=[talent_skill.pk]))
        response = logged_in(second).post(reverse("talent_pool:skill_vouch", args=[talent_skill.pk]), follow=True)
        assert [m.level_tag for m in response.context["messages"]] == ["info"]
        talent_skill.refresh_from_db()
        assert talent_skill.verified_by == committee

    def test_nobody_else_vouches_and_not_for_a_certificate_skill(self, talent, resident, outsider, committee):
        talent_skill = TalentSkill.objects.get(talent__user=talent)
        for user in (resident, outsider, talent):
            assert logged_in(user).post(reverse("talent_pool:skill_vouch", args=[talent_skill.pk])).status_code == 404
        certified = talent_skill_add(actor=talent, skill=skill("legal-mediation"))
        client = logged_in(committee)
        assert client.post(reverse("talent_pool:skill_vouch", args=[certified.pk])).status_code == 404
        assert not TalentSkill.objects.filter(verified_at__isnull=False).exists()


class TestAdmin:
    def test_pages_open_and_the_certificate_photo_is_not_linked(self, talent):
        admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
        credential = credential_submit(
            actor=talent,
            talent_skill=talent_skill_add(actor=talent, skill=skill("legal-mediation")),
            image=image_process(io.BytesIO(jpeg())),
            number="A-1",
            expires_on=timezone.localdate() + timedelta(days=90),
        )
        client = logged_in(admin)
        for name, args in (
            ("admin:talent_pool_skillarea_changelist", []),
            ("admin:talent_pool_skillarea_change", [SkillArea.objects.first().pk]),
            ("admin:talent_pool_skill_changelist", []),
            ("admin:talent_pool_talentprofile_change", [talent.talent_profile.pk]),
            ("admin:talent_pool_credential_changelist", []),
            ("admin:talent_pool_credential_change", [credential.pk]),
        ):
            response = client.get(reverse(name, args=args))
            assert response.status_code == 200, name
            assert credential.image.name not in response.content.decode()
        assert client.get(reverse("admin:talent_pool_credential_add")).status_code == 403
        client.post(reverse("admin:talent_pool_credential_change", args=[credential.pk]), {"status": "verified"})
        assert Credential.objects.get().status == "pending"
