"""The runtime login owns no table: it cannot rewrite, delete or truncate audit rows, even with the triggers
switched off, and an erasure's scrub still reaches them through the owner's function (PostgreSQL only)."""

from __future__ import annotations

from typing import Any

import pgtrigger
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DataError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.append_only import UPDATE_TRIGGER, scrub
from core.audit import Action, Record, audit_append
from core.models import AuditEntry
from dsar.models import Request
from recordings import services as recording_services
from recordings.models import Recording, Ticket
from tests.dsar.factories import make_request
from tests.factories import AccountFactory, UserFactory
from tests.logins import runtime_role
from tests.recordings.factories import RecordingFactory, TicketFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not runtime_role(), reason="PostgreSQL with a runtime login (scripts/with-postgres.sh)"),
]

AUDIT_TABLES = ["residency_auditentry", "recordings_historicalrecording", "dsar_historicalrequest"]
#: Every audit table, with a column of it: the chain, its seal ledger, the request timeline and the history tables.
WRITES_REFUSED = {
    "residency_auditentry": "at",
    "core_sealedrow": "digest",
    "dsar_requestevent": "message",
    "recordings_historicalrecording": "history_date",
    "dsar_historicalrequest": "history_date",
}


@pytest.fixture
def audit_rows() -> None:
    """A row in each audit table the tests try to change."""
    audit_append(Record(action=Action.HOLD_PLACED, object_type="test", object_id=1, account_id=AccountFactory().pk, data={}))
    RecordingFactory()
    make_request()


def execute(sql: str, *params: Any) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def privileges() -> set[tuple[str, ...]]:
    """What the runtime login holds on the tables and columns of the schema."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, '', privilege_type FROM information_schema.role_table_grants
               WHERE grantee = %s AND table_schema = current_schema()
               UNION SELECT table_name, column_name, privilege_type FROM information_schema.column_privileges
               WHERE grantee = %s AND table_schema = current_schema()""",
            [runtime_role(), runtime_role()],
        )
        return set(cursor.fetchall())


def test_the_tests_run_as_the_runtime_login_which_owns_no_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, (SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole)")
        assert cursor.fetchone() == (runtime_role(), 0)


@pytest.mark.parametrize("table", WRITES_REFUSED)
@pytest.mark.parametrize(
    "sql", ["UPDATE {table} SET {column} = {column}", "DELETE FROM {table}", "TRUNCATE {table}"], ids=["update", "delete", "truncate"]
)
def test_the_runtime_login_cannot_update_delete_or_truncate_audit_rows(audit_rows: None, table: str, sql: str) -> None:
    with pytest.raises(ProgrammingError, match=f"permission denied for table {table}"):
        execute(sql.format(table=table, column=WRITES_REFUSED[table]))


@pytest.mark.parametrize("model", [AuditEntry, Recording.history.model, Request.history.model], ids=AUDIT_TABLES)
def test_switching_the_triggers_off_does_not_let_the_runtime_login_update_audit_rows(audit_rows: None, model: Any) -> None:
    table = model._meta.db_table
    [(_, trigger)] = pgtrigger.registered(f"{model._meta.label}:{UPDATE_TRIGGER}")

    with pytest.raises(ProgrammingError, match=f"permission denied for table {table}"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + trigger.get_pgid(model) + "}"])
            cursor.execute(f"UPDATE {table} SET {model._meta.pk.column} = {model._meta.pk.column}")


def test_the_runtime_login_may_unlink_a_history_row_from_its_login_but_not_name_another() -> None:
    ticket = TicketFactory()
    leaver, other = UserFactory(username="leaver"), UserFactory(username="other")
    recording_services.ticket_soft_delete(ticket_id=ticket.pk, user=leaver)
    row = Ticket.history.get(id=ticket.pk, history_user=leaver)

    with pytest.raises(ProgrammingError, match="history_user_id of recordings_historicalticket may only be nulled"):
        with transaction.atomic():
            Ticket.history.filter(history_id=row.history_id).update(history_user=other)
    leaver.delete()

    row.refresh_from_db()
    assert row.history_user_id is None


def test_an_erasure_scrub_reaches_history_and_audit_rows_as_the_runtime_login() -> None:
    ticket = TicketFactory(subject="Call from Jane Roe")
    entry = audit_append(
        Record(action=Action.HOLD_PLACED, object_type="test", object_id=1, account_id=ticket.account_id, data={"name": "Jane Roe"})
    )
    rows = list(Ticket.history.filter(id=ticket.pk).values_list("history_id", flat=True))
    actor, sealed = entry.actor, entry.hash

    scrub(Ticket.history.model, {pk: {"subject": "[redacted]"} for pk in rows}, reason="erasure")
    scrub(AuditEntry, {entry.pk: {"data": {"name": None}, "redactions": {"name": {"request": 7}}}}, reason="erasure")

    assert set(Ticket.history.values_list("subject", flat=True)) == {"[redacted]"}
    entry.refresh_from_db()
    assert (entry.data, entry.redactions) == ({"name": None}, {"name": {"request": 7}})
    assert (entry.actor, entry.hash) == (actor, sealed)


def test_each_row_scrubbed_gets_its_own_values_and_keeps_the_columns_it_was_not_given_in_one_statement() -> None:
    first, second = TicketFactory(subject="Jane Roe", description="call Jane"), TicketFactory(subject="John Doe", description="call John")
    row = {ticket.pk: Ticket.history.get(id=ticket.pk).history_id for ticket in (first, second)}

    with CaptureQueriesContext(connection) as queries:
        scrub(
            Ticket.history.model,
            {row[first.pk]: {"subject": "[name]", "description": "call [name]"}, row[second.pk]: {"subject": "[other]"}},
            reason="erasure",
        )

    assert Ticket.history.get(id=first.pk).subject == "[name]" and Ticket.history.get(id=first.pk).description == "call [name]"
    assert Ticket.history.get(id=second.pk).subject == "[other]" and Ticket.history.get(id=second.pk).description == "call John"
    assert [query["sql"].split("(")[0] for query in queries] == ["SELECT core_audit_scrub"]


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("residency_auditentry", "actor"),
        ("residency_auditentry", "hash"),
        ("residency_auditentry", "seq"),
        ("recordings_historicalticket", "history_user_id"),
        ("recordings_historicalticket", "history_date"),
        ("recordings_historicalticket", "history_change_reason"),
        ("recordings_historicalticket", "id"),
    ],
)
def test_the_scrub_function_never_sets_who_when_or_which_row(table: str, column: str) -> None:
    TicketFactory()

    with pytest.raises(ProgrammingError, match=f"{column} may not be set on {table}"):
        execute(
            "SELECT core_audit_scrub(%s, jsonb_build_array(jsonb_build_object('rows', jsonb_build_array('1'), 'set', jsonb_build_object(%s, 'x'))))",
            table,
            column,
        )


@pytest.mark.parametrize("table", ["auth_user", "residency_account", "residency_auditchainhead", "public.residency_auditentry"])
def test_the_scrub_function_refuses_tables_that_are_not_audit_tables(table: str) -> None:
    with pytest.raises(ProgrammingError, match=f"{table} is not an audit table"):
        execute("""SELECT core_audit_scrub(%s, '[{"rows": ["1"], "set": {"username": "x"}}]')""", table)


def test_the_scrub_function_finds_rows_by_primary_key_only() -> None:
    TicketFactory(subject="Call from Jane Roe")

    with pytest.raises(DataError):
        execute("""SELECT core_audit_scrub('recordings_historicalticket', '[{"rows": ["0 OR true"], "set": {"subject": "x"}}]')""")

    assert set(Ticket.history.values_list("subject", flat=True)) == {"Call from Jane Roe"}


def test_migrate_as_the_runtime_login_is_refused() -> None:
    with pytest.raises(CommandError, match="migrate runs as the tables' owner"):
        call_command("migrate", verbosity=0)


@pytest.mark.owner_login
def test_migrating_again_grants_the_same_privileges_and_takes_back_any_other() -> None:
    granted = privileges()
    assert {("residency_auditentry", "", "INSERT"), ("recordings_historicalticket", "history_user_id", "UPDATE")} <= granted
    assert not {row for row in granted if row[0] in AUDIT_TABLES and row[2] in {"UPDATE", "DELETE", "TRUNCATE"} and not row[1]}
    execute(f"GRANT UPDATE, DELETE, TRUNCATE ON residency_auditentry TO {runtime_role()}")
    assert ("residency_auditentry", "", "TRUNCATE") in privileges()

    call_command("migrate", verbosity=0)

    assert privileges() == granted
