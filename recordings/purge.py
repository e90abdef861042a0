"""The purge: recordings past their line's auto-delete window, and tickets soft-deleted 7+ days ago with
their recordings, in committed batches."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, TruncDate

from core.history import write_history
from recordings.deletion import AuditInfo, Deleted, delete_claimed_recordings
from recordings.holds import HoldsAsRead, HoldsChanged
from recordings.models import (
    TICKET_PURGE_AFTER,
    Call,
    DeletionReason,
    LegalHold,
    Recording,
    Ticket,
)


def _purge_audit(now: datetime) -> AuditInfo:
    """Each purged recording's audit-log row, as SQL over its row: its ticket's deletion if the ticket is due
    (who deleted it, and when), else its line's auto-delete window."""
    ticket_due = Q(ticket__deleted_at__lte=now - TICKET_PURGE_AFTER)
    deleter = NullIf(F("ticket__deleted_by_name"), Value(""))
    ticket_id = Cast("ticket_id", CharField())
    deleted_on = Cast(TruncDate("ticket__deleted_at", tzinfo=dt.timezone.utc), CharField())
    window = Concat(Cast("line__auto_delete_days", CharField()), Value(" days"))
    text = CharField()
    return AuditInfo(
        reason=Case(
            When(ticket_due, then=Value(DeletionReason.TICKET_DELETED.value)),
            default=Value(DeletionReason.AUTO_DELETE.value),
            output_field=text,
        ),
        detail=Case(
            When(
                ticket_due,
                then=Concat(
                    Value("Ticket #"), ticket_id, Value(" deleted by "), Coalesce(deleter, Value("unknown")),
                    Value(" on "), deleted_on, Value("; permanently deleted 7 days later"), output_field=text,
                ),
            ),
            default=Concat(
                Value("Auto-delete of line "), F("line__name"), Value(" ("), F("line__number"), Value(") after "), window,
                output_field=text,
            ),
            output_field=text,
        ),
        username=Case(
            When(ticket_due, then=Coalesce(deleter, Concat(Value("deletion of ticket #"), ticket_id), output_field=text)),
            default=Concat(Value("auto-delete of line "), F("line__name"), output_field=text),
            output_field=text,
        ),
        user_id=Case(When(ticket_due, then=F("ticket__deleted_by_id")), default=None, output_field=IntegerField()),
        actor="purge",
        summary="Recordings past their line's auto-delete window, or on tickets soft-deleted 7 or more days before.",
    )


@dataclass
class BatchSizer:
    """How many rows the purge's next batch takes: a fixed number when asked for one, else as many as fill about
    ``seconds`` (measured on the batches so far), between ``low`` and ``high``.

    Each batch has a fixed cost (its queries compiled and sent, a commit, an audit-chain entry): small batches pay
    it too often, large ones hold their locks long and lose more to an interruption. A second keeps that cost small
    beside the rows and a rerun after an interruption cheap; ``high`` bounds what a batch holds in memory (its
    ids, and the seals of its deletion rows). The size moves at most fourfold from one batch to the next, so one
    slow or quick batch (a checkpoint, a cold cache) does not swing it. The first batch, 5,000 rows, takes a
    fraction of a second on an ordinary server (about 0.15 s measured), so it is safe to start there.
    """

    fixed: int | None = None
    seconds: float = 1.0
    first: int = 5000
    low: int = 100
    high: int = 50_000
    clock: Callable[[], float] = time.monotonic
    size: int = field(init=False)
    _started: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.size = self.fixed or self.first

    def start(self) -> int:
        """The next batch's size; its time runs from now until :meth:`done`."""
        self._started = self.clock()
        return self.size

    def done(self) -> None:
        """The batch begun by :meth:`start` is committed: size the next one by how long it took."""
        if self.fixed:
            return
        elapsed = self.clock() - self._started
        wanted = self.size * 4 if elapsed <= 0 else round(self.size * self.seconds / elapsed)
        self.size = max(self.low, self.size // 4, min(self.high, self.size * 4, wanted))


@dataclass
class PurgeResult:
    dry_run: bool = False
    recordings_auto_delete: int = 0
    recordings_with_ticket: int = 0
    tickets_deleted: int = 0
    recordings_held: int = 0
    tickets_held: int = 0
    batches: int = 0

    @property
    def recordings_deleted(self) -> int:
        return self.recordings_auto_delete + self.recordings_with_ticket

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"{verb} {self.recordings_deleted} recordings ({self.recordings_auto_delete} past their line's "
            f"auto-delete window, {self.recordings_with_ticket} with their ticket) and {self.tickets_deleted} "
            f"tickets; skipped under legal hold: {self.recordings_held} recordings, {self.tickets_held} tickets"
        )


@transaction.atomic
def recordings_purge_batch(*, ids: list[int], now: datetime) -> Deleted:
    """Delete the recordings among ``ids`` that are still due and not held, each with its audit-log row."""
    candidates = Recording.objects.filter(pk__in=ids).due_for_purge(now).not_held()
    return delete_claimed_recordings(candidates, audit=_purge_audit(now), now=now)


@transaction.atomic
def recordings_purge_range(*, after: int, upto: int | None, now: datetime, holds: HoldsAsRead | None = None) -> Deleted:
    """Delete the recordings with ``after < pk <= upto`` (no upper bound when ``upto`` is None) that are due and
    not held, each with its audit-log row.

    The holds (``holds``, as the caller read them to find the range, or read now) filter as sets of ids, no
    subquery per row; a hold placed since they were read, before this commits, rolls it back
    (:class:`~recordings.holds.HoldsChanged`), for the caller to try the range again."""
    holds = holds or HoldsAsRead.read()
    candidates = Recording.objects.filter(pk__gt=after).due_for_purge(now).not_held_by(holds.targets)
    if upto is not None:
        candidates = candidates.filter(pk__lte=upto)
    deleted = delete_claimed_recordings(candidates, audit=_purge_audit(now), now=now)
    holds.check_unchanged()
    return deleted


def _tickets_ready_for_purge(now: datetime) -> Any:
    """Tickets due, not held, and with no recording left (a held recording keeps its ticket)."""
    return (
        Ticket.objects.due_for_purge(now)
        .not_held()
        .exclude(Exists(Recording.objects.filter(ticket_id=OuterRef("pk"))))
    )


@transaction.atomic
def tickets_purge_batch(*, ids: list[int], now: datetime) -> int:
    """Delete for good the tickets among ``ids`` still ready for purge; returns how many.

    A held ticket is never deleted, however long ago it was soft-deleted: the candidates leave out held rows,
    and so does the ``DELETE`` itself, which is what decides."""
    tickets = {ticket.pk: ticket for ticket in _tickets_ready_for_purge(now).filter(pk__in=ids).select_for_update()}
    if not tickets:
        return 0
    # Conditional on still being soft-deleted and not held: a ticket restored, or put under a hold, since it was
    # read is neither deleted nor counted (a hold does not lock the ticket, so the lock above cannot stop it).
    doomed = Ticket.objects.filter(pk__in=list(tickets), deleted_at__lte=now - TICKET_PURGE_AFTER).not_held()
    if doomed._raw_delete(doomed.db) < len(tickets):
        for kept in Ticket.objects.filter(pk__in=list(tickets)).values_list("pk", flat=True):
            del tickets[kept]
    gone = list(tickets)
    # Unlink what outlives the ticket: its calls (the call history stays) and released holds. After the DELETE,
    # in the same transaction: foreign keys are checked at commit.
    Call.objects.filter(ticket_id__in=gone).update(ticket=None)
    LegalHold.objects.filter(ticket_id__in=gone).update(ticket=None)
    write_history(
        tickets.values(),
        history_type="-",
        when=now,
        reason="Permanently deleted 7 days after its soft deletion",
        per_object=lambda t: {"history_username": t.deleted_by_name, "history_user_id": t.deleted_by_id},
    )
    return len(gone)


def recordings_purge(
    *,
    now: datetime,
    batch_size: int | None = None,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
    sizer: BatchSizer | None = None,
) -> PurgeResult:
    """Delete every recording past its line's window and every ticket soft-deleted 7+ days ago with its recordings.

    Not one transaction on purpose: each batch commits on its own, so an interrupted purge keeps what it
    did and the next run carries on (a deleted row is no longer due, so nothing is deleted twice).
    Held recordings and tickets are skipped and counted. ``on_batch(n)`` reports progress. Batches take
    ``batch_size`` rows when given, else about a second each (:class:`BatchSizer`).
    """
    if batch_size is not None and batch_size < 1:
        raise ValidationError({"batch_size": "Must be at least 1."})
    sizer = sizer or BatchSizer(fixed=batch_size)
    result = PurgeResult(dry_run=dry_run)
    due = Recording.objects.due_for_purge(now)
    if dry_run:
        auto = due.not_held().filter(~Q(pk__in=Recording.objects.of_purged_tickets(now).values("pk")))
        result.recordings_auto_delete = auto.count()
        result.recordings_with_ticket = Recording.objects.of_purged_tickets(now).not_held().count()
        result.tickets_deleted = Ticket.objects.due_for_purge(now).not_held().exclude(
            Exists(Recording.objects.filter(ticket_id=OuterRef("pk")).held())
        ).count()
    else:
        last_pk = 0
        # Read once for the run: each batch checks before it commits that no hold was placed since (a release
        # only leaves rows for the next run), and the holds are read again when one was.
        holds = HoldsAsRead.read()
        while True:
            # A batch is the range of ``batch_size`` primary keys from the next due row: both ends found by one
            # cheap indexed read (the first stops at the first due row), claimed by range, with no list of ids
            # sent back and forth.
            batch_size = sizer.start()
            upper_of = Recording.objects.filter(pk__gte=OuterRef("pk")).order_by("pk").values("pk")[batch_size - 1 : batch_size]
            ends = (
                due.filter(pk__gt=last_pk)
                .not_held_by(holds.targets)
                .order_by("pk")
                .values_list("pk", Subquery(upper_of))
                .first()
            )
            if ends is None:
                break
            first, upper = ends
            try:
                deleted = recordings_purge_range(after=first - 1, upto=upper, now=now, holds=holds)
            except HoldsChanged:
                holds = HoldsAsRead.read()
                continue  # the same range again, with the new hold
            sizer.done()
            result.recordings_with_ticket += deleted.by_reason[DeletionReason.TICKET_DELETED]
            result.recordings_auto_delete += deleted.by_reason[DeletionReason.AUTO_DELETE]
            if deleted:
                result.batches += 1
                if on_batch:
                    on_batch(len(deleted))
            if upper is None:
                break
            last_pk = upper
        last_pk = 0
        while True:
            batch_size = sizer.start()
            ids = list(
                _tickets_ready_for_purge(now).filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            last_pk = ids[-1]
            result.tickets_deleted += tickets_purge_batch(ids=ids, now=now)
            sizer.done()
            result.batches += 1
            if on_batch:
                on_batch(len(ids))
    if LegalHold.objects.active().exists():  # else nothing is held: no need to read every due row again
        result.recordings_held = due.held().count()
        result.tickets_held = Ticket.objects.due_for_purge(now).held().count()
    return result


def purge_workload(*, now: datetime) -> int:
    """How many rows (recordings and tickets) the purge has to delete now: the progress bar's total."""
    return Recording.objects.due_for_purge(now).not_held().count() + Ticket.objects.due_for_purge(now).not_held().count()
