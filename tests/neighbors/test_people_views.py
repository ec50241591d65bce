"""The pages a person uses to manage what others see of them, and to see others."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from aid_posts.services import aid_post_claim, claim_accept
from neighbors.models import Block, Consent, ContactDisclosure, ContactMethod, Membership, Profile
from neighbors.permissions import community_subject
from tests.factories import phone_of

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotated
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (24.0, 28.0, 41.0), 3: "E", 4: (118.0, 8.0, 43.0)})
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


class TestPersonPage:
    def test_a_neighbour_sees_the_profile_but_only_masked_details(self, resident, helper):
        Profile.objects.filter(user=resident).update(bio="退休教师", spoken_languages=["nan"])
        page = logged_in(helper).get(reverse("neighbors:person", args=[resident.pk])).content.decode()
        assert "退休教师" in page
        assert "闽南话" in page
        assert phone_of(resident) not in page
        assert phone_of(resident)[:3] + "****" in page
        # Partners-only: no ground to offer, so no reveal button.
        assert reverse("neighbors:person_reveal", args=[resident.pk]) not in page

    @pytest.mark.parametrize("who", ["outsider", "anonymous", "nobody"])
    def test_outside_the_community_the_page_does_not_exist(self, resident, outsider, client, who):
        if who == "outsider":
            client.force_login(outsider)
        pk = resident.pk if who != "nobody" else 999_999
        if who == "nobody":
            client.force_login(outsider)
        response = client.get(reverse("neighbors:person", args=[pk]))
        assert response.status_code == (302 if who == "anonymous" else 404)

    def test_a_blocked_person_gets_a_404_and_cannot_reveal(self, resident, helper):
        ContactMethod.objects.filter(user=resident).update(scope=ContactMethod.Scope.COMMUNITY)
        Block.objects.create(blocker=resident, blocked=helper)
        client = logged_in(helper)
        assert client.get(reverse("neighbors:person", args=[resident.pk])).status_code == 404
        response = client.post(
            reverse("neighbors:person_reveal", args=[resident.pk]),
            {"kind": "phone", "subject": f"community:{resident.memberships.get().community_id}"},
        )
        assert response.status_code == 404
        assert not ContactDisclosure.objects.exists()
        # The blocker still sees the blocked person's page, with "Unblock".
        page = logged_in(resident).get(reverse("neighbors:person", args=[helper.pk])).content.decode()
        assert reverse("neighbors:person_unblock", args=[helper.pk]) in page

    def test_a_community_scoped_detail_is_revealed_and_logged(self, resident, helper, community):
        ContactMethod.objects.filter(user=resident).update(scope=ContactMethod.Scope.COMMUNITY)
        client = logged_in(helper)
        page = client.get(reverse("neighbors:person", args=[resident.pk])).content.decode()
        assert f'value="{community_subject(community.pk)}"' in page
        response = client.post(
            reverse("neighbors:person_reveal", args=[resident.pk]),
            {"kind": "phone", "subject": community_subject(community.pk)},
        )
        assert response.status_code == 200
        assert phone_of(resident) in response.content.decode()
        log = ContactDisclosure.objects.get()
        assert (log.viewer, log.subject_title) == (helper, community.name)
        # The owner reads it on "who has seen my details".
        seen = logged_in(resident).get(reverse("neighbors:disclosures")).content.decode()
        assert helper.profile.display_name in seen
        assert community.name in seen

    def test_the_committee_must_say_why_and_the_resident_reads_it(self, resident, committee, community):
        ContactMethod.objects.filter(user=resident).update(scope=ContactMethod.Scope.COMMITTEE)
        client = logged_in(committee)
        url = reverse("neighbors:person_reveal", args=[resident.pk])
        subject = community_subject(community.pk)
        response = client.post(url, {"kind": "phone", "subject": subject})
        assert response.status_code == 400
        assert phone_of(resident) not in response.content.decode()
        assert not ContactDisclosure.objects.exists()
        response = client.post(url, {"kind": "phone", "subject": subject, "reason": "台风天联系独居老人"})
        assert phone_of(resident) in response.content.decode()
        seen = logged_in(resident).get(reverse("neighbors:disclosures")).content.decode()
        assert "台风天联系独居老人" in seen

    @pytest.mark.parametrize(
        "data",
        [
            {"kind": "phone", "subject": "aid_post:1"},
            {"kind": "phone", "subject": "community:999999"},
            {"kind": "password", "subject": "community:1"},
            {"kind": "phone"},
        ],
    )
    def test_forged_reveals_are_refused_without_leaking(self, resident, helper, data):
        response = logged_in(helper).post(reverse("neighbors:person_reveal", args=[resident.pk]), data)
        assert response.status_code in (400, 403)
        assert phone_of(resident) not in response.content.decode()
        assert not ContactDisclosure.objects.exists()

    def test_block_and_unblock_from_the_pages(self, resident, helper):
        client = logged_in(resident)
        response = client.post(reverse("neighbors:person_block", args=[helper.pk]))
        assert response.status_code == 302
        assert Block.objects.filter(blocker=resident, blocked=helper).exists()
        assert helper.profile.display_name in client.get(reverse("neighbors:blocked")).content.decode()
        client.post(reverse("neighbors:person_unblock", args=[helper.pk]))
        assert not Block.objects.exists()

    def test_a_blocked_helper_cannot_claim(self, resident, helper, post):
        Block.objects.create(blocker=resident, blocked=helper)
        response = logged_in(helper).post(reverse("aid_posts:claim", args=[post.pk]), follow=True)
        assert response.status_code == 200
        post.refresh_from_db()
        assert post.status == "open"
        assert not post.claims.exists()


class TestContactsPage:
    def test_set_a_wechat_id_with_its_scope(self, resident):
        client = logged_in(resident)
        response = client.post(
            reverse("neighbors:contacts"), {"kind": "wechat", "wechat-value": "wang_ayi88", "wechat-scope": "committee"}
        )
        assert response.status_code == 302
        method = ContactMethod.objects.get(user=resident, kind="wechat")
        assert (method.value, method.scope) == ("wang_ayi88", "committee")

    def test_a_bad_value_is_a_form_error_and_nothing_is_saved(self, resident):
        response = logged_in(resident).post(
            reverse("neighbors:contacts"), {"kind": "email", "email-value": "not-an-email", "email-scope": "partners"}
        )
        assert response.status_code == 400
        (email_form,) = [form for form in response.context["forms"] if form.kind == "email"]
        assert email_form.errors["value"]
        assert not ContactMethod.objects.filter(user=resident, kind="email").exists()

    @pytest.mark.parametrize(
        "data",
        [
            {"kind": "fax", "fax-value": "1"},
            {"kind": "phone", "phone-value": "13812345678", "phone-scope": "world"},
            {"phone-value": "13812345678"},
        ],
    )
    def test_forged_kinds_and_scopes_are_400(self, resident, data):
        response = logged_in(resident).post(reverse("neighbors:contacts"), data)
        assert response.status_code == 400
        assert ContactMethod.objects.get(user=resident, kind="phone").scope == "partners"

    def test_without_the_sharing_consent_the_box_must_be_ticked(self, resident):
        Consent.objects.filter(user=resident, kind="contact_sharing").delete()
        client = logged_in(resident)
        data = {"kind": "address", "address-value": "3单元502室", "address-scope": "partners"}
        assert client.post(reverse("neighbors:contacts"), data).status_code == 400
        assert not ContactMethod.objects.filter(kind="address").exists()
        assert client.post(reverse("neighbors:contacts"), {**data, "address-share_consent": "on"}).status_code == 302
        assert ContactMethod.objects.get(kind="address").value == "3单元502室"


class TestConsentsPage:
    def test_withdraw_and_give_again(self, resident):
        client = logged_in(resident)
        client.post(reverse("neighbors:consents"), {"kind": "location", "action": "withdraw"})
        assert not Consent.objects.filter(user=resident, kind="location", withdrawn_at=None).exists()
        client.post(reverse("neighbors:consents"), {"kind": "location", "action": "grant"})
        assert Consent.objects.filter(user=resident, kind="location", withdrawn_at=None).exists()

    def test_forged_input_is_400(self, resident):
        response = logged_in(resident).post(reverse("neighbors:consents"), {"kind": "everything", "action": "grant"})
        assert response.status_code == 400

    def test_the_privacy_notice_cannot_be_withdrawn_here(self, resident):
        response = logged_in(resident).post(
            reverse("neighbors:consents"), {"kind": "privacy_notice", "action": "withdraw"}, follow=True
        )
        assert response.status_code == 200
        assert Consent.objects.filter(user=resident, kind="privacy_notice", withdrawn_at=None).exists()


class TestAvatar:
    def test_the_photo_goes_through_the_pipeline(self, resident):
        upload = SimpleUploadedFile("王阿姨家门牌.jpg", gps_jpeg(), content_type="image/jpeg")
        response = logged_in(resident).post(
            reverse("neighbors:profile"), {"display_name": "王阿姨", "language": "zh-hans", "avatar": upload}
        )
        assert response.status_code == 302
        profile = Profile.objects.get(user=resident)
        assert "门牌" not in profile.avatar.name
        with profile.avatar.open() as stored:
            image = Image.open(stored)
            assert image.size == (20, 40)  # the orientation was applied
            assert not image.getexif()  # and the GPS position is gone with the rest

    def test_a_disguised_file_is_a_form_error(self, resident):
        upload = SimpleUploadedFile("photo.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")
        response = logged_in(resident).post(
            reverse("neighbors:profile"), {"display_name": "王阿姨", "language": "zh-hans", "avatar": upload}
        )
        assert response.status_code == 200
        assert response.context["form"].errors["avatar"]
        assert not Profile.objects.get(user=resident).avatar


class TestLocation:
    def test_pages_show_a_rounded_distance_and_never_coordinates(self, resident, helper, post, community):
        far = post.place.__class__.objects.create(
            community=community, name="12号楼", latitude="24.481000", longitude="118.145300"
        )
        Membership.objects.filter(user=helper).update(home_place=far)
        client = logged_in(helper)
        for url in (reverse("aid_posts:detail", args=[post.pk]), reverse("aid_posts:list"), reverse("home")):
            page = client.get(url).content.decode()
            for place in (post.place, far):
                assert str(place.latitude) not in page and str(place.longitude) not in page
                assert str(place.latitude).rstrip("0") not in page
        detail = client.get(reverse("aid_posts:detail", args=[post.pk]))
        # 24.4781 → 24.4810 is about 322 m: shown as 300.
        assert detail.context["distance_m"] == 300
        assert re.search(r"\b300\b", detail.content.decode())

    def test_no_distance_without_the_location_consent(self, helper, post):
        Consent.objects.filter(user=helper, kind="location").update(withdrawn_at="2026-11-01T00:00:00Z")
        detail = logged_in(helper).get(reverse("aid_posts:detail", args=[post.pk]))
        assert detail.context["distance_m"] is None

    def test_partners_see_each_others_details_on_the_post(self, resident, helper, post):
        claim = aid_post_claim(actor=helper, post=post)
        claim_accept(actor=resident, claim=claim)
        client = logged_in(helper)
        page = client.get(reverse("aid_posts:detail", args=[post.pk])).content.decode()
        assert phone_of(resident) not in page
        revealed = client.post(reverse("aid_posts:reveal_contact", args=[post.pk]), {"kind": "phone"})
        assert phone_of(resident) in revealed.content.decode()
        assert ContactDisclosure.objects.get().subject_title == post.title
