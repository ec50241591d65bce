from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aid_posts.models import AidPost, Claim
from aid_posts.services import aid_post_claim, aid_post_mark_done, claim_accept
from messaging.models import Conversation, Message
from neighbors.models import ContactDisclosure, LedgerEntry, mask_phone
from tests.factories import AidPostFactory, phone_of, skill

pytestmark = pytest.mark.django_db


def window_form(*, starts_in_hours: int = 1, hours: int = 3) -> dict:
    """The time window as the form's datetime-local inputs send it, in the site's time zone."""
    starts = timezone.localtime() + timedelta(hours=starts_in_hours)
    return {
        "urgency": "0",
        "seats": "1",
        "window_starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "window_ends_at": (starts + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M"),
    }


def logged_in(user, language: str = "zh-hans") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_the_whole_path_over_http(resident, helper, community, building):
    """Post → claim → accept → chat → reveal phone → done → confirm → points."""
    poster, neighbour = logged_in(resident), logged_in(helper)

    response = poster.post(
        reverse("aid_posts:create"),
        {
            "community": community.pk,
            "category": skill().pk,
            "title": "换灯泡",
            "description": "客厅灯坏了",
            "place": building.pk,
            **window_form(),
        },
    )
    post = AidPost.objects.get()
    assert response.url == reverse("aid_posts:detail", args=[post.pk])
    assert "换灯泡" in neighbour.get(reverse("aid_posts:list")).content.decode()

    neighbour.post(reverse("aid_posts:claim", args=[post.pk]))
    poster.post(reverse("aid_posts:claim_accept", args=[post.pk, Claim.objects.get().pk]))
    conversation = Conversation.objects.get(subject=post.subject)

    neighbour.post(reverse("messaging:conversation", args=[conversation.pk]), {"body": "我十点到", "client_id": "h1"})
    assert "我十点到" in poster.get(reverse("messaging:conversation", args=[conversation.pk])).content.decode()

    detail = neighbour.get(reverse("aid_posts:detail", args=[post.pk])).content.decode()
    assert mask_phone(phone_of(resident)) in detail
    assert phone_of(resident) not in detail
    revealed = neighbour.post(reverse("aid_posts:reveal_contact", args=[post.pk]), {"kind": "phone"}).content.decode()
    assert phone_of(resident) in revealed
    assert ContactDisclosure.objects.filter(viewer=helper, owner=resident, subject=post.subject).count() == 1
    seen = poster.get(reverse("neighbors:disclosures")).content.decode()
    assert helper.profile.display_name in seen
    assert "换灯泡" in seen

    neighbour.post(reverse("aid_posts:mark_done", args=[post.pk]), {"hours": "1.5"})
    poster.post(reverse("aid_posts:confirm", args=[post.pk]))
    post.refresh_from_db()
    assert post.status == AidPost.Status.CONFIRMED
    points = neighbour.get(reverse("neighbors:points"))
    assert points.context["totals"]["points"] == 10
    assert LedgerEntry.objects.get(user=helper).hours == Decimal("1.5")


def test_an_outsider_gets_404_not_403(post, outsider):
    client = logged_in(outsider)
    assert client.get(reverse("aid_posts:detail", args=[post.pk])).status_code == 404
    assert client.post(reverse("aid_posts:claim", args=[post.pk])).status_code == 404
    assert post.title not in client.get(reverse("aid_posts:list")).content.decode()
    assert not Claim.objects.exists()


def test_a_second_claim_shows_a_clear_message(post, helper, make_member):
    logged_in(helper).post(reverse("aid_posts:claim", args=[post.pk]))
    late = logged_in(make_member(), language="en")
    response = late.post(reverse("aid_posts:claim", args=[post.pk]), follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "Every seat on this request is taken, or it is no longer open."
    ]
    assert Claim.objects.count() == 1


def test_claiming_own_post_is_refused(post, resident):
    response = logged_in(resident).post(reverse("aid_posts:claim", args=[post.pk]), follow=True)
    assert response.status_code == 200
    assert len(list(response.context["messages"])) == 1
    assert not Claim.objects.exists()


def test_a_stranger_cannot_reveal_the_phone(post, resident, helper, make_member):
    claim = aid_post_claim(actor=helper, post=post)
    claim_accept(actor=resident, claim=claim)
    bystander = logged_in(make_member())
    response = bystander.post(reverse("aid_posts:reveal_contact", args=[post.pk]), {"kind": "phone"}, follow=True)
    assert phone_of(resident) not in response.content.decode()
    assert not ContactDisclosure.objects.exists()


def test_bad_hours_are_a_form_error(post, resident, helper):
    claim = aid_post_claim(actor=helper, post=post)
    claim_accept(actor=resident, claim=claim)
    response = logged_in(helper).post(reverse("aid_posts:mark_done", args=[post.pk]), {"hours": "-3"})
    assert response.status_code == 400
    assert response.context["done_form"].errors["hours"]
    post.refresh_from_db()
    assert post.status == AidPost.Status.IN_PROGRESS


def test_confirm_twice_pays_once(post, resident, helper):
    claim = aid_post_claim(actor=helper, post=post)
    claim_accept(actor=resident, claim=claim)
    aid_post_mark_done(actor=helper, post=post, hours=Decimal("1"))
    poster = logged_in(resident)
    poster.post(reverse("aid_posts:confirm", args=[post.pk]))
    response = poster.post(reverse("aid_posts:confirm", args=[post.pk]))
    assert response.status_code == 403
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("title", "description"), [("", "客厅灯坏了"), ("标" * 101, "客厅灯坏了"), ("换灯泡", ""), ("换灯泡", "字" * 2001)]
)
def test_create_with_bad_fields_is_a_form_error(resident, community, building, title, description):
    response = logged_in(resident).post(
        reverse("aid_posts:create"),
        {
            "community": community.pk,
            "category": skill().pk,
            "title": title,
            "description": description,
            "place": building.pk,
            **window_form(),
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not AidPost.objects.exists()


def test_create_in_a_foreign_community_is_a_form_error(resident, outsider):
    foreign = AidPostFactory(author=outsider)
    response = logged_in(resident).post(
        reverse("aid_posts:create"),
        {
            "community": foreign.community.pk,
            "category": skill().pk,
            "title": "t",
            "description": "d",
            "place": foreign.place.pk,
            **window_form(),
        },
    )
    assert response.status_code == 400
    assert "community" in response.context["form"].errors
    assert AidPost.objects.count() == 1


def test_missing_csrf_token_is_refused(post, helper):
    client = Client(enforce_csrf_checks=True)
    client.force_login(helper)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("aid_posts:claim", args=[post.pk]))
    assert response.status_code == 403
    assert "Page expired" in response.content.decode()
    assert not Claim.objects.exists()


def test_forged_csrf_token_is_refused(post, helper):
    client = Client(enforce_csrf_checks=True)
    client.force_login(helper)
    client.get(reverse("aid_posts:detail", args=[post.pk]))
    response = client.post(reverse("aid_posts:claim", args=[post.pk]), {"csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 403
    assert not Claim.objects.exists()


def test_list_query_count_does_not_grow_with_posts(resident, community, building, django_assert_max_num_queries):
    client = logged_in(resident)
    for n in range(3):
        AidPostFactory(community=community, place=building, title=f"p{n}")
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("aid_posts:list"))
    for n in range(20):
        AidPostFactory(community=community, place=building, title=f"q{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("aid_posts:list"))


def test_message_to_a_conversation_you_are_not_in(post, resident, helper, make_member):
    claim = aid_post_claim(actor=helper, post=post)
    conversation = claim_accept(actor=resident, claim=claim)
    stranger = logged_in(make_member())
    url = reverse("messaging:conversation", args=[conversation.pk])
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, {"body": "hi"}).status_code == 404
    assert not Message.objects.exists()


def test_empty_http_message_is_a_form_error(post, resident, helper):
    claim = aid_post_claim(actor=helper, post=post)
    conversation = claim_accept(actor=resident, claim=claim)
    response = logged_in(helper).post(reverse("messaging:conversation", args=[conversation.pk]), {"body": "  "})
    assert response.status_code == 400
    assert not Message.objects.exists()
