"""Shape validation for the workspace's forms, one module per area."""
