"""While a form is on its way: the pressed button says so, and pressing it again sends nothing
more (static/js/site.js). And the account menu in the header closes when the person is done."""

import re

import pytest
from playwright.sync_api import expect

from aid_posts.models import AidPost
from tests.e2e.browser import in_own_thread, log_in
from tests.factories import skill

PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN", "is_mobile": True, "has_touch": True}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_slow_post_shows_it_is_sending_and_a_second_press_sends_nothing(
    community, building, resident, new_browser_context, live_asgi_url
):
    # Given a resident filling in the request form on a phone, on a line so slow that the
    # answer has not come when they press again
    ids = {"community": str(community.pk), "category": str(skill().pk), "place": str(building.pk)}
    page = new_browser_context(**PHONE).new_page()
    log_in(page, live_asgi_url, resident.email)
    page.goto("/posts/new/")
    form = page.locator("form.stack")
    for name, value in ids.items():
        form.locator(f"select[name={name}]").select_option(value)
    form.locator("input[name=title]").fill("帮忙换灯泡")
    form.locator("textarea[name=description]").fill("厨房的灯坏了。")
    held = []
    page.route(
        "**/posts/new/", lambda route: held.append(route) if route.request.method == "POST" else route.continue_()
    )

    # When they press "post" twice
    button = form.locator("button[type=submit]")
    button.click(no_wait_after=True)
    # (Read once, not awaited with expect: a page whose navigation is pending answers
    # evaluate() but not Playwright's waiting.)
    state = page.evaluate(
        """() => { const form = document.querySelector('form.stack');
                   const button = form.querySelector('button[type=submit]');
                   return [form.getAttribute('aria-busy'), button.classList.contains('is-busy'),
                           button.getAttribute('aria-disabled'), form.querySelector('.busy-note').textContent]; }"""
    )
    assert state == ["true", True, "true", "正在发送…"]
    page.evaluate("() => document.querySelector('form.stack button[type=submit]').click()")
    page.wait_for_timeout(300)

    # Then one request went out, and once it is answered there is one new request
    assert len(held) == 1
    held[0].continue_()
    page.wait_for_url(re.compile(r"/posts/\d+/$"))
    assert in_own_thread(lambda: AidPost.objects.filter(title="帮忙换灯泡").count()) == 1


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_account_menu_opens_and_closes_by_touch_and_by_keyboard(resident, new_browser_context, live_asgi_url):
    # Given a resident on a phone
    page = new_browser_context(**PHONE).new_page()
    log_in(page, live_asgi_url, resident.email)
    menu = page.locator("header details.account-menu")
    profile_link = menu.locator('a[href="/me/"]')

    # When they open the menu, it shows their pages; a tap elsewhere closes it
    menu.locator("summary").click()
    expect(profile_link).to_be_visible()
    page.locator("main").click(position={"x": 5, "y": 5})
    expect(profile_link).to_be_hidden()

    # And from the keyboard: Enter opens it, Escape closes it and puts focus back on it
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(profile_link).to_be_visible()
    page.keyboard.press("Escape")
    expect(profile_link).to_be_hidden()
    assert page.evaluate("() => document.activeElement.tagName") == "SUMMARY"
