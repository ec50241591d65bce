from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

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
    messages = selectors.recent_messages(conversation)
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
