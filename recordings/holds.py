"""Legal holds: placed on an account, a ticket or a person, they stop every deletion path until released."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import Action, Record, audit_append
from core.history import actor_name, user_id_of, write_history
from recordings.models import (
    LegalHold,
    Recording,
    Ticket,
)
from residency.models import Account

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
    write_history(LegalHold.objects.filter(pk=hold_id), history_type="~", user_id=user_id_of(user), username=name)
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
