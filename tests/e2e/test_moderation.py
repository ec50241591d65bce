"""The committee walks its moderation queue in a real browser: a report, a hide that reaches an
open conversation at once, the held-for-review queue, a suspension that stops a page already
open, and the audit trail that keeps every decision with its reason.

王阿姨 (a resident) and 张同学 (the neighbour helping her) talk in her request's conversation,
both on 360 px phones in Chinese. The committee member works at a desktop in English. The
data exists before the browsers start: Django refuses ORM calls beside Playwright's sync API,
so what the database holds afterwards is read in a thread of its own (in_own_thread).
"""

import re
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from aid_posts.models import AidPost
from aid_posts.services import aid_post_claim, aid_post_create, claim_accept
from committee.models import Report
from committee.services.reports import report_file
from committee.services.words import sensitive_word_add
from messaging.models import Conversation, Message
from messaging.services import message_send
from neighbors.models import AuditEntry, Membership, Suspension
from tests.e2e.browser import in_own_thread, log_in, no_horizontal_scroll
from tests.factories import MembershipFactory, UserFactory, skill, window

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US"}
WAIT_MS = 10_000
MINE = re.compile(r"\bmine\b")

WORD = "转账"
SPAM = "加微信 quan888 领免费鸡蛋，转发三个群再送食用油！"
HELD_TEXT = "材料费不用转账给我，零件我自己带过去。"
HELD_POST_TITLE = "急需转账周转五千元"
PROFILE_BIO = "代购各种优惠券，加微信 quan888"
REPORT_NOTE = "他在我的求助对话里发广告。"
HIDE_REASON = "Advertising in a help conversation."
REJECT_REASON = "Loans are not a kind of help this site arranges."
SUSPEND_REASON = "Repeated advertising to residents after being reported."
ATTEMPT = "我还能发消息吗？"


@dataclass(frozen=True)
class Moderation:
    committee_email: str
    wang_email: str
    zhang_email: str
    zhang_id: int
    conversation_id: int
    spam_id: int
    held_id: int
    held_post_id: int
    profile_report_id: int


@pytest.fixture
def moderation(community, building) -> Moderation:
    """The conversation, the spam in it, what the word list held, and an older report, all through
    the services, before the browsers."""
    committee = UserFactory(username="chen", profile__display_name="陈主任", profile__language="en")
    MembershipFactory(user=committee, community=community, home_place=building, role=Membership.Role.COMMITTEE)
    wang = UserFactory(username="wang", profile__display_name="王阿姨")
    MembershipFactory(user=wang, community=community, home_place=building)
    zhang = UserFactory(username="zhang", profile__display_name="张同学", profile__bio=PROFILE_BIO)
    MembershipFactory(user=zhang, community=community, home_place=building)
    sensitive_word_add(actor=committee, community=community, word=WORD)

    post = aid_post_create(
        **window(),
        actor=wang,
        community=community,
        category=skill(),
        title="厨房水龙头漏水",
        description="水龙头一直滴水，想请懂维修的邻居帮忙看看。",
        place=building,
    )
    conversation = claim_accept(actor=wang, claim=aid_post_claim(actor=zhang, post=post))

    def send(user, body: str) -> Message:
        message, _created = message_send(actor=user, conversation_id=conversation.pk, body=body)
        return message

    send(wang, "小张你好，明天上午方便过来看看吗？")
    send(zhang, "可以的，十点左右到。")
    spam = send(zhang, SPAM)
    held = send(zhang, HELD_TEXT)
    assert held.status == Message.Status.HELD

    # Reported earlier (so it comes first in the queue): 张同学's profile, with the same advert.
    profile_report = report_file(
        actor=wang, target_kind=Report.TargetKind.PROFILE, target_id=zhang.pk, reason=Report.Reason.SPAM
    )
    held_post = aid_post_create(
        **window(),
        actor=zhang,
        community=community,
        category=skill(),
        title=HELD_POST_TITLE,
        description="手头紧，谁能先转账借我，利息好商量。",
        place=building,
    )
    assert held_post.status == AidPost.Status.HELD
    return Moderation(
        committee_email=committee.email,
        wang_email=wang.email,
        zhang_email=zhang.email,
        zhang_id=zhang.pk,
        conversation_id=conversation.pk,
        spam_id=spam.pk,
        held_id=held.pk,
        held_post_id=held_post.pk,
        profile_report_id=profile_report.pk,
    )


def open_conversation(page: Page, conversation_id: int) -> None:
    page.goto(reverse("messaging:conversation", args=[conversation_id]))
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=WAIT_MS)


def in_log(page: Page, text: str):
    return page.locator("#chat-log .chat-message", has_text=text)


def audit_row(page: Page, action: str):
    return page.locator("#audit-entries tbody tr", has_text=action)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_committee_walks_its_moderation_queue(moderation, new_browser_context, live_asgi_url, artifacts_dir):
    m = moderation
    with translation.override("zh-hans"):
        hidden_note = gettext("Hidden by the committee.")
    conversation_url = f"{live_asgi_url}{reverse('messaging:conversation', args=[m.conversation_id])}"

    # 王阿姨 and 张同学 each have the conversation open on a phone, in Chinese.
    wang = new_browser_context(**PHONE).new_page()
    log_in(wang, live_asgi_url, m.wang_email)
    zhang = new_browser_context(**PHONE).new_page()
    log_in(zhang, live_asgi_url, m.zhang_email)
    open_conversation(zhang, m.conversation_id)
    expect(in_log(zhang, HELD_TEXT)).to_have_class(re.compile(r"\bheld\b"))

    # 王阿姨 sees the advert, not the held message, and reports the advert from the page.
    open_conversation(wang, m.conversation_id)
    expect(wang.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(in_log(wang, SPAM)).to_be_visible()
    expect(wang.locator("#chat-log")).not_to_contain_text(HELD_TEXT)
    wang.locator(f"#m-{m.spam_id} a.report-link").click()
    report_form = wang.locator("main form[method=post]")
    expect(wang.locator("main .report-snapshot")).to_have_text(SPAM)
    report_form.locator("input[name=reason][value=spam]").check()
    report_form.locator("textarea[name=note]").fill(REPORT_NOTE)
    assert no_horizontal_scroll(wang)
    report_form.locator("button[type=submit]").click()
    # Back where she was, told that the committee will look.
    wang.wait_for_url(conversation_url)
    expect(wang.locator(".message.success")).to_be_visible()
    expect(wang.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=WAIT_MS)

    # She asks the committee into the conversation, so that it can read the advert where it was sent.
    wang.locator("form.ask-committee button[type=submit]").click()
    wang.wait_for_url(conversation_url)
    expect(wang.locator(".message.success")).to_contain_text("莲兴社区")
    expect(wang.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=WAIT_MS)
    expect(in_log(wang, SPAM)).to_be_visible()

    # The committee opens its reports, at a desktop in English: oldest first, as reported.
    committee = new_browser_context(**DESKTOP).new_page()
    log_in(committee, live_asgi_url, m.committee_email)
    committee.goto(reverse("committee:reports"))
    reports = committee.locator("#open-reports li.report")
    expect(reports).to_have_count(2)
    expect(reports.nth(0)).to_have_id(f"report-{m.profile_report_id}")
    expect(reports.nth(0).locator(".report-snapshot")).to_contain_text(PROFILE_BIO)
    spam_report = reports.nth(1)
    expect(spam_report.locator(".report-snapshot")).to_have_text(SPAM)
    expect(spam_report).to_contain_text("Spam or advertising")
    expect(spam_report).to_contain_text(f"Note: {REPORT_NOTE}")
    expect(spam_report).to_contain_text("About 张同学.")
    expect(spam_report).to_contain_text("Reported by 王阿姨")
    # With what was said just before it, to judge it in its conversation.
    earlier = spam_report.get_by_role("list", name="The messages just before it")
    expect(earlier).to_contain_text("明天上午方便过来看看吗")
    expect(earlier).to_contain_text("十点左右到")
    spam_report_id = spam_report.get_attribute("id")
    committee.screenshot(path=str(artifacts_dir / "moderation-reports-desktop.png"), full_page=True)

    # The context link opens the conversation, with the advert among the messages around it.
    spam_report.get_by_role("link", name="Open it", exact=True).click()
    committee.wait_for_url(conversation_url)
    expect(in_log(committee, SPAM)).to_be_visible()
    expect(in_log(committee, "十点左右到")).to_be_visible()
    committee.go_back()

    # The committee hides the advert, saying why; the report leaves the queue.
    spam_report = committee.locator(f"#{spam_report_id}")
    spam_report.locator("details.report-actions > summary").click()
    spam_report.get_by_label("Why it is hidden (its author reads this)").fill(HIDE_REASON)
    spam_report.get_by_role("button", name="Hide it", exact=True).click()
    expect(committee.locator(".message.success")).to_contain_text("It is hidden")
    expect(committee.locator(f"#{spam_report_id}")).to_have_count(0)
    expect(committee.locator("#open-reports li.report")).to_have_count(1)

    # 王阿姨's open page shows at once that the committee hid it, and nothing of what it said.
    hidden = wang.locator(f"#m-{m.spam_id}")
    expect(hidden.locator(".body")).to_have_text(hidden_note, timeout=WAIT_MS)
    expect(hidden).to_have_class(re.compile(r"\bhidden-by-committee\b"))
    expect(wang.locator("#chat-log")).not_to_contain_text("quan888")
    expect(hidden.locator("a.report-link")).to_have_count(0)
    # 张同学 still sees his own message, with the committee's reason.
    expect(zhang.locator(f"#m-{m.spam_id}")).to_contain_text(HIDE_REASON, timeout=WAIT_MS)

    # Held for review: the committee releases the message, which reaches 王阿姨's page.
    committee.locator(f'a[href="{reverse("committee:held")}"]').first.click()
    held = committee.locator(f"#held-{m.held_id}")
    expect(held).to_contain_text(HELD_TEXT)
    expect(held).to_contain_text(f"Held for: {WORD}")
    held_post = committee.locator(f"#held-post-{m.held_post_id}")
    expect(held_post).to_contain_text(HELD_POST_TITLE)
    committee.screenshot(path=str(artifacts_dir / "moderation-held-desktop.png"), full_page=True)
    held.get_by_role("button", name="Release: publish it", exact=True).click()
    expect(committee.locator(".message.success")).to_contain_text("published in its conversation")
    expect(committee.locator(f"#held-{m.held_id}")).to_have_count(0)
    released = in_log(wang, HELD_TEXT)
    expect(released).to_be_visible(timeout=WAIT_MS)
    expect(released).not_to_have_class(MINE)

    # ... and rejects the held request, saying why.
    held_post = committee.locator(f"#held-post-{m.held_post_id}")
    held_post.get_by_label("Why it is not published (the author reads this)").fill(REJECT_REASON)
    held_post.get_by_role("button", name="Reject", exact=True).click()
    expect(committee.locator(".message.success")).to_contain_text("stays unpublished")
    expect(committee.locator(f"#held-post-{m.held_post_id}")).to_have_count(0)

    # From the remaining report (his profile), the committee suspends 张同学 for 7 days.
    committee.goto(reverse("committee:reports"))
    profile_report = committee.locator(f"#report-{m.profile_report_id}")
    profile_report.locator("details.report-actions > summary").click()
    profile_report.get_by_label("Suspend for how many days (1–365)").fill("7")
    profile_report.get_by_label("Why (the author reads this)").fill(SUSPEND_REASON)
    profile_report.get_by_role("button", name="Suspend the author", exact=True).click()
    expect(committee.locator(".message.success")).to_contain_text("The author is suspended")
    expect(committee.locator("#open-reports li.report")).to_have_count(0)
    expect(committee.locator("#open-reports li.empty")).to_be_visible()

    # 张同学's page, open all along, tries to send: refused with where, why and until when.
    chat_form = zhang.locator("form#chat-form")
    chat_form.locator("textarea[name=body]").fill(ATTEMPT)
    chat_form.locator("button[type=submit]").click()
    refusal = zhang.locator("#chat-error")
    expect(refusal).to_be_visible(timeout=WAIT_MS)
    expect(refusal).to_contain_text("莲兴社区")
    expect(refusal).to_contain_text(SUSPEND_REASON)
    # What he wrote is given back to him, and shown to nobody.
    expect(chat_form.locator("textarea[name=body]")).to_have_value(ATTEMPT)
    expect(zhang.locator("#chat-outbox .chat-message")).to_have_count(0)
    expect(in_log(zhang, ATTEMPT)).to_have_count(0)
    expect(in_log(wang, ATTEMPT)).to_have_count(0)
    # Reloaded, the page says so, and offers no box to write in.
    zhang.reload()
    expect(zhang.locator("#suspended-note")).to_contain_text(SUSPEND_REASON)
    expect(zhang.locator("form#chat-form")).to_have_count(0)
    assert no_horizontal_scroll(zhang)
    zhang.screenshot(path=str(artifacts_dir / "moderation-suspended-phone.png"), full_page=True)

    # The audit trail has each decision, who it was about and why.
    committee.goto(reverse("committee:audit"))
    for action, reason in (
        ("Content hidden", HIDE_REASON),
        ("Held content published", ""),
        ("Held content not published", REJECT_REASON),
        ("Member suspended", SUSPEND_REASON),
    ):
        row = audit_row(committee, action)
        expect(row).to_have_count(1)
        expect(row).to_contain_text("陈主任")
        expect(row).to_contain_text("张同学")
        if reason:
            expect(row).to_contain_text(reason)
    committee.screenshot(path=str(artifacts_dir / "moderation-audit-desktop.png"), full_page=True)

    # 王阿姨 cannot open the committee's queue: the page says whom it is for.
    response = wang.goto(reverse("committee:reports"))
    assert response.status == 403
    expect(wang.locator("#workspace-denied")).to_be_visible()
    expect(wang.locator("main")).not_to_contain_text(SUSPEND_REASON)
    assert no_horizontal_scroll(wang)
    wang.go_back()
    expect(wang.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=WAIT_MS)

    # The phones never scroll sideways.
    assert no_horizontal_scroll(wang)
    wang.screenshot(path=str(artifacts_dir / "moderation-conversation-phone.png"), full_page=True)

    # And the database agrees with what the pages showed.
    def stored():
        return {
            "attempted": Message.objects.filter(conversation=m.conversation_id, body=ATTEMPT).count(),
            "spam_hidden": Message.objects.get(pk=m.spam_id).hidden_reason,
            "held_status": Message.objects.get(pk=m.held_id).status,
            "post_status": AidPost.objects.get(pk=m.held_post_id).status,
            "open_reports": Report.objects.filter(status=Report.Status.OPEN).count(),
            "suspensions": list(
                Suspension.objects.filter(user=m.zhang_id, lifted_at__isnull=True).values_list("reason", flat=True)
            ),
            "audited": set(AuditEntry.objects.filter(subject=m.zhang_id).values_list("action", flat=True)),
            "committee_asked": Conversation.objects.get(pk=m.conversation_id).committee_asked_at is not None,
        }

    facts = in_own_thread(stored)
    assert facts["attempted"] == 0
    assert facts["spam_hidden"] == HIDE_REASON
    assert facts["held_status"] == Message.Status.VISIBLE
    assert facts["post_status"] == AidPost.Status.CANCELLED
    assert facts["open_reports"] == 0
    assert facts["suspensions"] == [SUSPEND_REASON]
    assert facts["committee_asked"]
    assert {
        AuditEntry.Action.CONTENT_HIDDEN,
        AuditEntry.Action.HELD_RELEASED,
        AuditEntry.Action.HELD_REJECTED,
        AuditEntry.Action.MEMBER_SUSPENDED,
    } <= facts["audited"]
