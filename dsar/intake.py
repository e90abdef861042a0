"""Intake: opening a request for a person, who is found by email or phone or created."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from core.bounds import check_moment
from dsar.identity import request_send_code
from dsar.models import (
    Jurisdiction,
    Person,
    Request,
    RequestEvent,
    e164_validator,
)
from dsar.sources import normal_email, normal_name, normal_phone
from dsar.workflow import User, add_event
from residency.models import Account

# --- intake --------------------------------------------------------------------------------------

#: The language a request is answered in when intake names none, by the account's country: Sweden's
#: and the French-speaking countries' controllers write to their people in their language; others in English.
LANGUAGE_BY_COUNTRY = {"SE": "sv", "FR": "fr", "BE": "fr", "LU": "fr", "MC": "fr"}


def default_language(account: Account) -> str:
    """The language of an account's requests when the requester did not choose one (see LANGUAGE_BY_COUNTRY)."""
    return LANGUAGE_BY_COUNTRY.get(account.country_code(), Request.Language.ENGLISH)


@transaction.atomic
def request_create(
    *,
    account: Account,
    type: str,
    jurisdiction: str | Jurisdiction,
    email: str = "",
    phone: str = "",
    name: str = "",
    received_at: dt.datetime | None = None,
    channel: str = Request.Channel.API,
    person: Person | None = None,
    send_code: bool = True,
    language: str = "",
    is_test: bool = False,
    actor: User = None,
) -> Request:
    """Open a request for the person with this email or phone in the account (created if unknown).

    The deadline runs from the day of receipt in the account's time zone and, where the law says so, moves
    off a weekend or public holiday of the account's country (``due_note`` says why). When the person has
    an email on record, a one-time code is sent to it at once so they can prove who they are (unless
    ``send_code`` is False: staff will verify manually). Everything the person receives is in ``language``
    (``en``, ``sv`` or ``fr``); empty: the account's (:func:`default_language`). ``is_test``: filed by staff to
    try the workflow, it runs as any other and is left out of the yearly metrics (:mod:`dsar.metrics`).
    """
    now = timezone.now()
    received_at = received_at or now
    if type not in Request.Type.values:
        raise ValidationError({"type": f"Unknown request type {type!r}; use one of {', '.join(Request.Type.values)}."})
    if not isinstance(jurisdiction, Jurisdiction):
        found = Jurisdiction.objects.filter(code=jurisdiction).first()
        if found is None:
            codes = ", ".join(Jurisdiction.objects.values_list("code", flat=True))
            raise ValidationError({"jurisdiction": f"Unknown jurisdiction {jurisdiction!r}; use one of {codes}."})
        jurisdiction = found
    if timezone.is_naive(received_at):
        raise ValidationError({"received_at": "Give a time zone (e.g. 2026-01-31T09:00:00Z)."})
    if received_at > now:
        raise ValidationError({"received_at": "The request cannot be received in the future."})
    received_at = check_moment(received_at, field_name="received_at")
    if channel not in Request.Channel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    language = language or default_language(account)
    if language not in Request.Language.values:
        raise ValidationError(
            {"language": f"Unknown language {language!r}; use one of {', '.join(Request.Language.values)}."}
        )
    if person is None:
        person = person_for_intake(account=account, email=email, phone=phone, name=name)
    elif person.account_id != account.pk:
        raise ValidationError({"person": "The person belongs to another account."})
    deadline = jurisdiction.deadline_for(account, received_at)
    due = deadline.day
    typed = {"name": normal_name(name), "email": normal_email(email), "phone": normal_phone(phone)}
    request = Request.objects.create(
        account=account,
        person=person,
        type=type,
        jurisdiction=jurisdiction,
        channel=channel,
        language=language,
        received_at=received_at,
        due_at=due,
        first_due_at=due,
        due_note=deadline.note,
        is_test=bool(is_test),
        received_with={key: value for key, value in typed.items() if value} or None,
    )
    duplicate_of = Request.objects.with_duplicate_of().get(pk=request.pk).duplicate_of
    # Flagged, not merged: the same address may be someone else's until the identity is verified.
    duplicate = (
        f" Possible duplicate of #{duplicate_of}, the same person's open {request.get_type_display().lower()} request:"
        " verify who asked before treating them as one."
        if duplicate_of
        else ""
    )
    add_event(
        request,
        RequestEvent.Kind.RECEIVED,
        f"{request.get_type_display()} request received by {request.get_channel_display().lower()} under "
        f"{jurisdiction.name}; due {due.isoformat()}" + (f" ({deadline.why})." if deadline.why else ".") + duplicate
        + (" Filed as a test: left out of the yearly metrics." if is_test else ""),
        actor=actor,
    )
    if send_code and person.email:
        try:
            request_send_code(request=request, actor=actor)
        except ValidationError as refused:
            # The request stands (its deadline runs from receipt); the code waits until the cap allows it.
            add_event(request, RequestEvent.Kind.CODE_HELD, f"No code sent: {' '.join(refused.messages)}", actor=actor)
    return request


def person_for_intake(*, account: Account, email: str, phone: str, name: str) -> Person:
    # Written as people write them ("+46 70-555 01 23", "0046…"), kept in E.164 and lower case.
    email, phone, name = normal_email(email), normal_phone(phone) or phone.strip(), normal_name(name)
    if not email and not phone:
        raise ValidationError({"email": "Give the person's email or phone."})
    if email:
        try:
            models.EmailField().clean(email, None)
        except ValidationError as exc:
            raise ValidationError({"email": exc.messages}) from exc
    if phone:
        try:
            e164_validator(phone)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from exc
    person = (
        Person.objects.matching(account=account, email=email).first()
        or Person.objects.matching(account=account, phone=phone).first()
    )
    if person is None:
        person = Person.objects.create(account=account, email=email, phone=phone, name=name, created_by_intake=True)
    return person
