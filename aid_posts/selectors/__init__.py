"""Every non-trivial read in aid_posts, one module per part: requests, welfare roles."""

from .requests import (
    accepted_claims,
    claim_of,
    claims_by,
    common_categories,
    live_claims,
    post_history,
    post_list,
    post_photos,
    posts_by,
    staff_for_post,
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
    "accepted_claims",
    "claim_of",
    "claims_by",
    "common_categories",
    "duties_of",
    "duties_to_confirm",
    "live_claims",
    "post_history",
    "post_list",
    "post_photos",
    "posts_by",
    "role_claim_of",
    "role_claims_to_decide",
    "role_holders",
    "role_list",
    "roles_needing_attention",
    "staff_for_post",
    "user_data_consequences",
    "user_data_erase_plan",
    "user_data_export",
]
