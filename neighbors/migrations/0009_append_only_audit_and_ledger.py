"""The database refuses to edit or delete audit entries and ledger entries (see
neighbors/models/audit.py for why SQLite refuses only edits)."""

from django.db import migrations

from neighbors.models.audit import append_only_triggers

TABLES = ("neighbors_auditentry", "neighbors_ledgerentry")


def _statements(connection, *, forward: bool) -> list[str]:
    statements = []
    for table in TABLES:
        sqlite, sqlite_reverse, postgresql, postgresql_reverse = append_only_triggers(table)
        if connection.vendor == "sqlite":
            statements += sqlite if forward else sqlite_reverse
        elif connection.vendor == "postgresql":
            statements += postgresql if forward else postgresql_reverse
    return statements


def install(apps, schema_editor):
    for statement in _statements(schema_editor.connection, forward=True):
        schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    for statement in _statements(schema_editor.connection, forward=False):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("neighbors", "0008_audit_suspension_hidden_profile_ledger_reasons")]

    operations = [migrations.RunPython(install, uninstall)]
