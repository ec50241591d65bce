"""The messaging part of deleting an account (registered in apps.py, run by neighbors' account_delete)."""

from django.db import transaction

from neighbors.models import User
from neighbors.services import files_delete_after_commit

from ..models import EmailOptOut, Message, MessageRevision, Notification, Participant, Presence


@transaction.atomic
def user_data_erase(*, user: User) -> None:
    """The messages stay, because the other people need the thread; they name the sender
    through the profile, which will read "Deleted user". What ties them to the person beyond
    that goes: client ids (chosen by a device), earlier versions of edited text, images they
    sent. The person leaves every conversation; their notifications, email choices and
    presence go."""
    images = Message.objects.filter(sender=user).exclude(image="")
    files_delete_after_commit(*(file for message in images for file in (message.image, message.thumbnail)))
    images.update(image="", thumbnail="")
    Message.objects.filter(sender=user).exclude(client_id="").update(client_id="")
    MessageRevision.objects.filter(message__sender=user).delete()
    Participant.objects.filter(user=user).delete()
    Notification.objects.filter(user=user).delete()
    EmailOptOut.objects.filter(user=user).delete()
    Presence.objects.filter(user=user).delete()
