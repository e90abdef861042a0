"""A request's deadline and end: extension, rejection, completion and assignment."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import capfirst

from dsar.letters import DENIAL_REASONS, day, law_name, send_letter, speaking_to
from dsar.models import (
    Request,
    RequestEvent,
)
from dsar.workflow import (
    User,
    add_event,
    open_blockers,
    raise_first,
    record_history,
    require_verified,
    transition,
)

# --- deadlines -----------------------------------------------------------------------------------


def request_extend_blockers(request: Request, *, today: dt.date | None = None) -> dict[str, str]:
    """Why the deadline cannot be extended now (field → why); empty when it can. ``today`` is the account's."""
    blockers = open_blockers(request)
    if blockers:
        return blockers
    today = today or request.account.local_date(timezone.now())
    if request.jurisdiction.extended_deadline(request.received_on, country=request.account.country_code()) is None:
        return {"reason": f"{request.jurisdiction.name} allows no extension."}
    if today > request.first_due_at:
        return {"reason": f"The deadline passed on {request.first_due_at.isoformat()}; it can no longer be extended."}
    if request.extended_at is not None:
        return {"reason": "The deadline was already extended once."}
    return {}


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
    raise_first(request_extend_blockers(request, today=today))
    extended = request.jurisdiction.extended_deadline(request.received_on, country=account.country_code())
    assert extended is not None  # request_extend_blockers refuses a law without an extension
    new_due = extended.day
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


def request_reject_blockers(request: Request) -> dict[str, str]:
    """Why the request cannot be rejected now (field → why): it is closed already."""
    return open_blockers(request)


def _complete_type_blockers(request: Request) -> dict[str, str]:
    """What the request's type needs done before it completes (field → why)."""
    if request.type == Request.Type.ERASURE:
        if request.executed_at is None:
            return {"status": "Execute the erasure first."}
        if not request.scan or request.scan.get("undeclared"):
            return {"status": "The verification scan still finds the person's data; run it again after fixing."}
    if request.type == Request.Type.ACCESS and request.executed_at is None:
        return {"status": "Produce the access report first (execute the request)."}
    if request.type == Request.Type.PORTABILITY and not request.exports.filter(status="ready").exists():
        return {"status": "Generate the export first."}
    return {}


def request_complete_blockers(request: Request) -> dict[str, str]:
    """Why the request cannot be completed now (field → why), in the order staff would fix them; empty when it can."""
    blockers = open_blockers(request)
    if blockers:
        return blockers
    if not request.is_verified:
        return {"status": "The requester's identity is not verified yet."}
    blockers = _complete_type_blockers(request)
    if not blockers and request.status != Request.Status.IN_PROGRESS:
        blockers = {"status": f"The request is {request.get_status_display().lower()}; it needs to be in progress."}
    return blockers


@transaction.atomic
def request_reject(*, request: Request, reason: str, denial_reason: str, actor: User = None) -> None:
    """Refuse the request (manifestly unfounded, identity not proven…): ``denial_reason`` is one of the Data
    Rights Protocol's reasons (``Request.DenialReason``), chosen by whoever rejects, never assumed; ``reason``
    says the rest in words. Both are kept, and the person's letter states both (the reason in plain words in
    their language, :data:`dsar.letters.DENIAL_REASONS`)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for rejecting the request."})
    if denial_reason not in Request.DenialReason.values:
        raise ValidationError(
            {
                "denial_reason": f"Choose the denial reason: one of {', '.join(Request.DenialReason.values)}"
                + (f" ({denial_reason!r} is not one)." if denial_reason else ".")
            }
        )
    transition(
        request,
        allowed=(Request.Status.RECEIVED, Request.Status.VERIFYING, Request.Status.IN_PROGRESS, Request.Status.WAITING),
        actor=actor,
        status=Request.Status.REJECTED,
        status_reason=reason,
        denial_reason=denial_reason,
        completed_at=timezone.now(),
        subject=None,
    )
    # "Rejected:" first: the requester retention finds the staff's words by it (dsar/retention.py).
    message = f"Rejected: {reason} Denial reason: {Request.DenialReason(denial_reason).label.lower()}."
    person = request.person
    if person is not None and person.email:
        # GDPR Art. 12(4): the person is told why, and that they may complain or go to court.
        send_letter(
            request,
            "rejection",
            to=person.email,
            number=str(request.pk),
            reason=reason,
            denial=DENIAL_REASONS[denial_reason],
        )
        message += " The person was told by email."
    else:
        message += " The person has no email on record: tell them another way."
    add_event(request, RequestEvent.Kind.REJECTED, message, actor=actor)


@transaction.atomic
def request_complete(*, request: Request, actor: User = None) -> None:
    """Close a verified request. An erasure closes only once executed with a clean verification scan; the
    identifiers kept for the scan are then dropped, leaving proof without personal data."""
    require_verified(request)
    raise_first(_complete_type_blockers(request))
    # Read before completing clears the snapshot: once erased, the person row (and the requests' link) is gone.
    person_id = (request.subject or {}).get("person_id") or request.person_id
    transition(
        request,
        allowed=(Request.Status.IN_PROGRESS,),
        actor=actor,
        status=Request.Status.COMPLETED,
        completed_at=timezone.now(),
        subject=None,
    )
    add_event(request, RequestEvent.Kind.COMPLETED, "Request completed.", actor=actor)
    if request.type == Request.Type.ERASURE and person_id:
        close_after_erasure(erasure=request, person_id=person_id, actor=actor)


#: How the person's other open requests close once their erasure is complete, by type: (status, why).
AFTER_ERASURE = {
    Request.Type.ERASURE: (Request.Status.COMPLETED, "their data was erased by request #{n}"),
    Request.Type.OBJECTION: (Request.Status.COMPLETED, "their data was erased by request #{n}: none is left to market to"),
    Request.Type.ACCESS: (Request.Status.REJECTED, "their data was erased by request #{n}: none is left to report"),
    Request.Type.PORTABILITY: (Request.Status.REJECTED, "their data was erased by request #{n}: none is left to export"),
    Request.Type.RECTIFICATION: (Request.Status.REJECTED, "their data was erased by request #{n}: none is left to correct"),
}


def close_after_erasure(*, erasure: Request, person_id: int, actor: User = None) -> list[Request]:
    """Close the person's other open requests once their erasure is complete, each with its reason on its timeline
    and in its history: what they asked for is done or can no longer be done, and they would otherwise stay open
    and fall overdue. The person row is gone by now, so they are found by the person's id in the requests' history
    (an erasure clears the link on the rows themselves)."""
    theirs = Request.history.filter(person_id=person_id).values("id")
    siblings = list(Request.objects.open().filter(pk__in=theirs).exclude(pk=erasure.pk).order_by("pk"))
    for sibling in siblings:
        status, why = AFTER_ERASURE[sibling.type]
        reason = f"Closed: {why.format(n=erasure.pk)}."
        try:
            transition(
                sibling,
                allowed=tuple(s for s in Request.Status.values if s not in Request.CLOSED),
                actor=actor,
                reason="closed after the person's erasure",
                status=status,
                status_reason=reason,
                # Nothing of the person is left to report, export or correct: DRP's "no match".
                denial_reason=Request.DenialReason.NO_MATCH if status == Request.Status.REJECTED else "",
                completed_at=timezone.now(),
                subject=None,
            )
        except ValidationError:
            continue  # closed meanwhile by someone else: nothing left to do
        kind = RequestEvent.Kind.COMPLETED if status == Request.Status.COMPLETED else RequestEvent.Kind.REJECTED
        add_event(sibling, kind, reason, actor=actor)
    return siblings


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
