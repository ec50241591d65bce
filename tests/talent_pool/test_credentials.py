"""Certificates: uploaded by the talent, decided by the committee, shown only to them, reminded before expiry."""

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from PIL import Image

from neighbors.images import image_process
from neighbors.models import Membership
from talent_pool.models import Credential, TalentSkill
from talent_pool.services import (
    credential_reject,
    credential_submit,
    credential_verify,
    talent_skill_add,
    talent_skill_remove,
    talent_skill_verify,
)
from tests.factories import CommunityFactory, MembershipFactory, PlaceFactory, UserFactory, skill

pytestmark = pytest.mark.django_db

CERTIFIED = "legal-mediation"  # seeded as needing a verified certificate


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def jpeg(color: str = "white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), color).save(buffer, "JPEG")
    return buffer.getvalue()


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


def certified_skill(user, code: str = CERTIFIED) -> TalentSkill:
    return talent_skill_add(actor=user, skill=skill(code))


def submitted(user, *, number: str = "J-2024-001", expires_on=None, code: str = CERTIFIED) -> Credential:
    return credential_submit(
        actor=user,
        talent_skill=certified_skill(user, code),
        image=image_process(io.BytesIO(jpeg())),
        number=number,
        expires_on=expires_on or in_days(365),
    )


def upload_data(talent_skill: TalentSkill, *, content: bytes | None = None, number="J-2024-001", expires_on=None):
    prefix = f"credential-{talent_skill.pk}"
    return {
        f"{prefix}-image": SimpleUploadedFile("我的律师证.jpg", jpeg() if content is None else content, "image/jpeg"),
        f"{prefix}-number": number,
        f"{prefix}-expires_on": (expires_on or in_days(365)).isoformat(),
    }


def stored_files() -> int:
    """Certificates live in the private storage, which no URL reaches."""
    try:
        return len(storages["private"].listdir("credentials")[1])
    except FileNotFoundError:
        return 0


@pytest.fixture
def other_committee():
    """A committee member of another community."""
    community = CommunityFactory(name="第三社区")
    user = UserFactory(username="zhou")
    MembershipFactory(
        user=user, community=community, home_place=PlaceFactory(community=community), role=Membership.Role.COMMITTEE
    )
    return user


class TestUploadAndDecide:
    def test_upload_then_the_committee_verifies_and_the_badge_shows(self, helper, committee, resident):
        talent_skill = certified_skill(helper)
        talent = logged_in(helper)
        page = talent.get(reverse("talent_pool:my_profile"))
        assert not page.context["skill_rows"][0][0].talent_skill.is_verified

        response = talent.post(
            reverse("talent_pool:credential_upload", args=[talent_skill.pk]),
            upload_data(talent_skill, number=" J-2024-001 "),
        )
        assert response.status_code == 302
        credential = Credential.objects.get()
        assert (credential.status, credential.number) == ("pending", "J-2024-001")
        assert "律师证" not in credential.image.name
        # Pending: no badge yet, for the talent or the neighbours.
        assert "✓" not in logged_in(resident).get(reverse("talent_pool:talent", args=[helper.pk])).content.decode()

        queue = logged_in(committee).get(reverse("talent_pool:credential_queue"))
        page = queue.content.decode()
        assert "J-2024-001" in page
        assert reverse("talent_pool:credential_thumbnail", args=[credential.pk]) in page
        assert credential.image.url not in page and credential.thumbnail.url not in page

        response = logged_in(committee).post(reverse("talent_pool:credential_verify", args=[credential.pk]))
        assert response.status_code == 302
        credential.refresh_from_db()
        assert (credential.status, credential.decided_by) == ("verified", committee)
        assert credential.decided_at is not None

        public = logged_in(resident).get(reverse("talent_pool:talent", args=[helper.pk]))
        assert public.context["rows"][0].talent_skill.is_verified
        assert "✓" in public.content.decode()
        # Neighbours see the badge, never the certificate.
        assert "J-2024-001" not in public.content.decode()
        assert public.context["rows"][0].credentials == []

    def test_a_rejection_needs_a_reason_and_the_talent_reads_it(self, helper, committee):
        credential = submitted(helper)
        client = logged_in(committee)
        url = reverse("talent_pool:credential_reject", args=[credential.pk])
        response = client.post(url, {f"reject-{credential.pk}-reason": "  "})
        assert response.status_code == 400
        assert response.context["rows"][0][1].errors["reason"]
        credential.refresh_from_db()
        assert credential.status == "pending"

        assert client.post(url, {f"reject-{credential.pk}-reason": "照片模糊，看不清证号"}).status_code == 302
        credential.refresh_from_db()
        assert (credential.status, credential.decided_by) == ("rejected", committee)
        page = logged_in(helper).get(reverse("talent_pool:my_profile")).content.decode()
        assert "照片模糊，看不清证号" in page
        assert "✓" not in page

    def test_an_expired_credential_stops_the_badge(self, helper, committee, resident):
        credential = submitted(helper)
        credential_verify(actor=committee, credential=credential)
        url = reverse("talent_pool:talent", args=[helper.pk])
        assert "✓" in logged_in(resident).get(url).content.decode()

        Credential.objects.filter(pk=credential.pk).update(expires_on=in_days(-1))
        page = logged_in(resident).get(url)
        assert not page.context["rows"][0].talent_skill.is_verified
        assert "✓" not in page.content.decode()
        # Still verified as a decision: the talent sees it, marked expired, and can renew.
        mine = logged_in(helper).get(reverse("talent_pool:my_profile"))
        assert mine.context["skill_rows"][0][0].credentials[0].status == "verified"
        assert mine.context["skill_rows"][0][1] is not None

    def test_who_decided_and_when_is_shown_to_the_committee_only(self, helper, committee, resident):
        credential = credential_verify(actor=committee, credential=submitted(helper))
        when = date_format(timezone.localtime(credential.decided_at), "SHORT_DATETIME_FORMAT")
        queue = logged_in(committee).get(reverse("talent_pool:credential_queue")).content.decode()
        assert committee.profile.display_name in queue
        assert when in queue
        talent_page = logged_in(committee).get(reverse("talent_pool:talent", args=[helper.pk])).content.decode()
        assert committee.profile.display_name in talent_page and when in talent_page
        neighbour_page = logged_in(resident).get(reverse("talent_pool:talent", args=[helper.pk])).content.decode()
        assert when not in neighbour_page

    def test_an_already_decided_credential_gets_a_message(self, helper, committee, make_member):
        second = make_member(role=Membership.Role.COMMITTEE, username="lin")
        credential = submitted(helper)
        credential_reject(actor=committee, credential=credential, reason="证件过期")
        for url in ("talent_pool:credential_verify", "talent_pool:credential_reject"):
            response = logged_in(second).post(
                reverse(url, args=[credential.pk]), {f"reject-{credential.pk}-reason": "再次"}, follow=True
            )
            assert response.status_code == 200
            assert [m.level_tag for m in response.context["messages"]] == ["info"]
        credential.refresh_from_db()
        assert (credential.status, credential.decided_by, credential.decision_reason) == (
            "rejected",
            committee,
            "证件过期",
        )

    def test_who_may_not_decide_gets_a_404(self, helper, resident, committee, other_committee):
        credential = submitted(helper)
        own = submitted(committee, number="C-1")
        for user, pk in ((resident, credential.pk), (other_committee, credential.pk), (committee, own.pk)):
            client = logged_in(user)
            assert client.post(reverse("talent_pool:credential_verify", args=[pk])).status_code == 404
            response = client.post(reverse("talent_pool:credential_reject", args=[pk]), {f"reject-{pk}-reason": "x"})
            assert response.status_code == 404
        assert set(Credential.objects.values_list("status", flat=True)) == {"pending"}

    def test_the_queue_is_for_the_committee_of_the_talent(self, helper, resident, committee, other_committee, client):
        credential = submitted(helper)
        assert logged_in(resident).get(reverse("talent_pool:credential_queue")).status_code == 404
        assert client.get(reverse("talent_pool:credential_queue")).status_code == 302
        assert logged_in(other_committee).get(reverse("talent_pool:credential_queue")).context["rows"] == []
        rows = logged_in(committee).get(reverse("talent_pool:credential_queue")).context["rows"]
        assert [c for c, _form in rows] == [credential]

    def test_the_queue_is_oldest_first(self, helper, make_member, committee):
        first = submitted(helper)
        second = submitted(make_member(), number="J-2")
        Credential.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=2))
        rows = logged_in(committee).get(reverse("talent_pool:credential_queue")).context["rows"]
        assert [c for c, _form in rows] == [first, second]


class TestRefusedUploads:
    @pytest.mark.parametrize(
        ("case", "field"),
        [
            ("expired", "expires_on"),
            ("expires_today", "expires_on"),
            ("disguised", "image"),
            ("truncated", "image"),
            ("no_number", "number"),
        ],
    )
    def test_refused_with_a_form_error_and_nothing_recorded(self, helper, case, field):
        talent_skill = certified_skill(helper)
        files_before = stored_files()
        data = {
            "expired": upload_data(talent_skill, expires_on=in_days(-30)),
            "expires_today": upload_data(talent_skill, expires_on=in_days(0)),
            "disguised": upload_data(talent_skill, content=b"<html><script>alert(1)</script></html>"),
            "truncated": upload_data(talent_skill, content=jpeg()[:200]),
            "no_number": upload_data(talent_skill, number=""),
        }[case]
        response = logged_in(helper).post(reverse("talent_pool:credential_upload", args=[talent_skill.pk]), data)
        assert response.status_code == 400
        (form,) = [upload for row, upload in response.context["skill_rows"] if row.talent_skill == talent_skill]
        assert form.errors[field]
        assert not Credential.objects.exists()
        assert stored_files() == files_before

    def test_a_number_someone_else_registered_is_refused(self, helper, make_member):
        submitted(make_member(), number="J-2024-001")
        talent_skill = certified_skill(helper)
        response = logged_in(helper).post(
            reverse("talent_pool:credential_upload", args=[talent_skill.pk]),
            upload_data(talent_skill, number="j-2024-001"),
        )
        assert response.status_code == 400
        (form,) = [upload for row, upload in response.context["skill_rows"] if upload is not None]
        assert form.errors["number"]
        assert not Credential.objects.filter(talent_skill=talent_skill).exists()

    def test_not_for_a_skill_without_certificates_nor_for_someone_elses(self, helper, resident):
        plain = talent_skill_add(actor=helper, skill=skill("tutoring"))
        theirs = certified_skill(resident)
        client = logged_in(helper)
        for talent_skill in (plain, theirs):
            url = reverse("talent_pool:credential_upload", args=[talent_skill.pk])
            assert client.post(url, upload_data(talent_skill)).status_code == 404
        assert not Credential.objects.exists()


class TestCertificateImage:
    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("owner", 200),
            ("committee", 200),
            ("member", 404),
            ("outsider", 404),
            ("other_committee", 404),
            ("anonymous", 302),
        ],
    )
    @pytest.mark.parametrize("view", ["talent_pool:credential_image", "talent_pool:credential_thumbnail"])
    def test_access(self, request, helper, committee, resident, outsider, other_committee, client, who, status, view):
        credential = submitted(helper)
        user = {
            "owner": helper,
            "committee": committee,
            "member": resident,
            "outsider": outsider,
            "other_committee": other_committee,
        }.get(who)
        if user is not None:
            client.force_login(user)
        response = client.get(reverse(view, args=[credential.pk]))
        assert response.status_code == status
        if status == 200:
            assert response["Content-Type"] == "image/jpeg"
            cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
            assert {"private", "no-store"} <= cache_control
            assert response.content.startswith(b"\xff\xd8")
        elif status == 302:
            assert reverse("account_login") in response["Location"]

    def test_a_credential_that_does_not_exist_is_the_same_404(self, helper):
        assert logged_in(helper).get(reverse("talent_pool:credential_image", args=[999_999])).status_code == 404


class TestReminders:
    @override_settings(CREDENTIAL_REMINDER_DAYS=30)
    def test_once_and_only_for_verified_certificates_within_the_window(
        self, helper, make_member, committee, django_capture_on_commit_callbacks
    ):
        due = credential_verify(actor=committee, credential=submitted(helper, expires_on=in_days(10)))
        credential_verify(
            actor=committee, credential=submitted(make_member(username="later"), number="L-1", expires_on=in_days(60))
        )
        submitted(make_member(username="pending"), number="P-1", expires_on=in_days(10))
        rejected = submitted(make_member(username="rejected"), number="R-1", expires_on=in_days(10))
        credential_reject(actor=committee, credential=rejected, reason="不清楚")

        first, second = io.StringIO(), io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("credentials_remind", stdout=first)
        with django_capture_on_commit_callbacks(execute=True):
            call_command("credentials_remind", stdout=second)

        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == [helper.email]
        assert due.number in mail.outbox[0].body
        assert "Sent 1 " in first.getvalue()
        assert "Sent 0 " in second.getvalue()
        due.refresh_from_db()
        assert due.reminded_at is not None


@pytest.mark.django_db
class TestFilesAndRecords:
    def test_certificates_are_stored_where_no_url_reaches(self, helper):
        credential = submitted(helper)
        assert storages["private"].exists(credential.image.name)
        assert not default_storage.exists(credential.image.name)

    def test_removing_a_skill_removes_its_certificate_files(self, helper, django_capture_on_commit_callbacks):
        credential = submitted(helper)
        with django_capture_on_commit_callbacks(execute=True):
            talent_skill_remove(actor=helper, talent_skill=credential.talent_skill)
        assert not storages["private"].exists(credential.image.name)
        assert not storages["private"].exists(credential.thumbnail.name)

    def test_a_refused_upload_writes_no_file(self, helper):
        before = stored_files()
        with pytest.raises(ValidationError):
            submitted(helper, expires_on=in_days(-1))
        assert stored_files() == before

    @override_settings(CREDENTIAL_REMINDER_DAYS=30)
    def test_a_renewed_certificate_is_not_reminded_of(self, helper, committee, django_capture_on_commit_callbacks):
        old = credential_verify(actor=committee, credential=submitted(helper, number="OLD-1", expires_on=in_days(10)))
        credential_verify(actor=committee, credential=submitted(helper, number="NEW-1", expires_on=in_days(700)))
        with django_capture_on_commit_callbacks(execute=True):
            call_command("credentials_remind", stdout=io.StringIO())
        assert mail.outbox == []
        old.refresh_from_db()
        assert old.reminded_at is None

    def test_the_first_vouch_stands(self, helper, committee, make_member):
        talent_skill = talent_skill_add(actor=helper, skill=skill("tutoring"))
        talent_skill_verify(actor=committee, talent_skill=talent_skill)
        second = make_member(role=Membership.Role.COMMITTEE)
        with pytest.raises(ValidationError):
            talent_skill_verify(actor=second, talent_skill=talent_skill)
        talent_skill.refresh_from_db()
        assert talent_skill.verified_by == committee
