"""Everything that changes people and requests. The admin, the API, the commands and the tasks call these."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from dsar.models import (
    ErasureProgress,
    Jurisdiction,
    Person,
    Request,
    RequestEvent,
    VerificationCode,
    e164_validator,
)
from dsar.scan import ScanResult, scan_for_subject
from dsar.sources import DataSource, ErasureStep, Retention, Subject, registered_sources
from residency.audit import Action, Record, audit_append, audit_redact
from residency.history import actor_name, write_history
from residency.models import Account

User = AbstractBaseUser | AnonymousUser | None
SYSTEM = "system"


# --- small helpers -------------------------------------------------------------------------------


def _actor_name(actor: User) -> str:
    """Who did it, for the timeline: the login, else the API key or context actor, else 'system'."""
    return actor_name(actor) or SYSTEM


def _is_staff(actor: User) -> bool:
    return bool(actor is not None and actor.is_authenticated and getattr(actor, "is_staff", False))


def _event(request: Request, kind: str, message: str, *, actor: User = None) -> RequestEvent:
    return RequestEvent.objects.create(request=request, kind=kind, message=message, actor=_actor_name(actor))


def _record_history(instance: models.Model, *, actor: User = None, reason: str = "") -> None:
    """A history row for a change written with a conditional ``update()`` (which skips simple-history's signals)."""
    instance.refresh_from_db()
    user = actor if actor is not None and actor.is_authenticated else None
    write_history([instance], history_type="~", user_id=user.pk if user else None, username=actor_name(user), reason=reason)


def _transition(
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
    _record_history(request, actor=actor, reason=reason)


def _require_open(request: Request) -> None:
    if request.status in Request.CLOSED:
        raise ValidationError({"status": f"The request is {request.get_status_display().lower()}."})


def _require_verified(request: Request) -> None:
    """Nothing is executed for a requester whose identity is not verified (GDPR Art. 12(6))."""
    if not request.is_verified:
        raise ValidationError({"status": "The requester's identity is not verified yet."})


def _email_person(person: Person | None, subject: str, body: str) -> bool:
    """Email the person at their address on record once the transaction commits; False when there is none."""
    if person is None or not person.email:
        return False
    address = person.email
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address]))
    return True


def subject_of(person: Person) -> Subject:
    return Subject(
        person_id=person.pk, account_id=person.account_id, name=person.name, email=person.email, phone=person.phone
    )


def request_subject(request: Request) -> Subject | None:
    """The request's subject: the snapshot taken when an erasure started, else the person as they are now."""
    if request.subject:
        return Subject(**request.subject)
    if request.person is not None:
        return subject_of(request.person)
    return None


# --- intake --------------------------------------------------------------------------------------


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
    actor: User = None,
) -> Request:
    """Open a request for the person with this email or phone in the account (created if unknown).

    The deadline runs from receipt. When the person has an email on record, a one-time code is sent to it
    at once so they can prove who they are (unless ``send_code`` is False: staff will verify manually).
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
    if channel not in Request.Channel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    if person is None:
        person = _person_for_intake(account=account, email=email, phone=phone, name=name)
    elif person.account_id != account.pk:
        raise ValidationError({"person": "The person belongs to another account."})
    received_on = timezone.localdate(received_at)
    due = jurisdiction.due_date(received_on)
    request = Request.objects.create(
        account=account,
        person=person,
        type=type,
        jurisdiction=jurisdiction,
        channel=channel,
        received_at=received_at,
        due_at=due,
        first_due_at=due,
    )
    _event(
        request,
        RequestEvent.Kind.RECEIVED,
        f"{request.get_type_display()} request received by {request.get_channel_display().lower()} under {jurisdiction.name}; due {due.isoformat()}.",
        actor=actor,
    )
    if send_code and person.email:
        try:
            request_send_code(request=request, actor=actor)
        except ValidationError as refused:
            # The request stands (its deadline runs from receipt); the code waits until the cap allows it.
            _event(request, RequestEvent.Kind.CODE_HELD, f"No code sent: {' '.join(refused.messages)}", actor=actor)
    return request


def _person_for_intake(*, account: Account, email: str, phone: str, name: str) -> Person:
    email, phone, name = email.strip(), phone.strip(), name.strip()
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
        person = Person.objects.create(account=account, email=email, phone=phone, name=name)
    return person


# --- identity ------------------------------------------------------------------------------------


def _code_digest(request: Request, code: str) -> str:
    # Keyed with SECRET_KEY and the request: a six-digit code's plain hash could be reversed by trying all.
    return salted_hmac("dsar.verification-code", f"{request.pk}:{code}", algorithm="sha256").hexdigest()


@transaction.atomic
def request_send_code(*, request: Request, actor: User = None) -> None:
    """Email a new one-time code to the person's address on record (never to an address the requester
    just typed); any earlier code stops working."""
    _require_open(request)
    if request.is_verified:
        raise ValidationError({"status": "The requester's identity is already verified."})
    person = request.person
    if person is None or not person.email:
        raise ValidationError({"email": "The person has no email on record; verify them manually."})
    now = timezone.now()
    _check_code_rate(request=request, address=person.email, now=now)
    code = f"{secrets.randbelow(10**6):06d}"
    VerificationCode.objects.filter(request=request, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    ttl = settings.DSAR_CODE_TTL_MINUTES
    VerificationCode.objects.create(
        request=request, digest=_code_digest(request, code), expires_at=now + dt.timedelta(minutes=ttl)
    )
    if request.status == Request.Status.RECEIVED:
        _transition(request, allowed=(Request.Status.RECEIVED,), actor=actor, status=Request.Status.VERIFYING)
    _event(
        request,
        RequestEvent.Kind.CODE_SENT,
        f"A one-time code was emailed to the address on record; valid {ttl} minutes.",
        actor=actor,
    )
    transaction.on_commit(
        lambda: send_mail(
            f"Your verification code for request {request.pk}",
            f"Your code is {code}. It expires in {ttl} minutes. If you did not make a request about your "
            "personal data, ignore this message.",
            settings.DEFAULT_FROM_EMAIL,
            [person.email],
        )
    )


def _check_code_rate(*, request: Request, address: str, now: dt.datetime) -> None:
    """Refuse, naming ``code``, a code past the hourly caps: per request, and per address across requests
    (an intake form must not become a way to flood someone's mailbox)."""
    hour_ago = now - dt.timedelta(hours=1)
    recent = VerificationCode.objects.filter(created_at__gt=hour_ago)
    per_request = settings.DSAR_CODES_PER_REQUEST_PER_HOUR
    if recent.filter(request=request).count() >= per_request:
        raise ValidationError({"code": f"At most {per_request} codes an hour are sent for one request; try again later."})
    per_address = settings.DSAR_CODES_PER_ADDRESS_PER_HOUR
    if recent.filter(request__person__email__iexact=address).count() >= per_address:
        raise ValidationError(
            {"code": f"At most {per_address} codes an hour are sent to one address; try again later."}
        )


def request_verify_code(*, request: Request, code: str, actor: User = None) -> None:
    """Verify the requester with the code they received.

    Not one transaction on purpose: a failed attempt must stay counted even though the caller gets an
    error (the API runs this view outside its per-request transaction).
    """
    _require_open(request)
    if request.is_verified:
        raise ValidationError({"status": "The requester's identity is already verified."})
    now = timezone.now()
    current = VerificationCode.objects.filter(request=request, used_at__isnull=True, revoked_at__isnull=True).first()
    if current is None:
        raise ValidationError({"code": "No code is waiting for this request; ask for a new one."})
    if current.expires_at <= now:
        raise ValidationError({"code": "The code has expired; ask for a new one."})
    limit = settings.DSAR_CODE_MAX_ATTEMPTS
    with transaction.atomic():
        # Count the attempt before comparing, with a guard, so parallel guesses cannot exceed the limit.
        counted = VerificationCode.objects.filter(pk=current.pk, attempts__lt=limit, used_at__isnull=True).update(
            attempts=F("attempts") + 1
        )
    if not counted:
        raise ValidationError({"code": "Too many wrong codes; ask for a new one."})
    if not constant_time_compare(current.digest, _code_digest(request, str(code).strip())):
        left = limit - current.attempts - 1
        with transaction.atomic():
            _event(
                request,
                RequestEvent.Kind.CODE_FAILED,
                f"A wrong code was entered; {left} attempt(s) left.",
                actor=actor,
            )
        raise ValidationError(
            {"code": f"The code is wrong; {left} attempt(s) left." if left else "The code is wrong; ask for a new one."}
        )
    with transaction.atomic():
        if not VerificationCode.objects.filter(pk=current.pk, used_at__isnull=True).update(used_at=now):
            raise ValidationError({"code": "The code was already used."})
        _record_history(current, actor=actor, reason="code used")
        _mark_verified(
            request,
            method="code",
            message="Identity verified with the one-time code sent to the email on record.",
            actor=actor,
        )


@transaction.atomic
def request_verify_manually(*, request: Request, note: str, actor: User) -> None:
    """A staff member vouches for the requester's identity (e.g. checked in the support product), with a note."""
    if not _is_staff(actor):
        raise PermissionDenied("Only staff can verify a requester manually.")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say how the identity was checked."})
    _require_open(request)
    if request.is_verified:
        raise ValidationError({"status": "The requester's identity is already verified."})
    VerificationCode.objects.filter(request=request, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    _mark_verified(request, method="manual", message=f"Identity verified manually: {note}", actor=actor)


def _mark_verified(request: Request, *, method: str, message: str, actor: User) -> None:
    _transition(
        request,
        allowed=(Request.Status.RECEIVED, Request.Status.VERIFYING),
        actor=actor,
        status=Request.Status.IN_PROGRESS,
        verified_at=timezone.now(),
        verification_method=method,
    )
    _event(request, RequestEvent.Kind.VERIFIED, message, actor=actor)
    audit_append(
        Record(
            action=Action.IDENTITY_VERIFIED,
            object_type="dsar.request",
            object_id=request.pk,
            account_id=request.account_id,
            actor=_actor_name(actor),
            data={"method": method, "note": message},
        )
    )


# --- deadlines -----------------------------------------------------------------------------------


@transaction.atomic
def request_extend(*, request: Request, reason: str, actor: User = None, today: dt.date | None = None) -> None:
    """Extend the deadline by what the law allows: once, with a reason, before the first deadline has
    passed, and the person is told (GDPR Art. 12(3): within the first month, with the reasons)."""
    today = today or timezone.localdate()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the extension; the person is told it."})
    _require_open(request)
    new_due = request.jurisdiction.extended_due_date(timezone.localdate(request.received_at))
    if new_due is None:
        raise ValidationError({"reason": f"{request.jurisdiction.name} allows no extension."})
    if today > request.first_due_at:
        raise ValidationError(
            {"reason": f"The deadline passed on {request.first_due_at.isoformat()}; it can no longer be extended."}
        )
    changed = (
        Request.objects.filter(pk=request.pk, extended_at__isnull=True, due_at=F("first_due_at"))
        .exclude(status__in=Request.CLOSED)
        .update(due_at=new_due, extended_at=timezone.now(), extension_reason=reason)
    )
    if not changed:
        raise ValidationError({"reason": "The deadline was already extended once."})
    _record_history(request, actor=actor, reason="deadline extended")
    told = _email_person(
        request.person,
        f"Your request {request.pk}: we need more time",
        f"We have extended the time to answer your {request.get_type_display().lower()} request to "
        f"{new_due.isoformat()}.\n\nReason: {reason}",
    )
    message = f"Deadline extended from {request.first_due_at.isoformat()} to {new_due.isoformat()}: {reason}."
    if told:
        Request.objects.filter(pk=request.pk).update(extension_notified_at=timezone.now())
        request.refresh_from_db()
        message += " The person was told by email."
    else:
        message += " The person has no email on record: tell them another way before the first deadline."
    _event(request, RequestEvent.Kind.EXTENDED, message, actor=actor)


# --- closing -------------------------------------------------------------------------------------


@transaction.atomic
def request_reject(*, request: Request, reason: str, actor: User = None) -> None:
    """Refuse the request (manifestly unfounded, identity not proven…); the reason is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for rejecting the request."})
    _transition(
        request,
        allowed=(Request.Status.RECEIVED, Request.Status.VERIFYING, Request.Status.IN_PROGRESS, Request.Status.WAITING),
        actor=actor,
        status=Request.Status.REJECTED,
        status_reason=reason,
        completed_at=timezone.now(),
        subject=None,
    )
    _event(request, RequestEvent.Kind.REJECTED, f"Rejected: {reason}", actor=actor)


@transaction.atomic
def request_complete(*, request: Request, actor: User = None) -> None:
    """Close a verified request. An erasure closes only once executed with a clean verification scan; the
    identifiers kept for the scan are then dropped, leaving proof without personal data."""
    _require_verified(request)
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
    _transition(
        request,
        allowed=(Request.Status.IN_PROGRESS,),
        actor=actor,
        status=Request.Status.COMPLETED,
        completed_at=timezone.now(),
        subject=None,
    )
    _event(request, RequestEvent.Kind.COMPLETED, "Request completed.", actor=actor)


@transaction.atomic
def request_assign(*, request: Request, assignee: AbstractBaseUser | None, actor: User = None) -> None:
    Request.objects.filter(pk=request.pk).update(assignee=assignee)
    _record_history(request, actor=actor, reason="assigned")
    _event(
        request,
        RequestEvent.Kind.ASSIGNED,
        f"Assigned to {assignee.get_username()}." if assignee else "Unassigned.",
        actor=actor,
    )


# --- rectification -------------------------------------------------------------------------------

RECTIFIABLE_FIELDS = ("kind", "name", "email", "phone", "external_id")


@transaction.atomic
def person_rectify(*, request: Request, changes: dict[str, str], actor: User = None) -> list[str]:
    """Correct the person's data under a rectification request; returns the fields that changed.

    The person's history row carries the request in its change reason; the timeline names the fields but
    not the values (it must stay free of personal data).
    """
    if request.type != Request.Type.RECTIFICATION:
        raise ValidationError({"type": "Only a rectification request corrects a person's data."})
    _require_verified(request)
    _require_open(request)
    person = request.person
    if person is None:
        raise ValidationError({"person": "The request has no person."})
    unknown = set(changes) - set(RECTIFIABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be corrected here."})
    changed = [name for name in RECTIFIABLE_FIELDS if name in changes and getattr(person, name) != changes[name]]
    if not changed:
        return []
    for name in changed:
        setattr(person, name, (changes[name] or "").strip())
    person.full_clean()
    if actor is not None and actor.is_authenticated:
        person._history_user = actor  # type: ignore[attr-defined]
    person._change_reason = f"rectification, request {request.pk}"  # type: ignore[attr-defined]
    person.save()
    _event(request, RequestEvent.Kind.RECTIFIED, f"Corrected: {', '.join(changed)}.", actor=actor)
    return changed


@transaction.atomic
def person_send_data(*, request: Request, actor: User = None) -> None:
    """Email the person the data held on them (after a rectification: the corrected data)."""
    _require_verified(request)
    person = request.person
    lines = (
        [
            f"{label}: {getattr(person, name) or '-'}"
            for name, label in (
                ("name", "Name"),
                ("email", "Email"),
                ("phone", "Phone"),
                ("external_id", "Id in the support product"),
            )
        ]
        if person
        else []
    )
    if not _email_person(person, f"Your request {request.pk}: the data we hold about you", "\n".join(lines)):
        raise ValidationError({"email": "The person has no email on record."})
    _event(request, RequestEvent.Kind.DATA_SENT, "The person's data was emailed to the address on record.", actor=actor)


# --- objection -----------------------------------------------------------------------------------


@transaction.atomic
def person_object(*, request: Request, actor: User = None) -> bool:
    """Exclude the person from every marketing use from now on; False if they had already objected."""
    if request.type != Request.Type.OBJECTION:
        raise ValidationError({"type": "Only an objection request records an objection."})
    _require_verified(request)
    _require_open(request)
    if request.person is None:
        raise ValidationError({"person": "The request has no person."})
    now = timezone.now()
    person = request.person
    changed = Person.objects.filter(pk=person.pk, objected_to_marketing_at__isnull=True).update(
        objected_to_marketing_at=now, objection_request=request
    )
    if changed:
        _record_history(person, actor=actor, reason=f"objection, request {request.pk}")
        _event(request, RequestEvent.Kind.OBJECTION, "The person is excluded from marketing from now on.", actor=actor)
    else:
        _event(
            request,
            RequestEvent.Kind.OBJECTION,
            "The person had already objected to marketing; nothing changed.",
            actor=actor,
        )
    Request.objects.filter(pk=request.pk, executed_at__isnull=True).update(executed_at=now)
    request.refresh_from_db()
    return bool(changed)


# --- erasure -------------------------------------------------------------------------------------


@dataclass
class SourcePreview:
    key: str
    label: str
    counts: dict[str, int]
    retained: list[dict[str, Any]]
    blockers: list[str]


@dataclass
class ErasurePreview:
    sources: list[SourcePreview] = field(default_factory=list)

    @property
    def blockers(self) -> list[str]:
        return [blocker for source in self.sources for blocker in source.blockers]

    @property
    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for source in self.sources:
            for category, count in source.counts.items():
                totals[category] = totals.get(category, 0) + count
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "sources": [asdict(source) for source in self.sources],
            "totals": self.totals,
            "blockers": self.blockers,
        }


def _retention_dict(source: DataSource, retention: Retention) -> dict[str, Any]:
    return {
        "source": source.key,
        "data_category": retention.data_category,
        "description": retention.description,
        "reason": retention.reason,
        "count": retention.count,
    }


def erasure_preview(*, subject: Subject) -> ErasurePreview:
    """What each source would erase (counts by category), what it keeps and why, and what blocks it now."""
    preview = ErasurePreview()
    for source in registered_sources():
        preview.sources.append(
            SourcePreview(
                key=source.key,
                label=source.label,
                counts=dict(source.locate(subject)),
                retained=[_retention_dict(source, retention) for retention in source.retained(subject)],
                blockers=list(source.blockers(subject)),
            )
        )
    return preview


def _erasure_subject(request: Request) -> Subject:
    subject = request_subject(request)
    if subject is None:
        raise ValidationError({"person": "The request has no person and no stored subject to erase."})
    return subject


@transaction.atomic
def request_erasure_preview(*, request: Request, actor: User = None) -> ErasurePreview:
    if request.type != Request.Type.ERASURE:
        raise ValidationError({"type": "Only an erasure request has an erasure preview."})
    preview = erasure_preview(subject=_erasure_subject(request))
    totals = ", ".join(f"{category} {count}" for category, count in sorted(preview.totals.items())) or "nothing found"
    _event(
        request,
        RequestEvent.Kind.PREVIEWED,
        f"Erasure previewed: {totals}; {len(preview.blockers)} blocker(s).",
        actor=actor,
    )
    return preview


@dataclass
class ErasureOutcome:
    blocked: list[str] = field(default_factory=list)
    ran: list[tuple[int, str, dict[str, int]]] = field(default_factory=list)  # (step, source, counts) run now
    skipped: int = 0  # steps already finished by an earlier run
    scan: ScanResult | None = None

    @property
    def erased(self) -> int:
        return sum(sum(counts.values()) for _, _, counts in self.ran)


Progress = Callable[[int, str, dict[str, int]], None]


def request_execute_erasure(
    *, request: Request, actor: User = None, progress: Progress | None = None
) -> ErasureOutcome:
    """Erase the person's data, source by source, in the three steps of :mod:`dsar.sources`.

    Each (source, step) commits with its progress row, so a run killed anywhere resumes where it stopped,
    and a finished erasure run again changes nothing. A source that reports a blocker (the person is on a
    call) stops it before anything is erased, and the request waits with that reason. Ends with the
    verification scan and the certificate.
    """
    if request.type != Request.Type.ERASURE:
        raise ValidationError({"type": "Only an erasure request can be executed as an erasure."})
    _require_verified(request)
    if request.status not in (Request.Status.IN_PROGRESS, Request.Status.WAITING):
        raise ValidationError({"status": f"The request is {request.get_status_display().lower()}."})
    with transaction.atomic():
        if not request.subject:
            # The snapshot outlives the Person row, which step 2 deletes; sources and the scan use it.
            subject = _erasure_subject(request)
            Request.objects.filter(pk=request.pk, subject__isnull=True).update(subject=asdict(subject))
            request.refresh_from_db()
        subject = Subject(**request.subject)
    sources = registered_sources()
    outcome = ErasureOutcome()
    done = set(ErasureProgress.objects.filter(request=request).values_list("source", "step"))
    pending = [(step, source) for step in ErasureStep for source in sources if (source.key, int(step)) not in done]
    outcome.skipped = len(ErasureStep) * len(sources) - len(pending)
    if pending:
        blockers = [blocker for source in sources for blocker in source.blockers(subject)]
        if blockers:
            with transaction.atomic():
                reason = "; ".join(blockers)
                _transition(
                    request,
                    allowed=(Request.Status.IN_PROGRESS, Request.Status.WAITING),
                    actor=actor,
                    status=Request.Status.WAITING,
                    status_reason=reason,
                )
                _event(request, RequestEvent.Kind.BLOCKED, f"Erasure refused: {reason}", actor=actor)
            outcome.blocked = blockers
            return outcome
    if request.status == Request.Status.WAITING:
        with transaction.atomic():
            _transition(
                request,
                allowed=(Request.Status.WAITING,),
                actor=actor,
                status=Request.Status.IN_PROGRESS,
                status_reason="",
            )
            _event(request, RequestEvent.Kind.EXECUTED, "Nothing blocks the erasure any more; it resumes.", actor=actor)
    for step, source in pending:
        with transaction.atomic():
            counts = {category: int(count) for category, count in source.erase(subject, step).items() if count}
            ErasureProgress.objects.create(request=request, source=source.key, step=int(step), counts=counts)
            audit_append(
                Record(
                    action=Action.ERASURE_STEP,
                    object_type="dsar.request",
                    object_id=request.pk,
                    account_id=request.account_id,
                    actor=_actor_name(actor),
                    data={"step": int(step), "source": source.key, "counts": counts},
                )
            )
            _event(
                request,
                RequestEvent.Kind.STEP_DONE,
                f"Step {int(step)} ({step.name.lower()}), {source.label}: "
                + (", ".join(f"{c} {n}" for c, n in sorted(counts.items())) or "nothing to erase")
                + ".",
                actor=actor,
            )
        outcome.ran.append((int(step), source.key, counts))
        if progress:
            progress(int(step), source.key, counts)
    if pending:
        # The audit chain outlives every erasure; the subject's identifiers in its entries (a verification
        # note naming them) are nulled, and the chain still verifies (residency/audit.py).
        audit_redact(account_id=subject.account_id, needles=_audit_needles(subject), request_id=request.pk)
    with transaction.atomic():
        first_finish = Request.objects.filter(pk=request.pk, executed_at__isnull=True).update(
            executed_at=timezone.now()
        )
        request.refresh_from_db()
        if first_finish:
            _record_history(request, actor=actor, reason="erasure executed")
            _event(request, RequestEvent.Kind.EXECUTED, "Erasure executed in every source.", actor=actor)
    outcome.scan = request_verify_erasure(request=request, actor=actor)
    return outcome


def _audit_needles(subject: Subject) -> list[str]:
    """The identifiers an erasure removes from audit entries: email, phone and the full name (a short name
    would match inside ordinary words)."""
    name = subject.name.strip()
    return [value for value in (subject.email.strip(), subject.phone.strip(), name if len(name) >= 3 else "") if value]


def _declared_locations(subject: Subject) -> dict[str, str]:
    declared: dict[str, str] = {}
    for source in registered_sources():
        for retention in source.retained(subject):
            for location in getattr(retention, "locations", ()):
                declared[location] = retention.reason
    return declared


@transaction.atomic
def request_verify_erasure(*, request: Request, actor: User = None) -> ScanResult:
    """Scan every text column of every table for the person's email, phone and name; store the result and
    refresh the certificate. Zero undeclared hits is the goal."""
    if request.type != Request.Type.ERASURE or request.executed_at is None:
        raise ValidationError({"status": "Only an executed erasure can be verified."})
    if not request.subject:
        raise ValidationError(
            {"status": "The request is closed; its identifiers are gone, so it cannot be scanned again."}
        )
    subject = Subject(**request.subject)
    result = scan_for_subject(subject, declared=_declared_locations(subject))
    now = timezone.now()
    scan = {"at": now.isoformat(), **result.as_dict()}
    Request.objects.filter(pk=request.pk).update(scan=scan, certificate=_certificate(request, subject, scan, actor))
    _record_history(request, actor=actor, reason="verification scan")
    _event(
        request,
        RequestEvent.Kind.SCANNED,
        f"Verification scan of {result.tables} tables, {result.columns} text columns: "
        f"{result.undeclared} undeclared hit(s), {result.declared} declared retention hit(s).",
        actor=actor,
    )
    return result


def _certificate(request: Request, subject: Subject, scan: dict[str, Any], actor: User) -> dict[str, Any]:
    """What was erased, how much, when and by whom; no name, email or phone (nor the person's id in hits)."""
    steps = [
        {"step": row.step, "source": row.source, "counts": row.counts, "finished_at": row.finished_at.isoformat()}
        for row in ErasureProgress.objects.filter(request=request)
    ]
    totals: dict[str, int] = {}
    for row in steps:
        for category, count in row["counts"].items():
            totals[category] = totals.get(category, 0) + count
    retained = [
        _retention_dict(source, retention) for source in registered_sources() for retention in source.retained(subject)
    ]
    return {
        "request": request.pk,
        "account": request.account_id,
        "jurisdiction": request.jurisdiction.code,
        "received_at": request.received_at.isoformat(),
        "executed_at": request.executed_at.isoformat() if request.executed_at else None,
        "executed_by": sorted(
            set(request.events.filter(kind=RequestEvent.Kind.STEP_DONE).values_list("actor", flat=True))
        ),
        "certified_by": _actor_name(actor),
        "steps": steps,
        "totals": totals,
        "retained": retained,
        "scan": {key: scan[key] for key in ("at", "tables", "columns", "undeclared", "declared")},
    }


# --- execute, whatever the type -------------------------------------------------------------------


def request_execute(*, request: Request, actor: User = None, progress: Progress | None = None) -> ErasureOutcome | None:
    """Do what the request asks: erase, record the objection, build the export, or produce the access report."""
    _require_verified(request)
    if request.type == Request.Type.ERASURE:
        return request_execute_erasure(request=request, actor=actor, progress=progress)
    if request.type == Request.Type.OBJECTION:
        person_object(request=request, actor=actor)
        request_complete(request=request, actor=actor)
        return None
    if request.type == Request.Type.PORTABILITY:
        from dsar.exports import export_create

        export_create(request=request, actor=actor)
        return None
    if request.type == Request.Type.ACCESS:
        from dsar.report import request_access_report

        report = request_access_report(request=request)
        with transaction.atomic():
            Request.objects.filter(pk=request.pk, executed_at__isnull=True).update(executed_at=timezone.now())
            request.refresh_from_db()
            _event(
                request,
                RequestEvent.Kind.REPORT,
                f"Access report produced: {report['total']} record(s) in {len(report['categories'])} categor(ies).",
                actor=actor,
            )
        return None
    raise ValidationError({"type": "A rectification is done by correcting the person's data from the request."})
