"""The nearby page in a real browser: the list, the map without tiles, and a request posted
elsewhere appearing in the list without a reload."""

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import log_in
from tests.factories import AidPostFactory, PlaceFactory, skill

PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN", "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US"}
WAIT_MS = 10_000
NEW_TITLE = "帮忙把轮椅抬下楼"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_request_posted_nearby_appears_without_reloading(
    community, building, resident, helper, new_browser_context, live_asgi_url, artifacts_dir
):
    # Given one open request in the next building, and the ids the poster's form needs
    # (all before the browsers start: Django refuses ORM calls beside Playwright)
    next_door = PlaceFactory(community=community, name="3号楼", latitude="24.479000", longitude="118.146000")
    AidPostFactory(community=community, place=next_door, author=resident, title="帮忙取一下快递")
    ids = {"community": str(community.pk), "category": str(skill().pk), "place": str(building.pk)}
    viewer_email, poster_email = helper.email, resident.email

    # And the helper on the nearby page on a phone, its stream connected
    viewer = new_browser_context(**PHONE).new_page()
    errors: list[str] = []
    viewer.on("pageerror", lambda error: errors.append(str(error)))
    viewer.add_init_script(
        """window.addEventListener("jinlin:stream", (event) => {
             if (event.detail.type === "hello") { window.__streamReady = true; }
           });"""
    )
    log_in(viewer, live_asgi_url, viewer_email)
    viewer.goto("/posts/nearby/")
    rows = viewer.locator("#nearby-results .nearby-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("帮忙取一下快递")
    viewer.wait_for_function("() => window.__streamReady === true", timeout=WAIT_MS)
    # The map: no tiles in tests, so the note and one marker per building on a plain background
    expect(viewer.locator("#nearby-map-note")).to_be_visible()
    expect(viewer.locator(".nearby-marker")).to_have_count(1)
    nearby_url = viewer.url
    viewer.evaluate("() => { window.__e2eNoReload = true; }")

    # When the resident posts a request in their own building from a desktop browser
    poster = new_browser_context(**DESKTOP).new_page()
    log_in(poster, live_asgi_url, poster_email)
    poster.goto("/posts/new/")
    form = poster.locator("form.stack")
    for name, value in ids.items():
        form.locator(f"select[name={name}]").select_option(value)
    form.locator("input[name=title]").fill(NEW_TITLE)
    form.locator("textarea[name=description]").fill("电梯坏了，需要两位邻居帮忙。")
    form.locator("button[type=submit]").click()
    poster.wait_for_url(f"{live_asgi_url}/posts/*/")

    # Then the helper's list gains it, nearest first, and says so, without a reload
    expect(rows).to_have_count(2, timeout=WAIT_MS)
    expect(rows.first).to_contain_text(NEW_TITLE)
    expect(viewer.locator("#nearby-live")).not_to_be_empty(timeout=WAIT_MS)
    expect(viewer.locator(".nearby-marker")).to_have_count(2)
    assert viewer.url == nearby_url
    assert viewer.evaluate("() => window.__e2eNoReload === true"), "the nearby page was reloaded"
    assert errors == [], errors
    viewer.screenshot(path=artifacts_dir / "nearby-phone.png", full_page=True)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_unreachable_tiles_leave_markers_on_a_plain_map_and_the_list_intact(
    community, building, resident, helper, new_browser_context, live_asgi_url, artifacts_dir, settings
):
    # Given a tile server that does not answer (an intranet without the internet)
    settings.MAP_TILE_URL = "http://127.0.0.1:9/{z}/{x}/{y}.png"
    AidPostFactory(community=community, place=building, author=resident, title="<img src=x onerror=alert(1)>")
    email = helper.email

    page = new_browser_context(**DESKTOP).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_asgi_url, email)
    page.goto("/posts/nearby/")

    # Then the note says why the map is plain, the marker is there and opens a popup with the link
    # (in the helper's own site language, zh-hans, whatever the browser's)
    expect(page.locator("#nearby-map-note")).to_contain_text("地图底图加载失败", timeout=WAIT_MS)
    expect(page.locator(".leaflet-tile-pane img")).to_have_count(0)
    marker = page.locator(".nearby-marker")
    expect(marker).to_have_count(1)
    marker.click()
    link = page.locator(".nearby-popup a")
    expect(link).to_have_text("<img src=x onerror=alert(1)>")  # shown as text, never as markup
    expect(page.locator("#nearby-results .nearby-row")).to_have_count(1)
    assert link.get_attribute("href") == page.locator("#nearby-results .post-title").get_attribute("href")
    assert errors == [], errors
    page.screenshot(path=artifacts_dir / "nearby-no-tiles.png", full_page=True)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_list_is_all_there(
    community, building, resident, helper, new_browser_context, live_asgi_url
):
    AidPostFactory(community=community, place=building, author=resident, title="帮忙修自行车")
    email = helper.email
    page = new_browser_context(java_script_enabled=False, **DESKTOP).new_page()
    log_in(page, live_asgi_url, email)
    page.goto("/posts/nearby/?radius=500&sort=urgency")
    expect(page.locator("#nearby-results .nearby-row")).to_have_count(1)
    expect(page.locator("#nearby-results .nearby-row")).to_contain_text("帮忙修自行车")
    expect(page.locator("#nearby-map-section")).to_be_hidden()
    page.locator("select[name=radius]").select_option("2000")
    page.locator("form.nearby-filters button[type=submit]").click()
    page.wait_for_url("**/posts/nearby/?*radius=2000*")
    expect(page.locator("select[name=sort]")).to_have_value("urgency")
