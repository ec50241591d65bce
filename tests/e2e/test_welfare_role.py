"""A judge takes the legal-aid mediation role, in a real browser: credential → claim → approve → duty → points.

The committee works at a desktop in English: it verifies the judge's mediation
certificate, reads the judge's conflict-of-interest declaration before approving,
and confirms the duty. The judge works on a 360 px phone in Chinese: claims the
role, logs a duty served last Saturday and finds its hours and points.
"""

import io
import re
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from aid_posts.models import WelfareRole
from aid_posts.services import welfare_role_create
from neighbors.images import image_process
from neighbors.models import Membership
from talent_pool.models import Skill, TalentSkill
from talent_pool.services import credential_submit, talent_skill_add
from tests.e2e.browser import log_in
from tests.factories import MembershipFactory, UserFactory

PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN"}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US"}
ROLE_TITLE = "周六法律调解值班"
CONFLICT = "我的表妹住在本社区3号楼，如遇她作为一方的纠纷，我会回避。"
DUTY_SUMMARY = "调解了两起停车纠纷，解答三个租赁问题"


def certificate_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "ivory").save(buffer, "JPEG")
    return buffer.getvalue()


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def last_saturday_before(day):
    return day - timedelta(days=(day.weekday() - WelfareRole.Weekday.SATURDAY) % 7 or 7)


@pytest.fixture
def mediation_role(community, building):
    """The committee, a judge whose mediation certificate waits for it, and the role; all before the browsers."""
    committee = UserFactory(username="chen", email="chen@example.test", profile__language="en")
    MembershipFactory(user=committee, community=community, home_place=building, role=Membership.Role.COMMITTEE)
    judge = UserFactory(username="lin", email="lin@example.test", profile__display_name="林法官")
    MembershipFactory(user=judge, community=community, home_place=building)
    # Transactional tests flush the seeded skills: make the one the role needs.
    mediation, _created = Skill.objects.update_or_create(
        code="legal-mediation",
        defaults={"name_zh_hans": "法律调解", "name_en": "Legal mediation", "requires_credential": True},
    )
    talent_skill = talent_skill_add(actor=judge, skill=mediation, level=TalentSkill.Level.PROFESSIONAL)
    credential = credential_submit(
        actor=judge,
        talent_skill=talent_skill,
        image=image_process(io.BytesIO(certificate_photo())),
        number="TJ-2024-1107",
        expires_on=timezone.localdate() + timedelta(days=730),
    )
    today = timezone.localdate()
    role = welfare_role_create(
        actor=committee,
        community=community,
        title=ROLE_TITLE,
        description="每周六上午在社区调解室值班，调解邻里纠纷。",
        skill=mediation,
        seats=2,
        weekday=WelfareRole.Weekday.SATURDAY,
        starts_at=time(9),
        ends_at=time(11),
        term_start=today - timedelta(days=14),
        term_end=today + timedelta(days=358),
        place=building,
    )
    return {"committee": committee, "judge": judge, "credential": credential, "role": role}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_judge_takes_the_mediation_role(mediation_role, new_browser_context, live_asgi_url, artifacts_dir):
    role, credential = mediation_role["role"], mediation_role["credential"]
    role_url = f"/posts/roles/{role.pk}/"
    served_on = last_saturday_before(timezone.localdate())

    # The committee verifies the judge's certificate, at a desktop in English.
    committee = new_browser_context(**DESKTOP).new_page()
    log_in(committee, live_asgi_url, mediation_role["committee"].email)
    committee.goto("/talent/credentials/")
    certificate = committee.locator(f"#credential-{credential.pk}")
    expect(certificate).to_contain_text("林法官")
    expect(certificate).to_contain_text("TJ-2024-1107")
    certificate.get_by_role("button", name="Verify", exact=True).click()
    expect(committee.locator(".message.success")).to_contain_text("Verified")

    # The judge finds the role on a phone, in Chinese, and claims it with a declaration.
    judge = new_browser_context(**PHONE).new_page()
    log_in(judge, live_asgi_url, mediation_role["judge"].email)
    expect(judge.locator("html")).to_have_attribute("lang", "zh-hans")
    # On a phone the roles are in the account menu of the header.
    judge.locator("header details.account-menu summary").click()
    judge.locator("header details.account-menu").locator('a[href="/posts/roles/"]').click()
    row = judge.locator("#roles li.role", has_text=ROLE_TITLE)
    expect(row).to_contain_text("9:00–11:00")
    judge.screenshot(path=str(artifacts_dir / "welfare-role-list-phone.png"), full_page=True)
    row.locator(f'a[href="{role_url}"]').click()
    judge.wait_for_url(f"{live_asgi_url}{role_url}")
    assert no_horizontal_scroll(judge)
    claim_form = judge.locator(f'form[action="{role_url}claim/"]')
    claim_form.locator("textarea[name=conflict_of_interest]").fill(CONFLICT)
    claim_form.locator("button[type=submit]").click()
    expect(judge.locator(".message.success")).to_be_visible()
    expect(judge.locator("#my-claim-status")).to_have_class("badge status-pending")

    # The committee reads the declaration, then approves.
    committee.goto(role_url)
    claim = committee.locator("#claims-to-decide .claim", has_text="林法官")
    expect(claim.locator(".conflict")).to_have_text(CONFLICT)
    committee.screenshot(path=str(artifacts_dir / "welfare-role-claim-desktop.png"), full_page=True)
    claim.get_by_role("button", name="Approve", exact=True).click()
    expect(committee.locator(".message.success")).to_contain_text("林法官 now holds a seat.")
    expect(committee.locator("#holders")).to_contain_text("林法官")
    expect(committee.locator("#holders")).to_contain_text("1 of 2 seats taken")

    # The judge logs the duty served last Saturday.
    judge.goto(role_url)
    expect(judge.locator("#my-claim-status")).to_have_class("badge status-approved")
    duty_form = judge.locator("#duty-form")
    duty_form.locator("input[name=served_on]").fill(served_on.isoformat())
    duty_form.locator("input[name=hours]").fill("2")
    duty_form.locator("textarea[name=summary]").fill(DUTY_SUMMARY)
    duty_form.locator("button[type=submit]").click()
    expect(judge.locator(".message.success")).to_be_visible()
    expect(judge.locator("#duties li.duty", has_text=DUTY_SUMMARY).locator(".badge")).to_have_class(
        "badge status-pending"
    )
    assert no_horizontal_scroll(judge)
    judge.screenshot(path=str(artifacts_dir / "welfare-role-judge-phone.png"), full_page=True)

    # The committee confirms it.
    committee.goto(role_url)
    duty = committee.locator("#duties-to-confirm .duty", has_text=DUTY_SUMMARY)
    expect(duty).to_contain_text("林法官")
    duty.get_by_role("button", name="Confirm", exact=True).click()
    expect(committee.locator(".message.success")).to_contain_text("Duty confirmed")
    expect(committee.locator("#duties-to-confirm")).not_to_contain_text(DUTY_SUMMARY)
    committee.screenshot(path=str(artifacts_dir / "welfare-role-committee-desktop.png"), full_page=True)

    # The judge sees the hours and points, on the role page and in "Points and hours".
    points = int(Decimal("2") * settings.POINTS_PER_DUTY_HOUR)
    judge.goto(role_url)
    expect(judge.locator("#my-totals")).to_contain_text(str(points))
    expect(judge.locator("#duties li.duty", has_text=DUTY_SUMMARY).locator(".badge")).to_have_class(
        "badge status-confirmed"
    )
    assert no_horizontal_scroll(judge)
    judge.locator('#duties a[href="/me/points/"]').click()
    expect(judge.locator("#points-total")).to_have_text(str(points))
    # 2 on SQLite, 2.00 on PostgreSQL: the sum keeps the column's places only there.
    expect(judge.locator("main .totals strong").nth(1)).to_have_text(re.compile(r"^2(\.00)?$"))
    assert no_horizontal_scroll(judge)
