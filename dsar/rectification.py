"""Rectification: correcting the person's data from the request, and sending it to them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from dsar.models import (
    Request,
    RequestEvent,
)
from dsar.letters import send_letter, speaking_to
from dsar.people import person_check_change
from dsar.person_source import FIELD_LABELS
from dsar.workflow import User, add_event, require_open, require_verified

# --- rectification -------------------------------------------------------------------------------

RECTIFIABLE_FIELDS = ("kind", "name", "email", "phone", "external_id")


@transaction.atomic
def person_rectify(*, request: Request, changes: dict[str, str], actor: User = None) -> list[str]:
    """Correct the person's data under a rectification request; returns the fields that changed.

    Raises :class:`dsar.people.PersonHeld`, naming the hold, when a legal hold freezes the person. The person's
    history row carries the request in its change reason; the timeline names the fields but
    not the values (it must stay free of personal data).
    """
    if request.type != Request.Type.RECTIFICATION:
        raise ValidationError({"type": "Only a rectification request corrects a person's data."})
    require_verified(request)
    require_open(request)
    person = request.person
    if person is None:
        raise ValidationError({"person": "The request has no person."})
    unknown = set(changes) - set(RECTIFIABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be corrected here."})
    changed = [name for name in RECTIFIABLE_FIELDS if name in changes and getattr(person, name) != changes[name]]
    if not changed:
        return []
    # A held person's identifiers are the evidence the hold keeps: corrected once it is released.
    person_check_change(person, changed)
    for name in changed:
        setattr(person, name, (changes[name] or "").strip())
    person.full_clean()
    if actor is not None and actor.is_authenticated:
        person._history_user = actor  # type: ignore[attr-defined]
    person._change_reason = f"rectification, request {request.pk}"  # type: ignore[attr-defined]
    person.save()
    add_event(request, RequestEvent.Kind.RECTIFIED, f"Corrected: {', '.join(changed)}.", actor=actor)
    return changed


@transaction.atomic
def person_send_data(*, request: Request, actor: User = None) -> None:
    """Email the person the data held on them (after a rectification: the corrected data)."""
    require_verified(request)
    person = request.person
    if person is None or not person.email:
        raise ValidationError({"email": "The person has no email on record."})
    with speaking_to(request):
        lines = [(str(FIELD_LABELS[name]), getattr(person, name)) for name in ("name", "email", "phone", "external_id")]
        send_letter(request, "data", to=person.email, lines=lines, number=str(request.pk))
    add_event(request, RequestEvent.Kind.DATA_SENT, "The person's data was emailed to the address on record.", actor=actor)
