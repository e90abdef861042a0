"""Deleting recordings: the one core every path goes through (audit entry, provider outbox, exactly once),
manual deletion and deletion for a data subject's erasure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections, models, transaction
from django.db.models import Count, F, Max, Min, Value
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
from core.sql import keys_kept, rows_with_ids
from recordings.holds import RecordingHeld, hold_check_delete  # noqa: F401 (RecordingHeld re-exported)
from recordings.models import (
    DeletionReason,
    ProviderDeletion,
    Recording,
)
from residency.models import Account


# --------------------------------------------------------------------------------------------------
# Deleting recordings: one core every path goes through


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


@dataclass(frozen=True)
class Claimed:
    """How many recordings of one account a deletion claimed for one reason, and their id range."""

    account_id: int
    reason: str
    count: int
    first_id: int
    last_id: int


@dataclass
class Deleted:
    """What one deletion removed: how many recordings for each deletion reason."""

    by_reason: Counter[str] = field(default_factory=Counter)

    def __len__(self) -> int:
        return sum(self.by_reason.values())


def _expression(value: Any, output_field: models.Field) -> Any:
    return value if hasattr(value, "resolve_expression") else Value(value, output_field=output_field)


def _claim(candidates: Any, reason: Any) -> tuple[Any, list[Claimed]]:
    """Claim ``candidates`` for the enclosing transaction; returns the claimed rows as a queryset, and how many
    for each account and deletion reason (``reason``: its expression) with their id range; ``(None, [])`` if none.

    On PostgreSQL the rows are locked as they are read (``SELECT … FOR UPDATE SKIP LOCKED``): the lock holds until
    the transaction commits, having deleted them, and a worker whose batch overlaps skips them without waiting
    (nor deadlocking). That read brings each row's key, account and reason, counted here (a grouped query after
    it would read the rows again); the statements that follow name the locked keys. On SQLite a transaction takes
    the database's write lock when it begins (``IMMEDIATE``, set in the settings and required by a system check),
    so no other writer can change, delete or claim a row before this transaction ends: the candidates' keys are
    kept in a temporary table (:func:`~core.sql.keys_kept`), which the statements that follow read, and only the
    counts come back to Python. Either way no row is rewritten to claim it.
    """
    if connections[candidates.db].features.has_select_for_update_skip_locked:
        locked = candidates.annotate(_reason=reason).order_by("pk").select_for_update(skip_locked=True, of=("self",))
        keys, groups = [], {}
        for pk, account_id, why in locked.values_list("pk", "account_id", "_reason"):
            keys.append(pk)
            group = groups.setdefault((account_id, why), [0, pk, pk])  # in key order: count, first and last key
            group[0] += 1
            group[2] = pk
        if not keys:
            return None, []
        summary = [Claimed(account, why, *group) for (account, why), group in sorted(groups.items())]
        return rows_with_ids(Recording, keys, using=candidates.db), summary
    claimed = keys_kept(candidates, name="recordings_claimed")
    counts = (
        claimed.annotate(_reason=reason)
        .order_by()
        .values_list("account_id", "_reason")
        .annotate(count=Count("pk"), first_id=Min("pk"), last_id=Max("pk"))
    )
    summary = [Claimed(*row) for row in counts.order_by("account_id", "_reason")]
    return (claimed, summary) if summary else (None, [])


def _chain_records(claimed: list[Claimed], audit: AuditInfo) -> list[Record]:
    """The chained audit entries of a deletion: one per account, naming how many recordings, their id range and
    how many for each reason. Each recording's own detail (who, why, which ticket and line) is its deletion row,
    which is sealed (core/sealing.py) under the same chain."""
    by_account: dict[int, list[Claimed]] = {}
    for group in claimed:
        by_account.setdefault(group.account_id, []).append(group)
    records = []
    for account_id, groups in by_account.items():
        count = sum(group.count for group in groups)
        first_id, last_id = min(group.first_id for group in groups), max(group.last_id for group in groups)
        records.append(
            Record(
                action=Action.RECORDING_DELETED,
                object_type="recordings.recording",
                object_id=str(first_id) if count == 1 else f"{count} recordings",
                account_id=account_id,
                actor=audit.actor or (audit.username if isinstance(audit.username, str) else ""),
                data={
                    "summary": audit.summary or (audit.detail if isinstance(audit.detail, str) else ""),
                    "recordings": count,
                    "first_id": first_id,
                    "last_id": last_id,
                    "by_reason": {group.reason: group.count for group in sorted(groups, key=lambda group: group.reason)},
                },
            )
        )
    return records


def delete_claimed_recordings(candidates: Any, *, audit: AuditInfo, now: datetime) -> Deleted:
    """Claim, audit, enqueue at the provider and delete the recordings of ``candidates``, set-based.

    The claim (see ``_claim``) leaves out rows another run has claimed (or deleted), so a recording is
    deleted, audited and sent to the provider exactly once even when two runs overlap. Its history row (the
    deletion row: reason, detail and who) and its provider-deletion row are each written by one
    ``INSERT … SELECT``; one chained audit entry per account counts the recordings. Runs inside the caller's
    transaction (or its own); the number of queries does not depend on how many rows.
    """
    reason = _expression(audit.reason, models.CharField())
    detail = _expression(audit.detail, models.CharField())
    with transaction.atomic(using=candidates.db, savepoint=False):
        claimed, summary = _claim(candidates, reason)
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
        audit_append_many(_chain_records(summary, audit), at=now)
        # The history rows are written above; Model.delete() would send one post_delete signal, hence one more
        # history insert, per row. Nothing references a recording, so a plain DELETE is enough.
        claimed._raw_delete(claimed.db)
    by_reason: Counter[str] = Counter()
    for group in summary:
        by_reason[group.reason] += group.count
    return Deleted(by_reason=by_reason)


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
