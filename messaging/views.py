from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .forms import MessageForm
from .permissions import conversations_visible_to


@login_required
def conversation_list(request):
    return render(request, "messaging/list.html", {"conversations": selectors.conversation_list(request.user)})


@login_required
def conversation_detail(request, pk: int):
    """The chat page; its form also posts messages for clients without WebSockets."""
    conversation = get_object_or_404(conversations_visible_to(request.user), pk=pk)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_send(
                actor=request.user,
                conversation_id=conversation.pk,
                body=form.cleaned_data["body"],
                client_id=form.cleaned_data["client_id"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("messaging:conversation", pk=conversation.pk)
    status = 400 if form.errors else 200
    messages = selectors.recent_messages(conversation, request.user)
    return render(
        request,
        "messaging/conversation.html",
        {
            "conversation": conversation,
            "chat_messages": messages,
            "form": form if request.method == "POST" else MessageForm(),
            "chat_config": {
                "wsPath": f"/ws/conversations/{conversation.pk}/",
                "userId": request.user.pk,
                "timeZone": settings.TIME_ZONE,
                "lastId": messages[-1].pk if messages else 0,
                "labels": {
                    "connecting": _("Connecting…"),
                    "online": _("Connected: messages arrive as they are sent."),
                    "offline": _("Connection lost. Reconnecting…"),
                    "refused": _("You can no longer take part in this conversation."),
                    "failed": _("The message could not be sent."),
                },
            },
        },
        status=status,
    )


NOTIFICATIONS_PER_PAGE = 50


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_of(request.user), NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "messaging/notifications.html", {"page": page, "notifications": page.object_list})


@login_required
@require_POST
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_read(user=request.user)
    if count:
        flash.success(request, _("All notifications marked as read."))
    return redirect("messaging:notifications")


def _site_path(url: str) -> bool:
    """A path on this site ("/posts/12/"): never another host, scheme or protocol-relative URL."""
    return (
        url.startswith("/")
        and not url.startswith("//")
        and "\\" not in url
        and url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    )


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read. Someone else's is a 404, like a missing one."""
    notification = get_object_or_404(selectors.notifications_of(request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification=notification)
    if notification.url and _site_path(notification.url):
        return redirect(notification.url)
    return redirect("messaging:notifications")
