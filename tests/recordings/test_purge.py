from __future__ import annotations

from functools import partial

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from core.sealing import seals
from recordings import deletion, services
from recordings.holds import HoldsAsRead
from recordings.purge import BatchSizer
from recordings.models import (
    HeldTargets,
    LegalHold,
    ProviderDeletion,
    Recording,
    RecordingDeletion,
    Ticket,
)
from tests.recordings import factories
from tests.recordings.factories import (
    AccountFactory,
    CallFactory,
    LegalHoldFactory,
    PersonFactory,
    PhoneLineFactory,
    RecordingFactory,
    TicketFactory,
    UserFactory,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=dt_timezone.utc)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


recording_on = partial(factories.recording_on, now=NOW)


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_recordings", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_deletes_recordings_and_voicemails_older_than_their_lines_window() -> None:
    line = PhoneLineFactory(auto_delete_days=30)
    old_call = recording_on(line, age_days=31)
    old_voicemail = recording_on(line, age_days=45, kind=Recording.Kind.VOICEMAIL)
    young = recording_on(line, age_days=29)

    output = purge()

    assert set(Recording.objects.values_list("pk", flat=True)) == {young.pk}
    assert {entry.id for entry in RecordingDeletion.objects.all()} == {old_call.pk, old_voicemail.pk}
    assert "deleted 2 recordings (2 past their line's auto-delete window, 0 with their ticket)" in output


def test_it_keeps_recordings_of_lines_set_to_never() -> None:
    line = PhoneLineFactory(auto_delete_days=None)
    kept = recording_on(line, age_days=4000)

    purge()

    assert Recording.objects.filter(pk=kept.pk).exists()


@pytest.mark.parametrize("days", [1, 7, 14, 30, 60, 90, 180, 365])
def test_each_preset_window_applies_from_its_number_of_days(days: int) -> None:
    line = PhoneLineFactory(auto_delete_days=days)
    due = recording_on(line, age_days=days + 0.01)
    not_yet = recording_on(line, age_days=days - 0.01)

    purge()

    assert list(Recording.objects.values_list("pk", flat=True)) == [not_yet.pk]
    assert RecordingDeletion.objects.get().id == due.pk


def test_a_window_outside_the_presets_is_refused_by_the_database() -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        PhoneLineFactory(auto_delete_days=3)


def test_each_auto_deleted_recording_has_its_own_audit_entry_naming_the_window() -> None:
    line = PhoneLineFactory(auto_delete_days=7, name="Sales EU")
    ticket = TicketFactory(account=line.account)
    recording = recording_on(line, age_days=8, ticket=ticket)

    purge()

    entry = RecordingDeletion.objects.get()
    assert entry.id == recording.pk
    assert entry.provider_sid == recording.provider_sid
    assert entry.ticket_id == ticket.pk
    assert entry.deletion_reason == "auto_delete"
    assert entry.history_username == "auto-delete of line Sales EU"
    assert "after 7 days" in entry.deletion_detail
    assert entry.history_origin == "command"
    assert entry.history_date == NOW


def test_every_deleted_recording_is_queued_for_deletion_at_the_provider() -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    recordings = [recording_on(line, age_days=2) for _ in range(3)]

    purge()

    queued = ProviderDeletion.objects.pending()
    assert sorted(queued.values_list("provider_sid", flat=True)) == sorted(r.provider_sid for r in recordings)


def test_a_ticket_soft_deleted_seven_days_ago_is_deleted_with_its_recordings_each_audited() -> None:
    admin = UserFactory(username="alice")
    line = PhoneLineFactory(auto_delete_days=None)
    ticket = TicketFactory(account=line.account)
    recordings = [recording_on(line, age_days=1, ticket=ticket) for _ in range(2)]
    services.ticket_soft_delete(ticket_id=ticket.pk, user=admin, now=NOW - timedelta(days=7))

    output = purge()

    assert not Ticket.objects.filter(pk=ticket.pk).exists()
    entries = list(RecordingDeletion.objects.order_by("id"))
    assert [entry.id for entry in entries] == [r.pk for r in recordings]
    for entry in entries:
        assert entry.ticket_id == ticket.pk
        assert entry.deletion_reason == "ticket_deleted"
        assert entry.history_username == "alice"
        assert f"Ticket #{ticket.pk} deleted by alice" in entry.deletion_detail
    assert "2 with their ticket) and 1 tickets" in output


def test_a_ticket_soft_deleted_less_than_seven_days_ago_stays_restorable() -> None:
    line = PhoneLineFactory(auto_delete_days=None)
    ticket = TicketFactory(account=line.account)
    recording = recording_on(line, age_days=1, ticket=ticket)
    services.ticket_soft_delete(ticket_id=ticket.pk, now=NOW - timedelta(days=6, hours=23))

    purge()
    assert services.ticket_restore(ticket_id=ticket.pk)

    assert Ticket.objects.get(pk=ticket.pk).deleted_at is None
    assert Recording.objects.filter(pk=recording.pk).exists()


def test_a_restored_ticket_is_not_purged() -> None:
    ticket = TicketFactory()
    services.ticket_soft_delete(ticket_id=ticket.pk, now=NOW - timedelta(days=10))
    services.ticket_restore(ticket_id=ticket.pk)

    purge()

    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_the_ticket_soft_deletion_is_in_the_ticket_history_with_its_author() -> None:
    admin = UserFactory(username="bob")
    ticket = TicketFactory()

    assert services.ticket_soft_delete(ticket_id=ticket.pk, user=admin)
    assert not services.ticket_soft_delete(ticket_id=ticket.pk, user=admin)

    latest = ticket.history.order_by("-history_id").first()
    assert latest.deleted_at == NOW
    assert latest.history_username == "bob"
    assert ticket.history.count() == 2


@pytest.mark.parametrize("scope", ["account", "ticket", "person"])
def test_held_recordings_and_tickets_are_skipped_and_counted(scope: str) -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    ticket = TicketFactory(account=line.account)
    held = recording_on(line, age_days=5, ticket=ticket)
    services.ticket_soft_delete(ticket_id=ticket.pk, now=NOW - timedelta(days=8))
    target = {"account": {}, "ticket": {"ticket": ticket}, "person": {"person": ticket.requester}}[scope]
    LegalHoldFactory(account=line.account, scope=scope, **target)
    other_account_line = PhoneLineFactory(auto_delete_days=1)
    free = recording_on(other_account_line, age_days=5)

    output = purge()

    assert Recording.objects.filter(pk=held.pk).exists()
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert not Recording.objects.filter(pk=free.pk).exists()
    assert "skipped under legal hold: 1 recordings, 1 tickets" in output


def test_a_hold_on_a_caller_keeps_their_recordings_on_any_line() -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    recording = recording_on(line, age_days=3)
    LegalHoldFactory(account=line.account, scope=LegalHold.Scope.PERSON, person=recording.call.end_user)

    result = services.recordings_purge(now=NOW)

    assert Recording.objects.filter(pk=recording.pk).exists()
    assert result.recordings_held == 1


def test_a_released_hold_no_longer_stops_the_purge() -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    recording = recording_on(line, age_days=3)
    hold = LegalHoldFactory(account=line.account)
    assert services.legal_hold_release(hold_id=hold.pk)
    assert not services.legal_hold_release(hold_id=hold.pk)

    purge()

    assert not Recording.objects.filter(pk=recording.pk).exists()


def test_a_dry_run_counts_and_changes_nothing() -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    for _ in range(3):
        recording_on(line, age_days=3)
    ticket = TicketFactory(account=line.account)
    services.ticket_soft_delete(ticket_id=ticket.pk, now=NOW - timedelta(days=8))

    output = purge("--dry-run")

    assert Recording.objects.count() == 3
    assert Ticket.objects.count() == 1
    assert not RecordingDeletion.objects.exists()
    assert not ProviderDeletion.objects.exists()
    assert output.startswith("Dry run: would delete 3 recordings")
    assert "and 1 tickets" in output


def test_running_it_twice_deletes_nothing_twice() -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    for _ in range(4):
        recording_on(line, age_days=3)

    purge("--batch-size", "3")
    second = purge("--batch-size", "3")

    assert RecordingDeletion.objects.count() == 4
    assert ProviderDeletion.objects.count() == 4
    assert "deleted 0 recordings" in second


def test_a_purge_interrupted_midway_finishes_on_the_next_run_without_doubles() -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    recordings = [recording_on(line, age_days=3) for _ in range(10)]
    ticket = TicketFactory(account=line.account)
    on_ticket = recording_on(PhoneLineFactory(account=line.account, auto_delete_days=None), age_days=1, ticket=ticket)
    services.ticket_soft_delete(ticket_id=ticket.pk, now=NOW - timedelta(days=8))

    def interrupt_after_first_batch(count: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        services.recordings_purge(now=NOW, batch_size=4, on_batch=interrupt_after_first_batch)

    assert Recording.objects.count() == 11 - 4
    assert RecordingDeletion.objects.count() == 4

    result = services.recordings_purge(now=NOW, batch_size=4)

    assert result.recordings_deleted == 7
    assert not Recording.objects.exists()
    assert not Ticket.objects.exists()
    deleted_ids = list(RecordingDeletion.objects.values_list("id", flat=True))
    assert sorted(deleted_ids) == sorted([r.pk for r in recordings] + [on_ticket.pk])
    assert ProviderDeletion.objects.count() == 11


def test_a_batch_that_fails_midway_is_rolled_back_whole_and_redone(monkeypatch: Any) -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    for _ in range(6):
        recording_on(line, age_days=3)
    real_insert = deletion.insert_select
    calls = {"n": 0}

    def crash_on_second_batch(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1  # the provider rows' insert, after the history rows'
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(deletion, "insert_select", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        services.recordings_purge(now=NOW, batch_size=3)
    assert Recording.objects.count() == 3
    assert RecordingDeletion.objects.count() == 3

    monkeypatch.setattr(deletion, "insert_select", real_insert)
    services.recordings_purge(now=NOW, batch_size=3)

    assert not Recording.objects.exists()
    assert RecordingDeletion.objects.count() == 6
    assert ProviderDeletion.objects.count() == 6


def test_a_recording_claimed_by_another_run_is_not_deleted_twice() -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    recording = recording_on(line, age_days=3)
    first = services.recordings_purge_batch(ids=[recording.pk], now=NOW)
    second = services.recordings_purge_batch(ids=[recording.pk], now=NOW)

    assert (len(first), first.by_reason) == (1, {"auto_delete": 1})
    assert len(second) == 0
    assert RecordingDeletion.objects.count() == 1


def _seed(count: int) -> None:
    account = AccountFactory()
    line = PhoneLineFactory(account=account, auto_delete_days=1)
    keep_line = PhoneLineFactory(account=account, auto_delete_days=None)
    for index in range(count):
        ticket = TicketFactory(account=account)
        recording_on(line, age_days=3, ticket=ticket if index % 2 else None)
        if index % 3 == 0:
            recording_on(keep_line, age_days=1, ticket=ticket)
            services.ticket_soft_delete(ticket_id=ticket.pk, now=NOW - timedelta(days=9))


@pytest.mark.parametrize("rows", [5, 60])
def test_the_purge_query_count_does_not_grow_with_the_rows(rows: int, django_assert_max_num_queries: Any) -> None:
    _seed(rows)
    # One batch holds everything in both sizes: the count must be the same for 5 rows and for 60.
    # The audit chain adds a fixed handful per batch (lock the head, insert the entries, move the head).
    with django_assert_max_num_queries(35):
        result = services.recordings_purge(now=NOW, batch_size=1000)
    assert result.recordings_deleted > 0
    assert not Recording.objects.due_for_purge(NOW).exists()


def test_the_purge_leaves_the_audit_log_verifying_with_every_deletion_sealed() -> None:
    _seed(6)

    result = services.recordings_purge(now=NOW, batch_size=4)

    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    assert result.recordings_deleted > 0 and "Sealed tables intact" in out.getvalue()
    sealed = {row_id for row_id, _entry, _digest in seals("recordings_historicalrecording")}
    assert set(RecordingDeletion.objects.values_list("history_id", flat=True)) <= sealed


def test_the_batch_size_must_be_positive() -> None:
    with pytest.raises(CommandError, match="--batch-size"):
        purge("--batch-size", "0")


class StepClock:
    """A clock each batch of which takes ``steps`` seconds in turn (read at its start and at its end)."""

    def __init__(self, *steps: float) -> None:
        self.steps, self.now, self.reads = list(steps), 0.0, 0

    def __call__(self) -> float:
        self.reads += 1
        if self.reads % 2 == 0:  # a batch's end
            self.now += self.steps[min(self.reads // 2 - 1, len(self.steps) - 1)]
        return self.now


def sizes(sizer: BatchSizer, batches: int) -> list[int]:
    seen = []
    for _ in range(batches):
        seen.append(sizer.start())
        sizer.done()
    return seen


def test_batches_grow_toward_a_second_each_at_most_fourfold_at_a_time_and_stop_at_the_ceiling() -> None:
    # Quick batches: 0.1 s a batch wants ten times its size; the size grows fourfold at most, and not past 50,000.
    assert sizes(BatchSizer(clock=StepClock(0.1)), 4) == [5000, 20000, 50000, 50000]


def test_batches_shrink_when_they_take_longer_than_a_second_and_not_below_the_floor() -> None:
    assert sizes(BatchSizer(clock=StepClock(4.0)), 6) == [5000, 1250, 312, 100, 100, 100]
    assert sizes(BatchSizer(clock=StepClock(2.0, 0.5, 1.0)), 4) == [5000, 2500, 5000, 5000]


def test_a_size_asked_for_stays_whatever_the_batches_take() -> None:
    assert sizes(BatchSizer(fixed=7, clock=StepClock(9.0)), 3) == [7, 7, 7]


def test_the_purge_sizes_its_batches_by_time_when_no_size_is_given() -> None:
    _seed(12)  # 12 due recordings, then 4 due tickets
    taken: list[int] = []

    result = services.recordings_purge(
        now=NOW, sizer=BatchSizer(first=2, low=1, clock=StepClock(0.25)), on_batch=taken.append
    )

    assert not Recording.objects.due_for_purge(NOW).not_held().exists()
    assert not Ticket.objects.due_for_purge(NOW).not_held().exists()
    # 2 recordings, then 8 (fourfold), then what is left; the tickets go in one batch of the size reached.
    assert taken[:2] == [2, 8] and sum(taken) == result.recordings_deleted + result.tickets_deleted
    assert result.batches == len(taken) <= 5


def test_the_command_sizes_its_batches_by_time_by_default() -> None:
    _seed(3)

    out = purge()

    assert "deleted 4 recordings" in out and "1 tickets" in out
    assert not Recording.objects.due_for_purge(NOW).not_held().exists()


def test_the_holds_read_as_sets_leave_out_exactly_what_not_held_leaves_out() -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    account_held = PhoneLineFactory(auto_delete_days=1)
    ticket = TicketFactory(account=line.account)
    requester_ticket = TicketFactory(account=line.account)
    on_ticket = recording_on(line, age_days=3, ticket=ticket)
    on_requesters_ticket = recording_on(line, age_days=3, ticket=requester_ticket)
    caller = recording_on(line, age_days=3)
    agent = RecordingFactory(
        call=CallFactory(line=line, agent=PersonFactory(account=line.account), started=NOW - timedelta(days=3)),
        created_at=NOW - timedelta(days=3),
    )
    free = [recording_on(line, age_days=3), recording_on(line, age_days=3, ticket=TicketFactory(account=line.account, requester=None))]
    recording_on(account_held, age_days=3)
    LegalHoldFactory(account=account_held.account, scope=LegalHold.Scope.ACCOUNT)
    LegalHoldFactory(account=line.account, scope=LegalHold.Scope.TICKET, ticket=ticket)
    LegalHoldFactory(account=line.account, scope=LegalHold.Scope.PERSON, person=requester_ticket.requester)
    LegalHoldFactory(account=line.account, scope=LegalHold.Scope.PERSON, person=caller.call.end_user)
    LegalHoldFactory(account=line.account, scope=LegalHold.Scope.PERSON, person=agent.call.agent)
    LegalHoldFactory(account=line.account, scope=LegalHold.Scope.ACCOUNT, released_at=NOW)

    as_sets = Recording.objects.not_held_by(HoldsAsRead.read().targets)

    assert set(as_sets) == set(Recording.objects.not_held()) == set(free)
    assert {on_ticket, on_requesters_ticket, caller, agent}.isdisjoint(as_sets)


def test_a_hold_placed_while_a_batch_runs_rolls_it_back_and_the_purge_keeps_the_held_recording(monkeypatch: Any) -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    recordings = [recording_on(line, age_days=3) for _ in range(3)]
    LegalHoldFactory(account=line.account, scope=LegalHold.Scope.ACCOUNT)
    real_read = HoldsAsRead.read.__func__
    reads = []

    def read_before_the_hold(cls: type[HoldsAsRead]) -> HoldsAsRead:
        # The first batch read the holds just before another session placed this one (in one test connection,
        # a hold placed inside the batch would roll back with it): it saw none.
        reads.append(cls)
        return HoldsAsRead(targets=HeldTargets(), newest=0) if len(reads) <= 1 else real_read(cls)

    monkeypatch.setattr(HoldsAsRead, "read", classmethod(read_before_the_hold))
    result = services.recordings_purge(now=NOW)

    assert len(reads) > 1 and set(Recording.objects.all()) == set(recordings)
    assert (result.recordings_deleted, result.recordings_held) == (0, 3)
    assert not RecordingDeletion.objects.exists() and not ProviderDeletion.objects.exists()


def test_a_hold_placed_between_batches_keeps_what_it_covers_in_the_batches_after_it() -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    first = [recording_on(line, age_days=3) for _ in range(2)]
    person = PersonFactory(account=line.account)
    later = [recording_on(line, age_days=3, call={"end_user": person}) for _ in range(2)]
    free = recording_on(line, age_days=3)
    placed: list[LegalHold] = []

    def hold_after_the_first_batch(count: int) -> None:
        if not placed:
            placed.append(LegalHoldFactory(account=line.account, scope=LegalHold.Scope.PERSON, person=person))

    result = services.recordings_purge(now=NOW, batch_size=2, on_batch=hold_after_the_first_batch)

    assert set(Recording.objects.all()) == set(later)
    assert result.recordings_deleted == len(first) + 1 and result.recordings_held == 2
    assert set(RecordingDeletion.objects.values_list("id", flat=True)) == {r.pk for r in [*first, free]}
