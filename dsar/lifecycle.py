"""A request's deadline and end: extension, rejection, completion and assignment."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import capfirst

from dsar.letters import day, law_name, send_letter, speaking_to
from dsar.models import (
    Request,
    RequestEvent,
)
from dsar.workflow import (
    User,
    add_event,
    record_history,
    require_open,
    require_verified,
    transition,
)

# --- deadlines -----------------------------------------------------------------------------------


@transaction.atomic
def request_extend(*, request: Request, reason: str, actor: User = None, today: dt.date | None = None) -> None:
    """Extend the deadline by what the law allows: once, with a reason, before the first deadline has
    passed, and the person is told (GDPR Art. 12(3): within the first month, with the reasons).

    The new deadline is counted from receipt and moved off a weekend or holiday as the first one was;
    ``due_note`` then says why the new one moved (or nothing when it did not). ``today`` is the account's.
    """
    account = request.account
    today = today or account.local_date(timezone.now())
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the extension; the person is told it."})
    require_open(request)
    extended = request.jurisdiction.extended_deadline(request.received_on, country=account.country_code())
    if extended is None:
        raise ValidationError({"reason": f"{request.jurisdiction.name} allows no extension."})
    new_due = extended.day
    if today > request.first_due_at:
        raise ValidationError(
            {"reason": f"The deadline passed on {request.first_due_at.isoformat()}; it can no longer be extended."}
        )
    changed = (
        Request.objects.filter(pk=request.pk, extended_at__isnull=True, due_at=F("first_due_at"))
        .exclude(status__in=Request.CLOSED)
        .update(due_at=new_due, due_note=extended.note, extended_at=timezone.now(), extension_reason=reason)
    )
    if not changed:
        raise ValidationError({"reason": "The deadline was already extended once."})
    record_history(request, actor=actor, reason="deadline extended")
    told = False
    if request.person is not None and request.person.email:
        with speaking_to(request):
            send_letter(
                request,
                "extension",
                to=request.person.email,
                number=str(request.pk),
                reason=reason,
                new_due=day(new_due),
                law_capitalized=capfirst(law_name(request)),
            )
        told = True
    moved = f" ({extended.why})" if extended.why else ""
    message = f"Deadline extended from {request.first_due_at.isoformat()} to {new_due.isoformat()}{moved}: {reason}."
    if told:
        Request.objects.filter(pk=request.pk).update(extension_notified_at=timezone.now())
        request.refresh_from_db()
        message += " The person was told by email."
    else:
        message += " The person has no email on record: tell them another way before the first deadline."
    add_event(request, RequestEvent.Kind.EXTENDED, message, actor=actor)


# --- closing -------------------------------------------------------------------------------------


@transaction.atomic
def request_reject(*, request: Request, reason: str, actor: User = None) -> None:
    """Refuse the request (manifestly unfounded, identity not proven…); the reason is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for rejecting the request."})
    transition(
        request,
        allowed=(Request.Status.RECEIVED, Request.Status.VERIFYING, Request.Status.IN_PROGRESS, Request.Status.WAITING),
        actor=actor,
        status=Request.Status.REJECTED,
        status_reason=reason,
        completed_at=timezone.now(),
        subject=None,
    )
    message = f"Rejected: {reason}"
    person = request.person
    if person is not None and person.email:
        # GDPR Art. 12(4): the person is told why, and that they may complain or go to court.
        send_letter(request, "rejection", to=person.email, number=str(request.pk), reason=reason)
        message += " The person was told by email."
    else:
        message += " The person has no email on record: tell them another way."
    add_event(request, RequestEvent.Kind.REJECTED, message, actor=actor)


@transaction.atomic
def request_complete(*, request: Request, actor: User = None) -> None:
    """Close a verified request. An erasure closes only once executed with a clean verification scan; the
    identifiers kept for the scan are then dropped, leaving proof without personal data."""
    require_verified(request)
    if request.type == Request.Type.ERASURE:
        if request.executed_at is None:
            raise ValidationError({"status": "Execute the erasure first."})
        if not request.scan or request.scan.get("undeclared"):
            raise ValidationError(
                {"status": "The verification scan still finds the person's data; run it again after fixing."}
            )
    if request.type == Request.Type.ACCESS and request.executed_at is None:
        raise ValidationError({"status": "Produce the access report first (execute the request)."})
    if request.type == Request.Type.PORTABILITY and not request.exports.filter(status="ready").exists():
        raise ValidationError({"status": "Generate the export first."})
    transition(
        request,
        allowed=(Request.Status.IN_PROGRESS,),
        actor=actor,
        status=Request.Status.COMPLETED,
        completed_at=timezone.now(),
        subject=None,
    )
    add_event(request, RequestEvent.Kind.COMPLETED, "Request completed.", actor=actor)


@transaction.atomic
def request_assign(*, request: Request, assignee: AbstractBaseUser | None, actor: User = None) -> None:
    Request.objects.filter(pk=request.pk).update(assignee=assignee)
    record_history(request, actor=actor, reason="assigned")
    add_event(
        request,
        RequestEvent.Kind.ASSIGNED,
        f"Assigned to {assignee.get_username()}." if assignee else "Unassigned.",
        actor=actor,
    )
