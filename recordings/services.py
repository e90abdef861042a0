"""What changes telephony records: deletion of recordings (three paths, one audit log), tickets, holds,
the provider deletion outbox and history exports. Admin, API, commands and tasks all call these."""

from __future__ import annotations

import calendar
import csv
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from recordings.models import (
    TICKET_PURGE_AFTER,
    Call,
    DeletionReason,
    HistoryExport,
    LegalHold,
    MonitoringEntry,
    ProviderDeletion,
    Recording,
    Ticket,
)
from recordings.provider import DeletionOutcome, RecordingProvider, get_provider
from residency.audit import Action, Record, audit_append, audit_append_many
from residency.csv_safety import safe_cell
from residency.history import actor_name, write_history
from residency.models import Account

logger = logging.getLogger(__name__)


class RecordingHeld(PermissionDenied):
    """A deletion refused because a legal hold covers the recording; the message names the hold."""


# --------------------------------------------------------------------------------------------------
# Legal holds


def holds_covering_recording(recording: Recording) -> list[LegalHold]:
    """The active holds that stop ``recording`` from being deleted, oldest first."""
    return list(LegalHold.objects.active().covering_recording(recording).order_by("pk"))


def hold_message(hold: LegalHold) -> str:
    return f"legal hold #{hold.pk} on {hold.target_label} ({hold.reason}), placed by {hold.placed_by_name or 'unknown'}"


def legal_hold_validate(
    *, account: Account | None, scope: str, reason: str, ticket: Ticket | None = None, person: Any = None
) -> None:
    """Raise ``ValidationError`` naming the field when a hold would not make sense."""
    if account is None:
        raise ValidationError({"account": "Choose the account the hold is for."})
    if scope not in LegalHold.Scope.values:
        raise ValidationError({"scope": f"Choose one of {', '.join(LegalHold.Scope.values)}."})
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the hold is placed."})
    if scope == LegalHold.Scope.TICKET and (ticket is None or ticket.account_id != account.pk):
        raise ValidationError({"ticket": "Choose a ticket of this account for a ticket hold."})
    if scope == LegalHold.Scope.PERSON and (person is None or person.account_id != account.pk):
        raise ValidationError({"person": "Choose a person of this account for a person hold."})
    if scope != LegalHold.Scope.TICKET and ticket is not None:
        raise ValidationError({"ticket": "Only a ticket hold names a ticket."})
    if scope != LegalHold.Scope.PERSON and person is not None:
        raise ValidationError({"person": "Only a person hold names a person."})


@transaction.atomic
def legal_hold_place(
    *,
    account: Account,
    scope: str,
    reason: str,
    user: Any = None,
    ticket: Ticket | None = None,
    person: Any = None,
) -> LegalHold:
    """Place a hold on an account, one of its tickets or one of its people."""
    legal_hold_validate(account=account, scope=scope, reason=reason, ticket=ticket, person=person)
    hold = LegalHold(
        account=account,
        scope=scope,
        ticket=ticket if scope == LegalHold.Scope.TICKET else None,
        person=person if scope == LegalHold.Scope.PERSON else None,
        reason=reason.strip(),
        placed_by=user if user is not None and user.is_authenticated else None,
        placed_by_name=actor_name(user),
    )
    hold.full_clean()
    hold.save()
    audit_append(
        Record(
            action=Action.HOLD_PLACED,
            object_type="recordings.legalhold",
            object_id=hold.pk,
            account_id=account.pk,
            actor=hold.placed_by_name,
            data={"scope": hold.scope, "ticket": hold.ticket_id, "person": hold.person_id, "reason": hold.reason},
        )
    )
    return hold


@transaction.atomic
def legal_hold_release(*, hold_id: int, user: Any = None, now: datetime | None = None) -> bool:
    """Release a hold; returns False when it was already released (nothing changes then)."""
    now = now or timezone.now()
    name = actor_name(user)
    if not LegalHold.objects.filter(pk=hold_id, released_at__isnull=True).update(released_at=now, released_by_name=name):
        return False
    write_history(LegalHold.objects.filter(pk=hold_id), history_type="~", user_id=_user_id(user), username=name)
    hold = LegalHold.objects.get(pk=hold_id)
    audit_append(
        Record(
            action=Action.HOLD_RELEASED,
            object_type="recordings.legalhold",
            object_id=hold_id,
            account_id=hold.account_id,
            actor=name,
            data={"scope": hold.scope, "ticket": hold.ticket_id, "person": hold.person_id, "placed_at": hold.placed_at},
        )
    )
    return True


# --------------------------------------------------------------------------------------------------
# Tickets


@transaction.atomic
def ticket_soft_delete(*, ticket_id: int, user: Any = None, now: datetime | None = None) -> bool:
    """Soft-delete a ticket (restorable for 7 days); returns False when it already was."""
    now = now or timezone.now()
    name = actor_name(user)
    changed = Ticket.objects.filter(pk=ticket_id, deleted_at__isnull=True).update(
        deleted_at=now, deleted_by_id=_user_id(user), deleted_by_name=name
    )
    if changed:
        write_history(Ticket.objects.filter(pk=ticket_id), history_type="~", user_id=_user_id(user), username=name)
    return bool(changed)


@transaction.atomic
def ticket_restore(*, ticket_id: int, user: Any = None) -> bool:
    """Undo a soft deletion; returns False when the ticket was not soft-deleted."""
    name = actor_name(user)
    changed = Ticket.objects.filter(pk=ticket_id, deleted_at__isnull=False).update(
        deleted_at=None, deleted_by_id=None, deleted_by_name=""
    )
    if changed:
        write_history(Ticket.objects.filter(pk=ticket_id), history_type="~", user_id=_user_id(user), username=name)
    return bool(changed)


# --------------------------------------------------------------------------------------------------
# Deleting recordings: one core every path goes through


@dataclass(frozen=True)
class AuditInfo:
    """Who deleted a recording and why, as its audit entry (the ``-`` history row) records it."""

    reason: str
    detail: str
    username: str
    user_id: int | None = None


def _delete_claimed_recordings(
    candidates: Any, *, audit_for: Callable[[Recording], AuditInfo], now: datetime
) -> list[Recording]:
    """Claim, audit, enqueue at the provider and delete the recordings of ``candidates``.

    The claim is a conditional update: a row another run already claimed (or deleted) is not matched, so
    a recording is deleted, audited and sent to the provider exactly once even when two runs overlap.
    Runs inside the caller's transaction; the number of queries does not depend on how many rows.
    """
    token = uuid.uuid4()
    if not candidates.filter(deletion_claim__isnull=True).update(deletion_claim=token):
        return []
    claimed = list(Recording.objects.filter(deletion_claim=token).select_related("line", "ticket").order_by("pk"))

    infos = {recording.pk: audit_for(recording) for recording in claimed}

    def per_object(recording: Recording) -> dict[str, Any]:
        info = infos[recording.pk]
        return {
            "history_username": info.username[:150],
            "history_user_id": info.user_id,
            "deletion_reason": info.reason,
            "deletion_detail": info.detail[:300],
            "history_change_reason": info.detail[:100],
        }

    write_history(claimed, history_type="-", when=now, per_object=per_object)
    audit_append_many(
        (
            Record(
                action=Action.RECORDING_DELETED,
                object_type="recordings.recording",
                object_id=recording.pk,
                account_id=recording.account_id,
                actor=infos[recording.pk].username,
                data={
                    "provider_sid": recording.provider_sid,
                    "kind": recording.kind,
                    "ticket": recording.ticket_id,
                    "line": recording.line_id,
                    "reason": infos[recording.pk].reason,
                    "detail": infos[recording.pk].detail,
                },
            )
            for recording in claimed
        ),
        at=now,
    )
    ProviderDeletion.objects.bulk_create(
        [
            ProviderDeletion(
                account_id=recording.account_id,
                provider_sid=recording.provider_sid,
                recording_id=recording.pk,
                created_at=now,
                next_attempt_at=now,
            )
            for recording in claimed
        ],
        batch_size=500,
    )
    # The history rows are written above in one insert; Model.delete() would send one post_delete signal,
    # hence one more history insert, per row. Nothing references a recording, so a plain DELETE is enough.
    doomed = Recording.objects.filter(deletion_claim=token)
    doomed._raw_delete(doomed.db)
    return claimed


@transaction.atomic
def recording_delete(*, recording_id: int, user: Any = None, account: Account | None = None) -> AuditInfo:
    """Delete one recording by hand (admin or API): permanent, audited, deleted at the provider too.

    Nothing is written to the ticket's own history (the guide: manual deletion is not in the ticket's
    event log). ``account`` scopes the lookup for API keys. Raises ``Recording.DoesNotExist`` when it is
    not there (or already deleted) and :class:`RecordingHeld`, naming the hold, when a hold covers it.
    """
    recordings = Recording.objects.select_related("ticket", "call")
    if account is not None:
        recordings = recordings.for_account(account)
    recording = recordings.get(pk=recording_id)
    holds = holds_covering_recording(recording)
    if holds:
        raise RecordingHeld(
            f"Recording {recording.provider_sid} cannot be deleted: it is under {hold_message(holds[0])}. "
            "Release the hold first."
        )
    ticket_label = f"ticket #{recording.ticket_id}" if recording.ticket_id else "no ticket"
    info = AuditInfo(
        reason=DeletionReason.MANUAL,
        detail=f"Deleted by hand from {ticket_label}",
        username=actor_name(user),
        user_id=_user_id(user),
    )
    # Re-checking the holds inside the claim closes the window where a hold is placed meanwhile.
    deleted = _delete_claimed_recordings(
        Recording.objects.filter(pk=recording.pk).not_held(), audit_for=lambda _r: info, now=timezone.now()
    )
    if not deleted:
        raise Recording.DoesNotExist(f"Recording {recording_id} was deleted meanwhile.")
    return info


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
    return _delete_claimed_recordings(candidates, audit_for=_purge_audit(now), now=now)


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


@transaction.atomic
def recordings_delete_for_erasure(*, recordings: Any, username: str, detail: str) -> list[Recording]:
    """Delete recordings as part of a data subject's erasure (holds respected), audited and sent to the provider."""
    info = AuditInfo(reason=DeletionReason.ERASURE, detail=detail, username=username)
    return _delete_claimed_recordings(recordings.not_held(), audit_for=lambda _r: info, now=timezone.now())


# --------------------------------------------------------------------------------------------------
# Deletion at the provider


RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 3600


def retry_delay(attempts: int, retry_after: int | None = None) -> timedelta:
    """Exponential backoff: 30 s, 1 min, 2 min… capped at an hour; a provider's Retry-After wins if longer."""
    seconds = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    if retry_after:
        seconds = max(seconds, min(retry_after, RETRY_MAX_SECONDS))
    return timedelta(seconds=seconds)


@dataclass
class ProviderRunResult:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"deleted at the provider: {self.done}; failed, to retry: {self.failed}; taken by another worker: {self.skipped}"


@transaction.atomic
def provider_deletion_record_outcome(*, deletion_id: int, outcome: DeletionOutcome, now: datetime) -> None:
    """Store one attempt's outcome: done, or the error and when to try again."""
    deletion = ProviderDeletion.objects.select_for_update().get(pk=deletion_id)
    if deletion.done_at is not None:
        return
    deletion.attempts += 1
    deletion.last_attempt_at = now
    deletion.last_status = outcome.status
    if outcome.done:
        deletion.done_at = now
        deletion.last_error = ""
    else:
        deletion.last_error = outcome.error
        deletion.next_attempt_at = now + retry_delay(deletion.attempts, outcome.retry_after_seconds)
    deletion.save()


def provider_deletions_process(
    *,
    now: datetime | None = None,
    limit: int = 100,
    provider: RecordingProvider | None = None,
    on_item: Callable[[], None] | None = None,
) -> ProviderRunResult:
    """Send the due provider deletions; 204 and 404 are done, anything else is retried later with backoff.

    Not atomic as a whole: the HTTP calls run outside any transaction (a slow provider must not hold
    locks). Each item is first leased with a conditional update of its next attempt time, so two workers
    never send the same deletion at once; a worker that dies mid-call leaves the item due again after the lease.
    """
    now = now or timezone.now()
    provider = provider or get_provider()
    lease = timedelta(seconds=float(settings.TELEPHONY_PROVIDER_TIMEOUT) * 2 + 60)
    result = ProviderRunResult()
    ids = list(ProviderDeletion.objects.due(now).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    for deletion_id in ids:
        leased = ProviderDeletion.objects.filter(pk=deletion_id, done_at__isnull=True, next_attempt_at__lte=now).update(
            next_attempt_at=now + lease
        )
        if not leased:
            result.skipped += 1
            continue
        sid = ProviderDeletion.objects.values_list("provider_sid", flat=True).get(pk=deletion_id)
        outcome = provider.delete_recording(sid)
        provider_deletion_record_outcome(deletion_id=deletion_id, outcome=outcome, now=timezone.now())
        if outcome.done:
            result.done += 1
        else:
            result.failed += 1
            result.errors.append(f"{sid}: {outcome.error}")
            logger.warning("Provider deletion of %s failed, will retry: %s", sid, outcome.error)
        if on_item:
            on_item()
    return result


@transaction.atomic
def provider_deletion_retry_now(*, deletion_ids: Iterable[int], now: datetime | None = None) -> int:
    """Make pending deletions due at once (an operator after fixing the provider's credentials)."""
    return ProviderDeletion.objects.pending().filter(pk__in=list(deletion_ids)).update(next_attempt_at=now or timezone.now())


# --------------------------------------------------------------------------------------------------
# Exports of call and monitoring history

EXPORT_SIGNING_SALT = "recordings.history-export"


def month_bounds(today: date) -> tuple[date, date]:
    """The first and last day of ``today``'s month."""
    return today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1])


#: The days an export may cover: its window runs to the midnight after its last day, and converting the
#: window to UTC must stay within the calendar's range.
EARLIEST_EXPORT_DAY = date.min + timedelta(days=1)
LATEST_EXPORT_DAY = date.max - timedelta(days=1)


def _one_year_after(day: date) -> date:
    if day.year >= date.max.year:
        return date.max
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def history_export_range(
    *, account: Account, kind: str, start: date | None, end: date | None, today: date | None = None
) -> tuple[date, date]:
    """The export's (start, end), the current month by default; raises naming the field, or
    ``PermissionDenied`` for monitoring history below the Professional plan."""
    if kind not in HistoryExport.Kind.values:
        raise ValidationError({"kind": f"Choose one of {', '.join(HistoryExport.Kind.values)}."})
    if kind == HistoryExport.Kind.MONITORING_HISTORY and not account.has_plan_at_least(Account.Plan.PROFESSIONAL):
        raise PermissionDenied(
            f"Monitoring-history exports are available on the Professional and Enterprise plans only; "
            f"account {account.name} is on the {account.get_plan_display()} plan."
        )
    default_start, default_end = month_bounds(today or timezone.localdate())
    start = start or default_start
    end = end or default_end
    for name, day in (("start", start), ("end", end)):
        if not EARLIEST_EXPORT_DAY <= day <= LATEST_EXPORT_DAY:
            raise ValidationError(
                {name: f"Give a day from {EARLIEST_EXPORT_DAY.isoformat()} to {LATEST_EXPORT_DAY.isoformat()}."}
            )
    if start > end:
        raise ValidationError({"start": f"The start ({start}) is after the end ({end})."})
    if end > _one_year_after(start):
        raise ValidationError({"end": "The range may span at most one year; export longer periods in parts."})
    return start, end


@transaction.atomic
def history_export_request(
    *,
    account: Account,
    kind: str,
    start: date | None = None,
    end: date | None = None,
    user: Any = None,
    email: str = "",
    today: date | None = None,
) -> HistoryExport:
    """Queue a CSV export of the account's call or monitoring history; the link is emailed when it is ready.

    Monitoring history is for Professional and Enterprise plans (the guide: "Professional and above").
    The range defaults to the current month; it may not start after it ends nor span more than a year.
    """
    start, end = history_export_range(account=account, kind=kind, start=start, end=end, today=today)
    email = (email or getattr(user, "email", "") or "").strip()
    if not email:
        raise ValidationError({"email": "Give the address the download link is sent to."})
    export = HistoryExport(
        account=account,
        kind=kind,
        start=start,
        end=end,
        requested_by=user if user is not None and user.is_authenticated else None,
        requested_by_name=actor_name(user),
        email=email,
    )
    export.full_clean()
    export.save()
    from recordings.tasks import run_history_export

    # The database task backend stores the task in this same transaction: no export is queued without its task.
    run_history_export.enqueue(export_id=export.pk)
    return export


CALL_HISTORY_HEADER = [
    "call_id", "line", "line_number", "direction", "from_number", "to_number", "started", "ended",
    "duration_seconds", "ticket_id", "end_user", "agent", "ivr_external", "transferred_external",
]
MONITORING_HISTORY_HEADER = ["entry_id", "call_id", "line", "supervisor", "mode", "caller_number", "started", "ended"]


def _export_window(export: HistoryExport) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(export.start, time.min, tzinfo=zone)
    end = datetime.combine(export.end + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def history_export_rows(export: HistoryExport, *, chunk_size: int = 2000) -> Iterator[list[str]]:
    """The CSV rows (header first) of an export, read in chunks so memory stays flat however many rows."""
    start, end = _export_window(export)
    if export.kind == HistoryExport.Kind.CALL_HISTORY:
        yield CALL_HISTORY_HEADER
        calls = (
            Call.objects.for_account(export.account)
            .started_between(start, end)
            .select_related("line", "end_user", "agent")
            .order_by("started", "pk")
        )
        for call in calls.iterator(chunk_size=chunk_size):
            yield [
                safe_cell(v)
                for v in (
                    call.pk, call.line.name, call.line.number, call.direction, call.from_number, call.to_number,
                    call.started, call.ended, call.duration_seconds, call.ticket_id,
                    call.end_user.name if call.end_user else "", call.agent.name if call.agent else "",
                    call.ivr_external, call.transferred_external,
                )
            ]
    else:
        yield MONITORING_HISTORY_HEADER
        entries = (
            MonitoringEntry.objects.filter(account=export.account, started__gte=start, started__lt=end)
            .select_related("call__line", "supervisor")
            .order_by("started", "pk")
        )
        for entry in entries.iterator(chunk_size=chunk_size):
            yield [
                safe_cell(v)
                for v in (
                    entry.pk, entry.call_id, entry.call.line.name, entry.supervisor.name if entry.supervisor else "",
                    entry.mode, entry.caller_number, entry.started, entry.ended,
                )
            ]


def export_path(export: HistoryExport) -> Path:
    return Path(settings.RECORDINGS_EXPORT_DIR) / export.file_name


def export_download_token(export: HistoryExport) -> str:
    return signing.dumps({"export": export.pk}, salt=EXPORT_SIGNING_SALT)


def export_from_token(token: str) -> HistoryExport:
    """The finished export a download link names; ``signing.BadSignature`` (or ``SignatureExpired``) otherwise."""
    payload = signing.loads(
        token, salt=EXPORT_SIGNING_SALT, max_age=timedelta(days=settings.RECORDINGS_EXPORT_LINK_DAYS)
    )
    return HistoryExport.objects.get(pk=payload["export"], status=HistoryExport.Status.DONE)


def export_download_url(export: HistoryExport) -> str:
    return settings.SITE_URL + reverse("recordings-export-download", kwargs={"token": export_download_token(export)})


def history_export_run(*, export_id: int) -> HistoryExport:
    """Write the export's CSV, then email the signed link. Safe to run twice: only a queued export is run.

    Not one transaction: the file is streamed row by row; the status changes are each a guarded update.
    """
    now = timezone.now()
    if not HistoryExport.objects.filter(pk=export_id, status=HistoryExport.Status.QUEUED).update(
        status=HistoryExport.Status.RUNNING
    ):
        return HistoryExport.objects.get(pk=export_id)
    export = HistoryExport.objects.select_related("account").get(pk=export_id)
    export.file_name = f"{export.kind}-{export.account_id}-{export.start:%Y%m%d}-{export.end:%Y%m%d}-{uuid.uuid4().hex}.csv"
    path = export_path(export)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = -1  # the header is not a row
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            for row in history_export_rows(export):
                writer.writerow(row)
                rows += 1
    except Exception as exc:
        path.unlink(missing_ok=True)
        HistoryExport.objects.filter(pk=export.pk).update(
            status=HistoryExport.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        write_history(HistoryExport.objects.filter(pk=export.pk), history_type="~")
        raise
    with transaction.atomic():
        HistoryExport.objects.filter(pk=export.pk).update(
            status=HistoryExport.Status.DONE, row_count=rows, file_name=export.file_name, finished_at=timezone.now()
        )
        write_history(HistoryExport.objects.filter(pk=export.pk), history_type="~")
    export.refresh_from_db()
    days = settings.RECORDINGS_EXPORT_LINK_DAYS
    send_mail(
        subject=f"Your {export.get_kind_display().lower()} export is ready",
        message=(
            f"The {export.get_kind_display().lower()} of {export.account.name} from {export.start} to {export.end} "
            f"({rows} rows) is ready.\n\nDownload it within {days} days (the link expires on "
            f"{(now + timedelta(days=days)):%Y-%m-%d}):\n{export_download_url(export)}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[export.email],
    )
    return export


@transaction.atomic
def history_exports_expire(*, now: datetime) -> int:
    """Remove the files of exports whose link has expired (they hold call data); returns how many."""
    cutoff = now - timedelta(days=settings.RECORDINGS_EXPORT_LINK_DAYS)
    expired = list(HistoryExport.objects.filter(status=HistoryExport.Status.DONE, finished_at__lt=cutoff))
    for export in expired:
        export_path(export).unlink(missing_ok=True)
    changed = HistoryExport.objects.filter(pk__in=[e.pk for e in expired], status=HistoryExport.Status.DONE).update(
        status=HistoryExport.Status.EXPIRED, file_name=""
    )
    write_history(HistoryExport.objects.filter(pk__in=[e.pk for e in expired]), history_type="~")
    return changed


def _user_id(user: Any) -> int | None:
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None
