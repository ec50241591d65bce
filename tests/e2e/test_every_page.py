"""Every page a person can reach by following links, on a 360 px phone: nothing sticks out
sideways, and each page says what it is (its own title and one main heading).

The pages are found, not listed: starting from the home page the test follows every link of
this site, as the committee (who sees the most), a resident, a volunteer and a visitor, so a
new page is checked the day it is linked. Pages of one kind (/posts/12/, /posts/13/) are
visited twice at most, which keeps the walk short without missing a kind.
"""

import re
from collections import Counter
from urllib.parse import urlsplit

import pytest

from committee.management.commands.load_demo import DEMO_PASSWORD
from tests.e2e.browser import demo_load, log_in, no_horizontal_scroll, title_names_only_the_site

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
PER_KIND = 2
MAX_PAGES = 160
# Not pages: files, the admin (its own look, for site admins on a PC), the language switch,
# and links whose GET does something (none should, but a crawler must never find out the hard way).
SKIPPED = re.compile(
    r"^/(admin|static|media|i18n)/|\.(csv|json|pdf|png|jpe?g|webp)$|/export|/logout/|/thumbnail/|/image/|/photo"
)


def kind_of(path: str) -> str:
    """/posts/12/ and /posts/13/ are one kind of page; so are /people/4/ and /people/9/."""
    return re.sub(r"/[0-9A-Za-z]{0,3}\d+[0-9A-Za-z]*/", "/N/", path)


def crawl(page, base_url: str) -> list[dict]:
    """Visit every page linked from the home page and from each page after, breadth first."""
    seen_kinds: Counter = Counter()
    queue, visited, results = ["/"], set(), []
    while queue and len(visited) < MAX_PAGES:
        path = queue.pop(0)
        if path in visited or seen_kinds[kind_of(path)] >= PER_KIND:
            continue
        visited.add(path)
        seen_kinds[kind_of(path)] += 1
        response = page.goto(path)
        final = urlsplit(page.url)
        results.append(
            {
                "path": path,
                "status": response.status if response else None,
                "final": final.path,
                "sideways": not no_horizontal_scroll(page),
                "width": page.evaluate("() => document.documentElement.scrollWidth"),
                "title": page.title(),
                "h1": page.locator("h1").count(),
            }
        )
        if final.path.startswith("/help/"):
            # The help pages show a visitor the committee's pages too: what they are, not a way in.
            continue
        hrefs = page.eval_on_selector_all(
            "a[href]:not([download])", "links => links.map(link => link.getAttribute('href'))"
        )
        for href in hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/") or SKIPPED.search(parts.path):
                continue
            if parts.path not in visited:
                queue.append(parts.path)
    return results


def problems(results: list[dict]) -> list[str]:
    found = []
    for row in results:
        where = row["path"] if row["final"] == row["path"] else f"{row['path']} -> {row['final']}"
        if row["status"] is None or row["status"] >= 400:
            found.append(f"{where}: answered {row['status']}")
        if row["sideways"]:
            found.append(f"{where}: {row['width']} px wide on a 360 px phone")
        title = row["title"].strip()
        if " · " not in title or title_names_only_the_site(title, "zh-hans"):
            found.append(f"{where}: the title {title!r} does not say what the page is")
        if row["h1"] != 1:
            found.append(f"{where}: {row['h1']} h1 headings")
    return found


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("email", "large_text"),
    [
        ("committee@demo.jinlin", False),
        ("committee@demo.jinlin", True),
        ("wang@demo.jinlin", False),
        ("li@demo.jinlin", True),
        (None, False),
    ],
    ids=["committee", "committee-large-text", "resident", "volunteer-large-text", "visitor"],
)
def test_every_linked_page_fits_a_phone_and_names_itself(
    email, large_text, new_browser_context, live_asgi_url, artifacts_dir
):
    # Given the demo community (every kind of page has something on it)
    demo_load()
    context = new_browser_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    if email:
        log_in(page, live_asgi_url, email, DEMO_PASSWORD)
    if large_text:
        page.goto("/")
        page.locator("form.large-text-switch button").click()
        page.wait_for_selector("html.large-text")

    # When every page reachable by links is visited on a 360 px phone
    results = crawl(page, live_asgi_url)

    # Then each fits, says what it is, and ran its scripts without an error
    (artifacts_dir / f"pages-{email or 'visitor'}{'-large' if large_text else ''}.txt").write_text(
        "\n".join(f"{row['status']} {row['path']} {row['title']}" for row in results), encoding="utf-8"
    )
    assert problems(results) == []
    assert errors == []
    # And the walk really went somewhere: a visitor sees a handful of pages, members many more
    assert len(results) >= (5 if email is None else 25)
    if large_text:
        assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") >= 20
