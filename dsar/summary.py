"""A request as its page reads top to bottom: who (no more personal data than needed), what, law, deadline,
identity, state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dsar.models import Request


@dataclass(frozen=True)
class RequestSummary:
    who: str
    what: str
    law: str
    account: str
    #: The language of everything the person receives (letters, reports, the archive's README).
    language: str
    received: dt.datetime
    received_on: dt.date
    time_zone: str
    due: dt.date
    due_note: str
    days_left: int | None
    deadline_note: str
    identity: str
    verified: bool
    status: str
    #: Why it was rejected (one of DRP's reasons, in words); empty unless rejected.
    denial_reason: str
    status_reason: str
    closed: bool
    #: Filed by staff to try the workflow: left out of the yearly metrics.
    is_test: bool = False

    @property
    def countdown(self) -> str:
        if self.days_left is None:
            return "closed"
        if self.days_left < 0:
            return f"{-self.days_left} day{'s' if self.days_left != -1 else ''} overdue"
        if self.days_left == 0:
            return "due today"
        return f"{self.days_left} day{'s' if self.days_left != 1 else ''} left"

    @property
    def urgency(self) -> str:
        if self.days_left is None:
            return "closed"
        return "overdue" if self.days_left < 0 else "soon" if self.days_left <= 7 else "ok"


def request_summary(request: Request, *, today: dt.date) -> RequestSummary:
    """The facts at the top of a request's page. The person is named, never their email or phone."""
    person = request.person
    law = request.jurisdiction
    closed = request.status in Request.CLOSED
    account = request.account
    # Days in the account's time zone, as the deadline is counted.
    closed_on = account.local_date(request.completed_at) if closed and request.completed_at else None
    if closed:
        if closed_on is None:
            note = f"{request.get_status_display()}."
        elif closed_on <= request.due_at:
            note = f"{request.get_status_display()} on {closed_on:%Y-%m-%d}, within the deadline."
        else:
            late = (closed_on - request.due_at).days
            days = f"{late} day{'s' if late != 1 else ''}"
            note = f"{request.get_status_display()} on {closed_on:%Y-%m-%d}, {days} after the deadline."
    elif request.extended_at:
        note = (
            f"Extended on {request.extended_at:%Y-%m-%d} from {request.first_due_at:%Y-%m-%d}: "
            f"{request.extension_reason}"
            + ("" if request.extension_notified_at else " (the person has not been told by email: tell them)")
        )
    else:
        extended = law.extended_deadline(request.received_on, country=account.country_code())
        note = (
            f"May be extended once, to {extended.day:%Y-%m-%d}"
            + (f" ({extended.why})" if extended.why else "")
            + ", with a reason told to the person."
            if extended
            else f"{law.name} allows no extension."
        )
    if request.verified_at:
        identity = f"Verified on {request.verified_at:%Y-%m-%d} ({request.verification_method or 'method not recorded'})"
    else:
        identity = "Not verified yet: nothing is disclosed or erased before it is"
    return RequestSummary(
        who=(person.name or f"person #{person.pk}") if person else "the person (erased)",
        what=request.get_type_display(),
        law=law.name,
        account=account.name,
        language=request.get_language_display(),
        received=request.received_at,
        received_on=request.received_on,
        time_zone=account.zone().key,
        due=request.due_at,
        due_note=request.due_note,
        days_left=None if closed else request.days_left(today),
        deadline_note=note,
        identity=identity,
        verified=request.verified_at is not None,
        status=request.get_status_display(),
        denial_reason=request.get_denial_reason_display() if request.denial_reason else "",
        status_reason=request.status_reason,
        closed=closed,
        is_test=request.is_test,
    )
