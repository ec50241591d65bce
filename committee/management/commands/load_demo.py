"""Load the demo community: safe to run again, it changes nothing the second time."""

import io
from datetime import time, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from aid_posts.models import AidPost, WelfareRole
from aid_posts.services import (
    aid_post_claim,
    aid_post_confirm,
    aid_post_create,
    aid_post_mark_done,
    aid_post_start,
    claim_accept,
    feedback_give,
    welfare_role_create,
)
from messaging.services import announcement_channel, committee_conversation_open, message_send
from neighbors.images import image_process
from neighbors.models import (
    Community,
    Consent,
    ContactMethod,
    Grid,
    LedgerEntry,
    Membership,
    Place,
    Profile,
    SensitiveWord,
    Street,
)
from neighbors.services import (
    consent_grant,
    contact_method_set,
    ledger_adjust,
    membership_approve,
    membership_request,
    user_signup_complete,
)
from talent_pool.models import Skill, TalentSkill
from talent_pool.services import (
    availability_set,
    credential_submit,
    credential_verify,
    talent_profile_update,
    talent_skill_add,
    talent_skill_verify,
)

from ...models import Redemption, Report, Reward
from ...services.reports import report_file
from ...services.rewards import reward_redeem, reward_save

DEMO_PASSWORD = "jinlin-demo-2026"  # noqa: S105 - printed for the demo on purpose
# building, latitude, longitude, grid
BUILDINGS = [
    ("1号楼", Decimal("24.478120"), Decimal("118.145310"), "第一网格"),
    ("2号楼", Decimal("24.478560"), Decimal("118.146020"), "第一网格"),
    ("3号楼", Decimal("24.477910"), Decimal("118.146880"), "第二网格"),
    ("5号楼", Decimal("24.479300"), Decimal("118.145700"), "第二网格"),
]
# email, display name, phone, building, role
PEOPLE = [
    ("committee@demo.jinlin", "陈主任", "13800005678", "1号楼", Membership.Role.COMMITTEE),
    ("wang@demo.jinlin", "王阿姨", "13912345678", "2号楼", Membership.Role.RESIDENT),
    ("li@demo.jinlin", "李师傅", "13611112222", "3号楼", Membership.Role.RESIDENT),
    ("zhang@demo.jinlin", "张同学", "15500001111", "5号楼", Membership.Role.RESIDENT),
    ("judge@demo.jinlin", "林法官", "13700009999", "1号楼", Membership.Role.RESIDENT),
]
REQUESTS = [
    (
        "wang@demo.jinlin",
        "home-repair",
        "厨房水龙头漏水",
        "水龙头一直滴水，想请会修的邻居帮忙看看。周末上午都在家。",
        "2号楼",
    ),
    ("wang@demo.jinlin", "it-help", "教我用手机挂号", "想学会用手机在医院公众号上挂号，一次半小时左右。", "2号楼"),
    (
        "zhang@demo.jinlin",
        "errands",
        "帮忙取一个快递",
        "下周二白天在上课，快递放在驿站，想请邻居帮忙取回放到门卫。",
        "5号楼",
    ),
    (
        "li@demo.jinlin",
        "legal-consultation",
        "租房合同押金问题",
        "房东退租时不退押金，想咨询一下怎么处理比较合适。",
        "3号楼",
    ),
]


# title, kind, points, stock, description
REWARDS = [
    ("社区理发一次", Reward.Kind.SERVICE, 50, 10, "每月第一个周三上午，社区活动室，志愿理发师。"),
    ("家电清洗一次", Reward.Kind.SERVICE, 120, 3, "空调或油烟机清洗一次，由社区合作家政上门。"),
    ("莲前菜市场20元代金券", Reward.Kind.VOUCHER, 200, 5, "在莲前菜市场指定摊位使用，有效期三个月。"),
]
SPAM = "阿姨，我这边有手机兼职，日结300元，加我QQ 12345678 详聊"
# The second community of the street, so that the street's dashboard has two to add up.
NEIGHBOUR_COMMUNITY = "莲秀社区"
ROLE_TITLE = "周六法律调解值班"
# Held for the committee's review wherever they appear (the district-wide part of the list).
DEMO_SENSITIVE_WORDS = ["代开发票", "刷单返利"]


def _certificate_picture() -> bytes:
    """A stand-in certificate: a red seal on a cream page."""
    picture = Image.new("RGB", (640, 440), (250, 245, 230))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((20, 20, 620, 420), outline=(150, 30, 30), width=6)
    draw.ellipse((440, 260, 580, 400), outline=(200, 30, 30), width=8)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG")
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Load the demo communities 莲兴社区 and 莲秀社区 with their people, requests, conversations and the committee's workspace (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        street, _ = Street.objects.get_or_create(name="莲前街道")
        community, _ = Community.objects.get_or_create(street=street, name="莲兴社区")
        places = {}
        for name, lat, lng, grid_name in BUILDINGS:
            grid, _ = Grid.objects.get_or_create(community=community, name=grid_name)
            places[name], _ = Place.objects.get_or_create(
                community=community, name=name, defaults={"latitude": lat, "longitude": lng, "grid": grid}
            )
        users = {email: self._user(email, name, phone) for email, name, phone, _b, _r in PEOPLE}

        committee = users["committee@demo.jinlin"]
        # The first committee member is appointed by the site admin, as in the admin.
        Membership.objects.get_or_create(
            user=committee,
            community=community,
            defaults={
                "home_place": places["1号楼"],
                "role": Membership.Role.COMMITTEE,
                "status": Membership.Status.APPROVED,
            },
        )
        for email, _name, _phone, building, role in PEOPLE:
            if (
                role == Membership.Role.RESIDENT
                and not Membership.objects.filter(user=users[email], community=community).exists()
            ):
                membership = membership_request(
                    actor=users[email],
                    community=community,
                    home_place=places[building],
                    tenure=Membership.Tenure.OWNER,
                )
                membership_approve(actor=committee, membership=membership)

        judge = users["judge@demo.jinlin"]
        self._judge(judge, committee)
        li = users["li@demo.jinlin"]
        if not TalentSkill.objects.filter(talent__user=li).exists():
            talent_profile_update(
                actor=li, headline="退休水电工，周末有空", accepting_requests=True, service_radius_m=1500
            )
            repair = talent_skill_add(
                actor=li, skill=Skill.objects.get(code="home-repair"), level=TalentSkill.Level.PROFESSIONAL
            )
            talent_skill_verify(actor=committee, talent_skill=repair)
            availability_set(actor=li, slots=[(5, time(9), time(12)), (6, time(14), time(17))])

        if not WelfareRole.objects.filter(community=community, title=ROLE_TITLE).exists():
            today = timezone.localdate()
            welfare_role_create(
                actor=committee,
                community=community,
                title=ROLE_TITLE,
                description="每周六上午在社区调解室值班，调解邻里纠纷、解答法律问题。请在认领时说明是否有利益冲突。",
                skill=Skill.objects.get(code="legal-mediation"),
                seats=2,
                weekday=WelfareRole.Weekday.SATURDAY,
                starts_at=time(9),
                ends_at=time(11),
                term_start=today - timedelta(days=7),
                term_end=today + timedelta(days=358),
                place=places["1号楼"],
            )

        # From the next hour, for a week: the demo's requests are still open when someone looks.
        starts = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        urgencies = [AidPost.Urgency.NORMAL, AidPost.Urgency.SOON, AidPost.Urgency.URGENT]
        for number, (email, skill, title, description, building) in enumerate(REQUESTS):
            if not AidPost.objects.filter(author=users[email], title=title).exists():
                aid_post_create(
                    actor=users[email],
                    community=community,
                    category=Skill.objects.get(code=skill),
                    title=title,
                    description=description,
                    place=places[building],
                    urgency=urgencies[number % len(urgencies)],
                    window_starts_at=starts,
                    window_ends_at=starts + timedelta(days=7),
                )

        self._conversations(community, users)
        self._workspace(community, users, places, street)

        self.stdout.write(
            self.style.SUCCESS("Demo communities 莲兴社区 and 莲秀社区 are ready. Log in at http://127.0.0.1:8000/ as:")
        )
        for email, name, _phone, _building, role in PEOPLE:
            self.stdout.write(f"  {email:<24} {DEMO_PASSWORD}   {name} ({role})")
        self.stdout.write(f"  {'zhao@demo.jinlin':<24} {DEMO_PASSWORD}   赵奶奶 (resident, {NEIGHBOUR_COMMUNITY})")

    def _conversations(self, community, users) -> None:
        """A welcome in the announcements, 李师傅 helping 王阿姨 with her tap (and talking about
        it), 张同学 asking the committee something, and a district-wide sensitive-word list."""
        committee, wang, li, zhang = (
            users["committee@demo.jinlin"],
            users["wang@demo.jinlin"],
            users["li@demo.jinlin"],
            users["zhang@demo.jinlin"],
        )
        for word in DEMO_SENSITIVE_WORDS:
            SensitiveWord.objects.get_or_create(community=None, word=word)
        channel = announcement_channel(community=community)
        if not channel.messages.exists():
            message_send(
                actor=committee,
                conversation_id=channel.pk,
                body="欢迎使用近邻！需要帮忙就点“求助”，居委会和网格员会一起跟进。本周六上午法律调解照常值班。",
            )
        tap = AidPost.objects.get(author=wang, title=REQUESTS[0][2])
        if tap.status == AidPost.Status.OPEN:
            conversation = claim_accept(actor=wang, claim=aid_post_claim(actor=li, post=tap))
            message_send(actor=li, conversation_id=conversation.pk, body="王阿姨您好，我周六上午九点过来看看水龙头。")
            message_send(actor=wang, conversation_id=conversation.pk, body="好的，谢谢李师傅！我在家等您。")
        question = committee_conversation_open(actor=zhang, community=community, member=zhang)
        if not question.messages.exists():
            message_send(actor=zhang, conversation_id=question.pk, body="请问社区活动室周末可以借用吗？")

    def _workspace(self, community, users, places, street) -> None:
        """Something for each part of the committee's workspace: 李师傅's tap repair confirmed
        (hours for a certificate) and an award, a catalogue with a redemption to hand over, a
        spam message 王阿姨 reported, a held message and a held request, and a second community
        of the street for the street's dashboard."""
        committee, wang, li, zhang = (
            users["committee@demo.jinlin"],
            users["wang@demo.jinlin"],
            users["li@demo.jinlin"],
            users["zhang@demo.jinlin"],
        )
        tap = AidPost.objects.get(author=wang, title=REQUESTS[0][2])
        if tap.status == AidPost.Status.CLAIMED or tap.status == AidPost.Status.IN_PROGRESS:
            if tap.status == AidPost.Status.CLAIMED:
                tap = aid_post_start(actor=li, post=tap)
            tap = aid_post_mark_done(actor=li, post=tap, hours=Decimal("1.5"))
            tap = aid_post_confirm(actor=wang, post=tap)
            feedback_give(actor=wang, post=tap, rating=5, comment="李师傅手艺好，很耐心！")
        if not LedgerEntry.objects.filter(user=li, reason=LedgerEntry.Reason.COMMITTEE_AWARD).exists():
            ledger_adjust(
                actor=committee,
                user=li,
                community=community,
                reason=LedgerEntry.Reason.COMMITTEE_AWARD,
                points=100,
                hours=Decimal("2"),
                note="周末义务清理2号楼楼道杂物",
            )
        for title, kind, points, stock, description in REWARDS:
            if not Reward.objects.filter(community=community, title=title).exists():
                reward_save(
                    actor=committee,
                    community=community,
                    title=title,
                    description=description,
                    kind=kind,
                    points=points,
                    stock=stock,
                )
        haircut = Reward.objects.get(community=community, title=REWARDS[0][0])
        if not Redemption.objects.filter(user=li).exists():
            reward_redeem(actor=li, reward=haircut)

        phone_help = AidPost.objects.get(author=wang, title=REQUESTS[1][2])
        if phone_help.status == AidPost.Status.OPEN:
            conversation = claim_accept(actor=wang, claim=aid_post_claim(actor=zhang, post=phone_help))
            spam, _created = message_send(actor=zhang, conversation_id=conversation.pk, body=SPAM)
            message_send(actor=wang, conversation_id=conversation.pk, body="这是什么意思？我只想学挂号。")
            report_file(
                actor=wang,
                target_kind=Report.TargetKind.MESSAGE,
                target_id=spam.pk,
                reason=Report.Reason.SPAM,
                note="像是骗人的兼职广告",
            )
            message_send(actor=zhang, conversation_id=conversation.pk, body="刷单返利了解一下，稳赚不赔")
        if not AidPost.objects.filter(author=zhang, title="帮忙开张发票").exists():
            starts = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            aid_post_create(
                actor=zhang,
                community=community,
                category=Skill.objects.get(code="errands"),
                title="帮忙开张发票",
                description="有没有邻居能代开发票？有偿。",
                place=places["5号楼"],
                window_starts_at=starts,
                window_ends_at=starts + timedelta(days=3),
            )

        neighbour, _ = Community.objects.get_or_create(street=street, name=NEIGHBOUR_COMMUNITY)
        grid, _ = Grid.objects.get_or_create(community=neighbour, name="第一网格")
        building, _ = Place.objects.get_or_create(
            community=neighbour,
            name="8号楼",
            defaults={"latitude": Decimal("24.481020"), "longitude": Decimal("118.149210"), "grid": grid},
        )
        Membership.objects.get_or_create(
            user=committee,
            community=neighbour,
            defaults={"home_place": building, "role": Membership.Role.COMMITTEE, "status": Membership.Status.APPROVED},
        )
        zhao = self._user("zhao@demo.jinlin", "赵奶奶", "13300002222")
        if not Membership.objects.filter(user=zhao, community=neighbour).exists():
            membership = membership_request(
                actor=zhao, community=neighbour, home_place=building, tenure=Membership.Tenure.OWNER
            )
            membership_approve(actor=committee, membership=membership)
        if not AidPost.objects.filter(author=zhao).exists():
            starts = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            aid_post_create(
                actor=zhao,
                community=neighbour,
                category=Skill.objects.get(code="errands"),
                title="陪我去医院复查",
                description="下周三上午去第一医院复查，想请邻居陪同，帮忙排队取号。",
                place=building,
                urgency=AidPost.Urgency.SOON,
                window_starts_at=starts,
                window_ends_at=starts + timedelta(days=5),
            )

    def _judge(self, judge, committee) -> None:
        """The judge's consultation certificate is verified; the mediation one waits for the
        committee, so that the demo can walk verify → claim the role → log a duty."""
        if TalentSkill.objects.filter(talent__user=judge).exists():
            return
        talent_profile_update(
            actor=judge,
            headline="区人民法院法官，每周六上午社区法律调解",
            accepting_requests=True,
            service_radius_m=3000,
        )
        availability_set(actor=judge, slots=[(5, time(9), time(11))])
        for code, number, verify in (
            ("legal-consultation", "FG-2021-0388", True),
            ("legal-mediation", "TJ-2024-1107", False),
        ):
            talent_skill = talent_skill_add(
                actor=judge, skill=Skill.objects.get(code=code), level=TalentSkill.Level.PROFESSIONAL
            )
            credential = credential_submit(
                actor=judge,
                talent_skill=talent_skill,
                image=image_process(io.BytesIO(_certificate_picture())),
                number=number,
                expires_on=timezone.localdate() + timedelta(days=730),
            )
            if verify:
                credential_verify(actor=committee, credential=credential)

    def _user(self, email: str, display_name: str, phone: str):
        User = get_user_model()
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(username=email.split("@")[0], email=email, password=DEMO_PASSWORD)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        if not Profile.objects.filter(user=user).exists():
            user_signup_complete(user=user, display_name=display_name, notice_version=settings.PRIVACY_NOTICE_VERSION)
            # The demo people agree to share their phone with helpers and to distances
            # from their building, so every flow can be tried; real people choose.
            consent_grant(actor=user, kind=Consent.Kind.LOCATION)
            contact_method_set(
                actor=user,
                kind=ContactMethod.Kind.PHONE,
                value=phone,
                scope=ContactMethod.Scope.PARTNERS,
                grant_sharing_consent=True,
            )
        return user
