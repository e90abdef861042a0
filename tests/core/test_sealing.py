"""Sealed audit tables: every row written through the product is sealed into the audit chain, a sanctioned scrub
seals it again, and verify_audit_log reports each row changed, deleted or inserted outside the product."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import sealing
from core.append_only import scrub
from core.audit import Action, Record, audit_append, audit_redact
from core.models import AuditEntry, SealedRow
from core.sealing import seals
from dsar import services
from dsar.models import Person, Request, RequestEvent
from recordings.models import Ticket
from tests.audit_log import owner_login, refused, tamper, verify
from tests.dsar.factories import make_request, staff
from tests.factories import AccountFactory, PersonFactory, UserFactory
from tests.recordings.factories import TicketFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=dt_timezone.utc)


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)




# --- what is sealed -------------------------------------------------------------------------------


def test_a_requests_timeline_and_the_history_written_by_every_path_verify_intact() -> None:
    request = make_request()  # history by simple-history's signals and by write_history; timeline lines
    services.request_extend(request=request, reason="Complex request", actor=staff())
    person = request.person
    person.name = "Rectified Name"
    person.save()

    output = verify()

    assert "Sealed tables intact:" in output
    sealed = {
        (table, row_id)
        for table in ("dsar_requestevent", "dsar_historicalrequest", "dsar_historicalperson")
        for row_id, _entry, _digest in seals(table)
    }
    assert {("dsar_requestevent", pk) for pk in request.events.values_list("pk", flat=True)} <= sealed
    assert {("dsar_historicalrequest", pk) for pk in Request.history.filter(id=request.pk).values_list("pk", flat=True)} <= sealed
    assert {("dsar_historicalperson", pk) for pk in Person.history.filter(id=person.pk).values_list("pk", flat=True)} <= sealed


def test_each_sealing_is_one_chain_entry_naming_the_table_its_rows_and_their_digest() -> None:
    request = make_request()

    event = request.events.order_by("pk").last()
    entry = AuditEntry.objects.filter(action=Action.ROWS_SEALED, object_id="dsar_requestevent").order_by("seq").last()
    assert entry.object_type == "sealed table"
    assert (entry.data["table"], entry.data["rows"], entry.data["first"], entry.data["last"]) == (
        "dsar_requestevent", 1, event.pk, event.pk,
    )
    assert SealedRow.objects.get(entry_seq=entry.seq).row_id == event.pk


# --- what verification reports --------------------------------------------------------------------


@owner_login
def test_a_rewritten_request_history_row_is_reported() -> None:
    request = make_request()
    row = Request.history.filter(id=request.pk).order_by("history_id").first()

    tamper("UPDATE dsar_historicalrequest SET history_change_reason = %s WHERE history_id = %s", "nothing happened", row.pk)

    assert f"dsar_historicalrequest row {row.pk} no longer matches its seal" in refused()


@owner_login
def test_an_edited_timeline_event_is_reported() -> None:
    request = make_request()
    event = request.events.order_by("pk").first()

    tamper("UPDATE dsar_requestevent SET actor = %s WHERE id = %s", "someone else", event.pk)

    assert f"dsar_requestevent row {event.pk} no longer matches its seal" in refused()


@owner_login
def test_a_deleted_timeline_event_is_reported() -> None:
    request = make_request()
    event = request.events.order_by("pk").last()

    tamper("DELETE FROM dsar_requestevent WHERE id = %s", event.pk)

    assert f"dsar_requestevent row {event.pk}" in (problem := refused()) and "deleted outside the product" in problem


def test_a_history_row_inserted_outside_the_product_is_reported() -> None:
    person = PersonFactory()
    forged = Person.history.filter(id=person.pk).first()
    forged.pk = None
    forged.history_change_reason = "backdated change"
    forged.save()  # a plain insert: no product path, so no seal

    assert f"dsar_historicalperson row {forged.pk} has no seal: it was inserted outside the product" in refused()


def test_a_history_user_unlinked_by_deleting_the_login_keeps_the_seal() -> None:
    user = UserFactory(username="leaver")
    request = make_request()
    services.request_extend(request=request, reason="Complex request", actor=user)

    user.delete()

    assert Request.history.filter(id=request.pk, history_user_id__isnull=True, history_username="leaver").exists()
    assert "Sealed tables intact" in verify()


@owner_login
def test_a_seal_changed_in_the_ledger_is_reported_against_the_chain() -> None:
    request = make_request()
    seal = SealedRow.objects.filter(table_name="dsar_requestevent", row_id=request.events.first().pk).get()

    tamper("UPDATE core_sealedrow SET digest = %s WHERE id = %s", "0" * 64, seal.pk)

    problem = refused()
    assert f"the seals of dsar_requestevent anchored by entry {seal.entry_seq} no longer match it" in problem
    assert f"dsar_requestevent row {seal.row_id} no longer matches its seal" in problem


@owner_login
def test_every_problem_is_named_when_read_in_small_batches() -> None:
    requests = [make_request() for _ in range(3)]
    events = [event.pk for request in requests for event in request.events.order_by("pk")]
    assert "Sealed tables intact" in verify("--batch-size", "2")

    tamper("UPDATE dsar_requestevent SET message = 'x' WHERE id IN (%s, %s)", events[1], events[-2])

    problem = refused("--batch-size", "2")
    assert f"dsar_requestevent row {events[1]} no longer matches its seal" in problem
    assert f"dsar_requestevent row {events[-2]} no longer matches its seal" in problem


# --- bulk writes: seals in runs -------------------------------------------------------------------


def _events_sealed_in_runs(monkeypatch: pytest.MonkeyPatch, count: int = 7, run: int = 3) -> tuple[list[int], AuditEntry]:
    """``count`` timeline events (consecutive ids) sealed again together, in runs of ``run``, as a bulk write
    seals its rows; their ids and the entry anchoring them."""
    monkeypatch.setattr(sealing, "RUN", run)
    while RequestEvent.objects.count() < count:
        make_request()
    ids = list(RequestEvent.objects.order_by("pk").values_list("pk", flat=True)[:count])
    assert ids == list(range(ids[0], ids[0] + count))
    sealing.seal_rows(RequestEvent, ids)
    return ids, AuditEntry.objects.filter(action=Action.ROWS_SEALED, object_id="dsar_requestevent").order_by("seq").last()


def test_a_bulk_write_is_sealed_in_runs_of_consecutive_rows_one_ledger_row_each(monkeypatch: pytest.MonkeyPatch) -> None:
    ids, entry = _events_sealed_in_runs(monkeypatch)

    runs = list(SealedRow.objects.filter(entry_seq=entry.seq).order_by("row_id").values_list("row_id", "following"))
    assert [(row_id, len(following or "") // 64) for row_id, following in runs] == [(ids[0], 2), (ids[3], 2), (ids[6], 0)]
    assert (entry.data["rows"], entry.data["first"], entry.data["last"]) == (7, ids[0], ids[-1])
    assert [(row_id, seq) for row_id, seq, _digest in seals("dsar_requestevent") if seq == entry.seq] == [
        (pk, entry.seq) for pk in ids
    ]
    assert "Sealed tables intact" in verify("--batch-size", "2")


@owner_login
def test_rows_sealed_again_inside_a_run_are_read_in_order_and_held_to_their_newest_seal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids, first = _events_sealed_in_runs(monkeypatch)
    scrub(RequestEvent, {pk: {"message": "[redacted]"} for pk in ids[2:5]}, reason="erasure: test")
    again = AuditEntry.objects.filter(action=Action.ROWS_SCRUBBED).get()

    order = [(row_id, seq) for row_id, seq, _digest in seals("dsar_requestevent")]

    assert order == sorted(order)
    assert [(pk, again.seq) in order for pk in ids] == [False, False, True, True, True, False, False]
    assert "Sealed tables intact" in verify("--batch-size", "2")

    tamper("UPDATE dsar_requestevent SET message = 'rewritten' WHERE id = %s", ids[3])

    assert f"dsar_requestevent row {ids[3]} no longer matches its seal (entry {again.seq})" in refused("--batch-size", "2")


def test_rows_sealed_by_the_database_get_the_entry_and_ledger_runs_python_would_write(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sealing, "RUN", 3)
    while RequestEvent.objects.count() < 9:
        make_request()
    ids = list(RequestEvent.objects.order_by("pk").values_list("pk", flat=True))
    chosen = ids[:4] + ids[5:9]  # a gap after four: runs of 3 and 1, then 3 and 1

    def sealed_by(path: str) -> tuple[dict[str, Any], list[tuple[int, str, str | None]]]:
        if path == "python":
            monkeypatch.setattr(sealing, "_sql_digest", lambda model, using: None)
        assert sealing.seal_rows(RequestEvent, chosen) == len(chosen)
        entry = AuditEntry.objects.filter(action=Action.ROWS_SEALED, object_id="dsar_requestevent").order_by("seq").last()
        runs = SealedRow.objects.filter(entry_seq=entry.seq).order_by("row_id").values_list("row_id", "digest", "following")
        return entry.data, list(runs)

    in_database, in_python = sealed_by("database"), sealed_by("python")

    assert in_database == in_python
    assert [(row_id, len(following or "") // 64) for row_id, _digest, following in in_python[1]] == [
        (chosen[0], 2), (chosen[3], 0), (chosen[4], 2), (chosen[7], 0)
    ]
    assert "Sealed tables intact" in verify()


@owner_login
def test_a_digest_rewritten_inside_a_run_is_reported_with_its_row(monkeypatch: pytest.MonkeyPatch) -> None:
    ids, entry = _events_sealed_in_runs(monkeypatch)
    run = SealedRow.objects.get(entry_seq=entry.seq, row_id=ids[3])

    tamper("UPDATE core_sealedrow SET following = %s WHERE id = %s", "0" * 64 + run.following[64:], run.pk)

    problem = refused()
    assert f"the seals of dsar_requestevent anchored by entry {entry.seq} no longer match it" in problem
    assert f"dsar_requestevent row {ids[4]} no longer matches its seal" in problem


@owner_login
def test_a_row_deleted_from_the_middle_of_a_run_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    ids, entry = _events_sealed_in_runs(monkeypatch)

    tamper("DELETE FROM dsar_requestevent WHERE id = %s", ids[4])

    assert f"dsar_requestevent row {ids[4]} (sealed by entry {entry.seq}) is gone" in refused()


# --- sanctioned scrubs ----------------------------------------------------------------------------


def test_a_scrub_seals_the_rows_again_naming_its_reason_and_request() -> None:
    request = make_request()
    event = request.events.order_by("pk").first()

    changed = scrub(RequestEvent, {event.pk: {"message": "[redacted]"}}, reason="erasure: test", request_id=request.pk)

    entry = AuditEntry.objects.filter(action=Action.ROWS_SCRUBBED).get()
    assert changed == 1 and RequestEvent.objects.get(pk=event.pk).message == "[redacted]"
    assert (entry.data["table"], entry.data["reason"], entry.data["request"], entry.data["rows"]) == (
        "dsar_requestevent", "erasure: test", request.pk, 1,
    )
    assert "Sealed tables intact" in verify()


def test_rows_given_the_same_values_are_scrubbed_by_one_statement() -> None:
    requests = [make_request() for _ in range(4)]
    events = RequestEvent.objects.filter(request__in=requests)

    with CaptureQueriesContext(connection) as queries:
        scrub(RequestEvent, {pk: {"message": "gone"} for pk in events.values_list("pk", flat=True)}, reason="test")

    assert set(events.values_list("message", flat=True)) == {"gone"}
    # One UPDATE, or on PostgreSQL as the runtime login one call of the owner's scrub function.
    writes = [query["sql"] for query in queries.captured_queries if 'UPDATE "dsar_requestevent"' in query["sql"] or "core_audit_scrub" in query["sql"]]
    assert len(writes) == 1
    assert "Sealed tables intact" in verify()


# --- redaction attribution ------------------------------------------------------------------------


def _redacted_entry() -> AuditEntry:
    account = AccountFactory()
    entry = audit_append(
        Record(action=Action.IDENTITY_VERIFIED, object_type="test", object_id=1, account_id=account.pk, data={"note": "Åsa showed a passport"})
    )
    audit_redact(account_id=account.pk, pattern="", mentions=lambda value: "Åsa" in str(value), request_id=7, entries=[entry.seq])
    entry.refresh_from_db()
    return entry


def test_a_redaction_names_its_request_reason_and_time_in_the_chain() -> None:
    entry = _redacted_entry()

    record = AuditEntry.objects.get(action=Action.AUDIT_REDACTED)
    assert entry.redactions["note"] == {"request": 7, "reason": "erasure", "at": NOW.isoformat()}
    assert (record.data["request"], record.data["reason"], record.data["at"]) == (7, "erasure", NOW.isoformat())
    assert record.data["entries"] == {str(entry.seq): ["note"]}
    assert "1 redacted by erasure (request 7: 1)" in verify()


@owner_login
@pytest.mark.parametrize(
    "rewritten",
    [{"request": 8}, {"reason": "identity retention"}, {"at": "2026-01-01T00:00:00+00:00"}],
)
def test_a_rewritten_redaction_attribution_is_reported(rewritten: dict[str, Any]) -> None:
    entry = _redacted_entry()
    redactions = {"note": {**entry.redactions["note"], **rewritten}}

    tamper("UPDATE residency_auditentry SET redactions = %s WHERE seq = %s", _json(redactions), entry.seq)

    assert f"entry {entry.seq}: the redaction of field 'note' is attributed to request" in refused()


@owner_login
def test_an_older_redaction_without_a_reason_is_compared_by_its_request_only() -> None:
    account = AccountFactory()
    entry = audit_append(Record(action=Action.IDENTITY_VERIFIED, object_type="test", object_id=1, account_id=account.pk, data={"note": "x"}))
    # As redactions were chained before they named their reason and time.
    audit_append(
        Record(action=Action.AUDIT_REDACTED, object_type="dsar.request", object_id=7, account_id=account.pk,
               data={"request": 7, "entries": {str(entry.seq): ["note"]}})
    )
    recorded = {"note": {"request": 7, "at": "2025-05-05T10:00:00+00:00", "reason": "erasure"}}
    tamper("UPDATE residency_auditentry SET data = %s, redactions = %s WHERE seq = %s", '{"note": null}', _json(recorded), entry.seq)

    assert "1 redacted by erasure (request 7: 1)" in verify()

    recorded["note"]["request"] = 9
    tamper("UPDATE residency_auditentry SET redactions = %s WHERE seq = %s", _json(recorded), entry.seq)

    assert "attributed to request 9" in refused()


def _json(value: Any) -> str:
    return json.dumps(value)


# --- the baseline at upgrade ----------------------------------------------------------------------


@pytest.fixture
def tickets_sealed_later() -> Iterator[None]:
    """The tickets' history, a table the product does not seal, as a table sealed by a new release."""
    saved = dict(sealing._registry)
    yield
    sealing._registry.clear()
    sealing._registry.update(saved)


def test_a_table_first_sealed_at_upgrade_is_sealed_once_as_it_stands(tickets_sealed_later: None) -> None:
    ticket = TicketFactory(subject="Before the upgrade")
    sealing.register(Ticket.history.model)

    sealing.seal_baseline()

    baseline = AuditEntry.objects.get(action=Action.SEAL_BASELINE, object_id="recordings_historicalticket")
    assert baseline.data["rows"] == Ticket.history.count() and "Sealed tables intact" in verify()
    ticket.subject = "After the upgrade"
    ticket.save()  # sealed as written
    assert "Sealed tables intact" in verify()


def test_rows_inserted_outside_the_product_after_the_baseline_are_not_absorbed_by_a_later_migrate(
    tickets_sealed_later: None,
) -> None:
    TicketFactory()
    sealing.register(Ticket.history.model)
    sealing.seal_baseline()
    forged = Ticket.history.first()
    forged.pk = None
    forged.save()

    sealing.seal_baseline()  # what the next migrate runs

    assert AuditEntry.objects.filter(action=Action.SEAL_BASELINE, object_id="recordings_historicalticket").count() == 1
    assert f"recordings_historicalticket row {forged.pk} has no seal" in refused()


def test_a_rows_digest_is_the_sha256_of_its_canonical_json_whatever_the_values() -> None:
    from datetime import date, time
    from decimal import Decimal
    from uuid import UUID

    from core.chain import _canonical

    columns = ["zeta", "id", "text", "flag", "at", "day", "clock", "amount", "ref", "data", "ratio", "nothing"]
    row = [
        "Zoë \"quoted\" \\ back\nline \x01 \u2028 𝄞", 7, "", True, datetime(2026, 3, 29, 1, 30, 5, 12, tzinfo=dt_timezone.utc),
        date(2026, 2, 1), time(23, 59, 59), Decimal("1.50"), UUID(int=5), {"b": [1, None, False], "a": "x"}, 0.1, None,
    ]
    expected = {column: value for column, value in zip(columns, row) if value is not None}

    digest = sealing.row_digester(columns)(row)

    assert digest == hashlib.sha256(_canonical(expected).encode()).hexdigest()
    assert sealing.row_digest(columns, [None] * len(columns)) == hashlib.sha256(b"{}").hexdigest()


@owner_login
def test_times_are_read_for_their_digest_as_the_text_of_the_values_the_driver_would_give() -> None:
    from django.db import connection

    request = make_request()
    times = [
        datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=dt_timezone.utc),
        datetime(2026, 3, 29, 1, 0, 0, tzinfo=dt_timezone.utc),
        datetime(2026, 10, 25, 2, 30, 0, 500000, tzinfo=dt_timezone.utc),
    ]
    events = list(request.events.order_by("pk")[: len(times)])
    for event, at in zip(events, times):
        tamper("UPDATE dsar_requestevent SET at = %s WHERE id = %s", at, event.pk)
    ids = [event.pk for event in events]

    read = list(sealing._fetch(sealing._read(RequestEvent.objects.filter(pk__in=ids).order_by("pk"), ["at"])))
    with connection.cursor() as cursor:  # as the driver gives them, through the connection's own loaders
        cursor.execute(f"SELECT at FROM dsar_requestevent WHERE id IN ({', '.join(['%s'] * len(ids))}) ORDER BY id", ids)
        driver = [str(at) for (at,) in cursor.fetchall()]

    assert [text for (text,) in read] == driver
    assert len(set(driver)) == len(times)


@owner_login
def test_the_database_computes_each_rows_digest_exactly_as_it_is_computed_from_the_row_read() -> None:
    request = make_request()
    texts = ['quo"te \\ back', "line\nbreak\ttab\r\b\f", "\x01\x1f\x7f", "Zoë 𝄞 \u2028 😀 ééé", "/slash", ""]
    times = [datetime(2026, 3, 29, 1, 0, 0, tzinfo=dt_timezone.utc), datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=dt_timezone.utc)]
    events = list(request.events.order_by("pk"))
    for index, text in enumerate(texts):
        event = events[index % len(events)]
        tamper("UPDATE dsar_requestevent SET message = %s, at = %s WHERE id = %s", text, times[index % 2], event.pk)
        rows = RequestEvent.objects.filter(pk=event.pk)
        in_database = sealing._digests(RequestEvent, rows)

        fields = sealing._sealed_fields(RequestEvent)
        read = list(sealing._fetch(sealing._read(rows, [field.attname for field in fields])))
        in_python = sealing.row_digester([field.column for field in fields])(read[0])

        assert sealing._sql_digest(RequestEvent, rows.db) is not None
        assert in_database == [(event.pk, in_python)], text


@owner_login
def test_every_sealed_tables_rows_with_their_nulls_digest_in_the_database_as_in_python() -> None:
    from recordings.deletion import recording_delete
    from tests.recordings.factories import LegalHoldFactory, PhoneLineFactory, RecordingFactory

    make_request()
    line = PhoneLineFactory()
    recording_delete(recording_id=RecordingFactory(account=line.account, line=line).pk, user=staff())
    LegalHoldFactory(account=line.account)
    nulls, in_database = 0, []
    for model in sealing.sealed_models():
        rows = model._base_manager.order_by("pk")
        fields = sealing._sealed_fields(model)
        read = list(sealing._fetch(sealing._read(rows, [field.attname for field in fields])))
        digest = sealing.row_digester([field.column for field in fields])
        at = [field.attname for field in fields].index(model._meta.pk.attname)

        assert read, model
        assert sealing._digests(model, rows) == [(row[at], digest(row)) for row in read], model
        nulls += sum(value is None for row in read for value in row)
        if sealing._sql_digest(model, rows.db) is not None:
            in_database.append(model._meta.db_table)
    assert nulls
    # Every table but the request history (a JSON column: PostgreSQL writes it with spaces) is digested in SQL.
    assert set(in_database) >= {model._meta.db_table for model in sealing.sealed_models()} - {"dsar_historicalrequest"}


@pytest.mark.parametrize("kinds", [64, 1], ids=["compiled per pattern", "past the patterns kept"])
def test_one_digester_writes_rows_of_every_pattern_of_types_and_nulls_as_the_encoder_does(
    kinds: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.chain import _canonical

    monkeypatch.setattr(sealing, "_KINDS", kinds)
    columns = ["id", "name", "count", "at", "flag", "quote's {brace}"]
    rows = [
        (1, "Zoë", 3, "2026-03-29 01:30:05", 1, "x"),
        (2, None, 3, "2026-03-29 01:30:05", None, "y"),
        (3, "Åsa", None, datetime(2026, 1, 1, tzinfo=dt_timezone.utc), True, None),
        (4, 'a"b', 2**70, None, False, "{}"),
        (5, "Zoë", 3, "2026-03-29 01:30:05", 1, "x"),
    ]
    digest = sealing.row_digester(columns)

    for row in rows:
        expected = {column: value for column, value in zip(columns, row) if value is not None}
        assert digest(row) == hashlib.sha256(_canonical(expected).encode()).hexdigest(), row


@owner_login
def test_rows_a_migration_only_filled_a_new_column_of_are_sealed_again_and_others_still_reported() -> None:
    first, second = make_request(), make_request()
    filled = list(Request.history.filter(id=first.pk).values_list("history_id", flat=True))
    rewritten = Request.history.filter(id=second.pk).order_by("history_id").first().pk
    # As a migration adding a column with a default does (here: a nullable column every row left empty)...
    tamper("UPDATE dsar_historicalrequest SET completed_at = %s WHERE id = %s", "2026-01-01 00:00:00", first.pk)
    # ...while one row was also changed otherwise.
    tamper(
        "UPDATE dsar_historicalrequest SET completed_at = %s, status = %s WHERE history_id = %s",
        "2026-01-01 00:00:00", "completed", rewritten,
    )
    assert f"dsar_historicalrequest row {filled[0]} no longer matches its seal" in refused()

    resealed = sealing.reseal_added_column(Request.history.model, "completed_at", reason="Migration added completed_at")

    assert resealed == len(filled)
    problems = refused()
    assert f"dsar_historicalrequest row {rewritten} no longer matches its seal" in problems
    assert not any(f"dsar_historicalrequest row {pk} " in problems for pk in filled)
    entry = AuditEntry.objects.filter(action=Action.ROWS_SCRUBBED).get()
    assert entry.data["reason"] == "Migration added completed_at" and entry.data["rows"] == len(filled)
