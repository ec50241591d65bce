"""What the browser tests share beyond fixtures."""

import io
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from typing import TypeVar

from django.apps import apps
from django.core.management import call_command
from django.db import connections
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

T = TypeVar("T")


def log_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Through the real login page, as a person would; waits for the home page."""
    page.goto("/accounts/login/")
    form = page.locator('form[action="/accounts/login/"]')
    form.locator("input[name=login]").fill(email)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base_url}/")


# A message of one's own in the chat log.
MINE = re.compile(r"\bmine\b")


def chat_send(page: Page, text: str, timeout_ms: float) -> None:
    """Send a chat message from the conversation page and wait until the server has it."""
    form = page.locator("form#chat-form")
    form.locator("textarea[name=body]").fill(text)
    form.locator("button[type=submit]").click()
    # The server's acknowledgement clears the box; the broadcast echoes it into the sender's log.
    expect(form.locator("textarea[name=body]")).to_have_value("", timeout=timeout_ms)
    expect(page.locator("#chat-log .chat-message", has_text=text)).to_have_class(MINE, timeout=timeout_ms)


def title_names_only_the_site(title: str, language: str) -> bool:
    """Whether a page's title says nothing but the site's name (the base template's own title,
    which a page that sets none shows), in the page's language."""
    with translation.override(language):
        names = {"", "近邻", "Jinlin", gettext("Jinlin"), gettext("Jinlin neighbours")}
    return not {part.strip() for part in title.split("·")} - names


def no_horizontal_scroll(page: Page) -> bool:
    """Nothing sticks out sideways: a phone user never has to scroll left and right to read."""
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def in_own_thread(read: Callable[[], T]) -> T:
    """Run `read` (ORM calls) in a thread of its own and return what it returned.

    Beside Playwright's sync API this thread counts as async, so Django refuses the ORM here
    (SynchronousOnlyOperation); another thread has no event loop and may. Its connection is
    closed before it ends, so that nothing keeps the test database open at teardown."""

    def run() -> T:
        try:
            return read()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(run).result()


def demo_load() -> None:
    """The demo community (`make run`'s), for tests that want a realistic site.

    The skills and their areas come from data migrations, which a transactional test's flush
    empties: they are put back as the migrations do first (load_demo looks them up)."""
    for module in ("talent_pool.migrations.0002_seed_skills", "talent_pool.migrations.0004_seed_skill_areas"):
        import_module(module).seed(apps, None)
    call_command("load_demo", stdout=io.StringIO())
