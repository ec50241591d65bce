"""The header on every page: the person's community, the bell, the main links with the current
one marked, and an account menu; a visitor gets the way in instead."""

import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from neighbors.models import Membership
from neighbors.services import language_set
from tests.factories import PASSWORD, CommunityFactory, MembershipFactory, PlaceFactory

pytestmark = pytest.mark.django_db


def header_of(response) -> str:
    html = response.content.decode()
    return html[html.index('<header class="site-header">') : html.index("</header>")]


def test_a_member_sees_their_communities_and_not_those_they_only_asked_to_join(client, resident, community):
    # Given a resident approved in 莲兴社区 who has asked to join another community too
    other = CommunityFactory(name="莲秀社区")
    MembershipFactory(
        user=resident, community=other, home_place=PlaceFactory(community=other), status=Membership.Status.PENDING
    )
    client.force_login(resident)

    header = header_of(client.get("/posts/"))

    assert "莲兴社区" in header
    assert "莲秀社区" not in header
    assert f'href="{reverse("neighbors:communities")}"' in header


def test_someone_in_two_communities_sees_both(client, resident, community):
    other = CommunityFactory(name="莲秀社区")
    MembershipFactory(user=resident, community=other, home_place=PlaceFactory(community=other))
    client.force_login(resident)

    # In name order (Unicode order, as the database sorts them)
    assert "莲兴社区、莲秀社区" in header_of(client.get("/posts/"))


def test_the_current_page_is_marked_and_no_other(client, resident):
    client.force_login(resident)

    header = header_of(client.get(reverse("aid_posts:nearby")))

    current = re.findall(r'<a href="([^"]+)"[^>]*aria-current="page"', header)
    assert current == [reverse("aid_posts:nearby")]


def test_the_account_menu_holds_the_persons_pages_and_logging_out(client, resident):
    client.force_login(resident)

    header = header_of(client.get("/posts/", HTTP_ACCEPT_LANGUAGE="en"))
    menu = header[header.index('<details class="account-menu">') :]

    for name in ["neighbors:profile", "talent_pool:my_profile", "rewards:overview", "neighbors:help"]:
        assert f'href="{reverse(name)}"' in menu
    assert f'action="{reverse("account_logout")}"' in menu
    assert 'id="notification-bell"' in header


def test_the_workspace_link_is_only_for_staff(client, resident, committee):
    workspace = f'href="{reverse("committee:home")}"'
    client.force_login(resident)
    assert workspace not in header_of(client.get("/posts/"))

    client.force_login(committee)
    assert workspace in header_of(client.get("/posts/"))


def test_a_visitor_gets_logging_in_signing_up_help_and_both_switches(client):
    header = header_of(client.get(reverse("account_login")))

    for name in ["account_login", "account_signup", "neighbors:help"]:
        assert f'href="{reverse(name)}"' in header
    assert 'class="large-text-switch"' in header
    assert 'class="lang-switch"' in header
    assert "account-menu" not in header
    assert "notification-bell" not in header


def test_every_page_tells_the_script_what_to_say_while_a_form_is_sent(client, resident):
    client.force_login(resident)

    english = client.get("/posts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/posts/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert 'data-busy-label="Sending…"' in english
    assert 'data-busy-label="正在发送…"' in chinese
    assert "js/site.js" in english


def test_what_just_happened_is_announced_and_says_what_kind_it_was(client, resident, community):
    # Given a resident who leaves their community (a success message on the next page)
    client.force_login(resident)
    membership = Membership.objects.get(user=resident, community=community)

    page = client.post(
        reverse("neighbors:membership_leave", args=[membership.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert re.search(
        r'<div class="messages" role="status">\s*<p class="message success">You have left 莲兴社区\.</p>', page
    )
    # And pressing it again, on a page from before, says why nothing happened, as an error
    page = client.post(
        reverse("neighbors:membership_leave", args=[membership.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert '<p class="message error">You are no longer in this community.</p>' in page


class TestTheLanguageSwitch:
    URL = reverse("neighbors:language")

    def test_a_member_switching_keeps_the_page_and_their_next_login_keeps_the_language(self, client, resident):
        # Given a resident who reads the site in Chinese (the profile's default)
        resident.profile.refresh_from_db()
        assert resident.profile.language == "zh-hans"
        client.force_login(resident)

        # When they switch to English on the nearby page
        response = client.post(self.URL, {"language": "en", "next": "/posts/nearby/?radius=1000"})

        # Then they are back on that page, in English, and their profile remembers it
        assert response.status_code == 302
        assert response["Location"] == "/posts/nearby/?radius=1000"
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        resident.profile.refresh_from_db()
        assert resident.profile.language == "en"
        # And logging in again, in a fresh browser, applies it
        fresh = Client()
        login = fresh.post(reverse("account_login"), {"login": resident.email, "password": PASSWORD})
        assert login.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        assert '<html lang="en"' in fresh.get("/posts/").content.decode()

    def test_a_visitor_switches_for_this_browser_only(self, client):
        response = client.post(self.URL, {"language": "en", "next": reverse("account_login")})

        assert response["Location"] == reverse("account_login")
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        assert '<html lang="en"' in client.get(reverse("account_login")).content.decode()

    def test_an_unknown_language_changes_nothing_and_a_foreign_page_is_not_followed(self, client, resident):
        client.force_login(resident)

        response = client.post(self.URL, {"language": "xx", "next": "https://evil.example/"})

        assert response.status_code == 302
        assert response["Location"] == "/"
        assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
        resident.profile.refresh_from_db()
        assert resident.profile.language == "zh-hans"

    def test_only_a_post_switches(self, client, resident):
        client.force_login(resident)

        assert client.get(self.URL, {"language": "en"}).status_code == 405
        resident.profile.refresh_from_db()
        assert resident.profile.language == "zh-hans"

    def test_the_service_refuses_a_language_the_site_does_not_have(self, resident):
        with pytest.raises(ValidationError):
            language_set(actor=resident, language="fr")
        resident.profile.refresh_from_db()
        assert resident.profile.language == "zh-hans"
