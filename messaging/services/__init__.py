"""Every write of the messaging app. Split by concern; import from here."""

from .conversations import (
    announcement_channel,
    committee_conversation_open,
    conversation_ask_committee,
    conversation_leave,
    conversation_mark_read,
    conversation_open,
    conversation_retire,
    conversation_url,
)
from .data_rights import user_data_erase
from .messages import (
    RateLimited,
    message_delete,
    message_edit,
    message_reject,
    message_release,
    message_send,
    rate_limits_reset,
)
from .moderation import message_hide, message_restore
from .notifications import (
    email_opt_outs_set,
    emails_send,
    feed_changed,
    notification_mark_read,
    notification_send,
    notification_send_translated,
    notifications_mark_read,
    presence_seen,
)

__all__ = [
    "RateLimited",
    "announcement_channel",
    "committee_conversation_open",
    "conversation_ask_committee",
    "conversation_leave",
    "conversation_mark_read",
    "conversation_open",
    "conversation_retire",
    "conversation_url",
    "email_opt_outs_set",
    "emails_send",
    "feed_changed",
    "message_delete",
    "message_edit",
    "message_hide",
    "message_reject",
    "message_release",
    "message_restore",
    "message_send",
    "notification_mark_read",
    "notification_send",
    "notification_send_translated",
    "notifications_mark_read",
    "presence_seen",
    "rate_limits_reset",
    "user_data_erase",
]
