"""The committee's workspace pages (and the members' rewards pages), one module per area."""
