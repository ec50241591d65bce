"""Walk every main flow of DESIGN.md ("The core flows") in a real browser, as people would: on a
360 px phone and at a desktop, in Chinese and in English, and the elderly resident's part once
more in the large-text mode (长辈模式).

The demo community (load_demo) is the starting point: 王阿姨 the resident, 李师傅 the
volunteer plumber, 陈主任 the committee, 林法官 the judge whose mediation certificate waits for
the committee, 张同学 a student. A newcomer joins; 王阿姨 asks for help; 李师傅 finds the
request nearby and offers, she accepts; they chat; he reveals her phone number; he marks it
done with his hours, she confirms and rates, and his points go up; the judge takes the
mediation role once the committee verified his certificate; 张同学 posts a scam, 王阿姨
reports it, and the committee hides it from its queue.

Each person has a browser context of their own, all on the walk's device and in its language.
Every page they land on is checked (tests/e2e/walk.py: language, text size, no sideways
scroll, no script or server error, the accessibility audit), and the main pages are
photographed for the help pages (docs/screenshots/ with UPDATE_SCREENSHOTS=1).
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from aid_posts.models import AidPost, WelfareRole
from aid_posts.services import posts_escalate
from committee.management.commands.load_demo import DEMO_PASSWORD, PEOPLE
from neighbors.models import Community, Place, User
from neighbors.selectors import ledger_totals
from talent_pool.models import Credential, Skill
from tests.e2e.browser import MINE, chat_send, demo_load
from tests.e2e.walk import DESKTOP_SHOTS, PHONE_SHOTS, WAIT_MS, Person, Walk, post_path, screenshot_dirs

NEWCOMER_EMAIL = "xiaoliu@example.test"
NEWCOMER_PASSWORD = "a-long-pass-phrase-77"
# The seeded skill's name in each language (a field of the skill, not the catalogue).
REPAIRS = {"zh-hans": "家居维修", "en": "Home repair"}

# What people write, in the walk's language (the people's names stay the demo's).
TEXT = {
    "zh-hans": {
        "newcomer": "小刘",
        "title": "卫生间灯泡坏了",
        "description": "卫生间的灯泡不亮了，我够不着，想请邻居帮忙换一个。新灯泡已经买好了。",
        "private": "家里养了一只小狗，进门前请先敲门。",
        "chat": ["师傅您好，今天下午三点方便过来吗？", "可以的，我三点带梯子过来。", "好的，谢谢您！我在家等您。"],
        "comment": "李师傅很准时，灯已经修好了，谢谢！",
        "conflict": "我的表妹住在本社区3号楼，如遇她作为一方的纠纷，我会回避。",
        "scam_title": "高价回收旧手机，先交押金",
        "scam": "家里有旧手机的邻居请联系我，高价回收，先交100元押金登记。",
        "report": "要先交押金，像是骗钱的。",
        "hide": "疑似诈骗：正规回收不会先收押金。",
    },
    "en": {
        "newcomer": "Xiao Liu",
        "title": "The bathroom light bulb is out",
        "description": "The bathroom bulb has gone and I cannot reach it. Could a neighbour change it? I have a new bulb.",
        "private": "There is a small dog at home: please knock before you come in.",
        "chat": [
            "Hello, could you come at three this afternoon?",
            "Yes, I will bring a ladder at three.",
            "Thank you! I will be at home.",
        ],
        "comment": "Mr Li came on time and the light works again. Thank you!",
        "conflict": "My cousin lives in building 3 of this community; I will stand aside in any dispute she is part of.",
        "scam_title": "Old phones bought for cash, deposit first",
        "scam": "Neighbours with old phones, contact me: good prices, a 100 yuan deposit to register first.",
        "report": "A deposit first: it looks like a scam.",
        "hide": "Looks like a scam: real buyers do not ask for a deposit.",
    },
}


@dataclass(frozen=True)
class Demo:
    """What the walk needs to know of the demo community, read before the browsers start."""

    community: int
    home_building: int  # 2号楼, where 王阿姨 and the newcomer live
    student_building: int  # 5号楼, 张同学's
    repairs: int  # the "home repair" category
    errands: int
    role: int
    judge_credential: int
    wang: int
    wang_phone: str
    li_points: int
    li_hours: Decimal
    escalated_title: str


@pytest.fixture
def demo(transactional_db) -> Demo:
    """The demo community, with two of its requests waiting in the committee's queue."""
    demo_load()
    community = Community.objects.get(name="莲兴社区")
    wang = User.objects.get(email="wang@demo.jinlin")
    li = User.objects.get(email="li@demo.jinlin")
    # Two demo requests nobody offered to help with, posted two days ago: past the deadline of
    # their urgency, so the sweep puts them in the committee's queue.
    waiting = AidPost.objects.filter(
        community=community, status=AidPost.Status.OPEN, live_claims=0, title__in=["帮忙取一个快递", "租房合同押金问题"]
    )
    assert waiting.count() == 2
    waiting.update(created_at=timezone.now() - timedelta(days=2))
    assert posts_escalate() == 2
    totals = ledger_totals(li)
    return Demo(
        community=community.pk,
        home_building=Place.objects.get(community=community, name="2号楼").pk,
        student_building=Place.objects.get(community=community, name="5号楼").pk,
        repairs=Skill.objects.get(code="home-repair").pk,
        errands=Skill.objects.get(code="errands").pk,
        role=WelfareRole.objects.get(community=community, title="周六法律调解值班").pk,
        judge_credential=Credential.objects.get(
            talent_skill__talent__user__email="judge@demo.jinlin", status=Credential.Status.PENDING
        ).pk,
        wang=wang.pk,
        wang_phone=next(phone for email, _name, phone, *_ in PEOPLE if email == wang.email),
        li_points=totals["points"],
        li_hours=totals["hours"],
        escalated_title="帮忙取一个快递",
    )


def translated(language: str, text: str) -> str:
    """What the site shows for `text` in `language`: the catalogue's Chinese (which must be
    there, or the check would pass on an untranslated page), or the English."""
    with translation.override(language):
        shown = gettext(text)
    assert language == "en" or shown != text, f"the zh_Hans catalogue lacks {text!r}"
    return shown


def person(walk: Walk, name: str, email: str) -> Person:
    someone = walk.person(name)
    someone.log_in(email, DEMO_PASSWORD)
    return someone


# --- the flows -----------------------------------------------------------------------------


def join(walk: Walk, demo: Demo, committee: Person) -> None:
    """Sign up (with consent to the privacy notice), confirm the email, ask to join a community
    and building; the committee approves from its workspace."""
    text = TEXT[walk.language]
    newcomer = walk.person("newcomer")
    newcomer.goto("/")
    newcomer.nav("/accounts/signup/")
    form = newcomer.page.locator('form[action="/accounts/signup/"]')
    form.locator("input[name=email]").fill(NEWCOMER_EMAIL)
    form.locator("input[name=display_name]").fill(text["newcomer"])
    form.locator("input[name=age_group][value=adult]").check()
    form.locator("input[name=password1]").fill(NEWCOMER_PASSWORD)
    form.locator("input[name=password2]").fill(NEWCOMER_PASSWORD)
    form.locator("input[name=consent]").check()
    newcomer.submit(form)
    assert newcomer.path == "/accounts/confirm-email/"
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(1)
    newcomer.goto(link)
    newcomer.submit(newcomer.page.locator("main form"))
    # Confirming in the browser that signed up logs the newcomer in, in the language they used.
    assert newcomer.path == "/"
    expect(newcomer.page.locator("header")).to_contain_text(text["newcomer"])
    newcomer.follow(newcomer.page.locator('main a[href="/communities/"]'))
    join_form = newcomer.page.locator("main form.stack")
    join_form.locator("select[name=community]").select_option(str(demo.community))
    join_form.locator("select[name=home_place]").select_option(str(demo.home_building))
    join_form.locator("input[name=tenure][value=tenant]").check()
    newcomer.submit(join_form)
    expect(newcomer.page.locator("main .badge.status-pending")).to_be_visible()

    # The committee finds the request from its workspace, and approves it.
    committee.nav("/committee/")
    expect(committee.page.locator("main h1")).to_have_text(translated(walk.language, "Committee workspace"))
    requests_link = committee.page.locator('#waiting a[href="/communities/requests/"]')
    expect(requests_link.locator("strong")).to_have_text("1")
    committee.screenshot("workspace")
    committee.follow(requests_link)
    card = committee.page.locator("main section.card", has_text=text["newcomer"])
    expect(card).to_contain_text("2号楼")
    committee.screenshot("membership-queue")
    committee.submit(card.locator('form[action$="/approve/"]'))
    expect(committee.page.locator(".message.success")).to_contain_text(text["newcomer"])
    expect(committee.page.locator("main section.card", has_text=text["newcomer"])).to_have_count(0)

    newcomer.reload()
    expect(newcomer.page.locator("main .badge.status-approved")).to_be_visible()
    newcomer.page.context.close()


def ask(walk: Walk, demo: Demo, resident: Person, *, from_easy_home: bool = False) -> str:
    """The resident asks for help through the form: kind, what, urgency, building, and a
    private detail only the accepted helper reads. Returns the request's path."""
    text = TEXT[walk.language]
    page = resident.page
    if from_easy_home:
        # The large-text home page: the kinds of help most asked for, as big buttons.
        resident.follow(page.locator(f'main .easy-categories a[href="/posts/new/?category={demo.repairs}"]'))
        expect(page.locator("select[name=category]")).to_have_value(str(demo.repairs))
    else:
        expect(page.locator('main a[href="/posts/new/"]')).to_have_text(translated(walk.language, "Ask for help"))
        resident.follow(page.locator('main a[href="/posts/new/"]'))
        page.locator("select[name=category]").select_option(str(demo.repairs))
    form = page.locator("main form.stack")
    form.locator("select[name=community]").select_option(str(demo.community))
    form.locator("input[name=title]").fill(text["title"])
    form.locator("textarea[name=description]").fill(text["description"])
    form.locator(f"input[name=urgency][value='{AidPost.Urgency.SOON}']").check()
    form.locator("select[name=place]").select_option(str(demo.home_building))
    form.locator("textarea[name=sensitive_details]").fill(text["private"])
    form.locator("input[name=grant_health_consent]").check()
    resident.screenshot("ask", show=page.locator("main h1"))
    resident.submit(form)
    path = post_path(page.url)
    expect(page.locator("main h1")).to_have_text(text["title"])
    expect(page.locator("#post-status")).to_have_class(re.compile(r"\bstatus-open\b"))
    expect(page.locator(".private-details")).to_contain_text(text["private"])
    return path


def claim(walk: Walk, demo: Demo, resident: Person, volunteer: Person, request: str) -> None:
    """The volunteer finds the request on the nearby page and offers help; the resident accepts."""
    text = TEXT[walk.language]
    volunteer.nav("/posts/nearby/")
    row = volunteer.page.locator("#nearby-results .nearby-row", has_text=text["title"])
    expect(row).to_be_visible()
    volunteer.screenshot("nearby", show=volunteer.page.locator("#nearby-results"))
    volunteer.follow(row.locator(f'a.post-title[href="{request}"]'))
    # Before an offer is accepted, the private details stay with the resident.
    expect(volunteer.page.locator(".private-details")).to_have_count(0)
    volunteer.submit(volunteer.page.locator(f'form[action="{request}claim/"]'))
    expect(volunteer.page.locator(".message.success")).to_be_visible()
    expect(volunteer.page.locator(f'form[action="{request}claim/withdraw/"]')).to_be_visible()

    resident.reload()
    offer = resident.page.locator("main ul.claims li", has_text="李师傅")
    expect(offer.locator('form[action$="/accept/"]')).to_be_visible()
    resident.screenshot("request", show=offer, where="center")
    resident.submit(offer.locator('form[action$="/accept/"]'))
    # Its one seat taken, the request is under way.
    expect(resident.page.locator("#post-status")).to_have_class(re.compile(r"\bstatus-in_progress\b"))


def talk(walk: Walk, resident: Person, volunteer: Person, request: str) -> None:
    """Both open the request's conversation; what one writes, the other sees at once."""
    messages = TEXT[walk.language]["chat"]
    resident.follow(resident.page.locator('main a.button[href^="/messages/"]'))
    volunteer.reload()
    volunteer.follow(volunteer.page.locator('main a.button[href^="/messages/"]'))
    assert volunteer.path == resident.path
    for side in (resident, volunteer):
        expect(side.page.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=WAIT_MS)
        side.page.evaluate("() => { window.__e2eNoReload = true; }")

    for sender, receiver, message in ((resident, volunteer, messages[0]), (volunteer, resident, messages[1])):
        chat_send(sender.page, message, WAIT_MS)
        received = receiver.page.locator("#chat-log .chat-message", has_text=message)
        expect(received).to_be_visible(timeout=WAIT_MS)
        expect(received).not_to_have_class(MINE)
    chat_send(resident.page, messages[2], WAIT_MS)
    expect(volunteer.page.locator("#chat-log .chat-message", has_text=messages[2])).to_be_visible(timeout=WAIT_MS)
    # The volunteer's page was in front of him: the resident sees that he has read it.
    expect(resident.page.locator("#chat-log .chat-message", has_text=messages[2]).locator(".seen")).to_be_visible(
        timeout=WAIT_MS
    )
    for side in (resident, volunteer):
        assert side.page.evaluate("() => window.__e2eNoReload === true"), f"{side.name}'s chat page reloaded"
        side.landed()
    resident.screenshot("chat", show=resident.page.locator("main h1"))
    # Back to the request from the home page's "requests you are helping with".
    volunteer.follow(volunteer.page.locator("header a.brand"))
    volunteer.follow(volunteer.page.locator(f'main a[href="{request}"]').first)


def disclose(walk: Walk, demo: Demo, resident: Person, volunteer: Person) -> None:
    """The helper sees the resident's phone masked and reveals it; she sees that he looked."""
    phone = volunteer.page.locator(f"#contact-phone-{demo.wang}")
    masked = f"{demo.wang_phone[:3]}****{demo.wang_phone[-4:]}"
    expect(phone).to_contain_text(masked)
    expect(volunteer.page.locator("main")).not_to_contain_text(demo.wang_phone)
    # Now that his offer is accepted, the private detail is his to read.
    expect(volunteer.page.locator(".private-details")).to_contain_text(TEXT[walk.language]["private"])
    volunteer.submit(phone.locator("form"))
    expect(volunteer.page.locator(f"#contact-phone-{demo.wang} .revealed")).to_have_text(demo.wang_phone)

    resident.nav("/me/")
    resident.follow(resident.page.locator('main a[href="/me/seen-my-details/"]'))
    expect(resident.page.locator("main table")).to_contain_text("李师傅")


def close(walk: Walk, demo: Demo, resident: Person, volunteer: Person, request: str) -> None:
    """The helper marks it done with his hours; the resident confirms and rates; his points and
    hours go up on his points page."""
    text = TEXT[walk.language]
    done = volunteer.page.locator(f'form[action="{request}done/"]')
    done.locator("input[name=hours]").fill("1.5")
    volunteer.submit(done)
    expect(volunteer.page.locator("#post-status")).to_have_class(re.compile(r"\bstatus-done\b"))

    resident.follow(resident.page.locator("header a.brand"))
    resident.follow(resident.page.locator(f'main a[href="{request}"]').first)
    resident.submit(resident.page.locator(f'form[action="{request}confirm/"]'))
    expect(resident.page.locator("#post-status")).to_have_class(re.compile(r"\bstatus-confirmed\b"))
    rating = resident.page.locator(f'form[action="{request}feedback/"]')
    rating.locator("input[name=rating][value='5']").check()
    rating.locator("input[name=comment]").fill(text["comment"])
    resident.submit(rating)
    expect(resident.page.locator("main article")).to_contain_text(text["comment"])
    expect(resident.page.locator(f'form[action="{request}feedback/"]')).to_have_count(0)

    volunteer.nav("/me/")
    volunteer.follow(volunteer.page.locator('main a[href="/me/points/"]'))
    points = demo.li_points + settings.POINTS_PER_CONFIRMED_HELP
    expect(volunteer.page.locator("#points-total")).to_have_text(str(points))
    expect(volunteer.page.locator("main .totals strong").nth(1)).to_have_text(
        decimal_text(demo.li_hours + Decimal("1.5"))
    )


def decimal_text(number: Decimal) -> re.Pattern:
    """5, 5.0 or 5.00 (SQLite and PostgreSQL sum decimals to different places); 3.5 or 3.50."""
    whole, _, fraction = f"{number.normalize():f}".partition(".")
    return re.compile(rf"^{whole}(\.{fraction}0*)$" if fraction else rf"^{whole}(\.0+)?$")


def talent_profile(walk: Walk, volunteer: Person) -> None:
    """The volunteer's own talent profile, with his verified skill."""
    volunteer.nav("/talent/")
    volunteer.follow(volunteer.page.locator('main a[href="/talent/me/"]').first)
    expect(volunteer.page.locator("main article.card h3").first).to_contain_text(REPAIRS[walk.language])
    volunteer.screenshot("talent-profile", show=volunteer.page.locator("main h1"))


def roles(walk: Walk, demo: Demo, committee: Person) -> None:
    """The committee verifies the judge's mediation certificate; the judge claims a seat of the
    mediation role with a declaration; the committee reads it and approves."""
    text = TEXT[walk.language]
    role = f"/posts/roles/{demo.role}/"
    committee.nav("/committee/")
    committee.follow(committee.page.locator('#waiting a[href="/talent/credentials/"]'))
    certificate = committee.page.locator(f"#credential-{demo.judge_credential}")
    expect(certificate).to_contain_text("林法官")
    committee.submit(certificate.locator('form[action$="/verify/"]'))
    expect(committee.page.locator(".message.success")).to_be_visible()
    expect(committee.page.locator(f"#credential-{demo.judge_credential}")).to_have_count(0)

    judge = person(walk, "judge", "judge@demo.jinlin")
    judge.nav("/posts/roles/")
    judge.follow(judge.page.locator(f'#roles a[href="{role}"]'))
    judge.screenshot("role")
    claim_form = judge.page.locator(f'form[action="{role}claim/"]')
    claim_form.locator("textarea[name=conflict_of_interest]").fill(text["conflict"])
    judge.submit(claim_form)
    expect(judge.page.locator("#my-claim-status")).to_have_class(re.compile(r"\bstatus-pending\b"))

    committee.nav("/posts/roles/")
    committee.follow(committee.page.locator(f'#needs-attention a[href="{role}"]'))
    decision = committee.page.locator("#claims-to-decide .claim", has_text="林法官")
    expect(decision.locator(".conflict")).to_have_text(text["conflict"])
    committee.submit(decision.locator('form[action$="/approve/"]'))
    expect(committee.page.locator("#holders")).to_contain_text("林法官")

    judge.reload()
    expect(judge.page.locator("#my-claim-status")).to_have_class(re.compile(r"\bstatus-approved\b"))
    expect(judge.page.locator("#duty-form")).to_be_visible()
    judge.page.context.close()


def govern(walk: Walk, demo: Demo, resident: Person, committee: Person) -> None:
    """A student posts a scam; the resident reports it; the committee looks at its requests
    queue and hides the request from its reports queue; the author sees why."""
    text = TEXT[walk.language]
    student = person(walk, "student", "zhang@demo.jinlin")
    student.follow(student.page.locator('main a[href="/posts/new/"]'))
    form = student.page.locator("main form.stack")
    form.locator("select[name=community]").select_option(str(demo.community))
    form.locator("select[name=category]").select_option(str(demo.errands))
    form.locator("input[name=title]").fill(text["scam_title"])
    form.locator("textarea[name=description]").fill(text["scam"])
    form.locator("select[name=place]").select_option(str(demo.student_building))
    student.submit(form)
    scam = post_path(student.page.url)

    resident.follow(resident.page.locator("header a.brand"))
    resident.follow(resident.page.locator(f'main a.post-title[href="{scam}"]').first)
    resident.follow(resident.page.locator("main a.report-link"))
    report = resident.page.locator("main form")
    report.locator("input[name=reason][value=fraud]").check()
    report.locator("textarea[name=note]").fill(text["report"])
    resident.submit(report)
    assert resident.path == scam
    expect(resident.page.locator(".message.success")).to_be_visible()

    committee.nav("/committee/")
    committee.follow(committee.page.locator('main nav a[href="/posts/queue/"]'))
    expect(committee.page.locator("#escalated li.post", has_text=demo.escalated_title)).to_be_visible()
    committee.screenshot("post-queue")
    committee.nav("/committee/")
    committee.follow(committee.page.locator('#waiting a[href="/committee/reports/"]'))
    reported = committee.page.locator("#open-reports li.report", has_text=text["scam_title"])
    expect(reported).to_contain_text(text["report"])
    committee.screenshot("reports", show=committee.page.locator("main h1"))
    reported.locator("details.report-actions > summary").click()
    hide = reported.locator('form[action$="/hide/"]')
    hide.locator("input[name=reason]").fill(text["hide"])
    committee.submit(hide)
    expect(committee.page.locator(".message.success")).to_be_visible()
    expect(committee.page.locator("#open-reports li.report", has_text=text["scam_title"])).to_have_count(0)

    student.reload()
    expect(student.page.locator("#hidden-note")).to_contain_text(text["hide"])
    student.page.context.close()
    # Hidden, it is gone from the neighbours' lists.
    resident.follow(resident.page.locator("header a.brand"))
    expect(resident.page.locator(f'main a[href="{scam}"]')).to_have_count(0)


# --- the walks -----------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("device", "language"),
    [("phone", "zh-hans"), ("phone", "en"), ("desktop", "zh-hans"), ("desktop", "en")],
    ids=["phone-zh", "phone-en", "desktop-zh", "desktop-en"],
)
def test_every_main_flow(device, language, demo, new_browser_context, live_asgi_url, artifacts_dir, mailoutbox):
    # Given the demo community, and everyone on the walk's device in the walk's language
    walk = Walk(
        base_url=live_asgi_url,
        language=language,
        device=device,
        new_context=new_browser_context,
        shot_dirs=screenshot_dirs(artifacts_dir),
        # The large-text home page: in English here, in Chinese in the large-text walk.
        wanted_shots=(PHONE_SHOTS | ({"easy-home"} if language == "en" else set()))
        if device == "phone"
        else DESKTOP_SHOTS,
    )
    # When each of them goes through their part of every main flow
    committee = person(walk, "committee", "committee@demo.jinlin")
    join(walk, demo, committee)

    resident = person(walk, "resident", "wang@demo.jinlin")
    resident.screenshot("home")
    if "easy-home" in walk.wanted_shots:
        resident.set_large_text(True)
        resident.screenshot("easy-home")
        resident.set_large_text(False)
    request = ask(walk, demo, resident)

    volunteer = person(walk, "volunteer", "li@demo.jinlin")
    claim(walk, demo, resident, volunteer, request)
    talk(walk, resident, volunteer, request)
    disclose(walk, demo, resident, volunteer)
    close(walk, demo, resident, volunteer, request)
    talent_profile(walk, volunteer)
    roles(walk, demo, committee)
    govern(walk, demo, resident, committee)

    # Then every page on the way passed its checks, and the walk took its screenshots
    walk.assert_no_problems()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_elderly_resident_asks_talks_and_confirms_in_large_text(
    demo, new_browser_context, live_asgi_url, artifacts_dir
):
    """王阿姨 on her phone in Chinese with the large-text mode on: every page of hers is checked
    against the stronger contrast the mode promises (the helper's pages as usual)."""
    walk = Walk(
        base_url=live_asgi_url,
        language="zh-hans",
        device="phone",
        new_context=new_browser_context,
        shot_dirs=screenshot_dirs(artifacts_dir),
        wanted_shots=frozenset({"easy-home"}),
    )
    # Given 王阿姨 switching the large-text mode on from the header
    resident = person(walk, "resident", "wang@demo.jinlin")
    resident.set_large_text(True)
    expect(resident.page.locator("main .easy-categories a").first).to_be_visible()
    resident.screenshot("easy-home")
    # When she asks from the large-text home page, accepts 李师傅's offer, chats and confirms
    request = ask(walk, demo, resident, from_easy_home=True)
    volunteer = person(walk, "volunteer", "li@demo.jinlin")
    claim(walk, demo, resident, volunteer, request)
    talk(walk, resident, volunteer, request)
    close(walk, demo, resident, volunteer, request)

    # Then logged in again elsewhere, the mode follows her (her profile keeps it)
    again = walk.person("resident, another browser")
    again.log_in("wang@demo.jinlin", DEMO_PASSWORD, large_text=True)
    expect(again.page.locator("main .easy-categories")).to_be_visible()
    # and every page on the way passed its checks, hers with the enhanced contrast
    walk.assert_no_problems()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_walk_notes_what_is_wrong_with_a_page(new_browser_context, live_asgi_url, artifacts_dir):
    """The checks of every landing can fail: a page in the wrong language, wider than the
    phone, with a script error and a stylesheet the server failed on is noted four times."""
    walk = Walk(
        base_url=live_asgi_url,
        language="zh-hans",
        device="phone",
        new_context=new_browser_context,
        shot_dirs=screenshot_dirs(artifacts_dir),
        wanted_shots=frozenset(),
    )
    # Given a visitor whose page is broken in four ways
    visitor = walk.person("visitor")
    visitor.page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_asgi_url}])
    visitor.page.route("**/static/css/site.css", lambda route: route.fulfill(status=503, body="down"))
    visitor.page.add_init_script(
        """window.addEventListener("DOMContentLoaded", () => {
             const wide = document.createElement("div");
             wide.style.cssText = "width: 2000px; height: 1px";
             document.body.append(wide);
             throw new Error("broken on purpose");
           });"""
    )

    # When the walk lands on it
    visitor.goto("/accounts/login/")

    # Then each is noted, and the walk fails at its end
    noted = "\n".join(walk.problems)
    assert "the page is in 'en', not 'zh-hans'" in noted
    assert re.search(r"scrolls sideways \(20\d\d px wide in a 360 px window\)", noted)
    assert "broken on purpose" in noted
    assert "503 GET /static/css/site.css" in noted
    with pytest.raises(AssertionError, match="problem"):
        walk.assert_no_problems()
