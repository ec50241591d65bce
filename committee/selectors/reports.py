"""Reads for the committee's workspace: what a report is about, and the two review queues."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse

from aid_posts.models import AidPost
from aid_posts.permissions import posts_reviewable_by, posts_visible_to, roles_visible_to
from messaging.models import Message
from messaging.permissions import conversations_visible_to
from messaging.selectors import held_messages_for, message_in, messages_with_context
from neighbors.models import Community, Membership, User
from neighbors.permissions import people_visible_to
from neighbors.selectors import person_memberships_seen_by

from ..models import Report
from ..permissions import reports_reviewable_by

# The oldest first, this many at a time: the next ones follow as these are dealt with.
QUEUE_SIZE = 50
# Published messages shown before a held one, so that the reviewer reads it in its conversation.
CONTEXT_SIZE = 3
# What stands in a snapshot for what has no text of its own.
IMAGE_MARK = "[image]"
CONTACT_MARK = "[contact]"
# The largest id a row can have (a 64-bit key): beyond it SQLite refuses the query itself.
LARGEST_ID = 2**63 - 1


@dataclass(frozen=True)
class ReportTarget:
    """What a report would be about, as the reporter sees it now."""

    kind: str
    pk: int
    community: Community | None
    author: User | None
    # Who may not report it: the people whose content it is.
    owners: frozenset[int]
    snapshot: str
    # A message its sender has deleted: nothing of it is left to judge.
    removed: bool = False


def _message_snapshot(message: Message) -> str:
    if message.kind == Message.Kind.IMAGE:
        return f"{IMAGE_MARK} {message.body}".strip()
    if message.kind == Message.Kind.CONTACT:
        return CONTACT_MARK
    return message.body


def _message_target(viewer: User, message_id: int) -> ReportTarget | None:
    # The conversation through the same rule as can_access_conversation, then the message as
    # the viewer may read it there: someone else's held message is not theirs to see.
    conversation = conversations_visible_to(viewer).filter(messages=message_id).select_related("community").first()
    message = message_in(conversation, message_id, viewer) if conversation is not None else None
    if message is None:
        return None
    return ReportTarget(
        kind=Report.TargetKind.MESSAGE,
        pk=message.pk,
        community=conversation.community,
        author=message.sender,
        owners=frozenset({message.sender_id}),
        snapshot=_message_snapshot(message),
        removed=message.is_deleted,
    )


def _request_target(viewer: User, post_id: int) -> ReportTarget | None:
    post = posts_visible_to(viewer).select_related("community", "author").filter(pk=post_id).first()
    if post is None:
        return None
    # The private details for the helper never go into a report: the committee does not read them.
    return ReportTarget(
        kind=Report.TargetKind.REQUEST,
        pk=post.pk,
        community=post.community,
        author=post.author,
        owners=frozenset({post.author_id, post.assisted_by_id} - {None}),
        snapshot=f"{post.title}\n\n{post.description}",
    )


def _role_target(viewer: User, role_id: int) -> ReportTarget | None:
    role = roles_visible_to(viewer).select_related("community").filter(pk=role_id).first()
    if role is None:
        return None
    return ReportTarget(
        kind=Report.TargetKind.ROLE,
        pk=role.pk,
        community=role.community,
        author=None,
        owners=frozenset(),
        snapshot=f"{role.title}\n\n{role.description}",
    )


def _profile_target(viewer: User, person_id: int) -> ReportTarget | None:
    person = people_visible_to(viewer).select_related("profile").filter(pk=person_id).first()
    if person is None:
        return None
    shared = person_memberships_seen_by(viewer, person).order_by("pk").first()
    return ReportTarget(
        kind=Report.TargetKind.PROFILE,
        pk=person.pk,
        community=shared.community if shared is not None else None,
        author=person,
        owners=frozenset({person.pk}),
        snapshot=f"{person.profile.display_name}\n\n{person.profile.bio}".strip(),
    )


_TARGETS: dict[str, Callable[[User, int], ReportTarget | None]] = {
    Report.TargetKind.MESSAGE: _message_target,
    Report.TargetKind.REQUEST: _request_target,
    Report.TargetKind.ROLE: _role_target,
    Report.TargetKind.PROFILE: _profile_target,
}


def report_target(viewer: User, kind: str, target_id: int) -> ReportTarget | None:
    """The target if the viewer may see it now; None for an unknown kind, a missing target and
    one hidden from them alike, so that a report never tells what exists."""
    find = _TARGETS.get(kind)
    if find is None or not 0 < target_id <= LARGEST_ID:
        return None
    return find(viewer, target_id)


def committee_members_of(community: Community) -> QuerySet[User]:
    return (
        User.objects.filter(
            memberships__community=community,
            memberships__status=Membership.Status.APPROVED,
            memberships__role=Membership.Role.COMMITTEE,
            is_active=True,
        )
        .select_related("profile")
        .distinct()
    )


@dataclass(frozen=True)
class ReportQueue:
    """Open reports, oldest first, each with `target_url` ("" where the reviewer cannot open it)."""

    reports: list[Report]
    more: bool


def _target_urls(viewer: User, reports: list[Report]) -> dict[tuple[str, int], str]:
    """Where each target can be opened by the viewer: one query per kind, whatever the count."""
    ids: dict[str, set[int]] = defaultdict(set)
    for report in reports:
        ids[report.target_kind].add(report.target_id)
    urls: dict[tuple[str, int], str] = {}
    if ids[Report.TargetKind.MESSAGE]:
        conversations = Message.objects.filter(
            pk__in=ids[Report.TargetKind.MESSAGE], conversation__in=conversations_visible_to(viewer).values("pk")
        ).values_list("pk", "conversation_id")
        for message_id, conversation_id in conversations:
            urls[Report.TargetKind.MESSAGE, message_id] = reverse("messaging:conversation", args=[conversation_id])
    pages = (
        (Report.TargetKind.REQUEST, posts_visible_to, "aid_posts:detail"),
        (Report.TargetKind.ROLE, roles_visible_to, "aid_posts:role_detail"),
        (Report.TargetKind.PROFILE, people_visible_to, "neighbors:person"),
    )
    for kind, visible_to, page in pages:
        if ids[kind]:
            for pk in visible_to(viewer).filter(pk__in=ids[kind]).values_list("pk", flat=True):
                urls[kind, pk] = reverse(page, args=[pk])
    return urls


def open_reports_for(user: User) -> ReportQueue:
    reports = list(
        reports_reviewable_by(user)
        .filter(status=Report.Status.OPEN)
        .select_related("reporter__profile", "author__profile", "community")
        .order_by("created_at", "pk")[: QUEUE_SIZE + 1]
    )
    urls = _target_urls(user, reports[:QUEUE_SIZE])
    messages = messages_with_context(
        {report.target_id for report in reports[:QUEUE_SIZE] if report.target_kind == Report.TargetKind.MESSAGE}
    )
    for report in reports:
        report.target_url = urls.get((report.target_kind, report.target_id), "")
        # A reported message with what was said just before it, as it is now (hidden or not).
        target = messages.get(report.target_id) if report.target_kind == Report.TargetKind.MESSAGE else None
        report.context = target.context if target is not None else []
    return ReportQueue(reports=reports[:QUEUE_SIZE], more=len(reports) > QUEUE_SIZE)


@dataclass(frozen=True)
class HeldQueue:
    """What the sensitive-word list held, oldest first: messages, each with `context` (the
    published messages just before it), and requests; `more`/`more_posts` when more wait."""

    messages: list[Message]
    more: bool
    posts: list[AidPost]
    more_posts: bool


def held_queue_for(user: User) -> HeldQueue:
    held = held_messages_for(user, limit=QUEUE_SIZE + 1)
    posts = list(
        posts_reviewable_by(user)
        .filter(status=AidPost.Status.HELD)
        .select_related("author__profile", "assisted_by__profile", "community", "category", "place")
        .order_by("created_at", "pk")[: QUEUE_SIZE + 1]
    )
    return HeldQueue(
        messages=held[:QUEUE_SIZE],
        more=len(held) > QUEUE_SIZE,
        posts=posts[:QUEUE_SIZE],
        more_posts=len(posts) > QUEUE_SIZE,
    )
