"""Join, share a phone with the community, see who looked at it, block, delete: in a real browser.

A newcomer signs up on a phone in Chinese; the committee approves at a desktop in
English; a neighbour looks at the newcomer's phone number; the newcomer reads that
on "who has seen my details", blocks the neighbour, whose page turns into a 404,
and finally deletes the account from "My data".
"""

import io
import re

import pytest
from django.core import mail
from PIL import Image
from playwright.sync_api import Page, expect

from neighbors.models import Grid, Membership, Place
from tests.e2e.browser import log_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory

PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN"}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US"}
NEWCOMER_EMAIL = "xiaoliu@example.test"
NEWCOMER_PHONE = "13655556666"
NEWCOMER_PASSWORD = "a-long-pass-phrase-77"


def gps_photo() -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (24.0, 28.0, 41.0), 3: "E", 4: (118.0, 8.0, 43.0)})
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def neighbourhood(community, building):
    """A community with a grid, its committee member and one neighbour, made before the browsers start."""
    grid = Grid.objects.create(community=community, name="第一网格")
    Place.objects.filter(pk=building.pk).update(grid=grid)
    committee = UserFactory(username="chen", email="chen@example.test", profile__language="en")
    MembershipFactory(user=committee, community=community, home_place=building, role=Membership.Role.COMMITTEE)
    neighbour = UserFactory(username="zhao", email="zhao@example.test")
    MembershipFactory(user=neighbour, community=community, home_place=building)
    return {"community": community, "building": building, "committee": committee, "neighbour": neighbour}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_join_share_see_who_looked_and_block(neighbourhood, new_browser_context, live_asgi_url, mailoutbox):
    community, building = neighbourhood["community"], neighbourhood["building"]

    # A newcomer signs up on a phone, in Chinese.
    newcomer = new_browser_context(**PHONE).new_page()
    newcomer.goto("/accounts/signup/")
    expect(newcomer.locator("html")).to_have_attribute("lang", "zh-hans")
    form = newcomer.locator('form[action="/accounts/signup/"]')
    form.locator("input[name=email]").fill(NEWCOMER_EMAIL)
    form.locator("input[name=display_name]").fill("小刘")
    form.locator("input[name=age_group][value=adult]").check()
    form.locator("input[name=password1]").fill(NEWCOMER_PASSWORD)
    form.locator("input[name=password2]").fill(NEWCOMER_PASSWORD)
    form.locator("input[name=consent]").check()
    form.locator("button[type=submit]").click()
    newcomer.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(1)
    newcomer.goto(link)
    newcomer.locator("main form button[type=submit]").click()
    # Confirming in the browser that signed up logs the newcomer in (allauth keeps the login pending).
    newcomer.wait_for_url(f"{live_asgi_url}/")
    expect(newcomer.locator("header")).to_contain_text("小刘")

    # ... and asks to join, saying they rent their flat.
    newcomer.goto("/communities/")
    join = newcomer.locator("main form.stack")
    join.locator("select[name=community]").select_option(str(community.pk))
    join.locator("select[name=home_place]").select_option(str(building.pk))
    join.locator("input[name=tenure][value=tenant]").check()
    join.locator("button[type=submit]").click()
    expect(newcomer.locator(".badge.status-pending")).to_be_visible()
    assert no_horizontal_scroll(newcomer)

    # The committee approves at a desktop, in English.
    committee = new_browser_context(**DESKTOP).new_page()
    log_in(committee, live_asgi_url, neighbourhood["committee"].email, PASSWORD)
    committee.goto("/communities/requests/")
    request = committee.locator("section.card", has_text="小刘")
    expect(request).to_contain_text("Tenant")
    request.get_by_role("button", name="Approve").click()
    expect(committee.locator(".message.success")).to_contain_text("is now a member")
    committee.goto("/communities/members/")
    newcomer_url = committee.get_by_role("link", name="小刘", exact=True).get_attribute("href")
    neighbour_url = committee.get_by_role("link", name="zhao", exact=True).get_attribute("href")

    # The newcomer shares a phone with the whole community and adds a photo with GPS in it.
    newcomer.goto("/me/contacts/")
    phone_form = newcomer.locator("#contact-phone form")
    phone_form.locator("input[name=phone-value]").fill(NEWCOMER_PHONE)
    phone_form.locator("input[name=phone-scope][value=community]").check()
    phone_form.locator("input[name=phone-share_consent]").check()
    phone_form.locator("button[type=submit]").click()
    expect(newcomer.locator(".message.success")).to_be_visible()
    assert no_horizontal_scroll(newcomer)
    newcomer.goto("/me/")
    newcomer.locator("input[name=avatar]").set_input_files(
        files=[{"name": "门牌.jpg", "mimeType": "image/jpeg", "buffer": gps_photo()}]
    )
    newcomer.locator("main form.stack button[type=submit]").click()
    expect(newcomer.locator("main img.avatar")).to_be_visible()

    # A neighbour sees the number masked, and in full only by asking (which is logged).
    neighbour = new_browser_context(**PHONE).new_page()
    log_in(neighbour, live_asgi_url, neighbourhood["neighbour"].email, PASSWORD)
    neighbour.goto(newcomer_url)
    row = neighbour.locator("#contact-phone")
    expect(row).to_contain_text("136****6666")
    expect(row).not_to_contain_text(NEWCOMER_PHONE)
    row.get_by_role("button").click()
    expect(neighbour.locator("#contact-phone .revealed")).to_have_text(NEWCOMER_PHONE)
    assert no_horizontal_scroll(neighbour)

    # The newcomer sees who looked, and blocks them.
    newcomer.goto("/me/seen-my-details/")
    expect(newcomer.locator("table")).to_contain_text("zhao")
    expect(newcomer.locator("table")).to_contain_text(community.name)
    newcomer.goto(neighbour_url)
    newcomer.locator(f'form[action="{neighbour_url}block/"] button').click()
    expect(newcomer.locator("main")).to_contain_text("zhao")

    # The blocked neighbour no longer finds the page: the same 404 as a page that never was.
    response = neighbour.goto(newcomer_url)
    assert response.status == 404

    # "My data": what is held, a copy to take away, and deleting the account.
    newcomer.goto("/me/data/")
    expect(newcomer.locator("#data-contacts")).to_contain_text(NEWCOMER_PHONE)
    with newcomer.expect_download() as download:
        newcomer.locator('a[href="/me/data/export.json"]').click()
    assert NEWCOMER_PHONE in download.value.path().read_text(encoding="utf-8")
    delete = newcomer.locator("#delete-account form")
    delete.locator("input[name=password]").fill("not my password")
    delete.locator("input[name=confirm]").check()
    delete.locator("button[type=submit]").click()
    expect(newcomer.locator("#delete-account .error")).to_be_visible()
    delete = newcomer.locator("#delete-account form")
    delete.locator("input[name=password]").fill(NEWCOMER_PASSWORD)
    delete.locator("input[name=confirm]").check()
    delete.locator("button[type=submit]").click()
    newcomer.wait_for_url(f"{live_asgi_url}/")
    expect(newcomer.locator("header")).not_to_contain_text("小刘")
    assert no_horizontal_scroll(newcomer)

    # The committee's list no longer has them.
    committee.goto("/communities/members/")
    expect(committee.locator("main")).not_to_contain_text("小刘")
