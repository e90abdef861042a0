"""Identity: one-time codes emailed to the address on record, or a staff member's manual check."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from core.audit import Action, Record, audit_append
from dsar.letters import send_letter
from dsar.models import (
    Request,
    RequestEvent,
    VerificationCode,
)
from dsar.workflow import (
    User,
    actor_label,
    add_event,
    is_staff,
    open_blockers,
    raise_first,
    record_history,
    transition,
)

# --- identity ------------------------------------------------------------------------------------


def _code_digest(request: Request, code: str) -> str:
    # Keyed with SECRET_KEY and the request: a six-digit code's plain hash could be reversed by trying all.
    return salted_hmac("dsar.verification-code", f"{request.pk}:{code}", algorithm="sha256").hexdigest()


@transaction.atomic
def request_verify_blockers(request: Request) -> dict[str, str]:
    """Why the requester's identity cannot be verified now (field → why); empty when it can."""
    blockers = open_blockers(request)
    if not blockers and request.is_verified:
        blockers["status"] = "The requester's identity is already verified."
    return blockers


def request_send_code_blockers(request: Request) -> dict[str, str]:
    """Why no code can be sent for ``request`` now (field → why); empty when one can (the hourly cap aside)."""
    blockers = request_verify_blockers(request)
    if not blockers and (request.person is None or not request.person.email):
        blockers["email"] = "The person has no email on record; verify them manually."
    return blockers


def request_send_code(*, request: Request, actor: User = None) -> None:
    """Email a new one-time code to the person's address on record (never to an address the requester
    just typed); any earlier code stops working."""
    raise_first(request_send_code_blockers(request))
    person = request.person
    assert person is not None  # request_send_code_blockers refuses a request without a person
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
        transition(request, allowed=(Request.Status.RECEIVED,), actor=actor, status=Request.Status.VERIFYING)
    add_event(
        request,
        RequestEvent.Kind.CODE_SENT,
        f"A one-time code was emailed to the address on record; valid {ttl} minutes.",
        actor=actor,
    )
    expires_at = now + dt.timedelta(minutes=ttl)
    send_letter(request, "code", to=person.email, code=code, minutes=ttl, until=expires_at, number=str(request.pk))


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
    raise_first(request_verify_blockers(request))
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
            add_event(
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
        record_history(current, actor=actor, reason="code used")
        mark_verified(
            request,
            method="code",
            message="Identity verified with the one-time code sent to the email on record.",
            actor=actor,
        )


@transaction.atomic
def request_verify_manually(*, request: Request, note: str, actor: User) -> None:
    """A staff member vouches for the requester's identity (e.g. checked in the support product), with a note."""
    if not is_staff(actor):
        raise PermissionDenied("Only staff can verify a requester manually.")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say how the identity was checked."})
    raise_first(request_verify_blockers(request))
    VerificationCode.objects.filter(request=request, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    mark_verified(request, method="manual", message=f"Identity verified manually: {note}", actor=actor)


def mark_verified(request: Request, *, method: str, message: str, actor: User) -> None:
    transition(
        request,
        allowed=(Request.Status.RECEIVED, Request.Status.VERIFYING),
        actor=actor,
        status=Request.Status.IN_PROGRESS,
        verified_at=timezone.now(),
        verification_method=method,
    )
    add_event(request, RequestEvent.Kind.VERIFIED, message, actor=actor)
    audit_append(
        Record(
            action=Action.IDENTITY_VERIFIED,
            object_type="dsar.request",
            object_id=request.pk,
            account_id=request.account_id,
            actor=actor_label(actor),
            data={"method": method, "note": message},
        )
    )
