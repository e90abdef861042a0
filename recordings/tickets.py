"""Telephony tickets: changing one, soft deletion (restorable for 7 days, then purged with their recordings) and
restoring. A held ticket keeps what its hold covers and is not deleted (:mod:`recordings.holds`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.history import actor_name, user_id_of, write_history
from recordings.holds import TicketHeld, hold_check_change, hold_check_delete, hold_notice, holds_covering
from recordings.models import Ticket


def _held_meanwhile(ticket_id: int) -> TicketHeld:
    """The refusal when a conditional write found the ticket held although the check before it did not."""
    holds = holds_covering(Ticket.objects.get(pk=ticket_id))
    notice = f" {hold_notice(holds[0])}." if holds else ""
    return TicketHeld(
        f"Ticket #{ticket_id} was put under a legal hold meanwhile; nothing was written.{notice}",
        hold=holds[0] if holds else None,
    )


@transaction.atomic
def ticket_update(*, ticket_id: int, changes: dict[str, Any], user: Any = None) -> Ticket:
    """Change a ticket's fields (``changes``: field name → new value) and return it; writes nothing and returns it
    as it is when nothing changes.

    Raises :class:`TicketHeld`, naming the hold and the fields, when a legal hold covers the ticket and a
    change touches ``Ticket.HELD_FIELDS``, and ``ValidationError`` naming the field for a value the model
    refuses. The write is conditional on the ticket still not being held, so a hold placed meanwhile (which
    does not lock the ticket) still wins.
    """
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    changed = {name: value for name, value in changes.items() if getattr(ticket, name) != value}
    if not changed:
        return ticket
    hold_check_change(ticket, changed)
    for name, value in changed.items():
        setattr(ticket, name, value)
    ticket.full_clean()
    rows = Ticket.objects.filter(pk=ticket_id)
    if any(name in Ticket.HELD_FIELDS for name in changed):
        rows = rows.not_held()
    if not rows.update(**changed):
        raise _held_meanwhile(ticket_id)
    write_history([ticket], history_type="~", user_id=user_id_of(user), username=actor_name(user))
    return ticket


@transaction.atomic
def ticket_soft_delete(*, ticket_id: int, user: Any = None, now: datetime | None = None, reason: str = "") -> bool:
    """Soft-delete a ticket (restorable for 7 days); returns False when it already was. ``reason`` (the console
    requires one) is kept in the ticket's history.

    Raises :class:`TicketHeld`, naming the hold, when a legal hold covers the ticket: the purge would skip
    it anyway, and a deletion that cannot happen must not be recorded as asked for. The update itself leaves
    out held rows, so a hold placed after the check still stops it.
    """
    now = now or timezone.now()
    name = actor_name(user)
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    hold_check_delete(ticket)
    changed = (
        Ticket.objects.filter(pk=ticket_id, deleted_at__isnull=True)
        .not_held()
        .update(deleted_at=now, deleted_by_id=user_id_of(user), deleted_by_name=name)
    )
    if changed:
        write_history(
            Ticket.objects.filter(pk=ticket_id), history_type="~", user_id=user_id_of(user), username=name,
            reason=(reason or "").strip()[:100],
        )
    elif ticket.deleted_at is None:
        raise _held_meanwhile(ticket_id)
    return bool(changed)


@transaction.atomic
def ticket_restore(*, ticket_id: int, user: Any = None) -> bool:
    """Undo a soft deletion; returns False when the ticket was not soft-deleted. A held ticket may be restored:
    restoring keeps it."""
    name = actor_name(user)
    changed = Ticket.objects.filter(pk=ticket_id, deleted_at__isnull=False).update(
        deleted_at=None, deleted_by_id=None, deleted_by_name=""
    )
    if changed:
        write_history(Ticket.objects.filter(pk=ticket_id), history_type="~", user_id=user_id_of(user), username=name)
    return bool(changed)
