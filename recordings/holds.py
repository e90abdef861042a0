"""Legal holds: placed on an account, a ticket or a person, they freeze what they cover until released.

A held record is deleted by no path and a held ticket keeps its ``Ticket.HELD_FIELDS``. The rule is here,
once: the services every path goes through (the console, the API, the commands, the purge, the erasure)
ask :func:`hold_check_delete` and :func:`hold_check_change`, and their conditional writes filter out held
rows (``not_held()``), so that a hold placed between the check and the write still wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import Action, Record, audit_append
from core.history import actor_name, user_id_of, write_history
from recordings.models import (
    HeldTargets,
    LegalHold,
    Recording,
    Ticket,
)
from residency.models import Account

# --------------------------------------------------------------------------------------------------
# Legal holds


@dataclass(frozen=True)
class HoldsAsRead:
    """The active holds as sets of what they cover (:meth:`LegalHoldQuerySet.targets`), read once for work over many
    rows (``Recording.objects.not_held_by(holds.targets)``: no subquery per row, unlike ``not_held()``), and the
    newest hold id then.

    Read inside the transaction that writes: on SQLite no hold can be placed until it ends (its write lock); on
    PostgreSQL one can, so the writer calls :meth:`check_unchanged` before it commits (``not_held()`` itself would
    not see a hold placed after its statement either)."""

    targets: HeldTargets
    newest: int

    @classmethod
    def read(cls) -> HoldsAsRead:
        return cls(
            targets=LegalHold.objects.active().targets(),
            # Every hold, released ones too: a hold placed after this read has a higher id than any of them.
            newest=LegalHold.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        )

    def check_unchanged(self) -> None:
        """Raise :class:`HoldsChanged` if a hold was placed since these were read (a release changes nothing: it
        only leaves out rows that could have gone)."""
        if LegalHold.objects.filter(pk__gt=self.newest).exists():
            raise HoldsChanged("A legal hold was placed meanwhile.")


class HoldsChanged(Exception):
    """A hold was placed while a write filtered by :class:`HoldsAsRead` was under way: its transaction must roll
    back, to be tried again with the holds read anew."""


class Held(PermissionDenied):
    """A change or deletion refused because a legal hold covers the record. The message names the record, the
    hold and, for a change, the fields; ``hold`` and ``fields`` say the same to code."""

    def __init__(self, message: str, *, hold: LegalHold | None, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.hold = hold
        self.fields = fields


class TicketHeld(Held):
    """A ticket's deletion or change refused: a legal hold covers the ticket."""


class RecordingHeld(Held):
    """A recording's deletion refused: a legal hold covers the recording."""


def holds_covering(record: Ticket | Recording) -> list[LegalHold]:
    """The active holds covering ``record`` (a ticket: on it, its requester or its account; a recording: also on
    its ticket and on the caller or agent of its call), oldest first."""
    holds = LegalHold.objects.active()
    covering = holds.covering_ticket(record) if isinstance(record, Ticket) else holds.covering_recording(record)
    return list(covering.order_by("pk"))


def holds_covering_recording(recording: Recording) -> list[LegalHold]:
    """The active holds that stop ``recording`` from being deleted, oldest first."""
    return holds_covering(recording)


def hold_message(hold: LegalHold) -> str:
    return f"legal hold #{hold.pk} on {hold.target_label} ({hold.reason}), placed by {hold.placed_by_name or 'unknown'}"


def hold_notice(hold: LegalHold) -> str:
    """What a held record's page and every refusal say: which hold, and what to do about it."""
    return f"Under {hold_message(hold)} — release the hold first"


def _refusal(record: Ticket | Recording) -> tuple[str, type[Held]]:
    if isinstance(record, Ticket):
        return f"Ticket #{record.pk}", TicketHeld
    return f"Recording {record.provider_sid}", RecordingHeld


def hold_check_delete(record: Ticket | Recording) -> None:
    """Raise :class:`TicketHeld` or :class:`RecordingHeld`, naming the oldest hold, when an active hold covers
    ``record``: a held record is deleted (or soft-deleted) by no path."""
    holds = holds_covering(record)
    if holds:
        label, refusal = _refusal(record)
        raise refusal(f"{label} cannot be deleted. {hold_notice(holds[0])}.", hold=holds[0])


def hold_check_change(ticket: Ticket, fields: Iterable[str]) -> None:
    """Raise :class:`TicketHeld`, naming the oldest hold and the fields, when ``fields`` (those a change would
    write) include any of ``Ticket.HELD_FIELDS`` and an active hold covers the ticket as it is now (a change
    that would move it out from under its hold is what is refused). Other fields pass, held or not."""
    asked = set(fields)
    frozen = tuple(name for name in Ticket.HELD_FIELDS if name in asked)
    if not frozen:
        return
    holds = holds_covering(ticket)
    if holds:
        label, refusal = _refusal(ticket)
        raise refusal(f"{label}: {', '.join(frozen)} cannot be changed. {hold_notice(holds[0])}.", hold=holds[0], fields=frozen)


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
def legal_hold_release(*, hold_id: int, user: Any = None, now: datetime | None = None, reason: str = "") -> bool:
    """Release a hold; returns False when it was already released (nothing changes then). ``reason`` (why it is
    released; the console requires one) is kept in the hold's history and its audit entry."""
    now = now or timezone.now()
    name = actor_name(user)
    reason = (reason or "").strip()
    if not LegalHold.objects.filter(pk=hold_id, released_at__isnull=True).update(released_at=now, released_by_name=name):
        return False
    write_history(
        LegalHold.objects.filter(pk=hold_id), history_type="~", user_id=user_id_of(user), username=name, reason=reason[:100]
    )
    hold = LegalHold.objects.get(pk=hold_id)
    audit_append(
        Record(
            action=Action.HOLD_RELEASED,
            object_type="recordings.legalhold",
            object_id=hold_id,
            account_id=hold.account_id,
            actor=name,
            data={
                "scope": hold.scope, "ticket": hold.ticket_id, "person": hold.person_id, "placed_at": hold.placed_at,
                "reason": reason,
            },
        )
    )
    return True
