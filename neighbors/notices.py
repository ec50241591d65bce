"""How neighbors and talent_pool tell a person about a committee decision.

They may import no app above them, and notifications live in messaging. So messaging
registers its sender here from its AppConfig.ready() (as apps register a DataHolder in
data_rights.py), and the lower apps call `notice_send` without knowing who delivers it:
an explicit call inside the caller's transaction, not a signal. Without a registered
sender (e.g. a project without messaging) nothing is sent.
"""

from collections.abc import Callable

from django.utils.functional import Promise

from .models import User

# The notification kind of a committee decision (messaging.models.Notification.Kind.DECISION).
DECISION = "decision"

NoticeSender = Callable[..., object]
_senders: list[NoticeSender] = []


def notice_sender_register(sender: NoticeSender) -> None:
    """`sender(user=, kind=, title=, params=, body=, url=)`; `title` is a lazy text with
    %(name)s placeholders filled from `params` in the recipient's language."""
    if sender not in _senders:
        _senders.append(sender)


def notice_send(*, user: User, title: Promise, params: dict | None = None, body: str = "", url: str = "") -> None:
    """Tell `user` about a decision on something of theirs (no other person's name in it)."""
    for sender in _senders:
        sender(user=user, kind=DECISION, title=title, params=params or {}, body=body, url=url)
