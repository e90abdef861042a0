"""The purge: recordings past their line's auto-delete window, and tickets soft-deleted 7+ days ago with
their recordings, in committed batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from recordings.deletion import AuditInfo, delete_claimed_recordings
from recordings.models import (
    TICKET_PURGE_AFTER,
    Call,
    DeletionReason,
    LegalHold,
    Recording,
    Ticket,
)
from residency.history import write_history


def _purge_audit(now: datetime) -> Callable[[Recording], AuditInfo]:
    """The audit entry of a purged recording: its ticket's deletion if the ticket is due, else its line's window."""

    def audit_for(recording: Recording) -> AuditInfo:
        ticket = recording.ticket
        if ticket is not None and ticket.deleted_at is not None and ticket.deleted_at <= now - TICKET_PURGE_AFTER:
            return AuditInfo(
                reason=DeletionReason.TICKET_DELETED,
                detail=(
                    f"Ticket #{ticket.pk} deleted by {ticket.deleted_by_name or 'unknown'} on "
                    f"{ticket.deleted_at:%Y-%m-%d}; permanently deleted 7 days later"
                ),
                username=ticket.deleted_by_name or f"deletion of ticket #{ticket.pk}",
                user_id=ticket.deleted_by_id,
            )
        line = recording.line
        return AuditInfo(
            reason=DeletionReason.AUTO_DELETE,
            detail=f"Auto-delete of line {line.name} ({line.number}) after {line.auto_delete_label}",
            username=f"auto-delete of line {line.name}",
        )

    return audit_for


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
def recordings_purge_batch(*, ids: list[int], now: datetime) -> list[Recording]:
    """Delete the recordings among ``ids`` that are still due and not held, each with its audit entry."""
    candidates = Recording.objects.filter(pk__in=ids).due_for_purge(now).not_held()
    return delete_claimed_recordings(candidates, audit_for=_purge_audit(now), now=now)


def _tickets_ready_for_purge(now: datetime) -> Any:
    """Tickets due, not held, and with no recording left (a held recording keeps its ticket)."""
    return (
        Ticket.objects.due_for_purge(now)
        .not_held()
        .exclude(Exists(Recording.objects.filter(ticket_id=OuterRef("pk"))))
    )


@transaction.atomic
def tickets_purge_batch(*, ids: list[int], now: datetime) -> int:
    """Delete for good the tickets among ``ids`` still ready for purge; returns how many."""
    tickets = list(_tickets_ready_for_purge(now).filter(pk__in=ids).select_for_update())
    if not tickets:
        return 0
    ticket_ids = [ticket.pk for ticket in tickets]
    # Unlink what outlives the ticket: its calls (the call history stays) and released holds.
    Call.objects.filter(ticket_id__in=ticket_ids).update(ticket=None)
    LegalHold.objects.filter(ticket_id__in=ticket_ids).update(ticket=None)
    write_history(
        tickets,
        history_type="-",
        when=now,
        reason="Permanently deleted 7 days after its soft deletion",
        per_object=lambda t: {"history_username": t.deleted_by_name, "history_user_id": t.deleted_by_id},
    )
    # Conditional on still being soft-deleted: a ticket restored meanwhile is not deleted (nor counted).
    doomed = Ticket.objects.filter(pk__in=ticket_ids, deleted_at__lte=now - TICKET_PURGE_AFTER)
    return doomed._raw_delete(doomed.db)


def recordings_purge(
    *,
    now: datetime,
    batch_size: int = 500,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> PurgeResult:
    """Delete every recording past its line's window and every ticket soft-deleted 7+ days ago with its recordings.

    Not one transaction on purpose: each batch commits on its own, so an interrupted purge keeps what it
    did and the next run carries on (a deleted row is no longer due, so nothing is deleted twice).
    Held recordings and tickets are skipped and counted. ``on_batch(n)`` reports progress.
    """
    if batch_size < 1:
        raise ValidationError({"batch_size": "Must be at least 1."})
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
        audit_for = _purge_audit(now)
        last_pk = 0
        while True:
            ids = list(due.not_held().filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            last_pk = ids[-1]
            for recording in recordings_purge_batch(ids=ids, now=now):
                if audit_for(recording).reason == DeletionReason.TICKET_DELETED:
                    result.recordings_with_ticket += 1
                else:
                    result.recordings_auto_delete += 1
            result.batches += 1
            if on_batch:
                on_batch(len(ids))
        last_pk = 0
        while True:
            ids = list(
                _tickets_ready_for_purge(now).filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            last_pk = ids[-1]
            result.tickets_deleted += tickets_purge_batch(ids=ids, now=now)
            result.batches += 1
            if on_batch:
                on_batch(len(ids))
    result.recordings_held = due.held().count()
    result.tickets_held = Ticket.objects.due_for_purge(now).held().count()
    return result


def purge_workload(*, now: datetime) -> int:
    """How many rows (recordings and tickets) the purge has to delete now: the progress bar's total."""
    return Recording.objects.due_for_purge(now).not_held().count() + Ticket.objects.due_for_purge(now).not_held().count()
