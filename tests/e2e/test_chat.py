"""Poster and helper chat in real time: what one sends, the other sees without reloading."""

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from aid_posts.services import aid_post_claim, claim_accept
from messaging.models import Conversation
from neighbors.models import User
from tests.e2e.browser import log_in

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
WAIT_MS = 10_000
MINE = re.compile(r"\bmine\b")


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


def send(side: ChatSide, text: str) -> None:
    form = side.page.locator("form#chat-form")
    form.locator("textarea[name=body]").fill(text)
    form.locator("button[type=submit]").click()
    # The server's acknowledgement clears the box; the broadcast echoes it into the sender's log.
    expect(form.locator("textarea[name=body]")).to_have_value("", timeout=WAIT_MS)
    expect(side.page.locator("#chat-log .chat-message", has_text=text)).to_have_class(MINE, timeout=WAIT_MS)


def expect_received(side: ChatSide, text: str) -> None:
    message = side.page.locator("#chat-log .chat-message", has_text=text)
    expect(message).to_be_visible(timeout=WAIT_MS)
    expect(message).not_to_have_class(MINE)


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
    send(poster, question)
    expect_received(helper, question)

    # When the helper replies, then the poster sees the reply
    reply = "可以的，我十点带工具过来。"
    send(helper, reply)
    expect_received(poster, reply)

    # And both arrived over the WebSocket: no page navigated, reloaded or posted the form
    for side in (poster, helper):
        assert_stayed_on_page(side)
        expect(side.page.locator("#conn-state")).to_have_attribute("data-state", "online")
        side.page.screenshot(path=artifacts_dir / f"chat-{side.name}.png", full_page=True)
