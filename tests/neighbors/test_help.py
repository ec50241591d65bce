"""The help pages: an index and one page each for residents, volunteers and committees, in Chinese
and English, readable without an account, linking only to pages that exist, and showing the
screenshots the browser tests take (docs/screenshots/, served under static/screenshots/)."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from PIL import Image

pytestmark = pytest.mark.django_db

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
README = Path(settings.BASE_DIR) / "README.md"
LANGUAGES = ("zh-hans", "en")
# The suffix of a screenshot's file name for each language of the site.
SHOT_SUFFIX = {"zh-hans": "zh", "en": "en"}
SHOT_SRC = re.compile(r"^/static/screenshots/(?P<name>[a-z0-9-]+)-(?P<suffix>zh|en)\.png$")
# What the browser tests shoot, and at which size (CSS pixels): phones at 360 × 740, PCs at 1280 × 800.
PHONE, DESKTOP = (360, 740), (1280, 800)

PAGES = {
    "index": reverse("neighbors:help"),
    "residents": reverse("neighbors:help_page", args=["residents"]),
    "volunteers": reverse("neighbors:help_page", args=["volunteers"]),
    "committees": reverse("neighbors:help_page", args=["committees"]),
}
# Each version's title and heading, and a sentence of its body: the other version must not have it.
TITLE = {
    ("index", "zh-hans"): "使用帮助",
    ("index", "en"): "Help",
    ("residents", "zh-hans"): "居民使用指南",
    ("residents", "en"): "Help for residents",
    ("volunteers", "zh-hans"): "志愿者使用指南",
    ("volunteers", "en"): "Help for volunteers",
    ("committees", "zh-hans"): "居委会使用指南",
    ("committees", "en"): "Help for committees",
}
SENTENCE = {
    ("index", "zh-hans"): "工作人员可以帮您注册、加入社区。",
    ("index", "en"): "The staff can sign you up and join you to the community.",
    ("residents", "zh-hans"): "其他人只能看到遮住的号码，比如 138****5678。",
    ("residents", "en"): "Everyone else sees it masked, like 138****5678.",
    ("volunteers", "zh-hans"): "您的电话和地址不会出现在人才档案里，邻居只能通过求助找到您。",
    ("volunteers", "en"): "Your phone and address never appear on your talent profile",
    ("committees", "zh-hans"): "网格员只看到自己网格里的居民和楼栋。",
    ("committees", "en"): "Grid workers see only the residents and buildings of their own grids.",
}
# The screenshots each page shows, in order: the names the browser tests promise to write.
EXPECTED_SHOTS = {
    "index": [],
    "residents": [("easy-home", PHONE), ("home", PHONE), ("ask", PHONE), ("request", PHONE), ("chat", PHONE)],
    "volunteers": [("talent-profile", PHONE), ("nearby", PHONE), ("request", PHONE), ("role", PHONE)],
    "committees": [
        ("workspace", DESKTOP),
        ("membership-queue", DESKTOP),
        ("post-queue", DESKTOP),
        ("reports", DESKTOP),
    ],
}
VERSIONS = [(page, language) for page in PAGES for language in LANGUAGES]
SHOWING_SHOTS = [(page, language) for page, language in VERSIONS if EXPECTED_SHOTS[page]]


@dataclass
class Figure:
    images: list[dict] = field(default_factory=list)
    caption: str = ""


class HelpPage(HTMLParser):
    """What the tests read of a page: its language, title, headings, the links and images inside
    <main> (the header and footer belong to base.html), and its figures."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang: str | None = None
        self.title = ""
        self.h1s: list[str] = []
        self.links: list[str] = []
        self.images: list[dict] = []
        self.figures: list[Figure] = []
        self._capturing: str | None = None
        self._in_main = False
        self._in_figure = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        elif tag == "main":
            self._in_main = True
        elif tag in ("title", "figcaption"):
            self._capturing = tag
        elif tag == "h1":
            self._capturing = tag
            self.h1s.append("")
        elif tag == "figure":
            self._in_figure = True
            self.figures.append(Figure())
        elif tag == "a" and self._in_main and "href" in attributes:
            self.links.append(attributes["href"])
        elif tag == "img" and self._in_main:
            self.images.append(attributes)
            if self._in_figure:
                self.figures[-1].images.append(attributes)

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main = False
        elif tag == "figure":
            self._in_figure = False
        if tag == self._capturing:
            self._capturing = None

    def handle_data(self, data):
        if self._capturing == "title":
            self.title += data
        elif self._capturing == "h1":
            self.h1s[-1] += data
        elif self._capturing == "figcaption":
            self.figures[-1].caption += data


def get(client: Client, page: str, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(PAGES[page])


def read(page: str, language: str) -> HelpPage:
    response = get(Client(), page, language)
    assert response.status_code == 200
    return HelpPage(response.content.decode())


def shots(help_page: HelpPage) -> list[tuple[str, str]]:
    """(name, language suffix) of each screenshot the page shows, in order."""
    found = []
    for image in help_page.images:
        match = SHOT_SRC.match(image.get("src", ""))
        assert match, f"not a screenshot: {image.get('src')}"
        found.append((match["name"], match["suffix"]))
    return found


class TestLanguageAndAccess:
    @pytest.mark.parametrize(("page", "language"), VERSIONS)
    def test_each_version_answers_without_login_in_its_language(self, client, page, language):
        # Given a visitor with no account who chose a language
        # When they open the page
        response = get(client, page, language)

        # Then it answers in that language, with its own title and one heading
        assert response.status_code == 200
        html = response.content.decode()
        help_page = HelpPage(html)
        assert help_page.lang == language
        assert help_page.title.strip().startswith(TITLE[(page, language)] + " · ")
        assert [h1.strip() for h1 in help_page.h1s] == [TITLE[(page, language)]]
        assert SENTENCE[(page, language)] in html
        other = "en" if language == "zh-hans" else "zh-hans"
        assert SENTENCE[(page, other)] not in html

    @pytest.mark.parametrize("page", PAGES)
    def test_chinese_is_the_default_and_the_browser_can_ask_for_english(self, page):
        # Given a visitor who has not chosen a language
        # When the browser says nothing, then when it asks for English
        plain = Client().get(PAGES[page])
        english = Client().get(PAGES[page], HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

        # Then the first is the Chinese page, the second the English one
        assert HelpPage(plain.content.decode()).h1s[0].strip() == TITLE[(page, "zh-hans")]
        assert HelpPage(english.content.decode()).h1s[0].strip() == TITLE[(page, "en")]

    def test_every_page_has_a_title_of_its_own(self):
        titles = {(page, language): read(page, language).title.strip() for page, language in VERSIONS}
        assert len(set(titles.values())) == len(VERSIONS)

    @pytest.mark.parametrize("page", PAGES)
    def test_members_read_them_too(self, client, resident, committee, page):
        for person in (resident, committee):
            client.force_login(person)
            assert client.get(PAGES[page]).status_code == 200

    @pytest.mark.parametrize("audience", ["index", "elders", "Residents", "residents-x", "admin", "_more"])
    def test_an_unknown_audience_is_not_found(self, client, audience):
        # "index" and "_more" name templates, not audiences: the URL must not reach them
        response = client.get(f"/help/{audience}/")
        assert response.status_code == 404

    def test_a_language_without_help_pages_reads_the_chinese_ones(self, client, settings):
        # Given a site that offers a third language the help has no pages in
        settings.LANGUAGES = [*settings.LANGUAGES, ("fr", "Français")]
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

        # When a visitor in that language opens a help page
        response = client.get(PAGES["residents"])

        # Then they read the Chinese page rather than an error
        assert response.status_code == 200
        help_page = HelpPage(response.content.decode())
        assert help_page.lang == "fr"
        assert help_page.h1s[0].strip() == TITLE[("residents", "zh-hans")]


class TestLinks:
    def all_links(self) -> set[str]:
        links = set()
        for page, language in VERSIONS:
            for href in read(page, language).links:
                # Only the site's own pages, by path: no other site, no protocol-relative URL.
                assert href.startswith("/") and not href.startswith("//"), (page, language, href)
                links.add(href)
        return links

    def test_the_pages_link_to_each_other_and_to_the_real_features(self):
        links = self.all_links()
        assert set(PAGES.values()) <= links
        for name in ("aid_posts:create", "neighbors:disclosures", "talent_pool:my_profile", "aid_posts:role_list"):
            assert reverse(name) in links
        for name in ("neighbors:membership_queue", "aid_posts:create_for", "aid_posts:queue", "committee:reports"):
            assert reverse(name) in links

    def test_every_link_resolves(self):
        for href in self.all_links():
            try:
                resolve(href)
            except Resolver404:
                pytest.fail(f"{href} matches no URL")

    def test_every_link_opens_for_a_committee_member_and_asks_a_visitor_to_log_in(self, committee):
        # Given a committee member, who may open every page the help names, and a visitor
        member = Client()
        member.force_login(committee)
        visitor = Client()
        login = reverse("account_login")

        for href in self.all_links():
            # When each follows the link
            as_member = member.get(href)
            as_visitor = visitor.get(href)

            # Then the member sees the page (sign-up sends someone logged in home), and the
            # visitor sees it or is asked to log in
            if as_member.status_code != 200:
                assert (as_member.status_code, href) == (302, reverse("account_signup"))
                assert as_member["Location"] == reverse("home")
            if as_visitor.status_code != 200:
                assert as_visitor.status_code == 302, (href, as_visitor.status_code)
                assert as_visitor["Location"].startswith(f"{login}?next="), href


class TestScreenshots:
    @pytest.mark.parametrize(("page", "language"), VERSIONS)
    def test_each_image_is_a_described_screenshot_at_its_real_size(self, page, language):
        help_page = read(page, language)
        sizes = dict(EXPECTED_SHOTS[page])
        assert len(help_page.figures) == len(help_page.images)
        for figure in help_page.figures:
            # One screenshot a figure, with words for those who cannot see it and a caption
            assert len(figure.images) == 1
            image = figure.images[0]
            assert image.get("alt", "").strip(), image
            assert figure.caption.strip(), image
            assert image.get("loading") == "lazy"
            name = SHOT_SRC.match(image["src"])["name"]
            assert (int(image["width"]), int(image["height"])) == sizes[name]

    @pytest.mark.parametrize(("page", "language"), VERSIONS)
    def test_each_page_shows_the_screenshots_taken_for_it_in_its_language(self, page, language):
        expected = [(name, SHOT_SUFFIX[language]) for name, _size in EXPECTED_SHOTS[page]]
        assert shots(read(page, language)) == expected

    @pytest.mark.parametrize("page", PAGES)
    def test_both_languages_show_the_same_screenshots(self, page):
        chinese = [name for name, _suffix in shots(read(page, "zh-hans"))]
        english = [name for name, _suffix in shots(read(page, "en"))]
        assert chinese == english

    @pytest.mark.parametrize(("page", "language"), SHOWING_SHOTS)
    def test_every_screenshot_shown_exists_and_is_served(self, page, language):
        help_page = read(page, language)
        for image in help_page.images:
            file_name = image["src"].removeprefix("/static/screenshots/")
            path = SCREENSHOTS / file_name
            assert path.is_file(), f"{path} is missing: run the browser tests that take the screenshots"
            assert Path(finders.find(f"screenshots/{file_name}")) == path
            # The width and height given are the picture's, or a fraction of a high-density one.
            with Image.open(path) as picture:
                pixels = picture.size
            width, height = int(image["width"]), int(image["height"])
            assert pixels[0] % width == 0 and pixels[0] * height == pixels[1] * width, (file_name, pixels)

    def test_every_screenshot_taken_is_shown_somewhere(self):
        shown = {
            image["src"].removeprefix("/static/screenshots/")
            for page, language in VERSIONS
            for image in read(page, language).images
        }
        readme = README.read_text(encoding="utf-8")
        files = [path for path in SCREENSHOTS.iterdir() if not path.name.startswith(".")]
        unused = [path.name for path in files if path.name not in shown and path.name not in readme]
        assert unused == []
