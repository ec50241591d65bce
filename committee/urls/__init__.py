"""Two URL namespaces: "committee" (the workspace, under /committee/) and "rewards" (what
members see of points, badges, the catalogue and certificates, under /rewards/, with the
public certificate check)."""
