"""The messaging pages, and the HTTP paths beside the socket: every page works without
JavaScript (forms post here), and the page's script uses the same URLs with
`X-Requested-With: fetch` where a socket cannot carry the data (image uploads, contact reveals).
"""

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neighbors import selectors as neighbor_selectors
from neighbors import services as neighbor_services
from neighbors.images import private_image_response
from neighbors.models import ContactMethod, User
from neighbors.permissions import communities_visible_to, staff_communities

from . import events, selectors, services
from .forms import EmailPreferencesForm, MessageEditForm, MessageForm, MessageImageForm, ShareContactForm
from .models import Conversation, Message, Notification
from .permissions import (
    can_ask_committee_in,
    can_delete_message,
    can_edit_message,
    can_share_contact_in,
    can_write_in,
    conversations_visible_to,
    writing_suspension,
)

# The header the page's script sends when it wants JSON instead of a page.
FETCH_HEADER = "X-Requested-With"
FETCH_VALUE = "fetch"
# Where the committee app takes reports (its route committee:report, message kind; a test holds
# the two together): a path, because messaging may not import the app above it.
REPORT_PATH = "/committee/report/message/{id}/"


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get(FETCH_HEADER) == FETCH_VALUE


def _error_texts(form) -> list[str]:
    return [text for errors in form.errors.values() for text in errors]


def _conversation_for(request: HttpRequest, pk: int) -> Conversation:
    """A conversation the person may read; any other is a 404 like a missing one."""
    return get_object_or_404(conversations_visible_to(request.user).select_related("community"), pk=pk)


def _message_for(request: HttpRequest, conversation: Conversation, message_id: int) -> Message:
    """A message of this conversation the person may see; another conversation's id is a 404."""
    message = selectors.message_in(conversation, message_id, request.user)
    if message is None:
        raise Http404
    return message


@login_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "messaging/list.html",
        {
            "conversations": selectors.conversation_list(user),
            "announcement_communities": selectors.announcement_communities(user),
            # The committee is who one writes to, not who writes to itself.
            "committee_communities": communities_visible_to(user)
            .exclude(pk__in=staff_communities(user).values("pk"))
            .order_by("name"),
        },
    )


@login_required
@require_GET
def announcements(request: HttpRequest, community_id: int) -> HttpResponse:
    """A community's announcement channel, opened the first time anyone looks."""
    community = get_object_or_404(communities_visible_to(request.user), pk=community_id)
    conversation = services.announcement_channel(community=community)
    return redirect("messaging:conversation", pk=conversation.pk)


@login_required
@require_POST
def committee_open(request: HttpRequest, community_id: int, user_id: int | None = None) -> HttpResponse:
    """A member opens their conversation with the committee, or the committee one with a member.
    Refusals are 404s: whether someone is a member of a community is not for outsiders to learn."""
    community = get_object_or_404(communities_visible_to(request.user), pk=community_id)
    member = request.user if user_id is None else get_object_or_404(User, pk=user_id, is_active=True)
    try:
        conversation = services.committee_conversation_open(actor=request.user, community=community, member=member)
    except PermissionDenied as error:
        raise Http404 from error
    return redirect("messaging:conversation", pk=conversation.pk)


@login_required
@require_http_methods(["GET", "POST"])
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The chat page; its form also posts text messages for clients without WebSockets."""
    conversation = _conversation_for(request, pk)
    if request.method == "GET":
        return _conversation_page(request, conversation)
    form = MessageForm(request.POST)
    if not form.is_valid():
        return _conversation_page(request, conversation, form=form, status=400)
    try:
        services.message_send(
            actor=request.user,
            conversation_id=conversation.pk,
            body=form.cleaned_data["body"],
            client_id=form.cleaned_data["client_id"],
        )
    except services.RateLimited as limited:
        form.add_error(None, limited.text)
        return _conversation_page(request, conversation, form=form, status=429)
    except ValidationError as error:
        form.add_error(None, error)
        return _conversation_page(request, conversation, form=form, status=400)
    return redirect("messaging:conversation", pk=conversation.pk)


def _conversation_page(
    request: HttpRequest,
    conversation: Conversation,
    *,
    form: MessageForm | None = None,
    image_form: MessageImageForm | None = None,
    share_form: ShareContactForm | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the conversation and mark what it shows read: someone reading without JavaScript
    has seen it too. Changes after `rendered_at` reach the page's script through catch-up."""
    user = request.user
    rendered_at = timezone.now()
    chat_messages = selectors.recent_messages(conversation, user)
    if chat_messages:
        services.conversation_mark_read(actor=user, conversation_id=conversation.pk, up_to=chat_messages[-1].pk)
    read_marks = selectors.read_marks_of(conversation.pk)
    others_read_up_to = max((up_to for reader, up_to in read_marks.items() if reader != user.pk), default=0)
    base = reverse("messaging:conversation", args=[conversation.pk])
    # Once the report is sent, its form brings the reporter back here, not to the home page.
    report_url = REPORT_PATH + "?" + urlencode({"next": base})
    for message in chat_messages:
        message.editable = can_edit_message(user, message)
        message.deletable = can_delete_message(user, message)
        message.report_url = report_url.format(id=message.pk)
    # "Seen" goes under the newest of one's own published messages someone else has read up to.
    seen_id = max(
        (
            message.pk
            for message in chat_messages
            if message.sender_id == user.pk
            and message.status == Message.Status.VISIBLE
            and not message.is_deleted
            and message.pk <= others_read_up_to
        ),
        default=0,
    )
    can_write = can_write_in(user, conversation)
    # Why a member who reads here may not write, when it is a suspension: the page says so.
    suspension = None if can_write else writing_suspension(user, conversation)
    contact_kinds = []
    if can_write and can_share_contact_in(user, conversation):
        contact_kinds = list(neighbor_selectors.contact_methods_of(user))
    if share_form is None and contact_kinds:
        share_form = ShareContactForm(kinds=contact_kinds)
    return render(
        request,
        "messaging/conversation.html",
        {
            "conversation": conversation,
            "people": [
                seat.user
                for seat in conversation.participants.select_related("user__profile").order_by("joined_at", "pk")
            ],
            "chat_messages": chat_messages,
            "seen_id": seen_id,
            "can_write": can_write,
            "suspension": suspension,
            "can_ask_committee": can_ask_committee_in(user, conversation),
            "form": form or MessageForm(),
            "image_form": image_form or MessageImageForm(),
            "share_form": share_form if contact_kinds else None,
            "errors": errors or [],
            "contact_share_days": settings.CONTACT_SHARE_DAYS,
            "chat_config": {
                "wsPath": f"/ws/conversations/{conversation.pk}/",
                "userId": user.pk,
                "timeZone": settings.TIME_ZONE,
                "lastId": max((message.pk for message in chat_messages), default=0),
                "serverTime": rendered_at.isoformat(),
                "pingSeconds": settings.PRESENCE_PING_SECONDS,
                "editMinutes": settings.MESSAGE_EDIT_MINUTES,
                "reads": {str(reader): up_to for reader, up_to in read_marks.items()},
                "urls": {
                    "message": f"{base}m/__ID__/",
                    "report": report_url.format(id="__ID__"),
                },
                "labels": {
                    "connecting": _("Connecting…"),
                    "online": _("Connected: messages arrive as they are sent."),
                    "offline": _("Connection lost. Reconnecting…"),
                    "refused": _("You can no longer take part in this conversation. Reload the page to check."),
                    "failed": _("The message could not be sent."),
                    "tooMany": _("Too many messages were refused. Reconnecting in 30 seconds."),
                    "unreadable": _("The server could not read what this page sent. Reload the page."),
                    "queued": _("Waiting for the connection…"),
                    "sending": _("Sending…"),
                    "edited": _("edited"),
                    "deleted": _("This message was deleted"),
                    "held": _("Awaiting committee review: only you can see it."),
                    "rejected": _("Not published after committee review."),
                    "hidden": _("Hidden by the committee."),
                    "hiddenOwn": _("Hidden by the committee, only you can see it. Why: %(reason)s"),
                    "seen": _("Seen"),
                    "edit": _("Edit"),
                    "newText": _("New text"),
                    "save": _("Save"),
                    "delete": _("Delete"),
                    "confirmDelete": _("Delete this message? Everyone will see that a message was deleted."),
                    "report": _("Report"),
                    "show": _("Show"),
                    "photoFrom": _("Photo from %(name)s"),
                    "sharedContact": _("%(name)s shared their %(kind)s."),
                    "contactKinds": {kind: str(label) for kind, label in ContactMethod.Kind.choices},
                    "notShared": _("This detail is not shared with you any more."),
                    "uploadFailed": _("The photo could not be sent. Check the connection and try again."),
                },
            },
        },
        status=status,
    )


@login_required
@require_POST
def message_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """A photo (with an optional caption) through the image pipeline. With `X-Requested-With:
    fetch` the answer is JSON, for the page's script; otherwise a redirect or the page with errors."""
    conversation = _conversation_for(request, pk)
    form = MessageImageForm(request.POST, request.FILES)
    status, retry_after = 400, None
    if form.is_valid():
        try:
            message, _created = services.message_send(
                actor=request.user,
                conversation_id=conversation.pk,
                body=form.cleaned_data["body"],
                client_id=form.cleaned_data["client_id"],
                image=form.cleaned_data["image"],
            )
        except services.RateLimited as limited:
            status, retry_after = 429, limited.retry_after
            form.add_error(None, limited.text)
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied:
            if not _wants_json(request):
                raise
            status = 403
            form.add_error(None, _("Only the committee writes in this conversation."))
        else:
            if _wants_json(request):
                return JsonResponse(
                    {
                        "id": message.pk,
                        "status": message.status,
                        "message": events.message_payload(message, viewer_id=request.user.pk),
                    }
                )
            return redirect("messaging:conversation", pk=conversation.pk)
    if _wants_json(request):
        body = {"errors": _error_texts(form)}
        if retry_after is not None:
            body["retry_after"] = retry_after
        return JsonResponse(body, status=status)
    return _conversation_page(request, conversation, image_form=form, status=status)


@login_required
@require_POST
def share_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """Share one of one's own contact details with the people here, through the disclosure path."""
    conversation = _conversation_for(request, pk)
    form = ShareContactForm(request.POST, kinds=list(neighbor_selectors.contact_methods_of(request.user)))
    if form.is_valid():
        try:
            services.message_send(
                actor=request.user, conversation_id=conversation.pk, contact_kind=form.cleaned_data["contact_kind"]
            )
        except services.RateLimited as limited:
            form.add_error(None, limited.text)
            return _conversation_page(request, conversation, share_form=form, errors=_error_texts(form), status=429)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("messaging:conversation", pk=conversation.pk)
    return _conversation_page(request, conversation, share_form=form, errors=_error_texts(form), status=400)


@never_cache
@login_required
@require_POST
def contact_reveal(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    """Show a contact detail someone shared here; neighbors' contact_reveal checks and logs it."""
    conversation = _conversation_for(request, pk)
    message = _message_for(request, conversation, message_id)
    if message.kind != Message.Kind.CONTACT or message.is_deleted:
        raise Http404
    try:
        value = neighbor_services.contact_reveal(
            viewer=request.user,
            owner=message.sender,
            kind=message.contact_kind,
            subject=conversation.subject,
            subject_title=conversation.title,
        )
    except (PermissionDenied, ValidationError):
        # The share may have run out (CONTACT_SHARE_DAYS), or one of them blocked the other.
        text = _(
            "This detail is not shared with you any more: a shared detail stays open for %(days)d days. "
            "Ask %(name)s to share it again."
        ) % {"days": settings.CONTACT_SHARE_DAYS, "name": message.sender}
        if _wants_json(request):
            return JsonResponse({"errors": [text]}, status=404)
        return render(
            request,
            "messaging/contact_reveal.html",
            {"conversation": conversation, "message": message, "error": text},
            status=404,
        )
    if _wants_json(request):
        return JsonResponse({"value": value})
    return render(
        request, "messaging/contact_reveal.html", {"conversation": conversation, "message": message, "value": value}
    )


@login_required
@require_POST
def message_edit(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    conversation = _conversation_for(request, pk)
    _message_for(request, conversation, message_id)
    form = MessageEditForm(request.POST)
    if form.is_valid():
        try:
            services.message_edit(
                actor=request.user, conversation_id=conversation.pk, message_id=message_id, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(f"{reverse('messaging:conversation', args=[conversation.pk])}#m-{message_id}")
    return _conversation_page(request, conversation, errors=_error_texts(form), status=400)


@login_required
@require_POST
def message_delete(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    conversation = _conversation_for(request, pk)
    _message_for(request, conversation, message_id)
    try:
        services.message_delete(actor=request.user, conversation_id=conversation.pk, message_id=message_id)
    except ValidationError as error:
        return _conversation_page(request, conversation, errors=error.messages, status=400)
    return redirect(f"{reverse('messaging:conversation', args=[conversation.pk])}#m-{message_id}")


@login_required
@require_GET
def message_image(request: HttpRequest, pk: int, message_id: int, size: str) -> HttpResponse:
    """A chat photo, for those who may read it; never cached by a shared proxy."""
    message = _message_for(request, _conversation_for(request, pk), message_id)
    return private_image_response(message.thumbnail if size == "thumbnail" else message.image, max_age=3600)


@login_required
@require_POST
def ask_committee(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation_for(request, pk)
    if conversation.committee_asked_at is not None:
        # A second click, or someone else was quicker: the committee is already here.
        flash.info(request, _("The committee has already been asked into this conversation."))
        return redirect("messaging:conversation", pk=conversation.pk)
    services.conversation_ask_committee(actor=request.user, conversation=conversation)
    flash.success(
        request,
        _("The committee of %(community)s was asked in and told; they can read this conversation now.")
        % {"community": conversation.community.name},
    )
    return redirect("messaging:conversation", pk=conversation.pk)


@login_required
@require_http_methods(["GET", "POST"])
def email_preferences(request: HttpRequest) -> HttpResponse:
    """Which kinds of notification reach the person by email while they are away."""
    opted_out = selectors.email_opt_outs_of(request.user)
    initial = {"emailed": [kind.value for kind in Notification.EMAILED_KINDS if kind.value not in opted_out]}
    form = EmailPreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.email_opt_outs_set(user=request.user, kinds=form.opted_out)
        flash.success(request, _("Your email choices are saved."))
        return redirect("messaging:email_preferences")
    return render(request, "messaging/email_preferences.html", {"form": form}, status=400 if form.errors else 200)


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
