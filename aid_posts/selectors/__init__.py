"""Every non-trivial read in aid_posts, one module per part: requests, welfare roles."""

from .requests import (
    accepted_claim,
    claims_by,
    live_claim,
    post_list,
    posts_by,
    user_data_consequences,
    user_data_erase_plan,
    user_data_export,
)
from .roles import (
    duties_of,
    duties_to_confirm,
    role_claim_of,
    role_claims_to_decide,
    role_holders,
    role_list,
    roles_needing_attention,
)

__all__ = [
    "accepted_claim",
    "claims_by",
    "duties_of",
    "duties_to_confirm",
    "live_claim",
    "post_list",
    "posts_by",
    "role_claim_of",
    "role_claims_to_decide",
    "role_holders",
    "role_list",
    "roles_needing_attention",
    "user_data_consequences",
    "user_data_erase_plan",
    "user_data_export",
]
