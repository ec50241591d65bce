"""Every non-trivial read of the committee's workspace, one module per area."""
