"""Who may see and change what: every route that shows an object, asked by every role.

A private object answers 404 to whoever may not see it, exactly as an id that does
not exist, so that nobody learns that a post, a conversation, a person or a join
request exists by guessing ids (人非数据). The grids below are the product rules in
one place; a failure names the route and the role.
"""

from collections.abc import Callable
from dataclasses import dataclass
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

from aid_posts.models import AidPost, Claim, Dispatch
from aid_posts.services import aid_post_claim, aid_post_create, aid_post_mark_done, claim_accept
from config.asgi import application
from messaging.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from messaging.models import Conversation, Message, Notification
from messaging.services import message_send
from neighbors.models import (
    Block,
    Community,
    ContactDisclosure,
    ContactMethod,
    Grid,
    Membership,
    Place,
    RoleChange,
    SensitiveWord,
    User,
)
from neighbors.permissions import community_subject
from neighbors.services import contact_method_set, membership_request
from talent_pool.services import talent_profile_ensure
from tests.factories import PlaceFactory, UserFactory, phone_of, skill, window

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
    posts: dict[str, AidPost]  # the owner's requests, by status: open, claimed, in_progress, done
    conversation: Conversation  # between owner and partner, about the request in progress
    join_request: Membership  # pending; the applicant's building is in the grid worker's grid
    join_request_outside_grid: Membership  # pending; a building in no grid
    membership: Membership  # the plain member's own
    message: Message  # the owner's, in the conversation
    held_message: Message  # the owner's, held by the sensitive-word filter in the conversation


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
    SensitiveWord.objects.create(community=community, word="转账")
    held_message, _created = message_send(actor=owner, conversation_id=conversation.pk, body="先转账给我")
    return World(
        community=community,
        users={
            "anonymous": None,
            "non_member": UserFactory(username="newcomer"),
            "other_community": outsider,
            "admin": UserFactory(username="site-admin", is_staff=True, is_superuser=True),
            "member": member,
            "partner": partner,
            "grid_worker": grid_worker,
            "committee": committee,
            "owner": owner,
        },
        posts={"open": opened, "claimed": claimed, "in_progress": post, "done": done},
        conversation=conversation,
        join_request=join_request,
        join_request_outside_grid=join_request_outside_grid,
        membership=member.memberships.get(),
        message=message,
        held_message=held_message,
    )


@dataclass(frozen=True)
class Route:
    url: str  # the URL's name
    target: Callable[[World], int | tuple[int, ...]] | None  # the id(s) in the URL, if it has any
    method: str = "get"
    data: Callable[[World, int], dict] = lambda world, pk: {}
    # The parts of `snapshot()` that an allowed request changes, separated by spaces.
    changes: str = ""


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
    "post-confirm": Route("aid_posts:confirm", _post("done"), "post", changes="posts"),
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
    "held-release": Route("committee:held_release", lambda world: world.held_message.pk, "post", changes="messages"),
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
        "neighbors:membership_approve", lambda world: world.join_request.pk, "post", changes="memberships"
    ),
    "membership-approve-outside-grid": Route(
        "neighbors:membership_approve",
        lambda world: world.join_request_outside_grid.pk,
        "post",
        changes="memberships",
    ),
    "membership-decline": Route(
        "neighbors:membership_decline",
        lambda world: world.join_request.pk,
        "post",
        lambda world, pk: {"reason": "楼栋信息不符"},
        "memberships",
    ),
    "membership-role-change": Route(
        "neighbors:membership_role_change",
        lambda world: world.membership.pk,
        "post",
        lambda world, pk: {f"m{pk}-role": Membership.Role.VOLUNTEER, f"m{pk}-reason": "报名志愿者"},
        "memberships",
    ),
    "membership-leave": Route(
        "neighbors:membership_leave", lambda world: world.membership.pk, "post", changes="memberships"
    ),
    "members": Route("neighbors:members", None),
}


def _grid(text: str) -> dict[str, dict[str, str]]:
    """A whitespace-aligned table: a header of roles, then one row per route."""
    header, *rows = (line.split() for line in text.strip().splitlines())
    return {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in rows}


# What each role gets from each route:
#   login  302 to the sign-in page
#   404    not found: the same answer as for an id that does not exist
#   403    the object is visible to them, but this action is not theirs
#   200    the page is shown             200+  shown, and the change is made
#   302    sent back with a message      302+  redirected, and the change is made
# Without "+", nothing changes anywhere: no post, claim, disclosure, message, block,
# membership or role change is written.
EXPECTED = _grid("""
route                           anonymous non_member other_community admin member partner grid_worker committee owner
post-detail                     login     404        404             404   200    200     200         200       200
post-claim                      login     404        404             404   302+   302+    302+        302+      302
claim-accept                    login     404        404             404   403    403     403         403       302+
claim-decline                   login     404        404             404   403    403     403         403       302+
claim-withdraw                  login     404        404             404   403    302+    403         403       403
post-mark-done                  login     404        404             404   403    302+    403         403       403
post-confirm                    login     404        404             404   403    403     403         403       302+
post-cancel                     login     404        404             404   403    403     403         403       302+
post-invite                     login     404        404             404   403    403     302+        302+      403
notification-open               login     404        404             404   404    404     404         404       302+
post-dispute                    login     404        404             404   403    403     403         403       302+
post-reveal                     login     404        404             404   302    200+    302         302       200+
conversation                    login     404        404             404   404    200     404         404       200
conversation-send               login     404        404             404   404    302+    404         404       302+
message-edit                    login     404        404             404   404    400     404         404       302+
conversation-ask-committee      login     404        404             404   404    302+    404         404       302+
committee-conversation-open     login     404        404             404   404    404     302+        302+      302+
announcements                   login     404        404             404   302+   302+    302+        302+      302+
held-release                    login     404        404             404   404    404     302+        302+      404
person                          login     404        404             404   200    200     200         200       200
person-reveal-post              login     404        404             404   403    200+    403         403       200
person-reveal-community         login     404        404             404   403    403     200+        200+      200
person-block                    login     404        404             404   302+   302+    302+        302+      302
membership-approve              login     404        404             404   404    404     302+        302+      404
membership-approve-outside-grid login     404        404             404   404    404     404         302+      404
membership-decline              login     404        404             404   404    404     302+        302+      404
membership-role-change          login     404        404             404   404    404     404         302+      404
membership-leave                login     404        404             404   302+   404     404         404       404
members                         login     404        404             404   404    404     404         200       404
""")

# What the list pages show of the objects above: the open request (home, posts), the
# conversation, the partner's talent profile, the pending join request.
LISTED = _grid("""
page          anonymous non_member other_community admin member partner grid_worker committee owner
home          hides     hides      hides           hides shows  shows   shows       shows     shows
posts         login     hides      hides           hides shows  shows   shows       shows     shows
nearby        login     hides      hides           hides shows  shows   shows       shows     shows
conversations login     hides      hides           hides hides  shows   hides       hides     shows
talent        login     hides      hides           hides shows  shows   shows       shows     shows
join-requests login     hides      hides           hides hides  hides   shows       shows     hides
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
    }


def url_args(pk: int | tuple[int, ...] | None) -> list[int]:
    if pk is None:
        return []
    return list(pk) if isinstance(pk, tuple) else [pk]


def missing_like(route: Route, world: World) -> tuple[int, ...]:
    """An id that does not exist in every place of the route's URL."""
    return tuple(MISSING for _ in url_args(route.target(world)))


def request_as(world: World, role: str, route: Route, pk: int | tuple[int, ...] | None) -> HttpResponse:
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
    """Whose raw phone number the page shows to someone other than its owner."""
    page = response.content.decode()
    people = (world.users["owner"], world.users["partner"])
    return [person for person in people if person != world.users[role] and phone_of(person) in page]


def test_the_grids_name_every_route_and_role():
    assert set(EXPECTED) == set(ROUTES)
    assert set(LISTED) == set(LIST_PAGES)
    for row in [*EXPECTED.values(), *LISTED.values()]:
        assert tuple(row) == ROLES
    # Whoever may not see an object gets the answer a missing id gets.
    assert {EXPECTED[name]["non_member"] for name in ROUTES} == {"404"}


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
    assert len(contacts_shown(response, world, role)) == (1 if expected == "200+" else 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route_name", "role"),
    [pytest.param(name, role, id=f"{name}-{role}") for name, route in ROUTES.items() if route.target for role in ROLES],
)
def test_an_id_that_does_not_exist_looks_like_one_you_may_not_see(world, route_name, role):
    before = snapshot()

    response = request_as(world, role, ROUTES[route_name], missing_like(ROUTES[route_name], world))

    assert_outcome(response, "login" if role == "anonymous" else EXPECTED[route_name]["non_member"])
    assert snapshot() == before


PAGES = {route.url for route in ROUTES.values() if route.method == "get"}
POST_ONLY = [name for name, route in ROUTES.items() if route.method == "post" and route.url not in PAGES]


@pytest.mark.django_db
@pytest.mark.parametrize("exists", [True, False], ids=["exists", "missing"])
@pytest.mark.parametrize("route_name", POST_ONLY)
def test_a_get_on_an_action_is_405_whether_or_not_the_object_exists(world, route_name, exists):
    route = ROUTES[route_name]
    client = Client()
    client.force_login(world.users["non_member"])

    response = client.get(
        reverse(route.url, args=url_args(route.target(world) if exists else missing_like(route, world)))
    )

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
