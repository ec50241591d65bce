"""Accessibility in a real browser: the main pages of every flow pass the axe-core audit (no
serious or critical finding, WCAG 2.0/2.1 A and AA, AAA contrast in the large-text mode), each
names itself (its own title, one h1) in the language asked for; a resident can ask for help
with the keyboard alone, always seeing where the focus is; chat and notifications reach a
screen reader through live regions.

The audit collects every page's problems before it fails, so one run names all of them.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from aid_posts.models import AidPost, WelfareRole
from aid_posts.services import aid_post_claim, aid_post_create, claim_accept
from committee.services.certificates import certificate_issue
from messaging.models import Conversation
from neighbors.models import Community, Membership, Place, User
from neighbors.services import membership_request
from talent_pool.models import Skill
from tests.e2e.axe import AXE_JS, axe_report, axe_violations
from tests.e2e.browser import demo_load, log_in, title_names_only_the_site
from tests.factories import UserFactory, skill

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
BROWSER_LOCALE = {"zh-hans": "zh-CN", "en": "en-US"}
DEMO_PASSWORD = "jinlin-demo-2026"
WAIT_MS = 10_000
ANONYMOUS = "visitor"

# Where the keyboard focus is, and whether a sighted keyboard user can see it: an outline or a
# box shadow (the large-text mode draws both), on an element that is on the screen.
FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return {visible: false, what: "nothing (the page body)"}; }
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none";
  const box = el.getBoundingClientRect();
  const onScreen = box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
    && box.top < window.innerHeight && box.left < window.innerWidth;
  const what = el.tagName.toLowerCase() + (el.name ? `[name=${el.name}]` : "")
    + (el.getAttribute("href") ? `[href=${el.getAttribute("href")}]` : "")
    + ` "${(el.innerText || el.value || "").trim().slice(0, 30)}"`;
  return {visible: (outline || shadow) && onScreen, what, outline, shadow, onScreen,
          name: el.name || "", type: el.type || "", value: el.value || "",
          inMain: !!el.closest("main"), href: el.getAttribute("href") || "",
          inAskForm: !!(el.form && el.form.elements.namedItem("description"))};
}"""


def demo_pages() -> dict[str, list[str]]:
    """The demo community, with a request of 王阿姨's that 李师傅 has just offered to help with,
    a newcomer waiting for approval and a certificate of 李师傅's hours, so that the pages show
    their buttons and lists; and the main pages of every flow, by who looks at them."""
    demo_load()
    community = Community.objects.get(name="莲兴社区")
    wang, li, chen = (User.objects.get(email=f"{name}@demo.jinlin") for name in ("wang", "li", "committee"))
    home = Place.objects.get(community=community, name="2号楼")
    starts = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    offered = aid_post_create(
        actor=wang,
        community=community,
        category=Skill.objects.get(code="home-repair"),
        title="阳台灯泡坏了",
        description="够不着，想请邻居帮忙换一个灯泡。",
        place=home,
        window_starts_at=starts,
        window_ends_at=starts + timedelta(hours=3),
    )
    aid_post_claim(actor=li, post=offered)
    newcomer = UserFactory(username="xiaoliu")
    membership_request(actor=newcomer, community=community, home_place=home, tenure=Membership.Tenure.TENANT)
    li_membership = Membership.objects.get(user=li, community=community)
    today = timezone.localdate()
    certificate = certificate_issue(
        actor=chen, membership=li_membership, period_start=today - timedelta(days=30), period_end=today
    )
    tap_chat = Conversation.objects.get(kind=Conversation.Kind.CLAIM, title="厨房水龙头漏水")
    errand = AidPost.objects.get(title="帮忙取一个快递")
    role = WelfareRole.objects.get(community=community)
    return {
        ANONYMOUS: [
            reverse("home"),
            reverse("account_login"),
            reverse("account_signup"),
            reverse("neighbors:privacy"),
            reverse("rewards:verify"),
            reverse("rewards:verify_code", args=[certificate.code]),
        ],
        wang.email: [
            reverse("home"),
            reverse("aid_posts:list"),
            reverse("aid_posts:create"),
            reverse("aid_posts:detail", args=[offered.pk]),
            reverse("messaging:list"),
            reverse("messaging:conversation", args=[tap_chat.pk]),
            reverse("messaging:notifications"),
            reverse("neighbors:profile"),
            reverse("neighbors:contacts"),
            reverse("neighbors:consents"),
            reverse("neighbors:points"),
            reverse("rewards:overview"),
            reverse("neighbors:my_data"),
            reverse("neighbors:disclosures"),
        ],
        li.email: [
            reverse("aid_posts:nearby"),
            reverse("aid_posts:detail", args=[errand.pk]),
            reverse("talent_pool:my_profile"),
            reverse("talent_pool:directory"),
            reverse("aid_posts:role_list"),
            reverse("aid_posts:role_detail", args=[role.pk]),
            reverse("rewards:certificates"),
            reverse("rewards:certificate", args=[certificate.pk]),
        ],
        chen.email: [
            reverse("committee:home"),
            reverse("neighbors:membership_queue"),
            reverse("neighbors:members"),
            reverse("aid_posts:queue"),
            reverse("talent_pool:credential_queue"),
            reverse("committee:reports"),
            reverse("committee:held"),
            reverse("committee:audit"),
            reverse("committee:dashboard"),
            reverse("committee:rewards"),
            reverse("committee:redemptions"),
            reverse("committee:certificate_issue", args=[li_membership.pk]),
        ],
    }


@dataclass(frozen=True)
class AuditRun:
    device: dict
    language: str
    large_text: bool


# In this order: the large-text mode, once switched on, stays on in the person's profile.
AUDIT_RUNS = {
    "phone-zh": AuditRun(PHONE, "zh-hans", large_text=False),
    "desktop-zh": AuditRun(DESKTOP, "zh-hans", large_text=False),
    "desktop-en": AuditRun(DESKTOP, "en", large_text=False),
    "phone-zh-large-text": AuditRun(PHONE, "zh-hans", large_text=True),
}


PAGE_FACTS = """() => ({
  language: document.documentElement.lang,
  largeText: document.documentElement.classList.contains("large-text"),
  headings: document.querySelectorAll("h1").length,
  title: document.title,
})"""


def page_problems(page: Page, path: str, run: AuditRun) -> list[str]:
    """Everything wrong with one page as a person of this run sees it."""
    response = page.goto(path)
    found = []
    if response is None or response.status != 200:
        found.append(f"answered {response.status if response else 'nothing'}")
    seen = page.evaluate(PAGE_FACTS)
    if seen["language"] != run.language:
        found.append(f"is in {seen['language']!r}, not {run.language!r}")
    if seen["largeText"] != run.large_text:
        found.append(f"large-text mode is {'off' if run.large_text else 'on'}")
    if seen["headings"] != 1:
        found.append(f"has {seen['headings']} h1 headings, not one")
    title = seen["title"].strip()
    if title_names_only_the_site(title, run.language):
        found.append(f"its title {title!r} names only the site")
    violations = axe_violations(page, enhanced_contrast=run.large_text)
    if violations:
        found.append(axe_report(violations))
    return found


def audit_run(run_name: str, pages: dict[str, list[str]], new_browser_context, base_url: str, artifacts_dir):
    """Each person, on this run's device and in its language, visits their pages in turn: one
    browser context each. Returns the problems found and the pages' script errors."""
    run = AUDIT_RUNS[run_name]
    problems: list[str] = []
    script_errors: list[str] = []
    for person, paths in pages.items():
        context = new_browser_context(**run.device, locale=BROWSER_LOCALE[run.language])
        # axe comes with every page (parsed there, not sent over for each): a quicker audit.
        context.add_init_script(path=str(AXE_JS))
        page = context.new_page()
        page.on("pageerror", lambda error, person=person: script_errors.append(f"{run_name} {person}: {error}"))
        if person != ANONYMOUS:
            log_in(page, base_url, person, DEMO_PASSWORD)
        # Logging in switched the site to the person's own language; the cookie is what the
        # header's language switch sets.
        context.add_cookies([{"name": "django_language", "value": run.language, "url": base_url}])
        if run.large_text:
            page.goto("/")
            page.locator("form.large-text-switch button").click()
            page.wait_for_selector("html.large-text")
        for path in paths:
            problems.extend(f"{run_name} {person} {path}: {problem}" for problem in page_problems(page, path, run))
        page.screenshot(path=artifacts_dir / f"a11y-{run_name}-{person.split('@')[0]}.png")
        context.close()
    return problems, script_errors


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_main_pages_of_every_flow_pass_the_accessibility_audit(new_browser_context, live_asgi_url, artifacts_dir):
    # Given the demo community, and the pages each person uses (all read before the browser starts)
    pages = demo_pages()
    problems: list[str] = []
    script_errors: list[str] = []

    # When each person visits them on a phone and on a PC, in Chinese and in English, and on the
    # phone in the large-text mode (last: the mode is kept in the person's profile)
    for run_name in AUDIT_RUNS:
        found, errors = audit_run(run_name, pages, new_browser_context, live_asgi_url, artifacts_dir)
        problems += found
        script_errors += errors

    # Then no page has a serious or critical finding, and each names itself in that language
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert script_errors == []


def focus_state(page: Page) -> dict:
    state = page.evaluate(FOCUS_STATE)
    assert state["visible"], f"the keyboard focus cannot be seen: {state}"
    return state


def tab_until(page: Page, arrived, *, limit: int = 60, on_the_way=None) -> dict:
    """Press Tab until `arrived(focus)`; every element passed must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = focus_state(page)
        if arrived(state):
            return state
        if on_the_way:
            on_the_way(state)
    pytest.fail(f"{limit} presses of Tab did not reach the element; the focus is on {state['what']}")


def skip_to_main(page: Page) -> dict:
    """From the top of a page: Tab shows the skip link, Enter follows it, and the next Tab
    lands on the first thing in the main part. Returns where the focus is then."""
    page.keyboard.press("Tab")
    expect(page.locator("a.skip-link")).to_be_focused()
    focus_state(page)
    page.keyboard.press("Enter")
    assert page.url.endswith("#main"), page.url
    first = tab_until(page, lambda focus: True, limit=1)
    assert first["inMain"], f"after the skip link, Tab went to {first['what']}, outside the main part"
    return first


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_resident_asks_for_help_with_the_keyboard_alone(resident, building, new_browser_context, live_asgi_url):
    # Given a resident on her phone's home page (the categories exist; the log-in is not the point)
    skill("home-repair")
    ask_path = reverse("aid_posts:create")
    email = resident.email
    page = new_browser_context(**PHONE, locale="zh-CN").new_page()
    log_in(page, live_asgi_url, email)
    page.goto("/")

    # Then Tab goes through the whole page, header and footer too, showing where it is each time
    stops = []
    while len(stops) < 100:
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement === document.body"):
            break
        stops.append(focus_state(page)["what"])
    assert 10 <= len(stops) < 100, stops

    # When, back at the top, she presses Tab once, the skip link appears, and Enter takes her
    # past the header
    page.goto("/")
    first = skip_to_main(page)

    # And from there Tab finds "Ask for help" and Enter opens it
    if first["href"] != ask_path:
        tab_until(page, lambda focus: focus["href"] == ask_path and focus["inMain"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_asgi_url}{ask_path}")

    # And, past the header again, she fills the form going down it with Tab: a kind of help
    # chosen with the arrow keys, a title and what is needed typed in, the rest as suggested
    def fill(focus: dict) -> None:
        if focus["name"] in ("community", "category") and not focus["value"]:
            page.keyboard.press("ArrowDown")
        elif focus["name"] == "title" and not focus["value"]:
            page.keyboard.type("帮忙换个灯泡")
        elif focus["name"] == "description" and not focus["value"]:
            page.keyboard.type("阳台的灯泡坏了，我够不着。")

    fill(skip_to_main(page))
    tab_until(page, lambda focus: focus["type"] == "submit" and focus["inAskForm"], on_the_way=fill)
    # (Shift+Tab goes back up the form, and Tab returns to the button; Space presses it)
    page.keyboard.press("Shift+Tab")
    back = focus_state(page)
    assert back["inAskForm"] and back["type"] != "submit", back
    page.keyboard.press("Tab")
    expect(page.locator("form:has(textarea[name=description]) button[type=submit]")).to_be_focused()
    page.keyboard.press("Space")

    # Then the request is posted and she is on its page (the browser keeps the skip link's
    # #main through the redirect)
    page.wait_for_url(re.compile(rf"{re.escape(live_asgi_url)}/posts/\d+/(#main)?$"))
    expect(page.locator("h1")).to_have_text("帮忙换个灯泡")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_chat_and_notifications_reach_a_screen_reader_through_live_regions(
    post, resident, helper, new_browser_context, live_asgi_url
):
    # Given 王阿姨 and 李师傅 talking about one request, and another request of hers still open
    conversation = claim_accept(actor=resident, claim=aid_post_claim(actor=helper, post=post))
    second = aid_post_create(
        actor=resident,
        community=post.community,
        category=skill(),
        title="帮忙搬一下米",
        description="一袋米放在门口，想请邻居帮忙搬进屋。",
        place=post.place,
        window_starts_at=post.window_starts_at,
        window_ends_at=post.window_ends_at,
    )
    chat_path = reverse("messaging:conversation", args=[conversation.pk])
    second_path = reverse("aid_posts:detail", args=[second.pk])
    resident_email, helper_email = resident.email, helper.email

    # And her phone on the conversation page, its chat and her stream connected
    listener = new_browser_context(**PHONE, locale="zh-CN").new_page()
    listener.add_init_script(
        """window.addEventListener("jinlin:stream", (event) => {
             if (event.detail.type === "hello") { window.__streamReady = true; }
           });"""
    )
    log_in(listener, live_asgi_url, resident_email)
    listener.goto(chat_path)
    expect(listener.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=WAIT_MS)
    listener.wait_for_function("() => window.__streamReady === true", timeout=WAIT_MS)
    listener.evaluate("() => { window.__e2eNoReload = true; }")

    # Then the chat log and the notification announcer are live regions from the start
    # (a region added together with its text is not read out)
    chat_log = listener.locator("#chat-log")
    assert chat_log.get_attribute("role") == "log" or chat_log.get_attribute("aria-live") in ("polite", "assertive")
    announcer = listener.locator("#stream-announcer")
    assert announcer.get_attribute("role") == "status" or announcer.get_attribute("aria-live") in (
        "polite",
        "assertive",
    )
    assert announcer.get_attribute("aria-live") != "off"

    # When 李师傅 writes from his browser
    speaker = new_browser_context(**DESKTOP, locale="zh-CN").new_page()
    log_in(speaker, live_asgi_url, helper_email)
    speaker.goto(chat_path)
    expect(speaker.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=WAIT_MS)
    form = speaker.locator("form#chat-form")
    form.locator("textarea[name=body]").fill("我十分钟后到。")
    form.locator("button[type=submit]").click()

    # Then his words arrive inside her live chat log, without a reload
    expect(chat_log).to_contain_text("我十分钟后到。", timeout=WAIT_MS)

    # And when he offers to help with her other request, the announcer says so
    speaker.goto(second_path)
    speaker.locator(f'form[action="{second_path}claim/"] button[type=submit]').click()
    expect(announcer).to_contain_text("帮忙搬一下米", timeout=WAIT_MS)
    assert listener.evaluate("() => window.__e2eNoReload === true"), "her conversation page was reloaded"
