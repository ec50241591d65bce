"""The large-text mode (长辈模式): one switch in the header, remembered for the browser (a cookie)
and for the person (their profile); large, high-contrast pages; and a home page of one-tap buttons
for the kinds of help most asked for in the person's communities."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aid_posts.models import AidPost
from aid_posts.selectors import common_categories
from neighbors.context_processors import LARGE_TEXT_COOKIE
from tests.factories import AidPostFactory, CommunityFactory, PlaceFactory, skill

pytestmark = pytest.mark.django_db

SWITCH = reverse("neighbors:large_text")
LARGE = 'class="large-text"'


def switch(client, on: bool, back: str = "/posts/"):
    return client.post(SWITCH, {"on": "1" if on else "0", "next": back})


class TestTheSwitch:
    def test_a_visitor_turns_it_on_for_this_browser_and_off_again(self, client):
        response = switch(client, True, "/accounts/login/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/"
        cookie = response.cookies[LARGE_TEXT_COOKIE]
        assert cookie.value == "1"
        assert cookie["httponly"]
        assert cookie["max-age"] == 365 * 24 * 3600
        page = client.get("/accounts/login/").content.decode()
        assert LARGE in page
        assert 'aria-pressed="true"' in page

        switch(client, False, "/accounts/login/")
        page = client.get("/accounts/login/").content.decode()
        assert LARGE not in page
        assert 'aria-pressed="false"' in page

    def test_another_browser_is_not_changed_by_a_visitors_switch(self, client):
        switch(client, True)
        assert LARGE not in Client().get("/accounts/login/").content.decode()

    def test_a_person_turns_it_on_for_every_browser_they_use(self, client, resident):
        client.force_login(resident)
        switch(client, True)
        resident.profile.refresh_from_db()
        assert resident.profile.large_text is True
        phone = Client()
        phone.force_login(resident)
        assert LARGE in phone.get(reverse("neighbors:profile")).content.decode()

    def test_logged_in_the_profile_decides_not_the_cookie(self, client, resident):
        switch(client, True)  # as a visitor, on this browser
        client.force_login(resident)
        assert LARGE not in client.get(reverse("neighbors:profile")).content.decode()

    def test_it_goes_back_only_to_this_site(self, client):
        response = switch(client, True, "https://evil.example/phish")
        assert response["Location"] == reverse("home")
        response = switch(client, True, "")
        assert response["Location"] == reverse("home")

    def test_it_changes_only_on_a_post(self, client, resident):
        client.force_login(resident)
        assert client.get(SWITCH).status_code == 405
        resident.profile.refresh_from_db()
        assert resident.profile.large_text is False

    def test_a_post_without_the_csrf_token_is_refused(self, resident):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(resident)
        assert browser.post(SWITCH, {"on": "1"}).status_code == 403
        resident.profile.refresh_from_db()
        assert resident.profile.large_text is False


class TestTheLargeTextHome:
    def test_the_five_most_asked_for_kinds_of_help_come_first_then_the_usual_ones(self, resident, community, building):
        asked = {"legal-consultation": 3, "tutoring": 2, "errands": 1}
        for code, count in asked.items():
            for _ in range(count):
                AidPostFactory(community=community, place=building, category=skill(code))
        # Long ago, or in another community: not counted.
        old = AidPostFactory(community=community, place=building, category=skill("translation"))
        AidPost.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=200))
        elsewhere = CommunityFactory(name="别的社区")
        for _ in range(5):
            AidPostFactory(community=elsewhere, place=PlaceFactory(community=elsewhere), category=skill("counselling"))
        for code in ("electrical", "it-help", "home-repair", "elderly-companionship"):
            skill(code)

        codes = [category.code for category in common_categories(resident)]
        assert codes == ["legal-consultation", "tutoring", "errands", "electrical", "it-help"]

    def test_the_home_page_offers_them_as_one_tap_buttons(self, client, resident, community, building):
        for code in ("errands", "electrical", "it-help", "home-repair", "elderly-companionship"):
            skill(code)
        resident.profile.large_text = True
        resident.profile.save()
        client.force_login(resident)
        response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
        page = response.content.decode()
        assert "aid_posts/home_easy.html" in [template.name for template in response.templates]
        errands = skill("errands")
        link = f"{reverse('aid_posts:create')}?category={errands.pk}"
        assert f'href="{link}"' in page
        assert page.count('<li><a href="/posts/new/?category=') == 5
        # One tap opens the form with that kind of help chosen.
        form = client.get(link).context["form"]
        assert form.initial["category"] == errands

    def test_the_usual_home_page_without_it(self, client, resident):
        client.force_login(resident)
        response = client.get(reverse("home"))
        assert "aid_posts/home.html" in [template.name for template in response.templates]

    @pytest.mark.parametrize("asked", ["abc", "-1", "999999", "1" * 30, ""])
    def test_a_category_that_names_nothing_leaves_the_form_to_ask(self, client, resident, asked):
        client.force_login(resident)
        response = client.get(reverse("aid_posts:create"), {"category": asked})
        assert response.status_code == 200
        assert response.context["form"].initial["category"] is None
