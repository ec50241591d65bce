"""Every write in aid_posts: help requests and their claims, and welfare roles with their duties."""

from .requests import (
    aid_post_cancel,
    aid_post_claim,
    aid_post_confirm,
    aid_post_create,
    aid_post_mark_done,
    claim_accept,
    claim_decline,
    claim_withdraw,
    user_data_erase,
)
from .roles import (
    duty_confirm,
    duty_log,
    duty_reject,
    role_claim,
    role_claim_approve,
    role_claim_decline,
    role_claim_withdraw,
    role_step_down,
    welfare_role_create,
)

__all__ = [
    "aid_post_cancel",
    "aid_post_claim",
    "aid_post_confirm",
    "aid_post_create",
    "aid_post_mark_done",
    "claim_accept",
    "claim_decline",
    "claim_withdraw",
    "duty_confirm",
    "duty_log",
    "duty_reject",
    "role_claim",
    "role_claim_approve",
    "role_claim_decline",
    "role_claim_withdraw",
    "role_step_down",
    "user_data_erase",
    "welfare_role_create",
]
