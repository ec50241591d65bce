"""The committee hides a message (and restores it): everyone else sees at once, open sockets and
catch-up included, that it was hidden and nothing of what it said; its sender keeps it, with the
reason. A suspended member reads on but writes nowhere in the community, except to the committee
in their own conversation with it; refused with until when and why, on a page or a socket."""

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from config.asgi import application
from messaging import selectors
from messaging.events import message_payload
from messaging.models import Conversation, Message, Notification
from messaging.permissions import can_moderate_message, can_write_in, messages_moderated_by, writing_suspension
from messaging.services import (
    committee_conversation_open,
    message_delete,
    message_edit,
    message_hide,
    message_restore,
    message_send,
)
from neighbors.models import AuditEntry, SensitiveWord, Suspension
from neighbors.services import Suspended, suspension_lift, suspension_start
from tests.factories import MembershipFactory

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
TEXT = "加我微信，低息贷款"
REASON = "借贷广告"
SUSPENDED_FOR = "辱骂邻居"
db = database_sync_to_async


def send(user, conversation, body=TEXT) -> Message:
    message, _created = message_send(actor=user, conversation_id=conversation.pk, body=body)
    return message


def suspend(committee, person, days=7) -> Suspension:
    return suspension_start(actor=committee, membership=person.memberships.get(), days=days, reason=SUSPENDED_FOR)


def logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestHiding:
    def test_the_sender_keeps_it_with_the_reason_everyone_else_sees_only_that_it_was_hidden(
        self, conversation, resident, helper, committee, community
    ):
        # Given a published message from the resident
        message = send(resident, conversation)

        # When a committee member hides it
        hidden = message_hide(actor=committee, message=message, reason=f" {REASON} ")

        # Then it is recorded, and its sender is told why
        assert (hidden.hidden_by, hidden.hidden_reason) == (committee, REASON)
        assert hidden.changed_at >= hidden.hidden_at
        entry = AuditEntry.objects.get(action=AuditEntry.Action.CONTENT_HIDDEN)
        assert (entry.actor, entry.subject, entry.community, entry.target, entry.reason) == (
            committee,
            resident,
            community,
            f"message:{message.pk}",
            REASON,
        )
        told = Notification.objects.get(user=resident)
        assert (told.kind, told.body) == (Notification.Kind.DECISION, REASON)
        # And the payloads: the sender's with its text and the reason; anyone else's without either
        own = message_payload(hidden, viewer_id=resident.pk)
        assert (own["hidden"], own["body"], own["hidden_reason"]) == (True, TEXT, REASON)
        for viewer_id in (helper.pk, committee.pk, None):
            other = message_payload(hidden, viewer_id=viewer_id)
            assert (other["hidden"], other["body"], other["hidden_reason"]) == (True, "", "")
        # And nobody else can open it (its photo, its detail, a report): it is its sender's alone
        assert selectors.message_in(conversation, message.pk, helper) is None
        assert selectors.message_in(conversation, message.pk, resident) == message
        # Nor does it count as unread
        assert selectors.unread_message_counts(helper) == {}

    def test_the_pages_show_it_to_its_sender_and_not_to_the_others(self, conversation, resident, helper, committee):
        message = send(resident, conversation)
        message_hide(actor=committee, message=message, reason=REASON)
        url = reverse("messaging:conversation", args=[conversation.pk])

        neighbour = logged_in(helper).get(url).content.decode()
        assert TEXT not in neighbour
        assert "Hidden by the committee." in neighbour
        assert reverse("committee:report", args=["message", message.pk]) not in neighbour

        sender = logged_in(resident).get(url).content.decode()
        assert TEXT in sender
        assert f"Hidden by the committee, only you can see it. Why: {REASON}" in sender

    def test_a_reconnecting_client_catches_up_on_the_hide(self, conversation, resident, helper, committee):
        message = send(resident, conversation)
        before = timezone.now()
        message_hide(actor=committee, message=message, reason=REASON)

        payloads, _more = selectors.message_payloads_after(
            conversation.pk, message.pk, viewer_id=helper.pk, changed_after=before
        )
        assert [(p["id"], p["hidden"], p["body"]) for p in payloads] == [(message.pk, True, "")]
        own, _more = selectors.message_payloads_after(
            conversation.pk, message.pk, viewer_id=resident.pk, changed_after=before
        )
        assert [(p["body"], p["hidden_reason"]) for p in own] == [(TEXT, REASON)]

    def test_restoring_brings_it_back_for_everyone(self, conversation, resident, helper, committee):
        message = send(resident, conversation)
        message_hide(actor=committee, message=message, reason=REASON)
        before = timezone.now()

        restored = message_restore(actor=committee, message=message)

        assert not restored.is_hidden
        payloads, _more = selectors.message_payloads_after(
            conversation.pk, message.pk, viewer_id=helper.pk, changed_after=before
        )
        assert [(p["hidden"], p["body"]) for p in payloads] == [(False, TEXT)]
        assert selectors.message_in(conversation, message.pk, helper) == message
        assert AuditEntry.objects.filter(action=AuditEntry.Action.CONTENT_RESTORED).count() == 1

    def test_its_sender_cannot_edit_it_but_may_delete_it(self, conversation, resident, committee):
        message = send(resident, conversation)
        message_hide(actor=committee, message=message, reason=REASON)
        with translation.override("en"), pytest.raises(ValidationError, match="can no longer be edited"):
            message_edit(actor=resident, conversation_id=conversation.pk, message_id=message.pk, body="改一下")
        deleted = message_delete(actor=resident, conversation_id=conversation.pk, message_id=message.pk)
        assert deleted.is_deleted

    @pytest.mark.parametrize("someone", ["resident", "helper", "other_committee"])
    def test_people_outside_the_communitys_staff_cannot_hide_or_restore(
        self, request, someone, conversation, resident, helper, committee
    ):
        message = send(helper if someone == "resident" else resident, conversation)
        actor = request.getfixturevalue(someone)
        with pytest.raises(PermissionDenied):
            message_hide(actor=actor, message=message, reason=REASON)
        message_hide(actor=committee, message=message, reason=REASON)
        with pytest.raises(PermissionDenied):
            message_restore(actor=actor, message=message)
        assert Message.objects.get(pk=message.pk).is_hidden

    def test_a_grid_worker_hides_but_never_their_own(self, conversation, resident, grid_worker, committee):
        message = send(resident, conversation)
        message_hide(actor=grid_worker, message=message, reason=REASON)
        conversation_ask_in = committee_conversation_open(
            actor=grid_worker, community=conversation.community, member=resident
        )
        own = send(grid_worker, conversation_ask_in, "请来办公室一趟")
        assert not can_moderate_message(grid_worker, own)
        with pytest.raises(PermissionDenied):
            message_hide(actor=grid_worker, message=own, reason=REASON)
        # The rule and its queryset agree
        for actor in (grid_worker, committee, resident):
            for item in (message, own):
                assert can_moderate_message(actor, item) is messages_moderated_by(actor).filter(pk=item.pk).exists()

    def test_without_a_reason_twice_deleted_or_unpublished_is_refused(
        self, conversation, resident, helper, committee, community
    ):
        message = send(resident, conversation)
        with pytest.raises(ValidationError) as refused:
            message_hide(actor=committee, message=message, reason="")
        assert "reason" in refused.value.message_dict
        message_hide(actor=committee, message=message, reason=REASON)
        with translation.override("en"), pytest.raises(ValidationError, match="already hidden"):
            message_hide(actor=committee, message=message, reason=REASON)
        with translation.override("en"), pytest.raises(ValidationError, match="not hidden"):
            message_restore(actor=committee, message=send(resident, conversation, "好的"))

        gone = send(resident, conversation, "删掉")
        message_delete(actor=resident, conversation_id=conversation.pk, message_id=gone.pk)
        with translation.override("en"), pytest.raises(ValidationError, match="deleted"):
            message_hide(actor=committee, message=Message.objects.get(pk=gone.pk), reason=REASON)

        SensitiveWord.objects.create(community=community, word="高利贷")
        held = send(helper, conversation, "高利贷")
        with translation.override("en"), pytest.raises(ValidationError, match="not published"):
            message_hide(actor=committee, message=held, reason=REASON)
        assert AuditEntry.objects.filter(action=AuditEntry.Action.CONTENT_HIDDEN).count() == 1


@pytest.mark.django_db
class TestSuspended:
    def test_a_suspended_member_writes_nothing_and_is_told_until_when_and_why(
        self, conversation, resident, helper, committee, community
    ):
        earlier = send(helper, conversation, "我先说一句")
        suspend(committee, helper)

        with translation.override("en"), pytest.raises(Suspended) as refused:
            send(helper, conversation, "再说一句")
        text = " ".join(refused.value.messages)
        assert text.startswith(f"You are suspended in {community.name} until ")
        assert text.endswith(SUSPENDED_FOR)
        with translation.override("en"), pytest.raises(Suspended):
            message_edit(actor=helper, conversation_id=conversation.pk, message_id=earlier.pk, body="改")
        assert list(Message.objects.values_list("body", flat=True)) == ["我先说一句"]
        assert not can_write_in(helper, conversation)
        # Deleting what they wrote is still theirs: it only takes content away
        message_delete(actor=helper, conversation_id=conversation.pk, message_id=earlier.pk)
        # And the others write on
        send(resident, conversation, "收到")

    def test_the_page_says_why_and_a_posted_form_is_refused(self, conversation, helper, committee):
        suspend(committee, helper)
        client = logged_in(helper)
        url = reverse("messaging:conversation", args=[conversation.pk])

        page = client.get(url).content.decode()
        assert 'id="suspended-note"' in page and SUSPENDED_FOR in page
        assert 'id="chat-form"' not in page

        response = client.post(url, {"body": "还是要说", "client_id": "c-1"})
        assert response.status_code == 400
        assert "You are suspended in" in response.content.decode()
        assert not Message.objects.exists()

    def test_their_own_conversation_with_the_committee_stays_open(self, helper, committee, grid_worker, community):
        # Given the suspended member's conversation with the committee
        suspend(committee, helper)
        own = committee_conversation_open(actor=helper, community=community, member=helper)

        # Then they write there (to ask why, or to appeal)
        assert writing_suspension(helper, own) is None
        send(helper, own, "请问为什么被暂停？")
        # But a suspended grid worker does not write in someone else's: their seat is their role's
        suspend(committee, grid_worker)
        with pytest.raises(Suspended):
            send(grid_worker, own, "我来回答")
        assert Message.objects.filter(conversation=own).count() == 1

    def test_elsewhere_and_once_lifted_they_write_again(self, conversation, helper, committee, outsider):
        suspension = suspend(committee, helper)
        # A conversation of another community is not affected
        other = outsider.memberships.get().community
        MembershipFactory(user=helper, community=other)
        elsewhere = committee_conversation_open(actor=helper, community=other, member=helper)
        send(helper, elsewhere, "另一个社区")
        # Lifted, at once
        suspension_lift(actor=committee, suspension=suspension, reason="已道歉")
        send(helper, conversation, "谢谢")
        assert Message.objects.filter(sender=helper).count() == 2

    def test_an_announcement_stays_closed_to_members_either_way(self, helper, committee, community):
        channel = Conversation.objects.create(
            kind=Conversation.Kind.ANNOUNCEMENT, subject=f"announcement:{community.pk}", title="t", community=community
        )
        assert not can_write_in(helper, channel)
        suspend(committee, helper)
        assert not can_write_in(helper, channel)


# --- On open sockets ---------------------------------------------------------------------------


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def joined(conversation_id: int, user) -> WebsocketCommunicator:
    cookie = await db(session_cookie)(user)
    communicator = WebsocketCommunicator(
        application, f"/ws/conversations/{conversation_id}/", headers=[ORIGIN, (b"cookie", cookie)]
    )
    connected, code = await communicator.connect()
    if not connected:
        await communicator.disconnect()
    assert connected, code
    return communicator


@pytest_asyncio.fixture
async def close_connections_of_the_sync_thread():
    # As in tests/messaging/test_consumers.py: a connection left open in asgiref's sync thread
    # blocks dropping the PostgreSQL test database.
    yield
    await db(connections.close_all)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("close_connections_of_the_sync_thread")
class TestOnOpenSockets:
    async def test_a_suspension_refuses_the_next_frame_with_why_and_stores_nothing(
        self, conversation, helper, committee
    ):
        # Given the helper's chat open
        socket = await joined(conversation.pk, helper)
        try:
            # When the committee suspends them, elsewhere
            await db(suspend)(committee, helper)

            # Then their next send is answered with an error frame saying why, and nothing is stored
            await socket.send_json_to({"type": "message.send", "client_id": "c-1", "body": "我还要说"})
            frame = await socket.receive_json_from(timeout=5)
            assert (frame["type"], frame["code"], frame["client_id"]) == ("error", "suspended", "c-1")
            assert SUSPENDED_FOR in " ".join(frame["errors"])
            assert not await db(Message.objects.exists)()
            # And the socket stays open for reading
            await socket.send_json_to({"type": "ping"})
            assert (await socket.receive_json_from(timeout=5))["type"] == "pong"
        finally:
            await socket.disconnect()

    async def test_a_hide_and_a_restore_reach_the_open_sockets(self, conversation, resident, helper, committee):
        message = await db(send)(resident, conversation)
        neighbour = await joined(conversation.pk, helper)
        sender = await joined(conversation.pk, resident)
        try:
            # When the committee hides the message
            await db(message_hide)(actor=committee, message=message, reason=REASON)

            # Then the other participant's page hears it is hidden, and nothing of what it said
            frame = await neighbour.receive_json_from(timeout=5)
            assert frame["type"] == "message"
            shown = frame["message"]
            assert (shown["id"], shown["hidden"], shown["body"], shown["hidden_reason"]) == (message.pk, True, "", "")
            # And the sender's too; a catch-up brings back its text with the reason, for them alone
            assert (await sender.receive_json_from(timeout=5))["message"]["hidden"] is True
            await sender.send_json_to(
                {"type": "catch_up", "after": message.pk, "changed_after": message.created_at.isoformat()}
            )
            caught = await sender.receive_json_from(timeout=5)
            assert (caught["message"]["body"], caught["message"]["hidden_reason"]) == (TEXT, REASON)
            assert (await sender.receive_json_from(timeout=5))["type"] == "caught_up"

            # When it is restored, everyone has it back
            await db(message_restore)(actor=committee, message=message)
            frame = await neighbour.receive_json_from(timeout=5)
            assert (frame["message"]["hidden"], frame["message"]["body"]) == (False, TEXT)
        finally:
            await neighbour.disconnect()
            await sender.disconnect()
