"""What every step of a request's workflow shares: who acted, the timeline, guarded status changes,
the checks every operation makes first, and the request's subject."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from core.history import actor_name, write_history
from core.sealing import seal_rows
from dsar.models import (
    Person,
    Request,
    RequestEvent,
)
from dsar.sources import Subject

User = AbstractBaseUser | AnonymousUser | None
SYSTEM = "system"


# --- small helpers -------------------------------------------------------------------------------


def actor_label(actor: User) -> str:
    """Who did it, for the timeline: the login, else the API key or context actor, else 'system'."""
    return actor_name(actor) or SYSTEM


def is_staff(actor: User) -> bool:
    return bool(actor is not None and actor.is_authenticated and getattr(actor, "is_staff", False))


def add_event(
    request: Request, kind: str, message: str, *, actor: User = None, at: dt.datetime | None = None
) -> RequestEvent:
    """Add a line to the request's timeline, sealed in the same transaction (core/sealing.py); ``at``: when it
    happened, if earlier than now (what a submission went through before it became this request)."""
    with transaction.atomic(savepoint=False):
        event = RequestEvent.objects.create(
            request=request, kind=kind, message=message, actor=actor_label(actor), at=at or timezone.now()
        )
        seal_rows(RequestEvent, [event.pk])
    return event


def record_history(instance: models.Model, *, actor: User = None, reason: str = "") -> None:
    """A history row for a change written with a conditional ``update()`` (which skips simple-history's signals)."""
    instance.refresh_from_db()
    user = actor if actor is not None and actor.is_authenticated else None
    write_history([instance], history_type="~", user_id=user.pk if user else None, username=actor_name(user), reason=reason)


def transition(
    request: Request, *, allowed: tuple[str, ...], actor: User = None, reason: str = "", **changes: Any
) -> None:
    """Move a request on only if it is still in one of ``allowed`` statuses: a conditional update, so two
    staff members (or a retried job) acting at once cannot both succeed."""
    changed = Request.objects.filter(pk=request.pk, status__in=allowed).update(**changes)
    if not changed:
        request.refresh_from_db(fields=["status"])
        raise ValidationError(
            {
                "status": f"The request is {request.get_status_display().lower()}; this needs it to be "
                + " or ".join(Request.Status(s).label.lower() for s in allowed)
                + "."
            }
        )
    record_history(request, actor=actor, reason=reason)


def raise_first(blockers: dict[str, str]) -> None:
    """Refuse with the first of an action's blockers (``*_blockers``: field → why), naming its field."""
    for field, message in blockers.items():
        raise ValidationError({field: message})


def open_blockers(request: Request) -> dict[str, str]:
    """Why nothing more can be done on ``request``: it is closed."""
    if request.status in Request.CLOSED:
        return {"status": f"The request is {request.get_status_display().lower()}."}
    return {}


def require_open(request: Request) -> None:
    if request.status in Request.CLOSED:
        raise ValidationError({"status": f"The request is {request.get_status_display().lower()}."})


def require_verified(request: Request) -> None:
    """Nothing is executed for a requester whose identity is not verified (GDPR Art. 12(6))."""
    if not request.is_verified:
        raise ValidationError({"status": "The requester's identity is not verified yet."})


def subject_of(person: Person, *, received_with: dict[str, str] | None = None) -> Subject:
    """The person's identifiers now, every earlier value their history holds (e.g. before a rectification),
    and those a request was ``received_with``."""
    earlier = list(Person.history.filter(id=person.pk).values_list("name", "email", "phone").distinct())
    received = received_with or {}
    earlier.append((received.get("name", ""), received.get("email", ""), received.get("phone", "")))
    names, emails, phones = (set(values) for values in zip(*earlier))

    def former(values: set[str], current: str) -> tuple[str, ...]:
        return tuple(sorted(value for value in values if value and value != current))

    return Subject(
        person_id=person.pk,
        account_id=person.account_id,
        name=person.name,
        email=person.email,
        phone=person.phone,
        former_names=former(names, person.name),
        former_emails=former({value.lower() for value in emails}, person.email.lower()),
        former_phones=former(phones, person.phone),
        country=person.account.country_code(),
    )


def request_subject(request: Request) -> Subject | None:
    """The request's subject: the snapshot taken when an erasure started, else the person as they are now;
    named with the request, which every scrub of their data then names."""
    if request.subject:
        subject = Subject(**request.subject)
    elif request.person is not None:
        subject = subject_of(request.person, received_with=request.received_with)
    else:
        return None
    return replace(subject, request_id=request.pk)
