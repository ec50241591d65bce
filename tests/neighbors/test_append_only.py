"""The audit trail and the ledger are append-only: Python refuses to change or delete a row
(saving an existing one, instance and queryset deletes, bulk updates), the database refuses it
too (a raw UPDATE anywhere, a raw DELETE on PostgreSQL), and the admin only shows them."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from neighbors.models import AppendOnlyError, AuditEntry, LedgerEntry
from neighbors.services import audit_record, ledger_award
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["audit", "ledger"])
def entry(request, committee, resident, community):
    """One row of each append-only table, written the way the site writes them."""
    if request.param == "audit":
        return audit_record(
            actor=committee,
            action=AuditEntry.Action.MEMBER_WARNED,
            community=community,
            subject=resident,
            target="profile:1",
            reason="第一次警告",
        )
    return ledger_award(
        user=resident,
        community=community,
        points=10,
        hours=Decimal("1"),
        reason=LedgerEntry.Reason.HELP_CONFIRMED,
        source="aid_post:1",
    )


def unchanged(entry) -> bool:
    stored = type(entry).objects.get(pk=entry.pk)
    return all(getattr(stored, field.attname) == getattr(entry, field.attname) for field in entry._meta.concrete_fields)


def test_saving_an_existing_row_is_refused(entry):
    original = type(entry).objects.get(pk=entry.pk)
    if isinstance(entry, AuditEntry):
        entry.reason = "改过的原因"
    else:
        entry.points = 1000
    with pytest.raises(AppendOnlyError, match="never edited or deleted"):
        entry.save()
    assert unchanged(original)


def test_deleting_a_row_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert type(entry).objects.filter(pk=entry.pk).exists()


def test_queryset_updates_and_deletes_are_refused(entry):
    rows = type(entry).objects.filter(pk=entry.pk)
    with pytest.raises(AppendOnlyError):
        rows.update(created_at=entry.created_at)
    with pytest.raises(AppendOnlyError):
        rows.delete()
    with pytest.raises(AppendOnlyError):
        type(entry).objects.bulk_update([entry], ["created_at"])
    assert unchanged(entry)


def test_the_database_refuses_a_raw_update(entry):
    table = connection.ops.quote_name(entry._meta.db_table)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET created_at = created_at WHERE id = %s", [entry.pk])  # noqa: S608
    assert unchanged(entry)


def test_postgresql_refuses_a_raw_delete(entry):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite refuses only updates: Django empties its tables between tests with DELETE")
    table = connection.ops.quote_name(entry._meta.db_table)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [entry.pk])  # noqa: S608
    assert type(entry).objects.filter(pk=entry.pk).exists()


def test_a_new_row_is_still_added(entry, committee, resident, community):
    before = type(entry).objects.count()
    if isinstance(entry, AuditEntry):
        audit_record(actor=committee, action=AuditEntry.Action.MEMBER_WARNED, community=community, reason="再次")
    else:
        ledger_award(
            user=resident,
            community=community,
            points=-10,
            hours=Decimal("0"),
            reason=LedgerEntry.Reason.CORRECTION,
            source="fix:1",
        )
    assert type(entry).objects.count() == before + 1


class TestAdmin:
    @pytest.fixture
    def admin(self, client):
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        return client

    def change_url(self, entry) -> str:
        return reverse(f"admin:neighbors_{entry._meta.model_name}_change", args=[entry.pk])

    def test_rows_are_shown_read_only(self, admin, entry):
        response = admin.get(self.change_url(entry))
        assert response.status_code == 200
        html = response.content.decode()
        assert 'name="_save"' not in html
        assert reverse(f"admin:neighbors_{entry._meta.model_name}_delete", args=[entry.pk]) not in html

    def test_posting_a_change_is_refused(self, admin, entry):
        response = admin.post(self.change_url(entry), {"reason": "改过", "points": "1000", "_save": "Save"})
        assert response.status_code == 403
        assert unchanged(entry)

    def test_adding_and_deleting_are_refused(self, admin, entry):
        name = entry._meta.model_name
        assert admin.get(reverse(f"admin:neighbors_{name}_add")).status_code == 403
        assert (
            admin.post(reverse(f"admin:neighbors_{name}_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
        )
        # The bulk "delete selected" action is not offered, and sending it deletes nothing
        changelist = reverse(f"admin:neighbors_{name}_changelist")
        assert "delete_selected" not in admin.get(changelist).content.decode()
        admin.post(changelist, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
        assert type(entry).objects.filter(pk=entry.pk).exists()
