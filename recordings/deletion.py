"""Deleting recordings: the one core every path goes through (audit entry, provider outbox, exactly once),
manual deletion and deletion for a data subject's erasure."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from recordings.holds import hold_message, holds_covering_recording
from recordings.models import (
    DeletionReason,
    ProviderDeletion,
    Recording,
)
from residency.audit import Action, Record, audit_append_many
from residency.history import actor_name, user_id_of, write_history
from residency.models import Account


class RecordingHeld(PermissionDenied):
    """A deletion refused because a legal hold covers the recording; the message names the hold."""


# --------------------------------------------------------------------------------------------------
# Deleting recordings: one core every path goes through


@dataclass(frozen=True)
class AuditInfo:
    """Who deleted a recording and why, as its audit entry (the ``-`` history row) records it."""

    reason: str
    detail: str
    username: str
    user_id: int | None = None


def delete_claimed_recordings(
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
        user_id=user_id_of(user),
    )
    # Re-checking the holds inside the claim closes the window where a hold is placed meanwhile.
    deleted = delete_claimed_recordings(
        Recording.objects.filter(pk=recording.pk).not_held(), audit_for=lambda _r: info, now=timezone.now()
    )
    if not deleted:
        raise Recording.DoesNotExist(f"Recording {recording_id} was deleted meanwhile.")
    return info



@transaction.atomic
def recordings_delete_for_erasure(*, recordings: Any, username: str, detail: str) -> list[Recording]:
    """Delete recordings as part of a data subject's erasure (holds respected), audited and sent to the provider."""
    info = AuditInfo(reason=DeletionReason.ERASURE, detail=detail, username=username)
    return delete_claimed_recordings(recordings.not_held(), audit_for=lambda _r: info, now=timezone.now())
