"""Dates, times and numbers read the way the person's language writes them.

Templates format dates with Django's named formats (DATE_FORMAT, SHORT_DATETIME_FORMAT,
TIME_FORMAT, YEAR_MONTH_FORMAT…), which each language defines: 2025年11月24日 in Chinese,
Nov. 24, 2025 in English. A fixed format ("Y-m-d", "G:i") is for machines only: a datetime=""
attribute, a form value, a data-* attribute. The scripts format through Intl with the page's
<html lang>.

Numbers are printed without grouping in both languages (USE_THOUSAND_SEPARATOR stays off).
Grouping through Django's localisation applies to every number a template prints, including
form values and ids (a hidden price of "12,345" would no longer be read as a number), and
Django's Chinese format has no separator at all, so "1,234" in English would sit beside "1234"
in Chinese. Plain digits read right in both, and the counts of this site (points, hours, people
of one community) are rarely longer than four digits.
"""

import re
from datetime import time, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import DebugLexer, TokenType
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aid_posts.models import WelfareRole
from aid_posts.services import welfare_role_create
from committee.models import Reward
from neighbors.models import LedgerEntry
from tests.factories import points_earned, skill

ROOT = Path(settings.BASE_DIR)
TEMPLATES = ROOT / "templates"
SCRIPTS = ROOT / "static" / "js"
LANGUAGES = {"zh-hans": {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}, "en": {"HTTP_ACCEPT_LANGUAGE": "en"}}

NAMED_FORMATS = {
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "TIME_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
}
DATE_FILTER = re.compile(r"""\|(date|time):(?:"([^"]*)"|'([^']*)')""")
# Where a fixed format is for a machine: <time datetime>, a form's value or bounds, data for a script.
MACHINE_ATTRIBUTE = re.compile(r"""(?:\bdatetime|\bvalue|\bmin|\bmax|\bdata-[\w-]+)\s*=\s*["'][^"'<>]*$""")

# A certificate states its dates as its paper does (committee/views/certificates.py prints ISO
# dates, readable in both languages, on a bilingual document), so that the page and the public
# check can be compared with the paper letter for letter.
ALLOWED_FIXED_FORMATS = {
    ("committee/certificates/_facts.html", "Y-m-d"): "the certificate's facts, as printed on its paper",
    ("committee/certificates/verify_result.html", "Y-m-d"): "the revocation day, as printed on the paper",
}


def fixed_formats_in_template(source: str) -> list[tuple[int, str]]:
    """(line, format) of each date or time filter with a format of its own, outside a machine
    attribute. Django's own lexer finds the variables and tags (blocktranslate's with … too)."""
    found = []
    for token in DebugLexer(source).tokenize():
        start = token.position[0]
        if token.token_type not in (TokenType.VAR, TokenType.BLOCK):
            continue
        for match in DATE_FILTER.finditer(token.contents):
            written = match.group(2) if match.group(2) is not None else match.group(3)
            if written in NAMED_FORMATS:
                continue
            if token.token_type is TokenType.VAR and MACHINE_ATTRIBUTE.search(source[:start]):
                continue
            found.append((token.lineno, written))
    return found


# Filters that group digits, which the decision above leaves out: intcomma (humanize), and
# floatformat with its "g" (grouping) suffix.
GROUPING = re.compile(r"""\|intcomma\b|\|floatformat:["']-?\d*g""")


def grouped_numbers_in_template(source: str) -> list[int]:
    return [
        token.lineno
        for token in DebugLexer(source).tokenize()
        if token.token_type in (TokenType.VAR, TokenType.BLOCK) and GROUPING.search(token.contents)
    ]


def fixed_formats_in_templates() -> list[str]:
    findings = []
    for path in sorted(TEMPLATES.rglob("*")):
        if path.suffix not in (".html", ".txt"):
            continue
        name = path.relative_to(TEMPLATES).as_posix()
        source = path.read_text(encoding="utf-8")
        for line, written in fixed_formats_in_template(source):
            if (name, written) not in ALLOWED_FIXED_FORMATS:
                findings.append(f"templates/{name}:{line}: {written!r}")
        findings += [f"templates/{name}:{line}: grouped digits" for line in grouped_numbers_in_template(source)]
    return findings


# --- Scripts ---------------------------------------------------------------------------------

# A date put together by hand: its parts in a fixed order, whatever the language.
HAND_MADE_DATE = re.compile(
    r"\.get(?:UTC)?(?:FullYear|Month|Date|Day|Hours|Minutes)\(\)|\.toISOString\(\)\s*\.\s*(?:slice|substring)"
)
# Intl.DateTimeFormat and toLocale*String must be told the page's language: without it the
# browser's own is used, and a Chinese page on an English phone prints English dates.
LOCALE_FORMATTING = re.compile(r"(?:new\s+Intl\.DateTimeFormat|\.toLocale(?:Date|Time)?String)\(([^,)]*)")
PAGE_LANGUAGE = "document.documentElement.lang"


def date_problems_in_script(source: str) -> list[tuple[int, str]]:
    problems = []
    for number, line in enumerate(source.splitlines(), 1):
        code = line.split("//", 1)[0] if not line.lstrip().startswith(("//", "*", "/*")) else ""
        if HAND_MADE_DATE.search(code):
            problems.append((number, code.strip()))
        for match in LOCALE_FORMATTING.finditer(code):
            if PAGE_LANGUAGE not in match.group(1):
                problems.append((number, code.strip()))
    return problems


# --- The scans -------------------------------------------------------------------------------


def test_the_scan_catches_fixed_formats_and_lets_machine_ones_through():
    # Given a template with fixed formats for people, and ones for machines and named ones
    sample = (
        '{% load i18n %}<p>{{ post.created_at|date:"Y-m-d" }}</p>\n'
        "<p>{% blocktranslate with day=d|date:'n/j' %}On {{ day }}{% endblocktranslate %}</p>\n"
        '<p>{{ role.starts_at|time:"G:i" }}</p>\n'
        '<time datetime="{{ d|date:\'c\' }}">{{ d|date:"SHORT_DATETIME_FORMAT" }}</time>\n'
        '<input type="date" value="{{ d|date:"Y-m-d" }}" min="{{ d|date:"Y-m-d" }}">\n'
        '<li data-created-at="{{ d|date:\'c\' }}">{{ d|date:"YEAR_MONTH_FORMAT" }} {{ t|time:"TIME_FORMAT" }}</li>\n'
    )

    # Then the three for people are found, by line, and nothing else
    assert fixed_formats_in_template(sample) == [(1, "Y-m-d"), (2, "n/j"), (3, "G:i")]


def test_the_scan_catches_grouped_digits():
    sample = '{{ n|intcomma }}\n{{ h|floatformat:"2g" }}\n{{ h|floatformat:"-1" }} {{ n }}\n{% blocktranslate with n=n|intcomma %}{{ n }}{% endblocktranslate %}'
    assert grouped_numbers_in_template(sample) == [1, 2, 4]


def test_no_template_prints_a_date_in_a_fixed_format_or_groups_digits():
    assert fixed_formats_in_templates() == []


def test_each_allowed_fixed_format_is_still_used():
    # An allowance for a format that is gone would let the next one there through unseen.
    for name, written in ALLOWED_FIXED_FORMATS:
        used = fixed_formats_in_template((TEMPLATES / name).read_text(encoding="utf-8"))
        assert written in [found for _line, found in used], (name, written)


def test_the_script_check_catches_dates_made_by_hand_or_in_the_browsers_language():
    # Given script lines that format dates three wrong ways and one right way
    sample = "\n".join(
        [
            "const a = date.getFullYear() + '-' + (date.getMonth() + 1);",
            "const b = new Date(iso).toLocaleString();",
            "const c = new Intl.DateTimeFormat('zh-CN', { dateStyle: 'short' }).format(d);",
            "const d = new Date(iso).toLocaleString(document.documentElement.lang || undefined, {});",
            "// date.getHours() in a comment is no problem",
        ]
    )

    # Then the first three are found, and the right one and the comment are not
    assert [line for line, _code in date_problems_in_script(sample)] == [1, 2, 3]


def test_the_scripts_format_dates_in_the_pages_language():
    scripts = sorted(SCRIPTS.glob("*.js"))
    assert scripts
    problems = [
        f"{path.name}:{line}: {code}"
        for path in scripts
        for line, code in date_problems_in_script(path.read_text(encoding="utf-8"))
    ]
    assert problems == []


# --- Rendered pages --------------------------------------------------------------------------


def page_text(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "first_day", "last_day"),
    [("zh-hans", "2025年11月1日", "2025年11月24日"), ("en", "Nov. 1, 2025", "Nov. 24, 2025")],
)
def test_the_dashboard_writes_its_period_in_the_readers_language(
    client, committee, community, language, first_day, last_day
):
    # Given the committee's dashboard for 1–24 November 2025
    client.force_login(committee)
    address = reverse("committee:community_dashboard", args=[community.pk]) + "?start=2025-11-01&end=2025-11-24"

    # When it is read in one language
    response = client.get(address, **LANGUAGES[language])

    # Then the period is written that language's way, and in no other
    assert response.status_code == 200
    period = page_text(response).split('id="period-shown"')[1].split("</p>")[0]
    assert first_day in period and last_day in period
    assert "2025-11" not in period
    other = {"zh-hans": "Nov. 24, 2025", "en": "2025年11月24日"}[language]
    assert other not in period


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "hours"), [("zh-hans", "09:00–11:30"), ("en", "9 a.m.–11:30 a.m.")])
def test_a_welfare_role_gives_its_hours_in_the_readers_language(committee, community, building, language, hours):
    # Given a weekly duty from 9:00 to 11:30
    today = timezone.localdate()
    role = welfare_role_create(
        actor=committee,
        community=community,
        title="周六法律援助",
        description="每周六上午在社区调解室提供法律咨询。",
        skill=skill("legal-aid"),
        seats=1,
        weekday=WelfareRole.Weekday.SATURDAY,
        starts_at=time(9),
        ends_at=time(11, 30),
        term_start=today,
        term_end=today + timedelta(days=300),
        place=building,
    )
    client = Client()
    client.force_login(committee)

    # When its page is read in one language
    response = client.get(reverse("aid_posts:role_detail", args=[role.pk]), **LANGUAGES[language])

    # Then the hours are written with that language's clock
    assert response.status_code == 200
    schedule = page_text(response).split('id="role-schedule"')[1].split("</p>")[0]
    assert hours in schedule


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_large_numbers_are_plain_digits_and_the_price_posts_back(client, resident, community, language):
    # Given a reward of 1,234 points and a member with 12,345
    reward = Reward.objects.create(
        community=community, title="年度志愿者礼包", kind=Reward.Kind.VOUCHER, points=1234, stock=3, created_by=resident
    )
    points_earned(resident, community, 12345, reason=LedgerEntry.Reason.HELP_CONFIRMED)
    client.force_login(resident)

    # When the member opens the reward in one language
    page = page_text(client.get(reverse("rewards:redeem", args=[reward.pk]), **LANGUAGES[language]))

    # Then every number is written in plain digits, in the text and in the form
    price = page.split('id="price">')[1].split("</dd>")[0]
    balance = page.split('id="balance">')[1].split("</dd>")[0]
    assert "1234" in price and "12345" in balance
    assert "1,234" not in page and "12,345" not in page
    assert '<input type="hidden" name="price" value="1234">' in page

    # And the price the page shows is read back as the price when the member confirms
    response = client.post(reverse("rewards:redeem", args=[reward.pk]), {"price": "1234"}, **LANGUAGES[language])
    assert response.status_code == 302
    assert reward.redemptions.count() == 1


@pytest.mark.django_db
def test_a_price_written_with_grouping_is_refused_with_a_message(client, resident, community):
    # Given a reward, and a form that sends the price with a thousands separator
    reward = Reward.objects.create(
        community=community, title="年度志愿者礼包", kind=Reward.Kind.VOUCHER, points=1234, stock=3, created_by=resident
    )
    points_earned(resident, community, 12345)
    client.force_login(resident)

    # When it is posted
    response = client.post(reverse("rewards:redeem", args=[reward.pk]), {"price": "1,234"}, **LANGUAGES["en"])

    # Then nothing is spent, and the page says what to do
    assert response.status_code == 400
    assert "Open the reward again and confirm its price." in page_text(response)
    assert reward.redemptions.count() == 0
