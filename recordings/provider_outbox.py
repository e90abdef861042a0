"""Deletion at the telephony provider: the outbox the deletions fill, sent with retries and backoff."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from core.history import Origin, history_context
from recordings.models import (
    ProviderDeletion,
)
from recordings.provider import DeletionOutcome, RecordingProvider, get_provider

logger = logging.getLogger(__name__)

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



@task()
def process_provider_deletions(*, limit: int = 100) -> dict[str, int]:
    """Background task: send the due deletions to the telephony provider (retries included)."""
    with history_context(origin=Origin.TASK, actor="provider deletion worker"):
        result = provider_deletions_process(limit=limit)
    return {"done": result.done, "failed": result.failed, "skipped": result.skipped}
