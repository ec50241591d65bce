"""The pages of aid_posts, one module per part: requests, welfare roles."""
