"""Poster and helper chat in real time: what one sends, the other sees without reloading; the
sender sees "Seen"; a page that lost its connection catches up and sends what was written
meanwhile, once; photos and a shared phone number go through their HTTP paths from the page."""

import re
from dataclasses import dataclass, field

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from aid_posts.services import aid_post_claim, claim_accept
from messaging.models import Conversation
from neighbors.models import User
from tests.e2e.browser import MINE, chat_send, log_in
from tests.factories import phone_of

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
WAIT_MS = 10_000
# Before any page script runs: keep every WebSocket the page opens where the test can close it,
# and while window.__e2eHold is set send new ones to a port nobody listens on, as if the network
# were down. The page's own code is untouched.
HOLDABLE_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__e2eSockets = [];
  window.__e2eHold = false;
  class Recorded extends Native {
    constructor(url, protocols) {
      super(window.__e2eHold ? "ws://127.0.0.1:9/" : url, protocols);
      window.__e2eSockets.push(this);
    }
  }
  window.WebSocket = Recorded;
})();
"""


@dataclass
class ChatSide:
    """One person's browser on the conversation page, and what the page did there."""

    name: str
    context: BrowserContext
    page: Page
    chat_url: str = ""
    posts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def conversation(post, resident, helper) -> Conversation:
    claim = aid_post_claim(actor=helper, post=post)
    return claim_accept(actor=resident, claim=claim)


def open_chat(new_browser_context, live_asgi_url: str, name: str, user: User, conversation_id: int, **options):
    """Log in through the real login page, open the conversation, wait for the socket."""
    context = new_browser_context(**options)
    context.add_init_script(HOLDABLE_SOCKETS)
    page = context.new_page()
    side = ChatSide(name=name, context=context, page=page)
    page.on("pageerror", lambda error: side.errors.append(str(error)))

    log_in(page, live_asgi_url, user.email)

    page.goto(f"/messages/{conversation_id}/")
    side.chat_url = page.url
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=WAIT_MS)
    # From here on a POST would mean the HTTP fallback, and a navigation would drop this marker.
    page.on("request", lambda request: side.posts.append(request.url) if request.method == "POST" else None)
    page.evaluate("() => { window.__e2eNoReload = true; }")
    return side


def expect_received(side: ChatSide, text: str) -> None:
    message = side.page.locator("#chat-log .chat-message", has_text=text)
    expect(message).to_be_visible(timeout=WAIT_MS)
    expect(message).not_to_have_class(MINE)


def message_in_log(side: ChatSide, text: str):
    return side.page.locator("#chat-log .chat-message", has_text=text)


def drop_connection(side: ChatSide) -> None:
    """Close the chat socket from inside the page and keep it from reconnecting."""
    side.page.evaluate(
        """() => {
          window.__e2eHold = true;
          window.__e2eSockets.filter((s) => s.url.includes("/ws/conversations/")).forEach((s) => s.close());
        }"""
    )
    expect(side.page.locator("#conn-state")).to_have_attribute("data-state", "offline", timeout=WAIT_MS)


def restore_connection(side: ChatSide) -> None:
    """Let it connect again; the "online" event spares the test the back-off wait."""
    side.page.evaluate("""() => { window.__e2eHold = false; window.dispatchEvent(new Event("online")); }""")
    expect(side.page.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=WAIT_MS)


def assert_stayed_on_page(side: ChatSide) -> None:
    assert side.page.url == side.chat_url, f"{side.name}'s page navigated away"
    assert side.page.evaluate("() => window.__e2eNoReload === true"), f"{side.name}'s page was reloaded"
    assert side.posts == [], f"{side.name}'s page posted over HTTP: {side.posts}"
    assert side.errors == [], f"{side.name}'s page raised: {side.errors}"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_poster_and_helper_see_each_others_messages_without_reloading(
    conversation, resident, helper, new_browser_context, live_asgi_url, artifacts_dir
):
    # Given the poster on a phone and the accepted helper at a desktop, both on the chat page
    # (the data exists before the browsers start: Django refuses ORM calls beside Playwright).
    conversation_id, poster_user, helper_user = conversation.pk, resident, helper
    poster = open_chat(
        new_browser_context,
        live_asgi_url,
        "poster",
        poster_user,
        conversation_id,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    helper = open_chat(
        new_browser_context, live_asgi_url, "helper", helper_user, conversation_id, viewport=DESKTOP, locale="en-US"
    )

    # When the poster sends a message, then the helper sees it arrive
    question = "师傅您好，明天上午十点方便过来吗？"
    chat_send(poster.page, question, WAIT_MS)
    expect_received(helper, question)

    # And the poster sees that the helper (whose page is in front of them) has seen it
    expect(message_in_log(poster, question).locator(".seen")).to_be_visible(timeout=WAIT_MS)

    # When the helper replies, then the poster sees the reply
    reply = "可以的，我十点带工具过来。"
    chat_send(helper.page, reply, WAIT_MS)
    expect_received(poster, reply)

    # And both arrived over the WebSocket: no page navigated, reloaded or posted the form
    for side in (poster, helper):
        assert_stayed_on_page(side)
        expect(side.page.locator("#conn-state")).to_have_attribute("data-state", "online")
        side.page.screenshot(path=artifacts_dir / f"chat-{side.name}.png", full_page=True)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_page_that_lost_its_connection_catches_up_and_sends_what_was_written_meanwhile(
    conversation, resident, helper, new_browser_context, live_asgi_url, artifacts_dir
):
    # Given both on the chat page
    conversation_id, poster_user, helper_user = conversation.pk, resident, helper
    poster = open_chat(new_browser_context, live_asgi_url, "poster", poster_user, conversation_id, locale="en-US")
    helper = open_chat(new_browser_context, live_asgi_url, "helper", helper_user, conversation_id, locale="en-US")

    # When the poster's connection drops
    drop_connection(poster)

    # and meanwhile the helper writes, and the poster writes too
    missed = "我已经出门了，大概二十分钟到。"
    chat_send(helper.page, missed, WAIT_MS)
    written_offline = "好的，我在楼下等您。"
    form = poster.page.locator("form#chat-form")
    form.locator("textarea[name=body]").fill(written_offline)
    form.locator("button[type=submit]").click()
    pending = poster.page.locator("#chat-outbox .chat-message", has_text=written_offline)
    expect(pending).to_be_visible()
    expect(message_in_log(poster, missed)).to_have_count(0)

    # Then, once the connection is back, the poster catches up on what they missed
    restore_connection(poster)
    expect_received(poster, missed)

    # and what they wrote offline is sent, once, and reaches the helper
    expect(pending).to_have_count(0, timeout=WAIT_MS)
    expect(message_in_log(poster, written_offline)).to_have_class(MINE, timeout=WAIT_MS)
    expect_received(helper, written_offline)
    expect(message_in_log(helper, written_offline)).to_have_count(1)
    expect(message_in_log(poster, missed)).to_have_count(1)

    # And none of it went through a reload or the HTTP fallback
    for side in (poster, helper):
        assert_stayed_on_page(side)
        side.page.screenshot(path=artifacts_dir / f"chat-reconnect-{side.name}.png", full_page=True)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_photo_and_a_shared_phone_reach_the_other_side(
    conversation, resident, helper, new_browser_context, live_asgi_url, tmp_path
):
    # Given a photo on the poster's device, and both on the chat page
    photo_file = tmp_path / "水龙头.png"
    Image.new("RGB", (64, 48), (30, 120, 200)).save(photo_file)
    conversation_id, poster_user, helper_user, phone = conversation.pk, resident, helper, phone_of(resident)
    poster = open_chat(new_browser_context, live_asgi_url, "poster", poster_user, conversation_id, locale="en-US")
    helper = open_chat(new_browser_context, live_asgi_url, "helper", helper_user, conversation_id, locale="en-US")

    # When the poster sends it with a caption
    caption = "就是这个水龙头"
    poster.page.locator("details.chat-extra:has(#image-form) > summary").click()
    image_form = poster.page.locator("form#image-form")
    image_form.locator("input[type=file]").set_input_files(str(photo_file))
    image_form.locator("input[name=body]").fill(caption)
    image_form.locator("button[type=submit]").click()

    # Then both see it without a reload: a thumbnail that loaded, described for screen readers
    for side in (poster, helper):
        thumbnail = message_in_log(side, caption).locator("a.photo img")
        expect(thumbnail).to_have_attribute("alt", re.compile("wang"), timeout=WAIT_MS)
        thumbnail.evaluate("img => img.decode()")
        assert thumbnail.evaluate("img => img.naturalWidth") == 64
    assert poster.page.url == poster.chat_url

    # When the poster shares their phone
    poster.page.locator("details.chat-extra:has(form[action$='/share-contact/']) > summary").click()
    share_form = poster.page.locator("form[action$='/share-contact/']")
    share_form.locator("select[name=contact_kind]").select_option("phone")
    share_form.locator("button[type=submit]").click()

    # Then the helper sees that it was shared, but not the number until they ask for it
    shared = helper.page.locator("#chat-log .chat-message[data-kind=contact]")
    expect(shared.locator(".contact-note")).to_contain_text("wang", timeout=WAIT_MS)
    expect(helper.page.locator("#chat-log")).not_to_contain_text(phone)
    shared.locator("form.reveal-form button").click()
    expect(shared.locator(".contact-value")).to_have_text(phone, timeout=WAIT_MS)

    # And the helper's page asked for it in the background, without leaving the page
    reveal_path = f"/messages/{conversation_id}/m/{shared.get_attribute('data-id')}/contact/"
    assert helper.page.url == helper.chat_url
    assert helper.page.evaluate("() => window.__e2eNoReload === true")
    assert [url.removeprefix(live_asgi_url) for url in helper.posts] == [reveal_path]
    assert poster.errors == [] and helper.errors == []
