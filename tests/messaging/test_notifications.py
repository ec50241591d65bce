"""The notification list, marking read, following a notification, and the header bell's count."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from messaging.context_processors import notifications as notifications_context
from messaging.models import Conversation, Notification
from messaging.services import (
    conversation_mark_read,
    conversation_open,
    message_send,
    notification_mark_read,
    notification_send,
    notifications_mark_read,
)

pytestmark = pytest.mark.django_db

MISSING = 2_147_483_647


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def send(user, title: str, url: str = "/posts/1/") -> Notification:
    return notification_send(user=user, kind=Notification.Kind.CLAIM, title=title, url=url)


def test_the_list_shows_only_ones_own_newest_first(resident, helper):
    send(resident, "第一条")
    send(resident, "第二条")
    send(helper, "别人的通知")

    response = logged_in(resident).get(reverse("messaging:notifications"))

    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("第二条") < page.index("第一条")
    assert "别人的通知" not in page


def test_unread_ones_are_marked_for_eyes_and_screen_readers(resident):
    unread = send(resident, "未读")
    read = send(resident, "已读")
    notification_mark_read(user=resident, notification=read)

    page = logged_in(resident).get(reverse("messaging:notifications")).content.decode()

    assert page.count('class="card notification unread"') == 1
    assert page.count(">New</span>") == 1
    assert reverse("messaging:notification_open", args=[unread.pk]) in page
    assert reverse("messaging:notification_open", args=[read.pk]) in page


def test_the_list_is_paginated_by_50(resident):
    Notification.objects.bulk_create(
        [Notification(user=resident, kind=Notification.Kind.REMINDER, title=f"提醒{n:02d}") for n in range(55)]
    )
    client = logged_in(resident)

    first = client.get(reverse("messaging:notifications"))
    second = client.get(reverse("messaging:notifications"), {"page": 2})

    assert len(first.context["notifications"]) == 50
    assert len(second.context["notifications"]) == 5
    assert client.get(reverse("messaging:notifications"), {"page": "nonsense"}).status_code == 200


def test_mark_all_read_marks_only_ones_own(resident, helper):
    send(resident, "一")
    send(resident, "二")
    theirs = send(helper, "三")

    response = logged_in(resident).post(reverse("messaging:notifications_mark_read"))

    assert response.status_code == 302
    assert response.url == reverse("messaging:notifications")
    assert not Notification.objects.filter(user=resident, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_is_post_only(resident):
    send(resident, "一")
    assert logged_in(resident).get(reverse("messaging:notifications_mark_read")).status_code == 405
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_opening_one_marks_it_read_and_follows_its_link(resident):
    notification = send(resident, "有人愿意帮忙", url="/posts/12/")
    other = send(resident, "另一条")

    response = logged_in(resident).get(reverse("messaging:notification_open", args=[notification.pk]))

    assert response.status_code == 302
    assert response.url == "/posts/12/"
    notification.refresh_from_db()
    other.refresh_from_db()
    assert notification.read_at is not None
    assert other.read_at is None


def test_opening_one_again_keeps_the_first_reading_time(resident):
    notification = send(resident, "一")
    first = timezone.now() - timedelta(days=1)
    Notification.objects.filter(pk=notification.pk).update(read_at=first)
    logged_in(resident).get(reverse("messaging:notification_open", args=[notification.pk]))
    notification.refresh_from_db()
    assert notification.read_at == first


@pytest.mark.parametrize(
    "url", ["", "https://evil.example/", "//evil.example/path", "/\\evil.example", "javascript:alert(1)", "posts/1/"]
)
def test_only_a_path_on_this_site_is_followed(resident, url):
    notification = Notification.objects.create(user=resident, kind=Notification.Kind.REMINDER, title="t", url=url)

    response = logged_in(resident).get(reverse("messaging:notification_open", args=[notification.pk]))

    assert response.status_code == 302
    assert response.url == reverse("messaging:notifications")
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_someone_elses_notification_is_a_404_like_a_missing_one(resident, helper):
    theirs = send(helper, "别人的")
    client = logged_in(resident)

    assert client.get(reverse("messaging:notification_open", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("messaging:notification_open", args=[MISSING])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_service_refuses_someone_elses_notification(resident, helper):
    theirs = send(helper, "别人的")
    with pytest.raises(PermissionDenied):
        notification_mark_read(user=resident, notification=theirs)
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    "name", ["messaging:notifications", "messaging:notifications_mark_read", "messaging:notification_open"]
)
def test_anonymous_visitors_are_sent_to_log_in(resident, name):
    notification = send(resident, "一")
    args = [notification.pk] if name == "messaging:notification_open" else []
    client = Client()

    response = client.post(reverse(name, args=args)) if "mark" in name else client.get(reverse(name, args=args))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_context_processor_counts_ones_own_unread(resident, helper, django_assert_num_queries):
    # Given two unread notifications of one's own, one read, and someone else's
    send(resident, "一")
    send(resident, "二")
    notification_mark_read(user=resident, notification=send(resident, "三"))
    send(helper, "别人的")
    # and, in a conversation, one's own message and three from the helper, the first of them read
    conversation = conversation_open(
        kind=Conversation.Kind.CLAIM, subject="aid_post:1", title="修水龙头", participants=[resident, helper]
    )
    message_send(actor=resident, conversation_id=conversation.pk, body="自己的不算")
    first, _created = message_send(actor=helper, conversation_id=conversation.pk, body="一")
    message_send(actor=helper, conversation_id=conversation.pk, body="二")
    message_send(actor=helper, conversation_id=conversation.pk, body="三")
    conversation_mark_read(actor=resident, conversation_id=conversation.pk, up_to=first.pk)
    request = RequestFactory().get("/")
    request.user = resident

    # When a page asks for the header's counts, then one query each gives them
    with django_assert_num_queries(2):
        assert notifications_context(request) == {
            "unread_notifications": 2,
            "unread_messages": 2,
            "presence_ping_seconds": settings.PRESENCE_PING_SECONDS,
        }


def test_the_context_processor_asks_nothing_for_anonymous_visitors(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert notifications_context(request) == {}


def test_the_bell_says_how_many_are_unread(resident):
    send(resident, "一")
    send(resident, "二")
    client = logged_in(resident)

    page = client.get(reverse("messaging:notifications")).content.decode()

    assert 'aria-label="Notifications, 2 unread"' in page
    assert 'data-label-some="Notifications, __COUNT__ unread"' in page
    assert "js/stream.js" in page

    notifications_mark_read(user=resident)
    page = client.get(reverse("messaging:notifications")).content.decode()
    assert 'aria-label="Notifications"' in page


def test_anonymous_pages_have_no_bell_and_no_stream(client):
    page = client.get(reverse("account_login")).content.decode()
    assert "notification-bell" not in page
    assert "js/stream.js" not in page
