"""The request pages: the posting forms (for oneself and for a resident), photos, private
details, and the closing forms, with their refusals."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from aid_posts.models import AidPost, Claim, Feedback, PostPhoto
from aid_posts.services import aid_post_claim, aid_post_create, aid_post_mark_done, claim_accept
from neighbors.models import Consent, Membership
from tests.aid_posts.test_views import logged_in, window_form
from tests.factories import PlaceFactory, phone_of, skill, window

pytestmark = pytest.mark.django_db


def jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", (60, 40), "green").save(data, "JPEG")
    return SimpleUploadedFile(name, data.getvalue(), content_type="image/jpeg")


def form_data(community, building, **extra) -> dict:
    return {
        "community": community.pk,
        "category": skill().pk,
        "title": "帮忙搬米",
        "description": "一袋二十斤的米，搬上五楼。",
        "place": building.pk,
        **window_form(),
        **extra,
    }


class TestPostingForm:
    def test_photos_and_private_details_with_consent_given_on_the_form(self, resident, community, building):
        data = form_data(
            community,
            building,
            photos=[jpeg(), jpeg()],
            sensitive_details="腰不好，不能弯腰",
            grant_health_consent="on",
        )
        response = logged_in(resident).post(reverse("aid_posts:create"), data)
        post = AidPost.objects.get()
        assert response.url == reverse("aid_posts:detail", args=[post.pk])
        assert post.photos.count() == 2
        assert post.sensitive_details == "腰不好，不能弯腰"
        assert Consent.objects.filter(user=resident, kind=Consent.Kind.HEALTH).exists()

    def test_five_photos_are_a_form_error(self, resident, community, building):
        data = form_data(community, building, photos=[jpeg() for _ in range(5)])
        response = logged_in(resident).post(reverse("aid_posts:create"), data)
        assert response.status_code == 400
        assert response.context["form"].errors["photos"]
        assert not AidPost.objects.exists()
        assert not PostPhoto.objects.exists()

    def test_a_file_that_is_not_an_image_is_a_form_error(self, resident, community, building):
        fake = SimpleUploadedFile("x.jpg", b"<html>not an image</html>", content_type="image/jpeg")
        response = logged_in(resident).post(reverse("aid_posts:create"), form_data(community, building, photos=[fake]))
        assert response.status_code == 400
        assert not AidPost.objects.exists()

    def test_private_details_without_consent_are_a_form_error(self, resident, community, building):
        data = form_data(community, building, sensitive_details="心脏不好")
        response = logged_in(resident).post(reverse("aid_posts:create"), data)
        assert response.status_code == 400
        assert response.context["form"].errors["sensitive_details"]
        assert not AidPost.objects.exists()

    @pytest.mark.parametrize(
        "times",
        [
            {"window_starts_at": "2020-01-01T09:00", "window_ends_at": "2020-01-01T10:00"},
            {"window_starts_at": "not a date", "window_ends_at": "2030-01-01T10:00"},
        ],
    )
    def test_a_window_in_the_past_or_garbage_is_a_form_error(self, resident, community, building, times):
        response = logged_in(resident).post(reverse("aid_posts:create"), form_data(community, building, **times))
        assert response.status_code == 400
        assert not AidPost.objects.exists()

    def test_an_expiry_before_now_is_a_form_error(self, resident, community, building):
        past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        response = logged_in(resident).post(
            reverse("aid_posts:create"), form_data(community, building, expires_at=past)
        )
        assert response.status_code == 400
        assert response.context["form"].errors["expires_at"]
        assert not AidPost.objects.exists()


class TestAssistedPostingForm:
    def test_a_grid_worker_posts_for_a_resident_of_their_grid(self, grid_worker, resident, community, building):
        membership = resident.memberships.get()
        data = form_data(community, building, resident=membership.pk, assisted_consent="in_person")
        response = logged_in(grid_worker).post(reverse("aid_posts:create_for"), data)
        post = AidPost.objects.get()
        assert response.url == reverse("aid_posts:detail", args=[post.pk])
        assert (post.author, post.assisted_by, post.assisted_consent) == (resident, grid_worker, "in_person")
        page = logged_in(resident).get(reverse("aid_posts:detail", args=[post.pk])).content.decode()
        assert reverse("aid_posts:take_over", args=[post.pk]) in page

    def test_a_resident_outside_their_grids_is_not_offered(self, grid_worker, community, make_member):
        elsewhere = PlaceFactory(community=community, name="9号楼")
        stranger = make_member()
        stranger.memberships.update(home_place=elsewhere)
        data = form_data(community, elsewhere, resident=stranger.memberships.get().pk, assisted_consent="by_phone")
        response = logged_in(grid_worker).post(reverse("aid_posts:create_for"), data)
        assert response.status_code == 400
        assert "resident" in response.context["form"].errors
        assert not AidPost.objects.exists()

    def test_a_resident_cannot_open_the_assisted_form(self, resident):
        assert logged_in(resident).get(reverse("aid_posts:create_for")).status_code == 403

    def test_the_agreement_is_required(self, grid_worker, resident, community, building):
        data = form_data(community, building, resident=resident.memberships.get().pk)
        response = logged_in(grid_worker).post(reverse("aid_posts:create_for"), data)
        assert response.status_code == 400
        assert not AidPost.objects.exists()


@pytest.fixture
def rich_post(resident, community, building):
    from neighbors.images import image_process
    from neighbors.services import consent_grant

    consent_grant(actor=resident, kind=Consent.Kind.HEALTH)
    return aid_post_create(
        **window(),
        actor=resident,
        community=community,
        category=skill(),
        title="陪同就医",
        description="周三上午去医院复查",
        place=building,
        photos=[image_process(jpeg())],
        sensitive_details="需要轮椅",
    )


class TestDetailPage:
    def test_photos_are_served_to_members_only(self, rich_post, helper, outsider):
        photo = rich_post.photos.get()
        for name in ("aid_posts:photo", "aid_posts:photo_thumbnail"):
            url = reverse(name, args=[rich_post.pk, photo.pk])
            response = logged_in(helper).get(url)
            assert response.status_code == 200
            assert response["Content-Type"] == "image/jpeg"
            assert "private" in response["Cache-Control"]
            assert logged_in(outsider).get(url).status_code == 404
        assert logged_in(helper).get(reverse("aid_posts:photo", args=[rich_post.pk, 999999])).status_code == 404

    def test_private_details_show_only_to_the_accepted_helper(self, rich_post, resident, helper, make_member):
        url = reverse("aid_posts:detail", args=[rich_post.pk])
        committee = make_member(role=Membership.Role.COMMITTEE)
        assert "需要轮椅" not in logged_in(helper).get(url).content.decode()
        claim_accept(actor=resident, claim=aid_post_claim(actor=helper, post=rich_post))
        assert "需要轮椅" in logged_in(helper).get(url).content.decode()
        assert "需要轮椅" in logged_in(resident).get(url).content.decode()
        assert "需要轮椅" not in logged_in(committee).get(url).content.decode()

    def test_rating_form_after_confirmation(self, post, resident, helper):
        claim_accept(actor=resident, claim=aid_post_claim(actor=helper, post=post))
        aid_post_mark_done(actor=helper, post=AidPost.objects.get(pk=post.pk), hours=Decimal("1"))
        poster = logged_in(resident)
        poster.post(reverse("aid_posts:confirm", args=[post.pk]))
        bad = poster.post(reverse("aid_posts:feedback", args=[post.pk]), {"rating": "9"})
        assert bad.status_code == 400
        assert not Feedback.objects.exists()
        assert logged_in(helper).post(reverse("aid_posts:feedback", args=[post.pk]), {"rating": "5"}).status_code == 403
        poster.post(reverse("aid_posts:feedback", args=[post.pk]), {"rating": "5", "comment": "谢谢"})
        assert Feedback.objects.get().rating == 5

    def test_dispute_without_a_reason_is_a_form_error(self, post, resident, helper):
        claim_accept(actor=resident, claim=aid_post_claim(actor=helper, post=post))
        aid_post_mark_done(actor=helper, post=AidPost.objects.get(pk=post.pk), hours=Decimal("1"))
        response = logged_in(resident).post(reverse("aid_posts:dispute", args=[post.pk]), {"reason": ""})
        assert response.status_code == 400
        assert AidPost.objects.get(pk=post.pk).status == AidPost.Status.DONE

    def test_two_helpers_each_see_the_poster_and_the_poster_sees_both(self, resident, community, building, make_member):
        post = aid_post_create(
            **window(),
            actor=resident,
            community=community,
            category=skill(),
            title="搬家",
            description="三个人",
            place=building,
            seats=2,
        )
        first, second = make_member(), make_member()
        for person in (first, second):
            claim_accept(actor=resident, claim=aid_post_claim(actor=person, post=AidPost.objects.get(pk=post.pk)))
        page = logged_in(resident).get(reverse("aid_posts:detail", args=[post.pk])).content.decode()
        assert f'id="contact-phone-{first.pk}"' in page and f'id="contact-phone-{second.pk}"' in page
        revealed = logged_in(resident).post(
            reverse("aid_posts:reveal_contact", args=[post.pk]), {"kind": "phone", "person": second.pk}
        )
        body = revealed.content.decode()
        assert phone_of(second) in body and phone_of(first) not in body
        assert Claim.objects.filter(status="accepted").count() == 2
