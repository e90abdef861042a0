"""The audit chain of destructive operations: what appends to it, and what its verification catches."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from core.append_only import sanctioned_write
from core.audit import (
    SEAL_ACTIONS,
    Action,
    Record,
    audit_append,
    audit_redact,
    digest,
)
from core.models import AuditChainHead, AuditEntry
from core.services import api_key_create, api_key_revoke
from dsar.matching import Matcher
from dsar.sources import Subject
from recordings import services as recording_services
from recordings.models import Ticket
from tests.audit_log import chain_of, owner_login, refused, tamper, verify
from tests.dsar.factories import make_request
from tests.factories import AccountFactory, UserFactory
from tests.logins import as_owner
from tests.recordings.factories import (
    CallFactory,
    PhoneLineFactory,
    RecordingFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=dt_timezone.utc)
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)








# --- what appends ---------------------------------------------------------------------------------


def test_a_recording_deleted_through_the_api_is_chained_naming_the_key() -> None:
    ticket = TicketFactory()
    recording = RecordingFactory(call=CallFactory(line__account=ticket.account, ticket=ticket))
    key, raw = api_key_create(account=ticket.account, name="support desk", scopes=["recordings:delete"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.delete(f"/api/v1/recordings/{recording.pk}/").status_code == 204

    entry = AuditEntry.objects.get(action=Action.RECORDING_DELETED)
    assert (entry.actor, entry.origin) == (key.label, "api")
    assert entry.object_id == str(recording.pk) and entry.account_id == ticket.account_id
    assert entry.data["recordings"] == 1 and entry.data["first_id"] == entry.data["last_id"] == recording.pk
    assert entry.data["by_reason"] == {"manual": 1}


def test_the_purge_chains_one_entry_per_batch_and_account_counting_its_recordings() -> None:
    line = PhoneLineFactory(auto_delete_days=7, name="Sales")
    other = PhoneLineFactory(auto_delete_days=7, name="Support")
    held_back = [RecordingFactory(call=CallFactory(line=line), created_at=NOW - timedelta(days=8)) for _ in range(3)]
    elsewhere = RecordingFactory(call=CallFactory(line=other), created_at=NOW - timedelta(days=8))

    recording_services.recordings_purge(now=NOW)

    entries = AuditEntry.objects.filter(action=Action.RECORDING_DELETED).order_by("seq")
    assert [(entry.account_id, entry.actor) for entry in entries] == [(line.account_id, "purge"), (other.account_id, "purge")]
    assert [(entry.data["recordings"], entry.data["first_id"], entry.data["last_id"]) for entry in entries] == [
        (3, held_back[0].pk, held_back[-1].pk), (1, elsewhere.pk, elsewhere.pk)
    ]
    assert [entry.data["by_reason"] for entry in entries] == [{"auto_delete": 3}, {"auto_delete": 1}]
    assert "(2 operations," in verify()


def test_holds_placed_and_released_are_chained() -> None:
    account = AccountFactory()
    staff = UserFactory(username="dpo")

    hold = recording_services.legal_hold_place(account=account, scope="account", reason="Inquiry 7", user=staff)
    recording_services.legal_hold_release(hold_id=hold.pk, user=staff)

    placed, released = AuditEntry.objects.exclude(action__in=SEAL_ACTIONS).order_by("seq")
    assert (placed.action, placed.actor, placed.data["reason"]) == (Action.HOLD_PLACED, "dpo", "Inquiry 7")
    assert (released.action, released.object_id) == (Action.HOLD_RELEASED, str(hold.pk))


def test_identity_verified_and_api_keys_created_and_revoked_are_chained() -> None:
    request = make_request()
    key, _ = api_key_create(account=request.account, name="intake", created_by=UserFactory(username="officer"))
    api_key_revoke(key=key, user=UserFactory(username="officer"))

    actions = list(AuditEntry.objects.values_list("action", "actor"))
    assert (Action.IDENTITY_VERIFIED, "dpo") in actions
    assert (Action.API_KEY_CREATED, "officer") in actions and (Action.API_KEY_REVOKED, "officer") in actions


def test_an_operation_rolled_back_leaves_no_entry() -> None:
    account = AccountFactory()
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        recording_services.legal_hold_place(account=account, scope="account", reason="x")
        raise RuntimeError("the caller fails after the hold")

    assert AuditEntry.objects.count() == before
    assert "(0 operations," in verify()


# --- what verification catches --------------------------------------------------------------------


def test_an_intact_chain_verifies() -> None:
    chain_of(5)

    output = verify()

    assert "Audit chain intact:" in output and "(5 operations," in output and "0 redacted by erasure." in output


@owner_login
def test_a_value_changed_by_sql_is_reported_with_its_entry() -> None:
    entries = chain_of(5)

    tamper("UPDATE residency_auditentry SET data = %s WHERE seq = %s", '{"n": 99}', entries[2].seq)

    assert f"entry {entries[2].seq} was changed: field 'n' no longer matches its digest" in refused()


@owner_login
def test_an_entry_rewritten_with_matching_digest_is_caught_by_its_hash() -> None:
    entries = chain_of(3)

    tamper("UPDATE residency_auditentry SET actor = %s WHERE seq = %s", "someone else", entries[1].seq)

    assert f"entry {entries[1].seq} was changed or inserted outside the product" in refused()


@owner_login
def test_a_deleted_entry_is_reported() -> None:
    entries = chain_of(5)

    tamper("DELETE FROM residency_auditentry WHERE seq = %s", entries[1].seq)

    assert f"entry {entries[1].seq} removed" in refused()


@owner_login
def test_the_last_entries_deleted_are_reported() -> None:
    entries = chain_of(4)

    tamper("DELETE FROM residency_auditentry WHERE seq >= %s", entries[2].seq)

    assert f"entries after {entries[1].seq} were removed" in refused()


@owner_login
def test_an_entry_inserted_outside_the_product_is_reported() -> None:
    entries = chain_of(3)
    # Make room after the first entry, then slip in an entry that links to it.
    tamper("UPDATE residency_auditentry SET seq = seq + 1000 WHERE seq > %s", entries[0].seq)
    tamper("UPDATE residency_auditentry SET seq = seq - 999 WHERE seq > %s", entries[0].seq + 1000)
    forged = AuditEntry(
        seq=entries[1].seq, at=NOW, action=Action.HOLD_RELEASED, actor="intruder", origin="admin",
        account_id=entries[0].account_id, object_type="test", object_id="x", data={"n": 7},
        digests={"n": digest(7)}, redactions={}, prev_hash=entries[0].hash, hash="0" * 64,
    )
    with sanctioned_write(AuditEntry):
        forged.save()
    AuditChainHead.objects.filter(pk=1).update(seq=entries[-1].seq + 1)

    assert f"entry {forged.seq} was changed or inserted outside the product" in refused()


@owner_login
def test_a_value_emptied_outside_the_product_is_not_taken_for_a_redaction() -> None:
    entries = chain_of(2)
    forged = '{"n": {"request": 1, "at": "2026-11-20T09:30:00+00:00", "reason": "erasure"}}'

    tamper("UPDATE residency_auditentry SET data = %s, redactions = %s WHERE seq = %s", '{"n": null}', forged, entries[0].seq)

    assert f"entry {entries[0].seq}: field 'n' was emptied outside the product" in refused()


def test_concurrent_appends_form_one_unbroken_chain() -> None:
    # Appends from two threads, each with its own connection and transaction, queue on the chain's head.
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers itself; two connections need a server")
    account_id = AccountFactory().pk
    head = AuditChainHead.objects.filter(pk=1).first()
    before = (head.seq, head.hash) if head else None
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        from django.db import connections

        try:
            for n in range(10):
                with transaction.atomic():
                    audit_append(
                        Record(action=Action.HOLD_PLACED, object_type="test", object_id=f"{worker}-{n}", account_id=account_id, data={})
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(worker,)) for worker in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        seqs = sorted(AuditEntry.objects.filter(object_type="test").values_list("seq", flat=True))
        assert len(seqs) == 20 and seqs == list(range(seqs[0], seqs[0] + 20))
        assert "intact" in verify()
    finally:
        # The threads committed outside this test's transaction (which is rolled back, TRUNCATE included):
        # clear what they wrote from a connection of its own.
        cleaner = threading.Thread(target=_clear_audit_tables, args=(before,))
        cleaner.start()
        cleaner.join(timeout=60)


def _clear_audit_tables(head: tuple[int, str] | None) -> None:
    """Take the chain back to the ``head`` (seq, hash) it had before the threads, or to nothing."""
    from django.db import connections

    try:
        # Not TRUNCATE: it would wait for the test's own transaction, which has read these tables. As the
        # owner: the runtime login may delete no audit row (this thread's connection logs in anew).
        with as_owner(), sanctioned_write(AuditEntry), connections["default"].cursor() as cursor:
            cursor.execute("DELETE FROM residency_auditentry WHERE seq > %s", [head[0] if head else 0])
            if head:
                cursor.execute("UPDATE residency_auditchainhead SET seq = %s, hash = %s", list(head))
            else:
                cursor.execute("DELETE FROM residency_auditchainhead")
    finally:
        connections.close_all()


# --- append-only in the database, and no revert ---------------------------------------------------


# The triggers guard the owner's own sessions too (the runtime login cannot even try: test_database_logins.py).
@on_postgres
@owner_login
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE residency_auditentry SET actor = 'x'",
        "DELETE FROM residency_auditentry",
        "UPDATE recordings_historicalticket SET subject = 'rewritten'",
        "DELETE FROM dsar_historicalperson",
        "UPDATE dsar_requestevent SET message = 'rewritten'",
        "DELETE FROM dsar_requestevent",
        "UPDATE core_sealedrow SET digest = 'x'",
    ],
)
def test_postgresql_refuses_changes_to_audit_and_history_rows(sql: str) -> None:
    chain_of(1)
    TicketFactory()
    make_request()

    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


@on_postgres
@owner_login
def test_the_sanctioned_path_may_scrub_history() -> None:
    TicketFactory(subject="Call from Jane Roe")

    with sanctioned_write(), connection.cursor() as cursor:
        cursor.execute("UPDATE recordings_historicalticket SET subject = '[redacted]'")

    assert set(Ticket.history.values_list("subject", flat=True)) == {"[redacted]"}


@on_postgres
def test_deleting_a_login_still_unlinks_its_history_rows() -> None:
    user = UserFactory(username="leaver")
    ticket = TicketFactory()
    recording_services.ticket_soft_delete(ticket_id=ticket.pk, user=user)

    user.delete()

    row = Ticket.history.filter(id=ticket.pk).first()
    assert row.history_user_id is None and row.history_username == "leaver"


def test_history_pages_never_revert_a_purged_ticket(settings: Any) -> None:
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED
    ticket = TicketFactory(subject="Refund dispute")
    recording_services.ticket_soft_delete(ticket_id=ticket.pk, now=NOW - timedelta(days=8))
    recording_services.recordings_purge(now=NOW)
    version = Ticket.history.filter(id=ticket.pk, history_type="~").first()
    client = Client()
    client.force_login(UserFactory())

    url = f"/admin/recordings/ticket/{ticket.pk}/history/{version.history_id}/"
    shown = client.get(url)
    form = {
        "account": ticket.account_id, "requester": ticket.requester_id, "subject": "Refund dispute",
        "description": ticket.description, "status": ticket.status,
        "created_at_0": f"{ticket.created_at:%Y-%m-%d}", "created_at_1": f"{ticket.created_at:%H:%M:%S}",
        "recordings-TOTAL_FORMS": 0, "recordings-INITIAL_FORMS": 0,
    }

    response = client.post(url, form)

    assert shown.status_code == 200 and response.status_code == 403
    assert not Ticket.objects.filter(pk=ticket.pk).exists()


def test_redaction_finds_names_with_letters_outside_ascii_and_leaves_other_entries_alone() -> None:
    account = AccountFactory()
    audit_append(Record(action=Action.IDENTITY_VERIFIED, object_type="test", object_id=1, account_id=account.pk, data={"note": "ÅSA Öberg showed her passport"}))
    audit_append(Record(action=Action.IDENTITY_VERIFIED, object_type="test", object_id=2, account_id=account.pk, data={"note": "Checked in the product"}))

    matcher = Matcher(Subject(person_id=1, account_id=account.pk, name="Åsa Öberg"))

    changed = audit_redact(
        account_id=account.pk, pattern=matcher.db_json_pattern, mentions=lambda value: bool(matcher.value_kinds(value)), request_id=7
    )

    assert changed == 1
    assert list(AuditEntry.objects.filter(object_type="test").order_by("seq").values_list("data", flat=True)) == [
        {"note": None},
        {"note": "Checked in the product"},
    ]
    assert "1 redacted by erasure (request 7: 1)" in verify()
