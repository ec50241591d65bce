"""The messaging pages and the HTTP paths beside the socket: who gets what, and who gets a 404."""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from messaging.models import Conversation, EmailOptOut, Message, Notification, Participant
from messaging.services import (
    announcement_channel,
    committee_conversation_open,
    conversation_mark_read,
    conversation_open,
    message_delete,
    message_edit,
    message_send,
)
from neighbors.models import ContactDisclosure, ContactMethod, ContactShare, Membership, SensitiveWord
from tests.factories import phone_of

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}
MISSING = 2_147_483_647


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def png_upload(name: str = "门牌.png", size: tuple[int, int] = (40, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def page_of(response) -> str:
    return response.content.decode()


def chat_url(conversation: Conversation) -> str:
    return reverse("messaging:conversation", args=[conversation.pk])


def message_url(name: str, message: Message) -> str:
    return reverse(f"messaging:{name}", args=[message.conversation_id, message.pk])


@pytest.fixture
def stranger(make_member):
    """A member of the same community with no seat in the conversation."""
    return make_member(username="stranger")


def say(user, conversation: Conversation, body: str) -> Message:
    message, _created = message_send(actor=user, conversation_id=conversation.pk, body=body)
    return message


# --- Logging in first ---------------------------------------------------------------------


ROUTES = [
    ("get", "messaging:list", lambda c, m: []),
    ("get", "messaging:announcements", lambda c, m: [c.community_id]),
    ("post", "messaging:committee_open", lambda c, m: [c.community_id]),
    ("post", "messaging:committee_open_member", lambda c, m: [c.community_id, m.sender_id]),
    ("get", "messaging:conversation", lambda c, m: [c.pk]),
    ("post", "messaging:conversation", lambda c, m: [c.pk]),
    ("post", "messaging:message_upload", lambda c, m: [c.pk]),
    ("post", "messaging:share_contact", lambda c, m: [c.pk]),
    ("post", "messaging:ask_committee", lambda c, m: [c.pk]),
    ("post", "messaging:contact_reveal", lambda c, m: [c.pk, m.pk]),
    ("post", "messaging:message_edit", lambda c, m: [c.pk, m.pk]),
    ("post", "messaging:message_delete", lambda c, m: [c.pk, m.pk]),
    ("get", "messaging:message_image", lambda c, m: [c.pk, m.pk]),
    ("get", "messaging:message_thumbnail", lambda c, m: [c.pk, m.pk]),
    ("get", "messaging:email_preferences", lambda c, m: []),
    ("post", "messaging:email_preferences", lambda c, m: []),
]


@pytest.mark.parametrize(("method", "name", "args"), ROUTES, ids=[f"{m} {n}" for m, n, _a in ROUTES])
def test_anonymous_visitors_are_sent_to_log_in(conversation, resident, method, name, args):
    # Given a conversation with a message, and someone not logged in
    message = say(resident, conversation, "你好")
    url = reverse(name, args=args(conversation, message))

    # When they ask for any messaging page or action
    response = getattr(Client(), method)(url, {"body": "偷偷发的"} if method == "post" else None)

    # Then they are sent to log in, and nothing changed
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert list(Message.objects.values_list("body", flat=True)) == ["你好"]


# --- The conversation list ----------------------------------------------------------------


def test_the_list_shows_kind_title_people_and_unread_count(conversation, resident, helper):
    # Given two unread messages from the helper
    say(helper, conversation, "我明天来")
    say(helper, conversation, "带工具")

    # When the poster opens the list
    response = logged_in(resident).get(reverse("messaging:list"))

    # Then it shows the conversation, its kind, who is in it and how many are unread (also in words)
    page = page_of(response)
    assert response.status_code == 200
    assert "修水龙头" in page
    assert "Request conversation" in page
    assert "wang" in page and "li" in page
    assert '<span class="badge unread-badge">2<span class="visually-hidden"> unread messages</span></span>' in page
    assert chat_url(conversation) in page


def test_the_list_offers_announcements_and_the_committee_of_ones_communities(resident, community):
    page = page_of(logged_in(resident).get(reverse("messaging:list")))

    assert reverse("messaging:announcements", args=[community.pk]) in page
    assert f"Announcements of {community.name}" in page
    assert reverse("messaging:committee_open", args=[community.pk]) in page
    assert f"Write to the committee of {community.name}" in page


def test_the_committee_is_not_offered_a_conversation_with_itself(committee, community):
    page = page_of(logged_in(committee).get(reverse("messaging:list")))

    assert reverse("messaging:committee_open", args=[community.pk]) not in page
    assert reverse("messaging:announcements", args=[community.pk]) in page


def test_the_list_of_someone_in_no_community_says_to_join_one():
    from tests.factories import UserFactory

    newcomer = UserFactory()

    page = page_of(logged_in(newcomer).get(reverse("messaging:list")))

    assert "No conversations yet." in page
    assert reverse("neighbors:communities") in page


def test_the_list_shows_nobody_elses_conversations(conversation, outsider, resident):
    say(resident, conversation, "你好")

    page = page_of(logged_in(outsider).get(reverse("messaging:list")))

    assert "修水龙头" not in page


@pytest.mark.parametrize("count", [2, 10])
def test_the_list_costs_the_same_queries_however_many_conversations(
    resident, make_member, community, count, django_assert_max_num_queries
):
    # Given `count` conversations, each with people and messages
    for number in range(count):
        other = make_member()
        conversation = conversation_open(
            kind=Conversation.Kind.CLAIM,
            subject=f"aid_post:{number}",
            title=f"请求{number}",
            participants=[resident, other],
            community=community,
        )
        say(other, conversation, "你好")
    client = logged_in(resident)

    # When the list is rendered, then the query count does not grow with them
    with django_assert_max_num_queries(13):
        response = client.get(reverse("messaging:list"))
    assert page_of(response).count('class="card conversation unread"') == count


# --- Announcements ------------------------------------------------------------------------


def test_a_member_opens_the_announcements_and_reads_them(resident, committee, community):
    # Given the committee has announced something
    channel = announcement_channel(community=community)
    say(committee, channel, "周六停水")

    # When a member follows the announcements link
    client = logged_in(resident)
    response = client.get(reverse("messaging:announcements", args=[community.pk]))

    # Then they reach the channel, read it, and find no composer there
    assert response.status_code == 302
    assert response.url == chat_url(channel)
    page = page_of(client.get(response.url))
    assert "周六停水" in page
    assert 'id="chat-form"' not in page
    assert "Only the committee and its grid workers write here." in page


def test_opening_the_announcements_twice_is_one_channel(resident, community):
    client = logged_in(resident)
    first = client.get(reverse("messaging:announcements", args=[community.pk]))
    second = client.get(reverse("messaging:announcements", args=[community.pk]))

    assert first.url == second.url
    assert Conversation.objects.filter(kind=Conversation.Kind.ANNOUNCEMENT).count() == 1


def test_an_outsider_gets_a_404_for_anothers_announcements(outsider, community):
    response = logged_in(outsider).get(reverse("messaging:announcements", args=[community.pk]))

    assert response.status_code == 404
    assert not Conversation.objects.exists()


def test_a_member_cannot_write_an_announcement(resident, community):
    # Given the announcement channel of their community
    channel = announcement_channel(community=community)

    # When a member who is not staff posts to it
    response = logged_in(resident).post(chat_url(channel), {"body": "我也想发公告"})

    # Then it is refused and nothing is stored
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_the_committee_writes_announcements_over_http(committee, community):
    channel = announcement_channel(community=community)

    response = logged_in(committee).post(chat_url(channel), {"body": "周六停水"})

    assert response.status_code == 302
    assert list(channel.messages.values_list("body", flat=True)) == ["周六停水"]


# --- Conversations with the committee -----------------------------------------------------


def test_a_member_opens_their_conversation_with_the_committee(resident, committee, community):
    # When a member presses "Write to the committee"
    response = logged_in(resident).post(reverse("messaging:committee_open", args=[community.pk]))

    # Then they are in a committee conversation, which the committee can read and write in
    conversation = Conversation.objects.get(kind=Conversation.Kind.COMMITTEE)
    assert response.status_code == 302
    assert response.url == chat_url(conversation)
    assert list(conversation.participants.values_list("user", flat=True)) == [resident.pk]
    page = page_of(logged_in(committee).get(chat_url(conversation)))
    assert "Conversation with the committee" in page
    assert "and the committee and grid workers of 莲兴社区" in page
    assert 'id="chat-form"' in page


def test_the_committee_opens_the_same_conversation_with_a_member(resident, committee, community):
    mine = committee_conversation_open(actor=resident, community=community, member=resident)

    response = logged_in(committee).post(reverse("messaging:committee_open_member", args=[community.pk, resident.pk]))

    assert response.status_code == 302
    assert response.url == chat_url(mine)
    assert Conversation.objects.filter(kind=Conversation.Kind.COMMITTEE).count() == 1


def test_a_grid_worker_opens_a_conversation_with_a_member(resident, grid_worker, community):
    response = logged_in(grid_worker).post(reverse("messaging:committee_open_member", args=[community.pk, resident.pk]))

    assert response.status_code == 302
    assert Conversation.objects.get(kind=Conversation.Kind.COMMITTEE).participants.get().user == resident


def test_a_member_cannot_open_one_on_behalf_of_another(resident, helper, community):
    response = logged_in(resident).post(reverse("messaging:committee_open_member", args=[community.pk, helper.pk]))

    assert response.status_code == 404
    assert not Conversation.objects.exists()


def test_an_outsider_cannot_open_a_committee_conversation_anywhere_else(outsider, resident, community):
    client = logged_in(outsider)

    own = client.post(reverse("messaging:committee_open", args=[community.pk]))
    for_someone = client.post(reverse("messaging:committee_open_member", args=[community.pk, resident.pk]))

    assert (own.status_code, for_someone.status_code) == (404, 404)
    assert not Conversation.objects.exists()


def test_the_committee_cannot_open_one_with_someone_outside_its_community(committee, outsider, community):
    response = logged_in(committee).post(reverse("messaging:committee_open_member", args=[community.pk, outsider.pk]))

    assert response.status_code == 404
    assert not Conversation.objects.exists()


def test_opening_is_post_only(resident, community):
    response = logged_in(resident).get(reverse("messaging:committee_open", args=[community.pk]))

    assert response.status_code == 405
    assert not Conversation.objects.exists()


# --- The conversation page ----------------------------------------------------------------


def test_the_page_shows_the_messages_and_marks_them_read(conversation, resident, helper):
    # Given two messages from the helper the poster has not read
    say(helper, conversation, "我明天来")
    last = say(helper, conversation, "带工具")

    # When the poster opens the page (even without JavaScript)
    response = logged_in(resident).get(chat_url(conversation))

    # Then they see both, in order, and their read mark moved to the newest
    page = page_of(response)
    assert response.status_code == 200
    assert page.index("我明天来") < page.index("带工具")
    assert Participant.objects.get(conversation=conversation, user=resident).last_read_id == last.pk
    assert response.context["chat_config"]["lastId"] == last.pk


def test_the_page_tells_who_is_in_it(conversation, resident):
    page = page_of(logged_in(resident).get(chat_url(conversation)))

    assert "Request conversation" in page
    assert "In this conversation:</span> wang, li</p>" in page
    assert "and the committee and grid workers of" not in page


def test_an_outsider_gets_a_404_like_a_missing_conversation(conversation, outsider, stranger, resident):
    say(resident, conversation, "私事")

    for person in (outsider, stranger):
        client = logged_in(person)
        assert client.get(chat_url(conversation)).status_code == 404
        assert client.post(chat_url(conversation), {"body": "hi"}).status_code == 404
    assert logged_in(resident).get(reverse("messaging:conversation", args=[MISSING])).status_code == 404
    assert Message.objects.count() == 1


def test_seen_appears_under_ones_message_once_the_other_has_read_it(conversation, resident, helper):
    first = say(resident, conversation, "第一条")
    second = say(resident, conversation, "第二条")
    client = logged_in(resident)

    assert ">Seen</p>" not in page_of(client.get(chat_url(conversation)))

    conversation_mark_read(actor=helper, conversation_id=conversation.pk, up_to=first.pk)
    page = page_of(client.get(chat_url(conversation)))
    assert page.count(">Seen</p>") == 1
    assert page.index(">Seen</p>") < page.index(f'id="m-{second.pk}"')

    conversation_mark_read(actor=helper, conversation_id=conversation.pk, up_to=second.pk)
    page = page_of(client.get(chat_url(conversation)))
    assert page.count(">Seen</p>") == 1
    assert page.index(">Seen</p>") > page.index(f'id="m-{second.pk}"')


def test_edited_deleted_and_held_messages_leave_their_trace(conversation, resident, helper, community):
    # Given an edited message, a deleted one, and one held for review
    edited = say(resident, conversation, "明天十点")
    message_edit(actor=resident, conversation_id=conversation.pk, message_id=edited.pk, body="明天十一点")
    deleted = say(resident, conversation, "发错了")
    message_delete(actor=resident, conversation_id=conversation.pk, message_id=deleted.pk)
    SensitiveWord.objects.create(community=community, word="转账")
    held = say(resident, conversation, "先转账给我")

    # When the sender and the other person look
    mine = page_of(logged_in(resident).get(chat_url(conversation)))
    theirs = page_of(logged_in(helper).get(chat_url(conversation)))

    # Then both see "edited" and "deleted"; only the sender sees the held one, marked so
    for page in (mine, theirs):
        assert "明天十一点" in page and "(edited)" in page
        assert "发错了" not in page and "This message was deleted" in page
    assert "先转账给我" in mine and "Awaiting committee review" in mine
    assert "先转账给我" not in theirs and f'id="m-{held.pk}"' not in theirs


def test_a_rejected_message_says_so_to_its_sender(conversation, resident, committee, community):
    from messaging.services import message_reject

    SensitiveWord.objects.create(community=community, word="转账")
    held = say(resident, conversation, "先转账给我")
    message_reject(actor=committee, message=held, reason="涉及金钱往来")

    page = page_of(logged_in(resident).get(chat_url(conversation)))

    assert "Not published after committee review." in page


def test_own_messages_have_edit_and_delete_and_others_a_report_link(conversation, resident, helper):
    mine = say(resident, conversation, "我的")
    theirs = say(helper, conversation, "他的")

    page = page_of(logged_in(resident).get(chat_url(conversation)))

    assert message_url("message_edit", mine) in page
    assert message_url("message_delete", mine) in page
    assert message_url("message_edit", theirs) not in page
    assert message_url("message_delete", theirs) not in page
    # The report form brings the reporter back to the conversation once sent.
    assert f'href="/committee/report/message/{theirs.pk}/?next=%2Fmessages%2F{conversation.pk}%2F"' in page
    assert f'href="/committee/report/message/{mine.pk}/' not in page


def test_editing_is_offered_only_within_the_window(conversation, resident):
    old = say(resident, conversation, "很久以前")
    Message.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(minutes=settings.MESSAGE_EDIT_MINUTES + 1)
    )

    page = page_of(logged_in(resident).get(chat_url(conversation)))

    assert message_url("message_edit", old) not in page
    assert message_url("message_delete", old) in page


@pytest.mark.parametrize("count", [2, 10])
def test_the_page_costs_the_same_queries_however_many_messages(
    conversation, resident, helper, count, django_assert_max_num_queries
):
    # Given `count` messages of every kind, from both sides
    share_phone(helper, conversation)
    for number in range(count):
        say(helper if number % 2 else resident, conversation, f"消息{number}")
    client = logged_in(resident)

    # When the page is rendered, then the query count does not grow with them
    # (One of them is the header's list of the person's communities.)
    with django_assert_max_num_queries(23):
        response = client.get(chat_url(conversation))
    assert len(response.context["chat_messages"]) == count + 1


# --- Sending over HTTP --------------------------------------------------------------------


def test_a_message_posted_without_javascript_is_stored_once(conversation, resident):
    client = logged_in(resident)

    first = client.post(chat_url(conversation), {"body": "没有脚本也能发", "client_id": "form-1"})
    again = client.post(chat_url(conversation), {"body": "没有脚本也能发", "client_id": "form-1"})

    assert (first.status_code, again.status_code) == (302, 302)
    assert first.url == chat_url(conversation)
    assert list(Message.objects.values_list("body", flat=True)) == ["没有脚本也能发"]


def test_an_empty_message_is_refused_with_a_form_error(conversation, resident):
    response = logged_in(resident).post(chat_url(conversation), {"body": "   "})

    assert response.status_code == 400
    assert not Message.objects.exists()


def test_too_many_messages_are_refused_with_a_429_and_nothing_stored(conversation, resident):
    # Given someone who sent as many messages as the shortest window allows
    for number in range(8):
        say(resident, conversation, f"第{number}条")

    # When they post one more over HTTP
    response = logged_in(resident).post(chat_url(conversation), {"body": "再来一条", "client_id": "c-9"})

    # Then it is refused with the reason, the text stays in the form, and nothing is stored
    page = page_of(response)
    assert response.status_code == 429
    assert "You are sending messages too fast." in page
    assert "再来一条" in page
    assert not Message.objects.filter(body="再来一条").exists()


def test_a_blocked_pair_cannot_message_each_other(conversation, resident, helper):
    from neighbors.services import block_add

    block_add(actor=helper, person=resident)

    response = logged_in(resident).post(chat_url(conversation), {"body": "在吗"})

    assert response.status_code == 400
    assert "blocked" in page_of(response)
    assert not Message.objects.exists()


# --- Images -------------------------------------------------------------------------------


def test_an_image_is_stored_and_answered_as_json_for_the_script(conversation, resident):
    # When the page's script uploads a real PNG with a caption
    response = logged_in(resident).post(
        reverse("messaging:message_upload", args=[conversation.pk]),
        {"image": png_upload(), "body": "就是这个水龙头", "client_id": "img-1"},
        **FETCH,
    )

    # Then it is stored through the pipeline (random name, not the uploaded one) and described
    assert response.status_code == 200
    data = response.json()
    message = Message.objects.get()
    assert data["id"] == message.pk
    assert data["status"] == "visible"
    assert data["message"]["kind"] == "image"
    assert data["message"]["body"] == "就是这个水龙头"
    assert data["message"]["client_id"] == "img-1"
    assert data["message"]["thumbnail"] == message_url("message_thumbnail", message)
    assert "门牌" not in message.image.name


def test_an_image_is_served_only_to_those_who_can_read_the_conversation(conversation, resident, helper, stranger):
    logged_in(resident).post(reverse("messaging:message_upload", args=[conversation.pk]), {"image": png_upload()})
    message = Message.objects.get()

    for person in (resident, helper):
        client = logged_in(person)
        image = client.get(message_url("message_image", message))
        thumbnail = client.get(message_url("message_thumbnail", message))
        assert (image.status_code, thumbnail.status_code) == (200, 200)
        assert image["Content-Type"] == "image/jpeg"
        assert "private" in image["Cache-Control"]
        assert Image.open(io.BytesIO(image.content)).size == (40, 30)
    stranger_client = logged_in(stranger)
    assert stranger_client.get(message_url("message_image", message)).status_code == 404
    assert stranger_client.get(message_url("message_thumbnail", message)).status_code == 404


def test_a_message_asked_for_under_another_conversation_is_a_404(conversation, resident, community):
    # Given the poster is in two conversations, with a photo in the first
    other = conversation_open(
        kind=Conversation.Kind.CLAIM, subject="aid_post:2", title="别的", participants=[resident], community=community
    )
    logged_in(resident).post(reverse("messaging:message_upload", args=[conversation.pk]), {"image": png_upload()})
    message = Message.objects.get()
    client = logged_in(resident)

    # When they ask for it under the other conversation's id, then it is not found
    for name in ("message_image", "message_thumbnail"):
        assert client.get(reverse(f"messaging:{name}", args=[other.pk, message.pk])).status_code == 404
    assert client.post(reverse("messaging:message_edit", args=[other.pk, message.pk]), {"body": "x"}).status_code == 404
    assert client.post(reverse("messaging:message_delete", args=[other.pk, message.pk])).status_code == 404
    assert client.post(reverse("messaging:contact_reveal", args=[other.pk, message.pk])).status_code == 404
    assert Message.objects.get().deleted_at is None


def test_an_upload_without_the_script_redirects_back(conversation, resident):
    response = logged_in(resident).post(
        reverse("messaging:message_upload", args=[conversation.pk]), {"image": png_upload()}
    )

    assert response.status_code == 302
    assert response.url == chat_url(conversation)
    assert Message.objects.get().kind == Message.Kind.IMAGE


def test_a_file_that_is_not_an_image_is_refused_with_its_reason(conversation, resident):
    fake = SimpleUploadedFile("photo.png", b"<svg onload=alert(1)>", content_type="image/png")
    client = logged_in(resident)
    url = reverse("messaging:message_upload", args=[conversation.pk])

    with_script = client.post(url, {"image": fake}, **FETCH)
    fake.seek(0)
    without = client.post(url, {"image": fake})

    assert with_script.status_code == 400
    assert with_script.json() == {"errors": ["Upload a photo in JPEG, PNG or WebP format."]}
    assert without.status_code == 400
    assert "Upload a photo in JPEG, PNG or WebP format." in page_of(without)
    assert not Message.objects.exists()


def test_an_upload_over_the_rate_limit_is_a_429_with_the_wait(conversation, resident):
    for number in range(8):
        say(resident, conversation, f"第{number}条")

    response = logged_in(resident).post(
        reverse("messaging:message_upload", args=[conversation.pk]), {"image": png_upload()}, **FETCH
    )

    assert response.status_code == 429
    assert response.json()["retry_after"] >= 1
    assert not Message.objects.filter(kind=Message.Kind.IMAGE).exists()


def test_a_member_cannot_upload_to_the_announcements(resident, community):
    channel = announcement_channel(community=community)
    url = reverse("messaging:message_upload", args=[channel.pk])

    assert logged_in(resident).post(url, {"image": png_upload()}, **FETCH).status_code == 403
    assert logged_in(resident).post(url, {"image": png_upload()}).status_code == 403
    assert not Message.objects.exists()


def test_an_outsider_cannot_upload(conversation, stranger):
    response = logged_in(stranger).post(
        reverse("messaging:message_upload", args=[conversation.pk]), {"image": png_upload()}, **FETCH
    )

    assert response.status_code == 404
    assert not Message.objects.exists()


# --- Sharing and revealing a contact detail -----------------------------------------------


def test_the_share_form_lists_only_the_details_one_has(conversation, resident):
    page = page_of(logged_in(resident).get(chat_url(conversation)))

    assert reverse("messaging:share_contact", args=[conversation.pk]) in page
    assert 'value="phone"' in page
    assert 'value="wechat"' not in page


def test_there_is_no_share_form_in_the_announcements(committee, community):
    channel = announcement_channel(community=community)

    page = page_of(logged_in(committee).get(chat_url(channel)))

    assert reverse("messaging:share_contact", args=[channel.pk]) not in page


def test_sharing_a_detail_sends_a_message_without_the_value(conversation, resident, helper):
    response = logged_in(resident).post(
        reverse("messaging:share_contact", args=[conversation.pk]), {"contact_kind": "phone"}
    )

    assert response.status_code == 302
    message = Message.objects.get()
    assert (message.kind, message.contact_kind, message.body) == ("contact", "phone", "")
    page = page_of(logged_in(helper).get(chat_url(conversation)))
    assert "wang shared their phone." in page
    assert phone_of(resident) not in page
    assert message_url("contact_reveal", message) in page


def test_a_detail_one_does_not_have_cannot_be_shared(conversation, resident):
    response = logged_in(resident).post(
        reverse("messaging:share_contact", args=[conversation.pk]), {"contact_kind": "wechat"}
    )

    assert response.status_code == 400
    assert not Message.objects.exists()


def share_phone(resident, conversation) -> Message:
    message, _created = message_send(actor=resident, conversation_id=conversation.pk, contact_kind="phone")
    return message


def test_the_other_side_reveals_a_shared_detail_and_it_is_logged(conversation, resident, helper):
    # Given the poster shared their phone in the conversation
    message = share_phone(resident, conversation)

    # When the helper presses "Show"
    response = logged_in(helper).post(message_url("contact_reveal", message), **FETCH)

    # Then they get the number, and the poster can see that they looked, why and when
    assert response.status_code == 200
    assert response.json() == {"value": phone_of(resident)}
    assert "no-store" in response["Cache-Control"]
    disclosure = ContactDisclosure.objects.get()
    assert (disclosure.viewer, disclosure.owner, disclosure.field) == (helper, resident, "phone")
    assert (disclosure.subject, disclosure.subject_title) == (conversation.subject, "修水龙头")


def test_without_the_script_the_value_comes_on_a_small_page(conversation, resident, helper):
    message = share_phone(resident, conversation)

    response = logged_in(helper).post(message_url("contact_reveal", message))

    assert response.status_code == 200
    page = page_of(response)
    assert phone_of(resident) in page
    assert chat_url(conversation) in page
    assert ContactDisclosure.objects.count() == 1


def test_someone_outside_the_conversation_cannot_reveal_it(conversation, resident, stranger):
    message = share_phone(resident, conversation)

    response = logged_in(stranger).post(message_url("contact_reveal", message), **FETCH)

    assert response.status_code == 404
    assert phone_of(resident) not in page_of(response)
    assert not ContactDisclosure.objects.exists()


def test_a_share_that_ran_out_is_a_kind_404(conversation, resident, helper):
    message = share_phone(resident, conversation)
    ContactShare.objects.update(until=timezone.now() - timedelta(minutes=1))
    client = logged_in(helper)

    with_script = client.post(message_url("contact_reveal", message), **FETCH)
    without = client.post(message_url("contact_reveal", message))

    assert with_script.status_code == 404
    assert "Ask wang to share it again." in with_script.json()["errors"][0]
    assert without.status_code == 404
    assert "Ask wang to share it again." in page_of(without)
    assert phone_of(resident) not in page_of(without)
    assert not ContactDisclosure.objects.exists()


def test_a_message_that_is_not_a_shared_detail_reveals_nothing(conversation, resident, helper):
    message = say(resident, conversation, "电话稍后给你")

    response = logged_in(helper).post(message_url("contact_reveal", message), **FETCH)

    assert response.status_code == 404
    assert not ContactDisclosure.objects.exists()


def test_revealing_is_post_only(conversation, resident, helper):
    message = share_phone(resident, conversation)

    assert logged_in(helper).get(message_url("contact_reveal", message)).status_code == 405
    assert not ContactDisclosure.objects.exists()


# --- Editing and deleting without the script ----------------------------------------------


def test_the_sender_edits_and_deletes_over_http(conversation, resident):
    message = say(resident, conversation, "明天十点")
    client = logged_in(resident)

    edited = client.post(message_url("message_edit", message), {"body": "明天十一点"})
    message.refresh_from_db()
    assert edited.status_code == 302
    assert edited.url == f"{chat_url(conversation)}#m-{message.pk}"
    assert (message.body, message.revisions.get().body) == ("明天十一点", "明天十点")

    deleted = client.post(message_url("message_delete", message))
    message.refresh_from_db()
    assert deleted.status_code == 302
    assert message.is_deleted and message.body == ""


def test_nobody_edits_or_deletes_someone_elses_message(conversation, resident, helper):
    message = say(resident, conversation, "原话")
    client = logged_in(helper)

    edited = client.post(message_url("message_edit", message), {"body": "改掉"})
    deleted = client.post(message_url("message_delete", message))

    assert (edited.status_code, deleted.status_code) == (400, 400)
    assert "Only your own text messages can be edited" in page_of(edited)
    assert "You can delete only your own messages." in page_of(deleted)
    message.refresh_from_db()
    assert message.body == "原话" and not message.is_deleted


def test_an_edit_after_the_window_is_refused(conversation, resident):
    message = say(resident, conversation, "很久以前")
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(minutes=settings.MESSAGE_EDIT_MINUTES + 1)
    )

    response = logged_in(resident).post(message_url("message_edit", message), {"body": "改掉"})

    assert response.status_code == 400
    message.refresh_from_db()
    assert message.body == "很久以前"


def test_an_empty_edit_is_refused(conversation, resident):
    message = say(resident, conversation, "原话")

    response = logged_in(resident).post(message_url("message_edit", message), {"body": ""})

    assert response.status_code == 400
    message.refresh_from_db()
    assert message.body == "原话"


# --- Asking the committee in --------------------------------------------------------------


def test_a_participant_asks_the_committee_in(conversation, resident, committee):
    client = logged_in(resident)
    assert reverse("messaging:ask_committee", args=[conversation.pk]) in page_of(client.get(chat_url(conversation)))
    assert logged_in(committee).get(chat_url(conversation)).status_code == 404

    response = client.post(reverse("messaging:ask_committee", args=[conversation.pk]))

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.committee_asked_at is not None
    assert Notification.objects.filter(user=committee, kind=Notification.Kind.ESCALATION).count() == 1
    assert logged_in(committee).get(chat_url(conversation)).status_code == 200
    assert reverse("messaging:ask_committee", args=[conversation.pk]) not in page_of(client.get(chat_url(conversation)))


def test_asking_again_changes_nothing(conversation, resident, committee):
    client = logged_in(resident)
    client.post(reverse("messaging:ask_committee", args=[conversation.pk]))

    again = client.post(reverse("messaging:ask_committee", args=[conversation.pk]), follow=True)

    assert "already been asked" in page_of(again)
    assert Notification.objects.filter(user=committee).count() == 1


def test_an_outsider_cannot_ask_the_committee_in(conversation, stranger):
    response = logged_in(stranger).post(reverse("messaging:ask_committee", args=[conversation.pk]))

    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.committee_asked_at is None


def test_the_committee_conversation_has_nobody_to_ask_in(resident, community):
    conversation = committee_conversation_open(actor=resident, community=community, member=resident)
    client = logged_in(resident)

    assert reverse("messaging:ask_committee", args=[conversation.pk]) not in page_of(client.get(chat_url(conversation)))
    assert client.post(reverse("messaging:ask_committee", args=[conversation.pk])).status_code == 403


# --- Email preferences --------------------------------------------------------------------


def test_email_preferences_round_trip(resident):
    client = logged_in(resident)
    url = reverse("messaging:email_preferences")

    # Given nothing opted out: every emailed kind is ticked, under its own name
    form = client.get(url).context["form"]
    assert set(form.initial["emailed"]) == {kind.value for kind in Notification.EMAILED_KINDS}
    assert "New messages" in page_of(client.get(url))

    # When they untick new messages and dispatch invitations
    kept = [kind.value for kind in Notification.EMAILED_KINDS if kind not in ("message", "dispatch")]
    response = client.post(url, {"emailed": kept})

    # Then those two are opted out, and the page shows them unticked
    assert response.status_code == 302
    assert set(EmailOptOut.objects.filter(user=resident).values_list("kind", flat=True)) == {"message", "dispatch"}
    assert set(client.get(url).context["form"].initial["emailed"]) == set(kept)

    # And ticking everything again removes the opt-outs
    client.post(url, {"emailed": [kind.value for kind in Notification.EMAILED_KINDS]})
    assert not EmailOptOut.objects.filter(user=resident).exists()


def test_an_unknown_kind_is_refused(resident):
    response = logged_in(resident).post(reverse("messaging:email_preferences"), {"emailed": ["reminder"]})

    assert response.status_code == 400
    assert not EmailOptOut.objects.exists()


def test_the_notifications_page_links_to_the_email_preferences(resident):
    page = page_of(logged_in(resident).get(reverse("messaging:notifications")))

    assert reverse("messaging:email_preferences") in page


# --- The header's unread messages badge ---------------------------------------------------


def test_the_header_counts_unread_messages(conversation, resident, helper):
    say(helper, conversation, "在吗")

    page = page_of(logged_in(resident).get(reverse("messaging:notifications")))

    assert "<span data-count>1</span>" in page


def test_membership_ended_means_no_more_announcements(resident, committee, community):
    # Given a member who has read the announcements (reading gives them a seat for their read state)
    channel = announcement_channel(community=community)
    say(committee, channel, "周六停水")
    client = logged_in(resident)
    assert client.get(chat_url(channel)).status_code == 200

    # When they leave the community, then the channel is closed to them
    Membership.objects.filter(user=resident).update(status=Membership.Status.LEFT)
    assert client.get(chat_url(channel)).status_code == 404


def test_a_contact_method_removed_after_sharing_reveals_nothing(conversation, resident, helper):
    message = share_phone(resident, conversation)
    ContactMethod.objects.filter(user=resident).delete()

    response = logged_in(helper).post(message_url("contact_reveal", message), **FETCH)

    assert response.status_code == 404
    assert not ContactDisclosure.objects.exists()
