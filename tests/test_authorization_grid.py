"""Who may see and change what: every route that shows an object, asked by every role.

A private object answers 404 to whoever may not see it, exactly as an id that does
not exist, so that nobody learns that a post, a conversation, a person or a join
request exists by guessing ids (人非数据). The grids below are the product rules in
one place; a failure names the route and the role.

The committee's workspace is here too: its pages answer 403, with a sentence saying whom
they are for, to anyone who does not work for a community; what it decides (hide, warn,
suspend, remove, award, redeem, certify, export) is done only by those the rules name, and
each decision leaves its audit entry.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aid_posts.models import AidPost, Claim, Dispatch, WelfareRole
from aid_posts.services import aid_post_claim, aid_post_create, aid_post_mark_done, claim_accept, post_hide
from committee.models import Certificate, Redemption, Report, Reward
from committee.selectors.exports import DATASETS
from committee.services.certificates import certificate_checks_reset, certificate_issue
from committee.services.reports import report_file
from committee.services.rewards import reward_redeem
from config.asgi import application
from messaging.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from messaging.models import Conversation, Message, Notification
from messaging.services import message_send
from neighbors.models import (
    AuditEntry,
    Block,
    Community,
    ContactDisclosure,
    ContactMethod,
    Grid,
    LedgerEntry,
    Membership,
    Place,
    Profile,
    RoleChange,
    SensitiveWord,
    Suspension,
    User,
)
from neighbors.permissions import community_subject
from neighbors.services import contact_method_set, membership_request, profile_hide, suspension_start
from talent_pool.services import talent_profile_ensure
from tests.factories import (
    MembershipFactory,
    PlaceFactory,
    RewardFactory,
    UserFactory,
    phone_of,
    points_earned,
    skill,
    window,
)

# An id no row has, on SQLite and on PostgreSQL alike (the largest 32-bit integer).
MISSING = 2_147_483_647
ORIGIN = (b"origin", b"http://127.0.0.1:8000")

# The open request's title: what the lists show to those who may see it.
OPEN_TITLE = "阳台晾衣架松了"
IN_PROGRESS_TITLE = "厨房水龙头漏水"  # the `post` fixture's; also its conversation's title
TALENT_HEADLINE = "水电维修二十年"
APPLICANT = "zhao-applicant"

ROLES = (
    "anonymous",
    "non_member",  # signed up, in no community
    "other_community",  # an approved member of another community
    "other_committee",  # on the committee of that other community: staff, but not of ours
    # The site admin (is_staff, is_superuser) belongs to no community. They run the
    # site through the Django admin; on the site itself they are a signed-up
    # non-member, so residents' private objects are 404 to them like to anyone else.
    "admin",
    "member",  # a plain resident of the community
    "partner",  # the helper on the owner's requests: pending on one, accepted on the others
    "grid_worker",  # staff of the community whose grid holds the owner's building
    "committee",
    "owner",  # the resident who posted the requests
)


@dataclass(frozen=True)
class World:
    community: Community
    users: dict[str, User | None]  # by role; None is the anonymous visitor
    # The owner's requests, by status: open, claimed, in_progress, done; and one the
    # sensitive-word filter holds ("held"), one the committee hid ("hidden").
    posts: dict[str, AidPost]
    conversation: Conversation  # between owner and partner, about the request in progress
    join_request: Membership  # pending; the applicant's building is in the grid worker's grid
    join_request_outside_grid: Membership  # pending; a building in no grid
    membership: Membership  # the plain member's own
    message: Message  # the owner's, in the conversation
    held_message: Message  # the owner's, held by the sensitive-word filter in the conversation
    # The committee's workspace.
    report: Report  # open: the member reported the owner's open request
    colleague: Membership  # a second committee member's: not a grid worker's to discipline
    restricted: Membership  # a resident of the grid, suspended, their profile hidden
    suspension: Suspension  # the restricted resident's, in force
    word: SensitiveWord  # the community's own
    district_word: SensitiveWord  # the district's, for every community: the site admin's
    reward: Reward  # offered in the community's catalogue; everyone in it has the points
    redemption: Redemption  # the member's, of another reward, awaiting the committee
    certificate: Certificate  # the partner's, for the hours they served


@pytest.fixture
def world(community, building, make_member, resident, helper, committee, outsider, post) -> World:
    grid = Grid.objects.create(community=community, name="第一网格")
    Place.objects.filter(pk=building.pk).update(grid=grid)
    member = make_member(username="zhou")
    grid_worker = make_member(role=Membership.Role.GRID_WORKER, username="grid-lin")
    grid_worker.memberships.get().grids.add(grid)
    owner, partner = resident, helper
    # Partners and the committee (grid workers included) may see the owner's phone.
    contact_method_set(
        actor=owner, kind=ContactMethod.Kind.PHONE, value=phone_of(owner), scope=ContactMethod.Scope.COMMITTEE
    )
    talent_profile_ensure(actor=partner, headline=TALENT_HEADLINE)

    def request_help(title: str) -> AidPost:
        return aid_post_create(
            **window(),
            actor=owner,
            community=community,
            category=skill(),
            title=title,
            description="请邻居帮忙。",
            place=building,
        )

    opened, claimed, done = request_help(OPEN_TITLE), request_help("帮忙取药"), request_help("换灯泡")
    aid_post_claim(actor=partner, post=claimed)
    conversation = claim_accept(actor=owner, claim=aid_post_claim(actor=partner, post=post))
    claim_accept(actor=owner, claim=aid_post_claim(actor=partner, post=done))
    aid_post_mark_done(actor=partner, post=done, hours=Decimal("1.5"))
    applicant = UserFactory(username=APPLICANT)
    join_request = membership_request(
        actor=applicant, community=community, home_place=building, tenure=Membership.Tenure.OWNER
    )
    outside_grid = PlaceFactory(community=community, name="9号楼")
    join_request_outside_grid = membership_request(
        actor=UserFactory(), community=community, home_place=outside_grid, tenure=Membership.Tenure.TENANT
    )
    message, _created = message_send(actor=owner, conversation_id=conversation.pk, body="周六上午在家")
    word = SensitiveWord.objects.create(community=community, word="转账")
    held_message, _created = message_send(actor=owner, conversation_id=conversation.pk, body="先转账给我")

    # The committee's workspace: something for each of its decisions to act on.
    other_committee = UserFactory(username="other-committee")
    MembershipFactory(
        user=other_committee, community=outsider.memberships.get().community, role=Membership.Role.COMMITTEE
    )
    colleague = make_member(role=Membership.Role.COMMITTEE, username="committee-wu").memberships.get()
    restricted = make_member(username="sun").memberships.get()
    suspension = suspension_start(actor=committee, membership=restricted, days=7, reason="连续发广告")
    profile_hide(actor=committee, profile=restricted.user.profile, reason="头像是广告", community=community)
    held = request_help("帮忙转账交电费")
    hidden = request_help("出售二手家具")
    post_hide(actor=committee, post=hidden, reason="这是广告，不是求助")
    report = report_file(
        actor=member, target_kind=Report.TargetKind.REQUEST, target_id=opened.pk, reason=Report.Reason.SPAM
    )
    district_word = SensitiveWord.objects.create(community=None, word="套现")
    # Points for everyone of the community, hours for the partner (what their certificate states).
    for person in (member, partner, grid_worker, committee, owner):
        points_earned(person, community, 100)
    points_earned(partner, community, 10, hours=Decimal("2"))
    reward = RewardFactory(community=community, title="理发券", points=30, stock=5, created_by=committee)
    teacup = RewardFactory(community=community, title="社区茶杯", points=20, stock=3, created_by=committee)
    today = timezone.localdate()
    certificate = certificate_issue(
        actor=committee,
        membership=partner.memberships.get(),
        period_start=today - timedelta(days=30),
        period_end=today,
    )
    # The public check counts per address, across tests too.
    certificate_checks_reset()
    return World(
        community=community,
        users={
            "anonymous": None,
            "non_member": UserFactory(username="newcomer"),
            "other_community": outsider,
            "other_committee": other_committee,
            "admin": UserFactory(username="site-admin", is_staff=True, is_superuser=True),
            "member": member,
            "partner": partner,
            "grid_worker": grid_worker,
            "committee": committee,
            "owner": owner,
        },
        posts={"open": opened, "claimed": claimed, "in_progress": post, "done": done, "held": held, "hidden": hidden},
        conversation=conversation,
        join_request=join_request,
        join_request_outside_grid=join_request_outside_grid,
        membership=member.memberships.get(),
        message=message,
        held_message=held_message,
        report=report,
        colleague=colleague,
        restricted=restricted,
        suspension=suspension,
        word=word,
        district_word=district_word,
        reward=reward,
        redemption=reward_redeem(actor=member, reward=teacup),
        certificate=certificate,
    )


# What a URL names: an id, a certificate's code, or a kind and an id ("request", 12).
Target = int | str | tuple[int | str, ...]


@dataclass(frozen=True)
class Route:
    url: str  # the URL's name
    target: Callable[[World], Target] | None  # the id(s) in the URL, if it has any
    method: str = "get"
    data: Callable[[World, Target], dict] = lambda world, pk: {}
    # The parts of `snapshot()` that an allowed request changes, separated by spaces.
    changes: str = ""
    # Needs no sign-in (the public certificate check): an unknown code is a plain 404 to all.
    public: bool = False


def _post(status: str) -> Callable[[World], int]:
    return lambda world: world.posts[status].pk


def _pending_claim(world: World) -> tuple[int, int]:
    post = world.posts["claimed"]
    return post.pk, post.claims.get(status="pending").pk


def _owners_notification(world: World) -> int:
    """A notification to the owner: the partner's offer on the claimed request."""
    return Notification.objects.filter(user=world.users["owner"]).order_by("pk").first().pk


def _owner(world: World) -> int:
    return world.users["owner"].pk


def _owners_membership(world: World) -> int:
    return world.users["owner"].memberships.get().pk


def _partners_membership(world: World) -> int:
    return world.users["partner"].memberships.get().pk


def _community(world: World) -> int:
    return world.community.pk


def _reason(text: str, prefix: str = "") -> Callable[[World, Target], dict]:
    """The form of a decision that carries a reason (on the member's page, its form's prefix)."""
    return lambda world, pk: {f"{prefix}reason": text}


def _ledger_form(prefix: str, points: int) -> Callable[[World, Target], dict]:
    # A new token each time: the form sent once, not a resend of an earlier one.
    return lambda world, pk: {
        f"{prefix}-points": points,
        f"{prefix}-hours": "",
        f"{prefix}-note": "组织楼道大扫除",
        f"{prefix}-token": uuid.uuid4(),
    }


def _reward_form(world: World, pk: Target) -> dict:
    """The edit form of the community's reward, with three more in stock."""
    reward = world.reward
    return {
        "title": reward.title,
        "description": "凭券到社区理发室",
        "kind": reward.kind,
        "points": reward.points,
        "stock": reward.stock + 3,
        "active": "on",
        "stock_seen": reward.stock,
    }


def _export_form(world: World, pk: Target) -> dict:
    """This month's requests, every column."""
    today = timezone.localdate()
    return {
        "dataset": "requests",
        "requests-start": today.replace(day=1).isoformat(),
        "requests-end": today.isoformat(),
        "requests-grid": "",
        "requests-columns": DATASETS["requests"].column_keys,
    }


def _period(days: int) -> Callable[[World, Target], dict]:
    """A certificate's period: the last `days` days, today included."""

    def data(world: World, pk: Target) -> dict:
        today = timezone.localdate()
        return {"period_start": (today - timedelta(days=days)).isoformat(), "period_end": today.isoformat()}

    return data


ROUTES: dict[str, Route] = {
    "post-detail": Route("aid_posts:detail", _post("in_progress")),
    "post-claim": Route("aid_posts:claim", _post("open"), "post", changes="posts"),
    # Accepting opens the request's conversation too.
    "claim-accept": Route("aid_posts:claim_accept", _pending_claim, "post", changes="posts conversations"),
    "claim-decline": Route("aid_posts:claim_decline", _pending_claim, "post", changes="posts"),
    "post-invite": Route(
        "aid_posts:invite",
        _post("open"),
        "post",
        lambda world, pk: {"talent": world.users["member"].pk},
        changes="dispatches",
    ),
    "notification-open": Route("messaging:notification_open", _owners_notification, changes="notifications"),
    "post-dispute": Route(
        "aid_posts:dispute", _post("done"), "post", lambda world, pk: {"reason": "没有来修"}, changes="posts"
    ),
    "claim-withdraw": Route("aid_posts:claim_withdraw", _post("claimed"), "post", changes="posts"),
    "post-mark-done": Route(
        "aid_posts:mark_done", _post("in_progress"), "post", lambda world, pk: {"hours": "2"}, "posts"
    ),
    # Confirming pays the helper's points and hours into the ledger.
    "post-confirm": Route("aid_posts:confirm", _post("done"), "post", changes="posts ledger"),
    "post-cancel": Route("aid_posts:cancel", _post("open"), "post", changes="posts"),
    "post-reveal": Route(
        "aid_posts:reveal_contact", _post("in_progress"), "post", lambda world, pk: {"kind": "phone"}, "disclosures"
    ),
    "conversation": Route("messaging:conversation", lambda world: world.conversation.pk),
    "conversation-send": Route(
        "messaging:conversation",
        lambda world: world.conversation.pk,
        "post",
        lambda world, pk: {"body": "明天上午可以吗？", "client_id": "grid-1"},
        "messages",
    ),
    "message-edit": Route(
        "messaging:message_edit",
        lambda world: (world.conversation.pk, world.message.pk),
        "post",
        lambda world, pk: {"body": "周六下午在家"},
        "messages",
    ),
    "conversation-ask-committee": Route(
        "messaging:ask_committee", lambda world: world.conversation.pk, "post", changes="conversations"
    ),
    "committee-conversation-open": Route(
        "messaging:committee_open_member",
        lambda world: (world.community.pk, world.users["owner"].pk),
        "post",
        changes="conversations",
    ),
    "announcements": Route("messaging:announcements", lambda world: world.community.pk, changes="conversations"),
    "held-release": Route(
        "committee:held_release", lambda world: world.held_message.pk, "post", changes="messages audit"
    ),
    "person": Route("neighbors:person", _owner),
    # The viewer's ground for looking is the request in progress...
    "person-reveal-post": Route(
        "neighbors:person_reveal",
        _owner,
        "post",
        lambda world, pk: {"kind": "phone", "subject": world.posts["in_progress"].subject},
        "disclosures",
    ),
    # ...or the community they share with the owner (staff must say why).
    "person-reveal-community": Route(
        "neighbors:person_reveal",
        _owner,
        "post",
        lambda world, pk: {"kind": "phone", "subject": community_subject(world.community.pk), "reason": "上门核实"},
        "disclosures",
    ),
    "person-block": Route("neighbors:person_block", _owner, "post", changes="blocks"),
    "membership-approve": Route(
        "neighbors:membership_approve", lambda world: world.join_request.pk, "post", changes="memberships audit"
    ),
    "membership-approve-outside-grid": Route(
        "neighbors:membership_approve",
        lambda world: world.join_request_outside_grid.pk,
        "post",
        changes="memberships audit",
    ),
    "membership-decline": Route(
        "neighbors:membership_decline",
        lambda world: world.join_request.pk,
        "post",
        lambda world, pk: {"reason": "楼栋信息不符"},
        "memberships audit",
    ),
    "membership-role-change": Route(
        "neighbors:membership_role_change",
        lambda world: world.membership.pk,
        "post",
        lambda world, pk: {f"m{pk}-role": Membership.Role.VOLUNTEER, f"m{pk}-reason": "报名志愿者"},
        "memberships audit",
    ),
    "membership-leave": Route(
        "neighbors:membership_leave", lambda world: world.membership.pk, "post", changes="memberships"
    ),
    "members": Route("neighbors:members", None),
    # --- The committee's workspace: its pages ---
    "workspace": Route("committee:home", None),
    "reports": Route("committee:reports", None),
    "held": Route("committee:held", None),
    "hidden": Route("committee:hidden", None),
    "suspensions": Route("committee:suspensions", None),
    "words": Route("committee:words", None),
    "audit": Route("committee:audit", None),
    "redemptions": Route("committee:redemptions", None),
    "dashboard": Route("committee:dashboard", None),
    "community-dashboard": Route("committee:community_dashboard", _community),
    "street-dashboard": Route("committee:street_dashboard", lambda world: world.community.street_id),
    "exports": Route("committee:exports", None),
    "community-exports": Route("committee:community_exports", _community),
    "rewards-manage": Route("committee:rewards", None),
    "reward-create-page": Route("committee:reward_create", None),
    "reward-edit-page": Route("committee:reward_edit", lambda world: world.reward.pk),
    "certificates-issued": Route("committee:certificates", None),
    "certificate-issue-page": Route("committee:certificate_issue", _partners_membership),
    "member": Route("committee:member", _owners_membership),
    "member-ledger": Route("committee:member_ledger", _owners_membership),
    # --- The committee's workspace: its decisions ---
    "report-dismiss": Route("committee:report_dismiss", lambda world: world.report.pk, "post", changes="reports audit"),
    "report-hide": Route(
        "committee:report_hide",
        lambda world: world.report.pk,
        "post",
        _reason("这是广告"),
        "reports hidden audit",
    ),
    "report-warn": Route(
        "committee:report_warn", lambda world: world.report.pk, "post", _reason("请勿发广告"), "reports audit"
    ),
    "report-suspend": Route(
        "committee:report_suspend",
        lambda world: world.report.pk,
        "post",
        lambda world, pk: {"days": 7, "reason": "屡次发广告"},
        "reports suspensions audit",
    ),
    # Removing someone from the community is the committee's alone: a grid worker is told so.
    "report-remove": Route(
        "committee:report_remove",
        lambda world: world.report.pk,
        "post",
        _reason("冒充居民发广告"),
        "reports memberships audit",
    ),
    "held-reject": Route(
        "committee:held_reject",
        lambda world: world.held_message.pk,
        "post",
        _reason("不要在聊天里谈转账"),
        "messages audit",
    ),
    "held-post-release": Route("committee:held_post_release", _post("held"), "post", changes="posts audit"),
    "held-post-reject": Route(
        "committee:held_post_reject", _post("held"), "post", _reason("请勿代人转账"), "posts hidden audit"
    ),
    "content-restore": Route(
        "committee:content_restore",
        lambda world: (Report.TargetKind.REQUEST, world.posts["hidden"].pk),
        "post",
        changes="hidden audit",
    ),
    "suspension-lift": Route(
        "committee:suspension_lift",
        lambda world: world.suspension.pk,
        "post",
        _reason("已经道歉"),
        "suspensions audit",
    ),
    "member-warn": Route("committee:member_warn", _owners_membership, "post", _reason("注意言辞", "warn-"), "audit"),
    "member-suspend": Route(
        "committee:member_suspend",
        _owners_membership,
        "post",
        lambda world, pk: {"suspend-days": 7, "suspend-reason": "辱骂邻居"},
        "suspensions audit",
    ),
    # A grid worker never disciplines a committee member: told so, nothing done.
    "member-suspend-committee-member": Route(
        "committee:member_suspend",
        lambda world: world.colleague.pk,
        "post",
        lambda world, pk: {"suspend-days": 7, "suspend-reason": "滥用职权"},
        "suspensions audit",
    ),
    "member-remove": Route(
        "committee:member_remove", _owners_membership, "post", _reason("已搬走", "remove-"), "memberships audit"
    ),
    "member-profile-hide": Route(
        "committee:member_profile_hide", _owners_membership, "post", _reason("头像不雅", "hide-"), "hidden audit"
    ),
    "member-profile-restore": Route(
        "committee:member_profile_restore", lambda world: world.restricted.pk, "post", changes="hidden audit"
    ),
    "word-add": Route("committee:word_add", _community, "post", lambda world, pk: {"word": "高利贷"}, "words audit"),
    "word-remove": Route("committee:word_remove", lambda world: world.word.pk, "post", changes="words audit"),
    # The district's list is the site admin's: nobody removes from it here.
    "word-remove-district": Route("committee:word_remove", lambda world: world.district_word.pk, "post"),
    "ledger-award": Route(
        "committee:ledger_award", _owners_membership, "post", _ledger_form("award", 20), "ledger audit"
    ),
    "ledger-correct": Route(
        "committee:ledger_correct", _owners_membership, "post", _ledger_form("correct", -5), "ledger audit"
    ),
    "reward-create": Route(
        "committee:reward_create",
        None,
        "post",
        lambda world, pk: {
            "community": world.community.pk,
            "title": "义剪一次",
            "kind": Reward.Kind.SERVICE,
            "points": 50,
            "stock": 10,
            "active": "on",
        },
        "rewards audit",
    ),
    "reward-edit": Route("committee:reward_edit", lambda world: world.reward.pk, "post", _reward_form, "rewards audit"),
    "redemption-fulfil": Route(
        "committee:redemption_fulfil", lambda world: world.redemption.pk, "post", changes="redemptions audit"
    ),
    # Cancelling gives back the points and the unit of stock.
    "redemption-cancel": Route(
        "committee:redemption_cancel",
        lambda world: world.redemption.pk,
        "post",
        _reason("茶杯已经送完"),
        "redemptions rewards ledger audit",
    ),
    "certificate-issue": Route(
        "committee:certificate_issue", _partners_membership, "post", _period(60), "certificates audit"
    ),
    "certificate-revoke": Route(
        "committee:certificate_revoke",
        lambda world: world.certificate.pk,
        "post",
        _reason("时长登记有误"),
        "certificates audit",
    ),
    # The file leaves the site: its audit entry is written before its first byte.
    "export-download": Route("committee:export_download", _community, "post", _export_form, "audit"),
    # --- Points, rewards and certificates: the members' pages ---
    "points": Route("rewards:overview", None),
    "catalogue": Route("rewards:catalogue", None),
    "leaderboard": Route("rewards:leaderboard", None),
    "my-certificates": Route("rewards:certificates", None),
    "redeem-page": Route("rewards:redeem", lambda world: world.reward.pk),
    "redeem": Route(
        "rewards:redeem",
        lambda world: world.reward.pk,
        "post",
        lambda world, pk: {"price": world.reward.points},
        "redemptions rewards ledger",
    ),
    "my-redemption-cancel": Route(
        "rewards:redemption_cancel",
        lambda world: world.redemption.pk,
        "post",
        changes="redemptions rewards ledger audit",
    ),
    "leaderboard-opt-out": Route(
        "rewards:leaderboard_opt_out", None, "post", lambda world, pk: {"opt_out": "1"}, "leaderboard"
    ),
    "certificate": Route("rewards:certificate", lambda world: world.certificate.pk),
    "certificate-pdf": Route("rewards:certificate_pdf", lambda world: world.certificate.pk),
    "verify": Route("rewards:verify", None, public=True),
    "verify-code": Route("rewards:verify_code", lambda world: world.certificate.code, public=True),
}


def _grid(text: str) -> dict[str, dict[str, str]]:
    """A whitespace-aligned table: a header of roles, then one row per route."""
    header, *rows = (line.split() for line in text.strip().splitlines())
    return {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in rows}


# What each role gets from each route:
#   login  302 to the sign-in page
#   404    not found: the same answer as for an id that does not exist
#   403    the object is visible to them, but this action is not theirs; or a page of the
#          committee's workspace, which says whom it is for
#   400    the form is refused, with what is wrong on it
#   200    the page is shown             200+  shown, and the change is made
#   302    sent back with a message      302+  redirected, and the change is made
# Without "+", nothing changes anywhere: no post, claim, disclosure, message, block,
# membership, role change, report, suspension, hidden content, word, ledger entry, reward,
# redemption, certificate or audit entry is written.
EXPECTED = _grid("""
route                           anonymous non_member other_community other_committee admin member partner grid_worker committee owner
post-detail                     login     404        404             404             404   200    200     200         200       200
post-claim                      login     404        404             404             404   302+   302+    302+        302+      302
claim-accept                    login     404        404             404             404   403    403     403         403       302+
claim-decline                   login     404        404             404             404   403    403     403         403       302+
claim-withdraw                  login     404        404             404             404   403    302+    403         403       403
post-mark-done                  login     404        404             404             404   403    302+    403         403       403
post-confirm                    login     404        404             404             404   403    403     403         403       302+
post-cancel                     login     404        404             404             404   403    403     403         403       302+
post-invite                     login     404        404             404             404   403    403     302+        302+      403
notification-open               login     404        404             404             404   404    404     404         404       302+
post-dispute                    login     404        404             404             404   403    403     403         403       302+
post-reveal                     login     404        404             404             404   302    200+    302         302       200+
conversation                    login     404        404             404             404   404    200     404         404       200
conversation-send               login     404        404             404             404   404    302+    404         404       302+
message-edit                    login     404        404             404             404   404    400     404         404       302+
conversation-ask-committee      login     404        404             404             404   404    302+    404         404       302+
committee-conversation-open     login     404        404             404             404   404    404     302+        302+      302+
announcements                   login     404        404             404             404   302+   302+    302+        302+      302+
held-release                    login     404        404             404             404   404    404     302+        302+      404
person                          login     404        404             404             404   200    200     200         200       200
person-reveal-post              login     404        404             404             404   403    200+    403         403       200
person-reveal-community         login     404        404             404             404   403    403     200+        200+      200
person-block                    login     404        404             404             404   302+   302+    302+        302+      302
membership-approve              login     404        404             404             404   404    404     302+        302+      404
membership-approve-outside-grid login     404        404             404             404   404    404     404         302+      404
membership-decline              login     404        404             404             404   404    404     302+        302+      404
membership-role-change          login     404        404             404             404   404    404     404         302+      404
membership-leave                login     404        404             404             404   302+   404     404         404       404
members                         login     404        404             200             404   404    404     404         200       404
workspace                       login     403        403             200             403   403    403     200         200       403
reports                         login     403        403             200             403   403    403     200         200       403
held                            login     403        403             200             403   403    403     200         200       403
hidden                          login     403        403             200             403   403    403     200         200       403
suspensions                     login     403        403             200             403   403    403     200         200       403
words                           login     403        403             200             403   403    403     200         200       403
audit                           login     403        403             200             403   403    403     200         200       403
redemptions                     login     403        403             200             403   403    403     200         200       403
dashboard                       login     403        403             200             403   403    403     200         200       403
community-dashboard             login     403        403             403             403   403    403     200         200       403
street-dashboard                login     403        403             200             403   403    403     403         200       403
exports                         login     403        403             200             403   403    403     403         200       403
community-exports               login     403        403             403             403   403    403     403         200       403
rewards-manage                  login     403        403             200             403   403    403     403         200       403
reward-create-page              login     403        403             200             403   403    403     403         200       403
reward-edit-page                login     404        404             404             404   404    404     404         200       404
certificates-issued             login     403        403             200             403   403    403     403         200       403
certificate-issue-page          login     404        404             404             404   404    404     404         200       404
member                          login     404        404             404             404   404    404     200         200       404
member-ledger                   login     404        404             404             404   404    404     404         200       404
report-dismiss                  login     404        404             404             404   404    404     302+        302+      404
report-hide                     login     404        404             404             404   404    404     302+        302+      404
report-warn                     login     404        404             404             404   404    404     302+        302+      404
report-suspend                  login     404        404             404             404   404    404     302+        302+      404
report-remove                   login     404        404             404             404   404    404     302         302+      404
held-reject                     login     404        404             404             404   404    404     302+        302+      404
held-post-release               login     404        404             404             404   404    404     302+        302+      404
held-post-reject                login     404        404             404             404   404    404     302+        302+      404
content-restore                 login     404        404             404             404   404    404     302+        302+      404
suspension-lift                 login     404        404             404             404   404    404     302+        302+      404
member-warn                     login     404        404             404             404   404    404     302+        302+      404
member-suspend                  login     404        404             404             404   404    404     302+        302+      404
member-suspend-committee-member login     404        404             404             404   404    404     302         302+      404
member-remove                   login     404        404             404             404   404    404     302         302+      404
member-profile-hide             login     404        404             404             404   404    404     302+        302+      404
member-profile-restore          login     404        404             404             404   404    404     302+        302+      404
word-add                        login     404        404             404             404   404    404     403         302+      404
word-remove                     login     404        404             404             404   404    404     403         302+      404
word-remove-district            login     404        404             403             404   404    404     403         403       404
ledger-award                    login     404        404             404             404   404    404     404         302+      404
ledger-correct                  login     404        404             404             404   404    404     404         302+      404
reward-create                   login     403        403             400             403   403    403     403         302+      403
reward-edit                     login     404        404             404             404   404    404     404         302+      404
redemption-fulfil               login     404        404             404             404   404    404     302+        302+      404
redemption-cancel               login     404        404             404             404   404    404     302+        302+      404
certificate-issue               login     404        404             404             404   404    404     404         302+      404
certificate-revoke              login     404        404             404             404   404    404     404         302+      404
export-download                 login     403        403             403             403   403    403     403         200+      403
points                          login     200        200             200             200   200    200     200         200       200
catalogue                       login     200        200             200             200   200    200     200         200       200
leaderboard                     login     200        200             200             200   200    200     200         200       200
my-certificates                 login     200        200             200             200   200    200     200         200       200
redeem-page                     login     404        404             404             404   200    200     200         200       200
redeem                          login     404        404             404             404   302+   302+    302+        302+      302+
my-redemption-cancel            login     404        404             404             404   302+   404     404         404       404
leaderboard-opt-out             login     302+       302+            302+            302+  302+   302+    302+        302+      302+
certificate                     login     404        404             404             404   404    200     200         200       404
certificate-pdf                 login     404        404             404             404   404    200     200         200       404
verify                          200       200        200             200             200   200    200     200         200       200
verify-code                     200       200        200             200             200   200    200     200         200       200
""")

# What the list pages show of the objects above: the open request (home, posts), the
# conversation, the partner's talent profile, the pending join request.
LISTED = _grid("""
page          anonymous non_member other_community other_committee admin member partner grid_worker committee owner
home          hides     hides      hides           hides           hides shows  shows   shows       shows     shows
posts         login     hides      hides           hides           hides shows  shows   shows       shows     shows
nearby        login     hides      hides           hides           hides shows  shows   shows       shows     shows
conversations login     hides      hides           hides           hides hides  shows   hides       hides     shows
talent        login     hides      hides           hides           hides shows  shows   shows       shows     shows
join-requests login     hides      hides           hides           hides hides  hides   shows       shows     hides
""")
LIST_PAGES = {
    "home": ("home", OPEN_TITLE),
    "posts": ("aid_posts:list", OPEN_TITLE),
    "nearby": ("aid_posts:nearby", OPEN_TITLE),
    "conversations": ("messaging:list", IN_PROGRESS_TITLE),
    "talent": ("talent_pool:directory", TALENT_HEADLINE),
    "join-requests": ("neighbors:membership_queue", APPLICANT),
}

# The chat socket lets in the two partners; everyone else is refused, and a
# conversation that does not exist is refused with the same code.
SOCKET = {role: CLOSE_FORBIDDEN for role in ROLES} | {
    "anonymous": CLOSE_UNAUTHENTICATED,
    "partner": "accept",
    "owner": "accept",
}


def _hidden(model: type, kind: str, key: str = "pk") -> list[tuple[str, int]]:
    return [
        (kind, pk) for pk in model.objects.filter(hidden_at__isnull=False).order_by(key).values_list(key, flat=True)
    ]


def snapshot() -> dict[str, list]:
    """Everything a refused request must leave as it was."""
    return {
        "posts": [
            *AidPost.objects.order_by("pk").values_list("pk", "status"),
            *Claim.objects.order_by("pk").values_list("pk", "post", "helper", "status"),
        ],
        "disclosures": list(ContactDisclosure.objects.order_by("pk").values_list("viewer", "owner", "subject")),
        "messages": list(
            Message.objects.order_by("pk").values_list("conversation", "sender", "body", "status", "edited_at")
        ),
        "conversations": list(Conversation.objects.order_by("pk").values_list("pk", "kind", "committee_asked_at")),
        "dispatches": list(Dispatch.objects.order_by("pk").values_list("post", "talent", "kind")),
        # Reading marks a notification read; new ones (a claim tells the poster) are not a change here.
        "notifications": list(Notification.objects.filter(read_at__isnull=False).values_list("pk", flat=True)),
        "blocks": list(Block.objects.order_by("pk").values_list("blocker", "blocked")),
        "memberships": [
            *Membership.objects.order_by("pk").values_list("pk", "status", "role"),
            *RoleChange.objects.order_by("pk").values_list("user", "to_role"),
        ],
        # Every decision of the committee's adds an entry; none is ever changed.
        "audit": list(AuditEntry.objects.order_by("pk").values_list("action", "target")),
        "reports": list(Report.objects.order_by("pk").values_list("pk", "status")),
        "suspensions": list(Suspension.objects.order_by("pk").values_list("user", "community", "lifted_at")),
        # What the committee hid: requests, messages, welfare roles, and profiles (by person).
        "hidden": [
            *_hidden(AidPost, "request"),
            *_hidden(Message, "message"),
            *_hidden(WelfareRole, "role"),
            *_hidden(Profile, "profile", "user"),
        ],
        "words": list(SensitiveWord.objects.order_by("pk").values_list("community", "word")),
        "ledger": list(LedgerEntry.objects.order_by("pk").values_list("user", "reason", "points", "hours")),
        "rewards": list(Reward.objects.order_by("pk").values_list("pk", "title", "points", "stock", "active")),
        "redemptions": list(Redemption.objects.order_by("pk").values_list("pk", "user", "status")),
        "certificates": list(
            Certificate.objects.order_by("pk").values_list("user", "period_start", "period_end", "revoked_at")
        ),
        "leaderboard": list(
            Profile.objects.filter(leaderboard_opt_out=True).order_by("user").values_list("user", flat=True)
        ),
    }


def url_args(pk: Target | None) -> list[int | str]:
    if pk is None:
        return []
    return list(pk) if isinstance(pk, tuple) else [pk]


def missing_like(route: Route, world: World) -> tuple[int | str, ...]:
    """An id (or code) that does not exist in every place of the route's URL; a kind stays."""
    return tuple(part if isinstance(part, Report.TargetKind) else MISSING for part in url_args(route.target(world)))


def request_as(world: World, role: str, route: Route, pk: Target | None) -> HttpResponse:
    client = Client()
    if world.users[role] is not None:
        client.force_login(world.users[role])
    url = reverse(route.url, args=url_args(pk))
    if route.method == "post":
        return client.post(url, route.data(world, pk))
    return client.get(url)


def assert_outcome(response: HttpResponse, expected: str) -> None:
    login = reverse("account_login")
    if expected == "login":
        assert response.status_code == 302
        assert response.url.startswith(login)
        return
    assert response.status_code == int(expected.removesuffix("+"))
    if response.status_code == 302:
        assert not response.url.startswith(login)


def contacts_shown(response: HttpResponse, world: World, role: str) -> list[User]:
    """Whose raw phone number the page (or file: a PDF, a CSV export) shows to someone other than its owner."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    page = body.decode(errors="replace")
    people = (world.users["owner"], world.users["partner"])
    return [person for person in people if person != world.users[role] and phone_of(person) in page]


# Routes that name a community or a street, not a private object: to anyone not working for it
# (existing or not) they answer with the 403 that says whom the dashboard and exports are for.
NAMES_A_PLACE = {"community-dashboard", "street-dashboard", "community-exports", "export-download"}


def test_the_grids_name_every_route_and_role():
    assert set(EXPECTED) == set(ROUTES)
    assert set(LISTED) == set(LIST_PAGES)
    for row in [*EXPECTED.values(), *LISTED.values()]:
        assert tuple(row) == ROLES
    for name, route in ROUTES.items():
        # Only the public certificate check is open without signing in.
        assert EXPECTED[name]["anonymous"] == ("200" if route.public else "login"), name
        # Whoever may not see an object gets the answer a missing id gets (tested below).
        if route.target is not None and not route.public:
            assert EXPECTED[name]["non_member"] == ("403" if name in NAMES_A_PLACE else "404"), name


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route_name", "role"), [pytest.param(name, role, id=f"{name}-{role}") for name in ROUTES for role in ROLES]
)
def test_each_role_sees_and_changes_only_what_it_may(world, route_name, role):
    route, expected = ROUTES[route_name], EXPECTED[route_name][role]
    before = snapshot()

    response = request_as(world, role, route, route.target(world) if route.target else None)

    assert_outcome(response, expected)
    after = snapshot()
    if expected.endswith("+"):
        assert {part for part in before if before[part] != after[part]} == set(route.changes.split())
    else:
        assert after == before
    # A raw contact value reaches another person only through a logged reveal.
    revealed = expected == "200+" and "disclosures" in route.changes
    assert len(contacts_shown(response, world, role)) == (1 if revealed else 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route_name", "role"),
    [pytest.param(name, role, id=f"{name}-{role}") for name, route in ROUTES.items() if route.target for role in ROLES],
)
def test_an_id_that_does_not_exist_looks_like_one_you_may_not_see(world, route_name, role):
    route = ROUTES[route_name]
    before = snapshot()

    response = request_as(world, role, route, missing_like(route, world))

    if route.public:
        # Nothing to keep private: the check says plainly that it knows no such certificate.
        assert_outcome(response, "404")
    else:
        assert_outcome(response, "login" if role == "anonymous" else EXPECTED[route_name]["non_member"])
    assert snapshot() == before


PAGES = {route.url for route in ROUTES.values() if route.method == "get"}
POST_ONLY = [name for name, route in ROUTES.items() if route.method == "post" and route.url not in PAGES]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route_name", "exists"),
    [
        pytest.param(name, exists, id=f"{name}-{'exists' if exists else 'missing'}")
        for name in POST_ONLY
        for exists in ((True, False) if ROUTES[name].target else (True,))
    ],
)
def test_a_get_on_an_action_is_405_whether_or_not_the_object_exists(world, route_name, exists):
    route = ROUTES[route_name]
    client = Client()
    client.force_login(world.users["non_member"])
    if route.target is None:
        args = []
    else:
        args = url_args(route.target(world) if exists else missing_like(route, world))

    response = client.get(reverse(route.url, args=args))

    assert response.status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "role"), [pytest.param(page, role, id=f"{page}-{role}") for page in LIST_PAGES for role in ROLES]
)
def test_lists_show_an_object_only_to_those_who_may_see_it(world, page, role):
    url_name, marker = LIST_PAGES[page]

    response = request_as(world, role, Route(url_name, None), None)

    expected = LISTED[page][role]
    if expected == "login":
        assert_outcome(response, "login")
        return
    assert response.status_code == 200
    assert (marker in response.content.decode()) == (expected == "shows")
    assert contacts_shown(response, world, role) == []


def session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


@pytest_asyncio.fixture
async def close_connections_of_the_sync_thread():
    """A refused handshake leaves a connection open in asgiref's sync thread, which
    blocks dropping the PostgreSQL test database (as in tests/messaging/test_consumers.py)."""
    yield
    await database_sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("exists", [True, False], ids=["exists", "missing"])
@pytest.mark.parametrize("role", ROLES)
async def test_the_chat_socket_lets_in_only_the_partners(world, role, exists, close_connections_of_the_sync_thread):
    user = world.users[role]
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    conversation_id = world.conversation.pk if exists else MISSING
    stored = await database_sync_to_async(Message.objects.count)()
    socket = WebsocketCommunicator(application, f"/ws/conversations/{conversation_id}/", headers=headers)

    connected, code = await socket.connect()

    expected = SOCKET[role] if exists or role == "anonymous" else CLOSE_FORBIDDEN
    if expected != "accept":
        assert (connected, code) == (False, expected)
        assert await database_sync_to_async(Message.objects.count)() == stored
        return
    assert connected
    await socket.send_json_to({"type": "message.send", "body": "我到楼下了", "client_id": "grid-ws"})
    frames = [await socket.receive_json_from(timeout=5) for _ in range(2)]
    assert "message.ack" in {frame["type"] for frame in frames}
    assert await database_sync_to_async(Message.objects.count)() == stored + 1
    await socket.disconnect()
