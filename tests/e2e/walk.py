"""What the walks through the site share: one person per browser context, and the checks every
page they land on has to pass (its language and text size, nothing sticking out sideways, no
script error, no server error, no serious accessibility finding), with screenshots on the way.

A walk keeps going when a page fails a check, so that one run names every page that needs
work; `Walk.assert_no_problems` fails the test at the end with the whole list.
"""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from playwright.sync_api import Locator, Page, Response, expect

from tests.e2e.axe import AXE_JS, assert_accessible
from tests.e2e.browser import no_horizontal_scroll

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
# The browser's own language, as a person's device would send it: the site follows it until
# the person chooses (the header's switch) or logs in (their profile's language).
BROWSER_LOCALE = {"zh-hans": "zh-CN", "en": "en-US"}
SHOT_SUFFIX = {"zh-hans": "zh", "en": "en"}
# The pictures the help pages show (by these names): a resident's and a volunteer's pages on a
# phone, the committee's at a desktop.
PHONE_SHOTS = frozenset({"home", "ask", "request", "chat", "nearby", "talent-profile", "role"})
DESKTOP_SHOTS = frozenset({"workspace", "membership-queue", "post-queue", "reports"})
WAIT_MS = 10_000
# Before any script of the page: note when the person's real-time stream has said hello, so
# that a screenshot is taken once the page is live (and the nearby list can update itself).
STREAM_READY = """
window.addEventListener("jinlin:stream", (event) => {
  if (event.detail && event.detail.type === "hello") { window.__streamReady = true; }
});
"""


def screenshot_dirs(artifacts_dir: Path) -> list[Path]:
    """Always the test artifacts; the documentation's copy too when asked to refresh it
    (UPDATE_SCREENSHOTS=1, what `make screenshots` sets)."""
    dirs = [artifacts_dir / "screenshots"]
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        dirs.append(Path(settings.BASE_DIR) / "docs" / "screenshots")
    for path in dirs:
        path.mkdir(parents=True, exist_ok=True)
    return dirs


@dataclass
class Walk:
    """One walk: the site, the language and device everyone uses, and what went wrong so far."""

    base_url: str
    language: str
    device: str
    new_context: Callable[..., object]
    shot_dirs: list[Path]
    # The screenshots this walk takes; the flows offer more than any one walk wants.
    wanted_shots: frozenset[str]
    problems: list[str] = field(default_factory=list)
    shots: list[str] = field(default_factory=list)

    @property
    def context_options(self) -> dict:
        return {**(PHONE if self.device == "phone" else DESKTOP), "locale": BROWSER_LOCALE[self.language]}

    def person(self, name: str) -> "Person":
        """A new browser context for one person; nobody is logged in yet."""
        context = self.new_context(**self.context_options)
        context.add_init_script(STREAM_READY)
        # Loaded with every page, as the browser loads the page's own scripts: cheaper than
        # injecting it after each load, which assert_accessible would otherwise do.
        context.add_init_script(path=AXE_JS)
        person = Person(walk=self, name=name, page=context.new_page())
        person.page.on("pageerror", lambda error: person.page_errors.append(str(error)))
        person.page.on("response", person.note_response)
        return person

    def assert_no_problems(self) -> None:
        assert not self.problems, f"{len(self.problems)} problem(s) on the walk:\n\n" + "\n\n".join(self.problems)
        assert set(self.shots) == self.wanted_shots, f"screenshots missing: {self.wanted_shots - set(self.shots)}"


@dataclass
class Person:
    """Someone using the site in their own browser, as a person would: links, forms, buttons."""

    walk: Walk
    name: str
    page: Page
    large_text: bool = False
    page_errors: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)

    def note_response(self, response: Response) -> None:
        # A server error anywhere; a missing stylesheet, script, font or picture of our own.
        path = response.url.removeprefix(self.walk.base_url)
        if response.status >= 500 or (response.status >= 400 and path.startswith("/static/")):
            self.bad_responses.append(f"{response.status} {response.request.method} {path}")

    @property
    def path(self) -> str:
        return self.page.url.removeprefix(self.walk.base_url)

    # --- moving about ---------------------------------------------------------------------

    def goto(self, path: str) -> None:
        """Typed into the address bar (or a bookmark): only for the first page of a visit."""
        self.page.goto(path)
        self.landed()

    def follow(self, link: Locator) -> None:
        """Click a link to another page and check the page it leads to."""
        with self.page.expect_navigation():
            link.click()
        self.landed()

    def nav(self, href: str) -> None:
        """A link of the site's header: in the bar when it shows, else in the menu it folds into
        (on a phone), which is opened first as a person would."""
        links = self.page.locator(f'header a[href="{href}"]')
        expect(links.first).to_be_attached()
        shown = [link for link in links.all() if link.is_visible()]
        if not shown:
            in_menu = self.page.locator(f'header details a[href="{href}"]').first
            in_menu.locator("xpath=ancestor::details[1]/summary").click()
            shown = [link for link in links.all() if link.is_visible()]
        assert shown, f"{self.name} cannot see the header's link to {href} on {self.path}"
        self.follow(shown[0])

    def submit(self, form: Locator, button: str = "button[type=submit]") -> None:
        """Press the form's button; the page the site answers with is checked."""
        with self.page.expect_navigation():
            form.locator(button).click()
        self.landed()

    def reload(self) -> None:
        self.page.reload()
        self.landed()

    def log_in(self, email: str, password: str, *, large_text: bool = False) -> None:
        """Through the login page, then into the walk's language with the header's switch if the
        profile's language (which logging in applies) is another. `large_text`: whether the
        profile has the large-text mode on, which also applies from then on."""
        self.goto("/accounts/login/")
        form = self.page.locator('form[action="/accounts/login/"]')
        form.locator("input[name=login]").fill(email)
        form.locator("input[name=password]").fill(password)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()
        self.page.wait_for_url(f"{self.walk.base_url}/")
        self.large_text = large_text
        if self.page.locator("html").get_attribute("lang") != self.walk.language:
            self.switch_language()
        else:
            self.landed()

    def switch_language(self) -> None:
        switch = self.page.locator("form.lang-switch")
        switch.locator("#lang-select").select_option(self.walk.language)
        self.submit(switch)

    def set_large_text(self, on: bool) -> None:
        """The header's 长辈模式 button: it says whether it is pressed, and flips the mode."""
        button = self.page.locator("form.large-text-switch button[type=submit]")
        expect(button).to_have_attribute("aria-pressed", "false" if on else "true")
        self.large_text = on
        self.submit(self.page.locator("form.large-text-switch"))
        expect(button).to_have_attribute("aria-pressed", "true" if on else "false")

    # --- what every page must be ----------------------------------------------------------

    def landed(self) -> None:
        """The checks for every page the walk lands on; what fails is noted, the walk goes on."""
        page, where = self.page, f"{self.name} on {self.path}"
        page.wait_for_load_state("load")
        lang, large = page.evaluate(
            "() => [document.documentElement.lang, document.documentElement.classList.contains('large-text')]"
        )
        if lang != self.walk.language:
            self.problem(f"{where}: the page is in {lang!r}, not {self.walk.language!r}")
        if large != self.large_text:
            self.problem(f"{where}: the large-text mode should be {'on' if self.large_text else 'off'}")
        if not no_horizontal_scroll(page):
            width = page.evaluate("() => document.documentElement.scrollWidth")
            self.problem(f"{where}: scrolls sideways ({width} px wide in a {page.viewport_size['width']} px window)")
        if self.page_errors:
            self.problem(f"{where}: script errors: {self.page_errors}")
            self.page_errors.clear()
        if self.bad_responses:
            self.problem(f"{where}: failed responses: {self.bad_responses}")
            self.bad_responses.clear()
        try:
            assert_accessible(page, enhanced_contrast=self.large_text)
        except AssertionError as finding:
            self.problem(f"{where} ({self.walk.device}, {self.walk.language}): {finding}")

    def problem(self, text: str) -> None:
        self.walk.problems.append(text)

    # --- screenshots ----------------------------------------------------------------------

    def screenshot(self, name: str, *, show: Locator | None = None, where: str = "start") -> None:
        """<name>-<zh|en>.png of what the window shows, if the walk wants that picture, once the
        fonts are in and the page is live. `show` is scrolled to the window's `where` (start,
        center or end); without it, the top of the page."""
        if name not in self.walk.wanted_shots:
            return
        page = self.page
        page.evaluate("() => document.fonts.ready.then(() => true)")
        page.wait_for_function("() => window.__streamReady === true", timeout=WAIT_MS)
        # No focus ring or caret from the last click in a picture for the help pages.
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        if show is None:
            page.evaluate("() => window.scrollTo(0, 0)")
        else:
            show.evaluate("(element, where) => element.scrollIntoView({block: where})", where)
        filename = f"{name}-{SHOT_SUFFIX[self.walk.language]}.png"
        for directory in self.walk.shot_dirs:
            page.screenshot(path=directory / filename, animations="disabled", caret="hide")
        self.walk.shots.append(name)


def post_path(url: str) -> str:
    """/posts/<pk>/ from the address of a request's page."""
    found = re.search(r"/posts/\d+/", url)
    assert found, f"not a request's page: {url}"
    return found.group(0)
