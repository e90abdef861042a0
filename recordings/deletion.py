"""Deleting recordings: the one core every path goes through (audit entry, provider outbox, exactly once),
manual deletion and deletion for a data subject's erasure."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections, models, transaction
from django.db.models import F, Max, Min, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr
from django.utils import timezone

from core.audit import Action, Record, audit_append_many
from core.history import (
    Origin,
    actor_name,
    current_origin,
    current_user_id,
    insert_select,
    user_id_of,
    write_history_from,
)
from recordings.holds import RecordingHeld, hold_check_delete  # noqa: F401 (RecordingHeld re-exported)
from recordings.models import (
    DeletionReason,
    ProviderDeletion,
    Recording,
)
from residency.models import Account


# --------------------------------------------------------------------------------------------------
# Deleting recordings: one core every path goes through


#: What the chained audit entry of a deletion says of each recording, in this order.
RECORDING_COLUMNS = ("id", "provider_sid", "kind", "ticket", "line", "reason")


@dataclass(frozen=True)
class AuditInfo:
    """Who deleted recordings and why, as each one's history row (the recordings audit log) records it.

    ``detail``, ``username`` and ``user_id`` are constants, or expressions over the recording's row (its
    line's name, its ticket's deleter) when one statement deletes recordings for different reasons; ``reason``
    too. ``actor`` and ``summary`` name the operation in the chained audit entry.
    """

    reason: Any
    detail: Any
    username: Any
    user_id: Any = None
    actor: str = ""
    summary: str = ""


@dataclass
class Deleted:
    """What one deletion removed: the recordings' ids, and how many for each deletion reason."""

    ids: list[int] = field(default_factory=list)
    by_reason: Counter[str] = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.ids)


def _expression(value: Any, output_field: models.Field) -> Any:
    return value if hasattr(value, "resolve_expression") else Value(value, output_field=output_field)


#: What is read of each claimed recording: its id, account, and what its audit entry lists.
_CLAIMED_COLUMNS = ("pk", "account_id", "provider_sid", "kind", "ticket_id", "line_id", "_reason")


def _claim(candidates: Any, within: tuple[int, int | None] | None, reason: Any) -> tuple[Any, list[tuple[Any, ...]]]:
    """Claim ``candidates`` for this transaction; returns the claimed rows as a queryset and their
    ``_CLAIMED_COLUMNS`` (``reason`` giving each its deletion reason), or ``(None, [])`` if none.

    Where the database can (PostgreSQL), the rows are locked and read at once with ``SELECT … FOR UPDATE SKIP
    LOCKED``: the lock holds until this transaction commits, having deleted them, and a worker whose batch
    overlaps skips them without waiting (nor deadlocking), so no row is rewritten to claim it. Elsewhere
    (SQLite, which lets one writer in at a time) a conditional update marks the unclaimed rows with a token
    of this run, and they are read by it.
    """
    connection = connections[candidates.db]
    if connection.features.has_select_for_update_skip_locked:
        locking = candidates.annotate(_reason=reason).order_by("pk").select_for_update(skip_locked=True, of=("self",))
        rows = list(locking.values_list(*_CLAIMED_COLUMNS))
        if not rows:
            return None, []
        # One array parameter, whatever the number of rows (a list would be one parameter per row).
        ids = RawSQL("SELECT unnest(%s::bigint[])", [[row[0] for row in rows]])
        return Recording.objects.filter(pk__in=ids), rows
    candidates = candidates.filter(deletion_claim__isnull=True)
    if within is None:
        bounds = candidates.aggregate(low=Min("pk"), high=Max("pk"))
        if bounds["low"] is None:
            return None, []
        within = (bounds["low"] - 1, bounds["high"])
    token = uuid.uuid4()
    if not candidates.update(deletion_claim=token):
        return None, []
    # The claimed rows lie within the candidates' key range: read them by that range, no index on the token.
    claimed = Recording.objects.filter(pk__gt=within[0], deletion_claim=token)
    if within[1] is not None:
        claimed = claimed.filter(pk__lte=within[1])
    return claimed, list(claimed.annotate(_reason=reason).order_by("pk").values_list(*_CLAIMED_COLUMNS))


def delete_claimed_recordings(
    candidates: Any, *, audit: AuditInfo, now: datetime, within: tuple[int, int | None] | None = None
) -> Deleted:
    """Claim, audit, enqueue at the provider and delete the recordings of ``candidates``, set-based.

    The claim (see ``_claim``) leaves out rows another run has claimed (or deleted), so a recording is
    deleted, audited and sent to the provider exactly once even when two runs overlap. Its history row (the
    audit log, with reason, detail and who) and its provider-deletion row are each written by one
    ``INSERT … SELECT``; one chained audit entry per account lists the recordings. Runs inside the caller's
    transaction; the number of queries does not depend on how many rows. ``within`` (exclusive lower,
    inclusive upper primary key, or None) is where the candidates lie, when the caller knows it.
    """
    reason = _expression(audit.reason, models.CharField())
    detail = _expression(audit.detail, models.CharField())
    claimed, rows = _claim(candidates, within, reason)
    if claimed is None:
        return Deleted()
    history = Recording.history.model
    write_history_from(
        claimed,
        history_type="-",
        when=now,
        user_id=_expression(audit.user_id, history._meta.get_field("history_user")),
        username=Substr(_expression(audit.username, models.CharField()), 1, 150),
        reason=Substr(detail, 1, 100),
        extra={"deletion_reason": reason, "deletion_detail": Substr(detail, 1, 300)},
    )
    insert_select(
        ProviderDeletion,
        {
            "account_id": F("account_id"),
            "provider_sid": F("provider_sid"),
            "recording_id": F("pk"),
            "created_at": Value(now, output_field=models.DateTimeField()),
            "next_attempt_at": Value(now, output_field=models.DateTimeField()),
            "attempts": Value(0, output_field=models.IntegerField()),
            "last_error": Value("", output_field=models.TextField()),
        },
        claimed,
    )
    by_account: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_account.setdefault(row[1], []).append(row)
    audit_append_many(
        (
            Record(
                action=Action.RECORDING_DELETED,
                object_type="recordings.recording",
                object_id=str(group[0][0]) if len(group) == 1 else f"{len(group)} recordings",
                account_id=account_id,
                actor=audit.actor or (audit.username if isinstance(audit.username, str) else ""),
                data={
                    "summary": audit.summary or (audit.detail if isinstance(audit.detail, str) else ""),
                    "columns": list(RECORDING_COLUMNS),
                    "recordings": [[pk, sid, kind, ticket, line, why] for pk, _, sid, kind, ticket, line, why in group],
                },
            )
            for account_id, group in by_account.items()
        ),
        at=now,
    )
    # The history rows are written above; Model.delete() would send one post_delete signal, hence one more
    # history insert, per row. Nothing references a recording, so a plain DELETE is enough.
    claimed._raw_delete(claimed.db)
    return Deleted(ids=[row[0] for row in rows], by_reason=Counter(row[6] for row in rows))


#: Where a deletion by hand was made, when its caller does not say: by the origin of the change.
_DELETED_VIA = {Origin.ADMIN: "in the console", Origin.API: "through the API", Origin.COMMAND: "by a command"}


@transaction.atomic
def recording_delete(
    *, recording_id: int, user: Any = None, account: Account | None = None, via: str = "", reason: str = ""
) -> AuditInfo:
    """Delete one recording by hand (admin or API): permanent, audited, deleted at the provider too. ``reason``
    (the console requires one) follows in the audit log's detail.

    Nothing is written to the ticket's own history (the guide: manual deletion is not in the ticket's
    event log). ``account`` scopes the lookup for API keys. ``via`` says where it was deleted from, as the audit
    log reads it ("from the recordings list"); by default, the origin of the change. Raises
    ``Recording.DoesNotExist`` when it is not there (or already deleted) and :class:`RecordingHeld`, naming the
    hold, when a hold covers it.
    """
    recordings = Recording.objects.select_related("ticket", "call")
    if account is not None:
        recordings = recordings.for_account(account)
    recording = recordings.get(pk=recording_id)
    hold_check_delete(recording)
    ticket_label = f"ticket #{recording.ticket_id}" if recording.ticket_id else "no ticket"
    who = actor_name(user)
    via = via or _DELETED_VIA.get(current_origin(), "by hand")
    info = AuditInfo(
        reason=DeletionReason.MANUAL,
        detail=f"Deleted {via} by {who or 'an unknown caller'} ({ticket_label})"
        + (f": {reason.strip()}" if (reason or "").strip() else ""),
        username=who,
        user_id=user_id_of(user),
    )
    # Re-checking the holds inside the claim closes the window where a hold is placed meanwhile.
    deleted = delete_claimed_recordings(
        Recording.objects.filter(pk=recording.pk).not_held(), audit=info, now=timezone.now()
    )
    if not deleted:
        raise Recording.DoesNotExist(f"Recording {recording_id} was deleted meanwhile.")
    return info



@transaction.atomic
def recordings_delete_for_erasure(*, recordings: Any, username: str, detail: str) -> Deleted:
    """Delete recordings as part of a data subject's erasure (holds respected), audited and sent to the provider."""
    info = AuditInfo(reason=DeletionReason.ERASURE, detail=detail, username=username, user_id=current_user_id())
    return delete_claimed_recordings(recordings.not_held(), audit=info, now=timezone.now())
