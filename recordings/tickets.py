"""Telephony tickets: soft deletion (restorable for 7 days, then purged with their recordings) and restoring."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core.history import actor_name, user_id_of, write_history
from recordings.holds import hold_message
from recordings.models import LegalHold, Ticket


class TicketHeld(PermissionDenied):
    """A ticket deletion refused because a legal hold covers the ticket; the message names the hold."""


@transaction.atomic
def ticket_soft_delete(*, ticket_id: int, user: Any = None, now: datetime | None = None) -> bool:
    """Soft-delete a ticket (restorable for 7 days); returns False when it already was.

    Raises :class:`TicketHeld`, naming the hold, when a legal hold covers the ticket: the purge would skip
    it anyway, and a deletion that cannot happen must not be recorded as asked for.
    """
    now = now or timezone.now()
    name = actor_name(user)
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    hold = LegalHold.objects.active().covering_ticket(ticket).order_by("pk").first()
    if hold is not None:
        raise TicketHeld(f"Ticket #{ticket_id} cannot be deleted: it is under {hold_message(hold)}. Release the hold first.")
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
