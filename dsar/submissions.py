"""The way in for data subjects and their agents: a submission, proven by its person, becomes a request.

The privacy center (``dsar/center/``) and the Data Rights Protocol's agents file a :class:`~dsar.models.Submission`.
The person then proves they control the email (or phone) it names, with the one-time link or the 6-digit code sent
there; only then is a person looked up and a request opened through :func:`dsar.intake.request_create`, dated
from the submission (the deadline runs from receipt), or, when the same identity has an open request of the same
type from the last 365 days, the submission is linked to that one instead. An unverified submission stalls
nobody: it is matched to nothing. Unverified, it is reminded once and expires (``submissions_expire``).

Secrets (the link, the code, the status link) are stored as keyed digests only. What the timeline may not hold
(the identifiers, the client's address) stays out of the submission's ``trail``, which becomes the request's
timeline on verification.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext, gettext_lazy, ngettext

from core.api.throttling import allow_key
from core.history import history_context
from core.sms import send_sms
from dsar.identity import mark_verified
from dsar.intake import person_for_intake, request_create
from dsar.letters import LAW_NAMES, REQUEST_TYPES, day
from dsar.models import (
    DrpAgent,
    ErasureProgress,
    Jurisdiction,
    PrivacyCenter,
    Request,
    RequestEvent,
    Submission,
    e164_validator,
)
from dsar.sources import normal_email, normal_name, normal_phone
from dsar.workflow import User, add_event, record_history
from residency.models import Account

#: Who acts when the person does something on their own pages (history and timeline say so).
PERSON = "the person (privacy center)"

#: A duplicate is an open request of the same type and identity received within this many days.
DUPLICATE_WINDOW_DAYS = 365

# --- where the person lives, and the law that follows -------------------------------------------------

#: The EEA's countries (the EU's 27, Iceland, Liechtenstein and Norway): the GDPR applies to their residents.
EEA = {
    "AT": gettext_lazy("Austria"), "BE": gettext_lazy("Belgium"), "BG": gettext_lazy("Bulgaria"),
    "HR": gettext_lazy("Croatia"), "CY": gettext_lazy("Cyprus"), "CZ": gettext_lazy("Czechia"),
    "DK": gettext_lazy("Denmark"), "EE": gettext_lazy("Estonia"), "FI": gettext_lazy("Finland"),
    "FR": gettext_lazy("France"), "DE": gettext_lazy("Germany"), "GR": gettext_lazy("Greece"),
    "HU": gettext_lazy("Hungary"), "IS": gettext_lazy("Iceland"), "IE": gettext_lazy("Ireland"),
    "IT": gettext_lazy("Italy"), "LV": gettext_lazy("Latvia"), "LI": gettext_lazy("Liechtenstein"),
    "LT": gettext_lazy("Lithuania"), "LU": gettext_lazy("Luxembourg"), "MT": gettext_lazy("Malta"),
    "NL": gettext_lazy("Netherlands"), "NO": gettext_lazy("Norway"), "PL": gettext_lazy("Poland"),
    "PT": gettext_lazy("Portugal"), "RO": gettext_lazy("Romania"), "SK": gettext_lazy("Slovakia"),
    "SI": gettext_lazy("Slovenia"), "ES": gettext_lazy("Spain"), "SE": gettext_lazy("Sweden"),
}  # fmt: skip

#: The other places a person may say they live, with the law of the product that covers them (None: the
#: privacy center's default law).
ELSEWHERE: dict[str, tuple[Any, str | None]] = {
    "GB": (gettext_lazy("United Kingdom"), "uk-gdpr"),
    "US-CA": (gettext_lazy("California, United States"), "ccpa"),
    "US": (gettext_lazy("Another state of the United States"), None),
    "BR": (gettext_lazy("Brazil"), "lgpd"),
    "CA": (gettext_lazy("Canada"), "pipeda"),
    "IN": (gettext_lazy("India"), None),
    "AU": (gettext_lazy("Australia"), None),
    "other": (gettext_lazy("Somewhere else"), None),
}

#: Every place the form offers: (code, name), the EEA's countries first, then the others.
RESIDENCES: list[tuple[str, Any]] = [*EEA.items(), *((code, name) for code, (name, _) in ELSEWHERE.items())]


def law_code_for(residence: str) -> str | None:
    """The code of the law that covers a resident of ``residence``; None: the privacy center's default."""
    if residence in EEA:
        return "gdpr"
    return ELSEWHERE.get(residence, (None, None))[1]


def jurisdiction_for(*, center: PrivacyCenter, residence: str) -> Jurisdiction:
    """The law a request from a resident of ``residence`` is answered under: the one that covers them, else (a
    place none of the product's laws covers, or a law not seeded) the privacy center's default."""
    code = law_code_for(residence)
    found = Jurisdiction.objects.filter(code=code).first() if code else None
    return found or center.default_jurisdiction


def answer_time(jurisdiction: Jurisdiction) -> str:
    """The promise the person reads before submitting, in the active language: "answered within one month
    under the GDPR (EU)"."""
    if jurisdiction.period_unit == Jurisdiction.Unit.MONTHS:
        period = ngettext("one month", "%(count)d months", jurisdiction.period) % {"count": jurisdiction.period}
    else:
        period = ngettext("one day", "%(count)d days", jurisdiction.period) % {"count": jurisdiction.period}
    law = LAW_NAMES.get(jurisdiction.code, jurisdiction.name)
    return gettext("answered within %(period)s under %(law)s") % {"period": period, "law": law}


# --- abuse ----------------------------------------------------------------------------------------


class Throttled(Exception):
    """Too many submissions from one client address (``field`` "address") or for one identity ("identity")."""

    def __init__(self, field: str, retry_after: float) -> None:
        super().__init__(field)
        self.field = field
        self.retry_after = max(1, int(retry_after + 0.999))

    @property
    def message(self) -> str:
        minutes = max(1, (self.retry_after + 59) // 60)
        if self.field == "address":
            text = ngettext(
                "Too many requests were sent from your network. Try again in %(minutes)d minute.",
                "Too many requests were sent from your network. Try again in %(minutes)d minutes.",
                minutes,
            )
        else:
            text = ngettext(
                "Too many requests were sent for this email or phone number. Try again in %(minutes)d minute.",
                "Too many requests were sent for this email or phone number. Try again in %(minutes)d minutes.",
                minutes,
            )
        return text % {"minutes": minutes}


def _throttle(*, account: Account, identity: str, client_address: str) -> None:
    """Count one submission against the client address's and the identity's rates; refuse past either. Both
    are counted on the cache the API's throttles share, so every server process sees the same counts."""
    rates = settings.PRIVACY_CENTER_RATES
    if client_address:
        wait = allow_key(f"center:address:{client_address}", rates["address"])
        if wait is not None:
            raise Throttled("address", wait)
    wait = allow_key(f"center:identity:{account.pk}:{identity}", rates["identity"])
    if wait is not None:
        raise Throttled("identity", wait)


# --- secrets --------------------------------------------------------------------------------------


def _digest(kind: str, value: str) -> str:
    # Keyed with SECRET_KEY: a stored digest of a six-digit code could otherwise be reversed by trying all.
    return salted_hmac(f"dsar.submission-{kind}", value, algorithm="sha256").hexdigest()


def _code_digest(submission: Submission, code: str) -> str:
    return _digest("code", f"{submission.public_id}:{code}")


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def center_slug(account: Account) -> str:
    """The address of the account's privacy center, read once per account object (the link and the code's page of
    one letter need it twice)."""
    try:
        return account.privacy_center.slug
    except PrivacyCenter.DoesNotExist:
        raise ValidationError({"account": "The account has no privacy center."}) from None


def verify_url(submission: Submission, token: str) -> str:
    return _url(f"/privacy/{center_slug(submission.account)}/verify/{token}/")


def confirm_url(submission: Submission) -> str:
    return _url(f"/privacy/{center_slug(submission.account)}/confirm/{submission.public_id}/")


def status_url(submission: Submission, token: str) -> str:
    return _url(f"/privacy/{center_slug(submission.account)}/status/{token}/")


# --- what the person and the agent receive --------------------------------------------------------


def _render(submission: Submission, letter: str, **context: Any) -> tuple[str, str]:
    """A letter about ``submission`` in its language and its account's time zone: (subject line, body)."""
    with translation.override(submission.language), timezone.override(submission.account.zone()):
        values = {
            "company": submission.account.name,
            "asked_for": str(REQUEST_TYPES.get(submission.type, submission.get_type_display())),
            "received_on": day(submission.created_at),
            "agent": submission.agent_name or (submission.drp_agent.name if submission.drp_agent else ""),
            "until": day(submission.expires_at),
            **context,
        }
        subject = " ".join(render_to_string(f"dsar/letters/{letter}_subject.txt", values).split())
        body = render_to_string(f"dsar/letters/{letter}.txt", values).strip() + "\n"
    return subject, body


def _mail(submission: Submission, letter: str, *, to: str, **context: Any) -> None:
    subject, body = _render(submission, letter, **context)
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to]))


def _send_proof_request(submission: Submission, *, token: str, code: str, reminder: bool = False) -> str:
    """Send the person the one-time link and code (by email; by text message when they gave only a phone);
    returns how, for the trail."""
    if submission.email:
        _mail(
            submission,
            "verify_submission",
            to=submission.email,
            link=verify_url(submission, token),
            confirm=confirm_url(submission),
            code=code,
            reminder=reminder,
        )
        return "email"
    with translation.override(submission.language):
        body = gettext("%(company)s: your code is %(code)s. Enter it at %(url)s before %(until)s.") % {
            "company": submission.account.name,
            "code": code,
            "url": confirm_url(submission),
            "until": day(submission.expires_at),
        }
    send_sms(to=submission.phone, body=body)
    return "text message"


def _trail(submission: Submission, kind: str, message: str, *, at: dt.datetime | None = None) -> None:
    """Add a line to the submission's trail (it becomes the request's timeline), read and written under the
    row's lock so two lines written at once both stay."""
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        line = {"at": (at or timezone.now()).isoformat(), "kind": kind, "message": message}
        Submission.objects.filter(pk=submission.pk).update(trail=[*locked.trail, line])
        submission.trail = [*locked.trail, line]


# --- the agent's authorization ----------------------------------------------------------------------

#: The files an authorization may be, known by their first bytes (not their name): kind, extension.
PROOF_TYPES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
}


def proof_storage() -> FileSystemStorage:
    """Where agents' authorizations are kept: outside MEDIA_ROOT, served only to staff allowed to see them."""
    return FileSystemStorage(location=settings.DSAR_AGENT_PROOF_ROOT)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def proof_kind(upload: UploadedFile) -> tuple[str, str]:
    """The content type and extension of an authorization file, read from its first bytes; refuses, naming
    ``authorization``, a file over ``DSAR_AGENT_PROOF_MAX_BYTES`` or one that is not a PDF, PNG or JPEG."""
    limit = settings.DSAR_AGENT_PROOF_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            {
                "authorization": gettext("The file is %(size)s; the authorization may be at most %(limit)s.")
                % {"size": _megabytes(upload.size or 0), "limit": _megabytes(limit)}
            }
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for magic, kind in PROOF_TYPES.items():
        if head.startswith(magic):
            return kind
    raise ValidationError({"authorization": gettext("Upload the signed authorization as a PDF, PNG or JPEG file.")})


# --- filing -------------------------------------------------------------------------------------------


def _identifiers(*, account: Account, email: str, phone: str, name: str) -> tuple[str, str, str]:
    """The identifiers as typed, normalised (phones in E.164, national forms read as the account's country), or
    ValidationError naming each bad one."""
    errors: dict[str, str] = {}
    email, name = normal_email(email), normal_name(name)
    typed_phone = (phone or "").strip()
    phone = normal_phone(typed_phone, account.country_code()) if typed_phone else ""
    if not email and not phone:
        errors["email"] = gettext("Give your email address or your phone number.")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = gettext("Enter a valid email address.")
    if typed_phone:
        try:
            e164_validator(phone)
        except ValidationError:
            errors["phone"] = gettext("Enter a phone number with its country code, e.g. +46 70 123 45 67.")
    if len(name) > 200:
        errors["name"] = gettext("Write at most 200 characters.")
    if errors:
        raise ValidationError(errors)
    return email, phone, name


def submission_create(
    *,
    account: Account,
    type: str,
    jurisdiction: Jurisdiction,
    language: str,
    email: str = "",
    phone: str = "",
    name: str = "",
    details: str = "",
    via: str = Submission.Via.PERSON,
    agent_name: str = "",
    agent_email: str = "",
    agent_proof: UploadedFile | None = None,
    drp_agent: DrpAgent | None = None,
    drp_regime: str = "",
    agent_request_id: str = "",
    client_address: str = "",
) -> Submission:
    """File a request for the person to confirm, and send them the one-time link and code.

    Every field is checked first (ValidationError naming each bad one), then the client address's and the
    identity's rates (:class:`Throttled`); nothing is stored or sent when either refuses. An authorized agent
    names themselves and uploads the signed authorization (kept in ``DSAR_AGENT_PROOF_ROOT``); the person is
    still the one asked to confirm, and the agent gets an acknowledgement. A DRP agent may give its own id of the
    request (``agent_request_id``), echoed back in the request's status.
    """
    center = PrivacyCenter.objects.filter(account=account).first()
    if center is not None:
        account.privacy_center = center  # the letters' links read it from the account
    if center is None or not center.is_open:
        # Its emails link to its pages: an account without an open privacy center takes no submission.
        raise ValidationError({"account": gettext("This privacy center does not take requests at the moment.")})
    errors: dict[str, Any] = {}
    if type not in Request.Type.values:
        errors["type"] = gettext("Choose what you want us to do.")
    if language not in Request.Language.values:
        errors["language"] = f"Unknown language {language!r}; use one of {', '.join(Request.Language.values)}."
    try:
        email, phone, name = _identifiers(account=account, email=email, phone=phone, name=name)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    details = (details or "").strip()
    if len(details) > 5000:
        errors["details"] = gettext("Write at most 5,000 characters.")
    proof_type, extension = "", ""
    if via == Submission.Via.AGENT:
        agent_name, agent_email = normal_name(agent_name), normal_email(agent_email)
        if not agent_name:
            errors["agent_name"] = gettext("Give the agent's name.")
        try:
            validate_email(agent_email)
        except ValidationError:
            errors["agent_email"] = gettext("Enter the agent's email address.")
        if agent_proof is None:
            errors["authorization"] = gettext("Upload the authorization the person signed.")
        else:
            try:
                proof_type, extension = proof_kind(agent_proof)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    elif via == Submission.Via.DRP:
        if drp_agent is None or not drp_agent.is_active:
            errors["agent"] = "Unknown or inactive DRP agent."
        if len(agent_request_id) > 100:
            errors["agent_request_id"] = "At most 100 characters."
    elif via != Submission.Via.PERSON:
        errors["via"] = f"Unknown way in {via!r}."
    if errors:
        raise ValidationError(errors)
    _throttle(account=account, identity=email or phone, client_address=client_address)

    now = timezone.now()
    token, code = secrets.token_urlsafe(32), _new_code()
    submission = Submission(
        public_id=uuid.uuid4(),
        account=account,
        type=type,
        jurisdiction=jurisdiction,
        language=language,
        via=via,
        name=name,
        email=email,
        phone=phone,
        details=details,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.DSAR_SUBMISSION_TTL_DAYS),
        link_digest=_digest("link", token),
        agent_name=agent_name if via == Submission.Via.AGENT else "",
        agent_email=agent_email if via == Submission.Via.AGENT else "",
        agent_proof_type=proof_type,
        agent_proof_size=agent_proof.size or 0 if agent_proof is not None and proof_type else 0,
        drp_agent=drp_agent if via == Submission.Via.DRP else None,
        drp_regime=drp_regime,
        drp_agent_request_id=agent_request_id if via == Submission.Via.DRP else "",
    )
    submission.code_digest = _code_digest(submission, code)
    by = {
        Submission.Via.PERSON: "the person",
        Submission.Via.AGENT: "an authorized agent, with a signed authorization",
        Submission.Via.DRP: f"DRP agent {drp_agent.agent_id if drp_agent else ''}",
    }[via]
    stored = ""
    try:
        with transaction.atomic(), history_context(actor=_actor_for(submission)):
            if agent_proof is not None and proof_type:
                stored = proof_storage().save(f"{submission.public_id}{extension}", agent_proof)
                submission.agent_proof = stored
            how = _send_proof_request(submission, token=token, code=code)
            submission.trail = [
                {
                    "at": now.isoformat(),
                    "kind": RequestEvent.Kind.SUBMITTED,
                    "message": f"{submission.get_type_display()} request submitted by {by} under {jurisdiction.name}; "
                    f"a one-time link and code were sent by {how} to prove control of the identifier.",
                }
            ]
            submission.save()
            if via == Submission.Via.AGENT:
                _mail(submission, "agent_received", to=agent_email)
    except BaseException:
        if stored:
            proof_storage().delete(stored)
        raise
    return submission


def _actor_for(submission: Submission) -> str:
    if submission.via == Submission.Via.DRP and submission.drp_agent is not None:
        return f"drp:{submission.drp_agent.agent_id}"
    if submission.via == Submission.Via.AGENT:
        return "authorized agent (privacy center)"
    return PERSON


def submission_resend(*, submission: Submission, client_address: str = "") -> None:
    """Send a new one-time link and code for a submission still waiting (the earlier ones stop working), within
    the same rates as a new submission."""
    submission.refresh_from_db()
    _require_pending(submission, field="code")
    _throttle(account=submission.account, identity=submission.email or submission.phone, client_address=client_address)
    _renew(submission, reminder=False)


def _renew(submission: Submission, *, reminder: bool) -> None:
    token, code = secrets.token_urlsafe(32), _new_code()
    with transaction.atomic(), history_context(actor=_actor_for(submission) if not reminder else None):
        changes = {
            "link_digest": _digest("link", token),
            "code_digest": _code_digest(submission, code),
            "code_attempts": 0,
        }
        if reminder:
            changes["reminded_at"] = timezone.now()
        if not Submission.objects.filter(pk=submission.pk, status=Submission.Status.PENDING).update(**changes):
            raise ValidationError({"code": gettext("This request is no longer waiting for confirmation.")})
        record_history(submission, reason="reminder sent" if reminder else "new link and code sent")
        how = _send_proof_request(submission, token=token, code=code, reminder=reminder)
        what = "A reminder with a new" if reminder else "A new"
        _trail(submission, "code_sent", f"{what} one-time link and code were sent by {how}; the earlier ones stopped working.")


# --- proving control of the identifier ------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    """A verified submission: the request it opened (or was linked to), and the status link's token."""

    submission: Submission
    request: Request
    linked: bool
    status_token: str


def _require_pending(submission: Submission, *, field: str) -> None:
    """Refuse, naming ``field``, a submission that no longer waits for its person's confirmation."""
    if submission.status in (Submission.Status.VERIFIED, Submission.Status.LINKED):
        raise ValidationError(
            {field: gettext("This request is already confirmed; follow it with the status link we emailed you.")}
        )
    if submission.status == Submission.Status.CANCELLED:
        raise ValidationError({field: gettext("This request was cancelled.")})
    if submission.status == Submission.Status.EXPIRED or submission.expires_at <= timezone.now():
        raise ValidationError(
            {field: gettext("This request was not confirmed in time and has expired. Please make it again.")}
        )


def submission_by_public_id(public_id: uuid.UUID | str) -> Submission | None:
    try:
        return Submission.objects.select_related("account", "request").filter(public_id=public_id).first()
    except ValidationError:  # not a UUID
        return None


def submission_by_status_token(token: str) -> Submission | None:
    """The verified submission whose status link carries ``token``; None for any other token."""
    if not token:
        return None
    return (
        Submission.objects.select_related("account", "request", "request__jurisdiction")
        .filter(status_digest=_digest("status", token))
        .exclude(status_digest="")
        .first()
    )


def submission_verify_link(*, token: str) -> Verified:
    """Verify the submission whose one-time link carries ``token``. The link works once: used again, it says the
    request is already confirmed; a link replaced by a newer one, or never sent, is not valid."""
    submission = Submission.objects.filter(link_digest=_digest("link", token or "")).first() if token else None
    if submission is None:
        raise ValidationError(
            {"link": gettext("This link is not valid. It may have been replaced by a newer one: use the latest email we sent.")}
        )
    _require_pending(submission, field="link")
    return _verify(submission, method="link")


def submission_verify_code(*, submission: Submission, code: str) -> Verified:
    """Verify ``submission`` with the 6-digit code sent to the person. Not one transaction on purpose: a wrong
    attempt stays counted (and on the trail) although the caller gets an error."""
    submission.refresh_from_db()
    _require_pending(submission, field="code")
    limit = settings.DSAR_CODE_MAX_ATTEMPTS
    counted = Submission.objects.filter(
        pk=submission.pk, status=Submission.Status.PENDING, code_attempts__lt=limit
    ).update(code_attempts=F("code_attempts") + 1)
    if not counted:
        raise ValidationError({"code": gettext("Too many wrong codes. Ask for a new code.")})
    if not constant_time_compare(submission.code_digest, _code_digest(submission, str(code or "").strip())):
        left = limit - submission.code_attempts - 1
        _trail(submission, RequestEvent.Kind.CODE_FAILED, f"A wrong code was entered; {left} attempt(s) left.")
        if left <= 0:
            raise ValidationError({"code": gettext("The code is wrong. Ask for a new code.")})
        raise ValidationError(
            {"code": ngettext("The code is wrong; %(left)d attempt left.", "The code is wrong; %(left)d attempts left.", left) % {"left": left}}
        )
    return _verify(submission, method="code")


_CHANNEL = {
    Submission.Via.PERSON: Request.Channel.WEB_FORM,
    Submission.Via.AGENT: Request.Channel.AGENT,
    Submission.Via.DRP: Request.Channel.DRP,
}


def _verify(submission: Submission, *, method: str) -> Verified:
    """Open the request (or link the duplicate), mark it verified, copy the trail to its timeline and send the
    status link: all or nothing, once, whoever gets there first."""
    proof = {"link": "the one-time link", "code": "the 6-digit code"}[method]
    where = "email" if submission.email else "phone"
    status_token = secrets.token_urlsafe(32)
    with transaction.atomic(), history_context(actor=_actor_for(submission)):
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        _require_pending(locked, field=method)
        now = timezone.now()
        person = person_for_intake(account=locked.account, email=locked.email, phone=locked.phone, name=locked.name)
        duplicate = Request.objects.open_same_ask(
            person=person, type=locked.type, since=now - dt.timedelta(days=DUPLICATE_WINDOW_DAYS)
        ).first()
        if duplicate is not None:
            request = duplicate
        else:
            request = request_create(
                account=locked.account,
                type=locked.type,
                jurisdiction=locked.jurisdiction,
                email=locked.email,
                phone=locked.phone,
                name=locked.name,
                received_at=locked.created_at,
                channel=_CHANNEL[locked.via],
                person=person,
                send_code=False,
                language=locked.language,
            )
            if locked.details:
                Request.objects.filter(pk=request.pk).update(
                    received_with={**(request.received_with or {}), "details": locked.details}
                )
        for line in locked.trail:
            add_event(request, line["kind"], f"Submission {locked.public_id}: {line['message']}", at=dt.datetime.fromisoformat(line["at"]))
        if duplicate is not None:
            add_event(
                request,
                RequestEvent.Kind.DUPLICATE,
                f"Submission {locked.public_id}, received {locked.created_at:%Y-%m-%d}, was verified by {proof} sent to "
                f"the {where} and linked to this open request of the same type and person: no new request was opened.",
            )
        else:
            mark_verified(
                request,
                method=method,
                message=f"Identity verified with {proof} sent to the {where} the request was submitted with.",
                actor=None,
            )
            _start_grace(request, now=now)
        link = status_url(locked, status_token)
        if locked.email:
            _mail(locked, "submission_confirmed", to=locked.email, status=link, linked=duplicate is not None)
        if locked.via == Submission.Via.AGENT and locked.agent_email:
            _mail(locked, "agent_confirmed", to=locked.agent_email, status=link)
        # The identifiers now live on the request (``received_with``, under its retention): not kept twice.
        Submission.objects.filter(pk=locked.pk).update(
            status=Submission.Status.LINKED if duplicate is not None else Submission.Status.VERIFIED,
            verified_at=now,
            request=request,
            status_digest=_digest("status", status_token),
            name="",
            email="",
            phone="",
            details="",
        )
        record_history(locked, reason="verified by " + method)
        locked.refresh_from_db()
        request.refresh_from_db()
    return Verified(submission=locked, request=request, linked=duplicate is not None, status_token=status_token)


def _start_grace(request: Request, *, now: dt.datetime) -> None:
    """An erasure waits ``erasure_grace_days`` of the account's privacy center before it may be executed."""
    if request.type != Request.Type.ERASURE:
        return
    center = PrivacyCenter.objects.filter(account_id=request.account_id).first()
    if center is None or not center.erasure_grace_days:
        return
    Request.objects.filter(pk=request.pk).update(grace_ends_at=now + dt.timedelta(days=center.erasure_grace_days))
    record_history(request, reason="erasure grace period")
    request.refresh_from_db()
    add_event(
        request,
        RequestEvent.Kind.VERIFIED,
        f"The person may withdraw this erasure until {request.grace_ends_at:%Y-%m-%d %H:%M} UTC "
        f"({center.erasure_grace_days} day(s), the account's grace period); it is not executed before then.",
    )


# --- withdrawing and cancelling ----------------------------------------------------------------------


def request_withdraw_blockers(request: Request, now: dt.datetime | None = None) -> dict[str, str]:
    """Why the person cannot withdraw ``request`` now (field → why, in their words); empty when they can.

    An erasure can be withdrawn only during the account's grace period, before it is executed; any other
    request until it is carried out (a report produced, an archive built, an objection recorded)."""
    now = now or timezone.now()
    if request.status in Request.CLOSED:
        return {"status": gettext("The request is closed.")}
    started = request.executed_at is not None or request.subject is not None
    if request.type == Request.Type.ERASURE:
        if started or ErasureProgress.objects.filter(request=request).exists():
            return {"status": gettext("The erasure has started; it can no longer be withdrawn.")}
        if request.grace_ends_at is None or request.grace_ends_at <= now:
            return {"status": gettext("The time to withdraw this erasure has passed.")}
        return {}
    if started or request.exports.exists():
        return {"status": gettext("The request has been carried out; it can no longer be withdrawn.")}
    return {}


def request_withdraw(*, request: Request, actor: User = None, reason: str = "") -> None:
    """Close ``request`` as withdrawn by the person (or their agent): nothing more is done for it. Guarded so that
    an execution starting at the same moment and a withdrawal cannot both happen."""
    with transaction.atomic():
        locked = Request.objects.select_for_update().get(pk=request.pk)
        for field, why in request_withdraw_blockers(locked).items():
            raise ValidationError({field: why})
        now = timezone.now()
        text = reason.strip() or "Withdrawn by the person."
        changed = Request.objects.filter(
            pk=locked.pk, status__in=[s for s in Request.Status.values if s not in Request.CLOSED],
            executed_at__isnull=True, subject__isnull=True,
        ).update(status=Request.Status.WITHDRAWN, status_reason=text, completed_at=now)
        if not changed:
            raise ValidationError({"status": gettext("The request can no longer be withdrawn.")})
        record_history(locked, actor=actor, reason="withdrawn")
        add_event(locked, RequestEvent.Kind.WITHDRAWN, text, actor=actor)
    request.refresh_from_db()


def submission_cancel(*, submission: Submission, actor: User = None, reason: str = "") -> None:
    """Cancel what ``submission`` asked for: before verification the submission (its identifiers and any
    authorization file go); once it opened a request, that request is withdrawn; a duplicate linked to someone's
    open request is only unlinked from it, which stands. ``reason``: the sender's words, kept on the trail or the
    timeline."""
    said = f" Their reason: {reason.strip()}" if reason.strip() else ""
    submission.refresh_from_db()
    if submission.status == Submission.Status.PENDING:
        with transaction.atomic():
            if not Submission.objects.filter(pk=submission.pk, status=Submission.Status.PENDING).update(
                status=Submission.Status.CANCELLED, name="", email="", phone="", details=""
            ):
                raise ValidationError({"status": "The submission is no longer waiting; try again."})
            record_history(submission, actor=actor, reason="cancelled before verification")
            _trail(submission, "cancelled", "Cancelled by its sender before verification." + said)
            _forget_proof(submission)
        return
    if submission.status == Submission.Status.VERIFIED and submission.request is not None:
        request_withdraw(request=submission.request, actor=actor, reason="Withdrawn by the sender of the request." + said)
        return
    if submission.status == Submission.Status.LINKED and submission.request is not None:
        with transaction.atomic():
            Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.CANCELLED)
            record_history(submission, actor=actor, reason="linked duplicate cancelled")
            add_event(
                submission.request,
                RequestEvent.Kind.WITHDRAWN,
                f"Submission {submission.public_id}, linked here as a duplicate, was cancelled by its sender; "
                "this request stands." + said,
                actor=actor,
            )
        return
    raise ValidationError({"status": f"The submission is {submission.get_status_display().lower()}."})


def _forget_proof(submission: Submission) -> None:
    if submission.agent_proof:
        name = submission.agent_proof
        transaction.on_commit(lambda: proof_storage().delete(name))


# --- reminders and expiry ------------------------------------------------------------------------------


def submissions_expire(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Remind, once, the people of submissions waiting ``DSAR_SUBMISSION_REMINDER_HOURS`` (a new link and code),
    and expire those past ``DSAR_SUBMISSION_TTL_DAYS``: their identifiers and authorization files go, their trail
    stays. Returns (reminded, expired); safe to run twice or in parallel (each change is conditional)."""
    now = now or timezone.now()
    reminded = 0
    due = Submission.objects.pending().filter(
        reminded_at__isnull=True,
        created_at__lte=now - dt.timedelta(hours=settings.DSAR_SUBMISSION_REMINDER_HOURS),
        expires_at__gt=now,
    )
    for submission in due.select_related("account", "drp_agent").order_by("pk").iterator(chunk_size=200):
        try:
            _renew(submission, reminder=True)
        except ValidationError:
            continue  # verified or cancelled meanwhile
        reminded += 1
    expired = 0
    for submission in Submission.objects.pending().filter(expires_at__lte=now).order_by("pk").iterator(chunk_size=200):
        with transaction.atomic(), history_context(actor="system"):
            if not Submission.objects.filter(pk=submission.pk, status=Submission.Status.PENDING).update(
                status=Submission.Status.EXPIRED, name="", email="", phone="", details="",
                link_digest="", code_digest="",
            ):
                continue
            record_history(submission, reason="expired unverified")
            _trail(
                submission,
                "expired",
                f"Expired: not verified within {settings.DSAR_SUBMISSION_TTL_DAYS} days; its identifiers were removed.",
            )
            _forget_proof(submission)
        expired += 1
    return reminded, expired

