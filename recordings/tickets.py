"""Telephony tickets: soft deletion (restorable for 7 days, then purged with their recordings) and restoring."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from recordings.models import (
    Ticket,
)
from residency.history import actor_name, user_id_of, write_history

# --------------------------------------------------------------------------------------------------
# Tickets


@transaction.atomic
def ticket_soft_delete(*, ticket_id: int, user: Any = None, now: datetime | None = None) -> bool:
    """Soft-delete a ticket (restorable for 7 days); returns False when it already was."""
    now = now or timezone.now()
    name = actor_name(user)
    changed = Ticket.objects.filter(pk=ticket_id, deleted_at__isnull=True).update(
        deleted_at=now, deleted_by_id=user_id_of(user), deleted_by_name=name
    )
    if changed:
        write_history(Ticket.objects.filter(pk=ticket_id), history_type="~", user_id=user_id_of(user), username=name)
    return bool(changed)


@transaction.atomic
def ticket_restore(*, ticket_id: int, user: Any = None) -> bool:
    """Undo a soft deletion; returns False when the ticket was not soft-deleted."""
    name = actor_name(user)
    changed = Ticket.objects.filter(pk=ticket_id, deleted_at__isnull=False).update(
        deleted_at=None, deleted_by_id=None, deleted_by_name=""
    )
    if changed:
        write_history(Ticket.objects.filter(pk=ticket_id), history_type="~", user_id=user_id_of(user), username=name)
    return bool(changed)
