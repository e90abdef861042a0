"""The Data Rights Protocol (DRP): authorized agents file requests machine to machine, and follow and revoke them.

Written from the published specification (consumer-reports-innovation-lab/data-rights-protocol,
``data-rights-protocol.md``, 0.9.4, which 1.0 republished unchanged). An agent is known by its id and the Ed25519
key it signs with (a :class:`~dsar.models.DrpAgent` staff enter from the DRP directory); it registers once for a
bearer token (section 2.05), then sends each request as a message it signed (section 3.07): libsodium's "combined"
form, the 64-byte signature followed by the JSON, base64-encoded, sent as ``text/plain``.

A DRP request is the privacy center's submission under another door: :func:`drp_request_submit` hands it to
:func:`dsar.submissions.submission_create` (``via=drp``), the person confirms it by the link or code they are sent,
and only then is there a request, under the same deadline, identity, erasure and evidence rules as every other.
Each step is attributed to the agent (``drp:<agent id>``) on the submission's trail, the request's timeline and
in history. The business an agent names (``business-id``) is a privacy center, by its slug.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.history import Origin, history_context
from dsar.intake import default_language
from dsar.models import DrpAgent, Jurisdiction, PrivacyCenter, Request, Submission
from dsar.submissions import Throttled, submission_cancel, submission_create

#: The protocol version this implements, and the versions whose messages it reads (0.9 to 0.9.4 differ in no field
#: this reads; 1.0 is 0.9.4 renamed).
VERSION = "1.0"
READS_VERSIONS = frozenset({"0.9", "0.9.1", "0.9.2", "0.9.3", "0.9.4", "1.0"})

#: The rights actions taken (section 3.01), as our request types. ``sale:opt_out`` is how 0.9.x's table spelt
#: the opt-out (1.0 settled on ``sale:opt-out``); ``sale:opt-in`` asks for something we have no request for.
ACTIONS: dict[str, str] = {
    "access": Request.Type.ACCESS,
    "access:categories": Request.Type.ACCESS,
    "access:specific": Request.Type.ACCESS,
    "deletion": Request.Type.ERASURE,
    "sale:opt-out": Request.Type.OBJECTION,
}
ACTION_ALIASES = {"sale:opt_out": "sale:opt-out"}

#: The regimes a request may name (section 3.01); none named is voluntary. ``ccpa`` is answered under the CCPA,
#: ``voluntary`` under the privacy center's default law.
REGIMES = ("ccpa", "voluntary")

#: How far ahead of our clock an agent's ``issued-at`` may be: clocks drift by seconds; a message dated further
#: ahead comes from a clock running fast, which would make its ``expires-at`` reach too far (section 3.07).
CLOCK_SKEW = dt.timedelta(seconds=60)

#: Identity claims (section 3.04, schema.org/Person) → the submission's fields.
IDENTITY_CLAIMS = {"name": "name", "email": "email", "phone_number": "phone"}
#: A submission's field named in a refusal → the claim the agent sent.
CLAIM_OF_FIELD = {"name": "name", "email": "email", "phone": "phone_number", "type": "exercise"}

AGENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class DrpError(Exception):
    """A request the protocol refuses (section 3.06): answered ``status`` with ``{"code", "message"[, "fatal"]}``."""

    def __init__(self, status: int, message: str, *, fatal: bool = False, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fatal = fatal
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": str(self.status), "message": self.message}
        if self.fatal:
            body["fatal"] = True
        return body


def actor_of(agent: DrpAgent) -> str:
    """How the agent is named as the actor on timelines, trails and history."""
    return f"drp:{agent.agent_id}"


@contextmanager
def acting_as(agent: DrpAgent, reason: str | None = None) -> Iterator[None]:
    """Everything written inside is the agent's doing, through the API."""
    with history_context(origin=Origin.API, actor=actor_of(agent), reason=reason):
        yield


# --- discovery -----------------------------------------------------------------------------------


def api_base() -> str:
    return f"{settings.SITE_URL}/drp/"


def discovery_document() -> dict[str, Any]:
    """``/.well-known/data-rights.json`` in the shape of protocol 0.8 (section 2.01 there).

    0.9 removed this document in favour of the network's service directory, where each business is listed with its
    id, ``api_base`` and supported actions; agents that still look for it find where the API is and what it takes.
    One document serves every business here: which one a request is for is its ``business-id`` (a privacy center's
    slug).
    """
    return {
        "version": VERSION,
        "api_base": api_base(),
        "actions": list(ACTIONS),
        "user_relationships": [],
    }


# --- keys, tokens and signed messages ------------------------------------------------------------


def verify_key_errors(value: str) -> str:
    """Why ``value`` is not an Ed25519 public key in base64 (the directory's ``verify_key``); empty when it is."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "Give the agent's verify key as the DRP directory lists it: base64."
    if len(raw) != 32:
        return f"An Ed25519 verify key is 32 bytes; this one is {len(raw)}."
    return ""


def agent_id_errors(value: str) -> str:
    """Why ``value`` cannot be an agent's id (it is part of the registration URL); empty when it can."""
    if not AGENT_ID.match(value):
        return "Use the agent's id as the DRP directory lists it: letters, digits, '_', '.' or '-', at most 64."
    return ""


def token_digest(token: str) -> str:
    # Keyed with SECRET_KEY: the database alone does not let anyone check a guessed token.
    return salted_hmac("dsar.drp-token", token, algorithm="sha256").hexdigest()


def open_signed(body: bytes, *, verify_key: str) -> dict[str, Any]:
    """The JSON object signed in ``body`` (base64 of signature + message, section 3.07.1) with ``verify_key``.

    Refused 400 when the body is not base64 or the message not a JSON object, 403 when the signature does not
    verify: the message is read only once its signature is checked.
    """
    try:
        signed = base64.b64decode(body.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise DrpError(400, "The body is not base64: send the signed message base64-encoded, as text/plain.") from None
    if len(signed) <= 64:
        raise DrpError(400, "The body is too short to hold a signature and a message.")
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(verify_key)).verify(signed[:64], signed[64:])
    except (InvalidSignature, ValueError):
        raise DrpError(403, "The signature does not verify with the agent's key.") from None
    try:
        message = json.loads(signed[64:])
    except (ValueError, RecursionError):
        raise DrpError(400, "The signed message is not JSON.") from None
    if not isinstance(message, dict):
        raise DrpError(400, "The signed message is not a JSON object.")
    return message


def _text_claim(message: dict[str, Any], claim: str, *, required: bool = True) -> str:
    value = message.get(claim)
    if value is None or value == "":
        if required:
            raise DrpError(400, f"{claim}: missing from the signed message.")
        return ""
    if not isinstance(value, str):
        raise DrpError(400, f"{claim}: must be a string.")
    return value


def _moment_claim(message: dict[str, Any], claim: str) -> dt.datetime:
    value = _text_claim(message, claim)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise DrpError(400, f"{claim}: {value[:40]!r} is not an ISO 8601 timestamp.") from None
    # Without an offset it is UTC, as the reference implementation reads it.
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Message:
    """A signed message whose claims were checked: from ``agent``, to ``center``'s business, within its time."""

    agent: DrpAgent
    center: PrivacyCenter
    claims: dict[str, Any]


def check_claims(message: dict[str, Any], *, agent: DrpAgent, now: dt.datetime) -> Message:
    """The spec's checks after the signature, in its order (section 3.07): the ``agent-id`` is the agent whose key
    signed, the ``business-id`` names a business here, ``issued-at`` has come and ``expires-at`` has not."""
    if _text_claim(message, "agent-id") != agent.agent_id:
        raise DrpError(403, "agent-id: the message names another agent than the one whose key signed it.")
    business_id = _text_claim(message, "business-id")
    center = (
        PrivacyCenter.objects.select_related("account", "default_jurisdiction").filter(slug=business_id).first()
    )
    if center is None:
        raise DrpError(403, f"business-id: {business_id[:64]!r} is not a business served here.")
    issued_at, expires_at = _moment_claim(message, "issued-at"), _moment_claim(message, "expires-at")
    if issued_at > now + CLOCK_SKEW:
        raise DrpError(403, "issued-at: the message is dated in the future; check the signing clock.")
    if expires_at <= now:
        raise DrpError(403, "expires-at: the message has expired; sign it again.", fatal=True)
    return Message(agent=agent, center=center, claims=message)


# --- agents ----------------------------------------------------------------------------------------


def active_agent(agent_id: str) -> DrpAgent | None:
    return DrpAgent.objects.filter(agent_id=agent_id, is_active=True).first()


def agent_for_token(authorization: str) -> DrpAgent:
    """The active agent whose bearer token the ``Authorization`` header carries; refused 403 otherwise."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme != "Bearer" or not token:
        raise DrpError(403, "Send the agent's token as 'Authorization: Bearer <token>' (POST /v1/agent/<agent-id>).")
    agent = DrpAgent.objects.filter(token_digest=token_digest(token), is_active=True).exclude(token_digest="").first()
    if agent is None:
        raise DrpError(403, "The bearer token is unknown or no longer valid: register again.")
    return agent


@transaction.atomic
def drp_agent_register(*, agent_id: str, body: bytes, now: dt.datetime | None = None) -> tuple[DrpAgent, str]:
    """Pair-wise key setup (section 2.05): a new bearer token for the agent whose key signed ``body``; any earlier
    token stops working. Only its keyed digest is kept; the token is returned once."""
    now = now or timezone.now()
    agent = active_agent(agent_id)
    if agent is None:
        raise DrpError(403, f"{agent_id[:64]!r} is not an agent known here.")
    message = check_claims(open_signed(body, verify_key=agent.verify_key), agent=agent, now=now)
    _check_version(message.claims, required=False)  # named in this message only since 0.9.4
    token = secrets.token_urlsafe(32)
    with acting_as(agent, reason="DRP token issued"):
        agent.token_digest = token_digest(token)
        agent.token_issued_at = now
        agent.save(update_fields=["token_digest", "token_issued_at"])
    return agent, token


# --- requests --------------------------------------------------------------------------------------


def _check_version(claims: dict[str, Any], *, required: bool = True) -> None:
    version = _text_claim(claims, "drp.version", required=required)
    if version and version not in READS_VERSIONS:
        raise DrpError(400, f"drp.version: {version[:20]!r} is not read here; this is protocol {VERSION}.")


def _exercise(claims: dict[str, Any]) -> str:
    exercise = _text_claim(claims, "exercise")
    exercise = ACTION_ALIASES.get(exercise, exercise)
    if exercise not in ACTIONS:
        raise DrpError(400, f"Unsupported rights actions submitted: {exercise[:40]!r}; use one of {', '.join(ACTIONS)}.")
    return ACTIONS[exercise]


def _jurisdiction(claims: dict[str, Any], center: PrivacyCenter) -> tuple[str, Jurisdiction]:
    regime = _text_claim(claims, "regime", required=False) or "voluntary"
    if regime not in REGIMES:
        raise DrpError(400, f"regime: {regime[:40]!r} is not one taken here; use one of {', '.join(REGIMES)}.")
    if regime == "ccpa":
        ccpa = Jurisdiction.objects.filter(code="ccpa").first()
        if ccpa is None:
            raise DrpError(400, "regime: ccpa is not taken here (no such law is configured); send voluntary.")
        return regime, ccpa
    return regime, center.default_jurisdiction


def _refusal(error: ValidationError) -> DrpError:
    """The submission service's refusal, naming the claim the agent sent rather than our field."""
    errors = getattr(error, "message_dict", None) or {"": error.messages}
    field, messages = next(iter(errors.items()))
    claim = CLAIM_OF_FIELD.get(field, field)
    return DrpError(400, f"{claim}: {' '.join(messages)}" if claim else " ".join(messages))


def drp_request_submit(*, agent: DrpAgent, body: bytes, now: dt.datetime | None = None) -> Submission:
    """The Data Rights Exercise (section 2.01): check the message the agent signed, then file it as a submission
    from this agent; the person is asked to confirm it, as everyone filing from the privacy center is.

    The business's privacy center must be open. Refused 400 naming the claim (an unsupported action or regime, an
    identity the submission service refuses), 403 for the message's checks, 429 when the person or agent files
    too often; nothing is stored then.
    """
    now = now or timezone.now()
    message = check_claims(open_signed(body, verify_key=agent.verify_key), agent=agent, now=now)
    claims, center = message.claims, message.center
    _check_version(claims)
    if not center.is_open:
        raise DrpError(403, f"business-id: {center.slug} takes no requests at the moment.", fatal=True)
    type = _exercise(claims)
    regime, jurisdiction = _jurisdiction(claims, center)
    identity = {field: _text_claim(claims, claim, required=False) for claim, field in IDENTITY_CLAIMS.items()}
    agent_request_id = _text_claim(claims, "agent-request-id", required=False)
    if len(agent_request_id) > 100:
        raise DrpError(400, "agent-request-id: at most 100 characters.")
    try:
        with transaction.atomic(), acting_as(agent, reason="DRP request"):
            submission = submission_create(
                account=center.account,
                type=type,
                jurisdiction=jurisdiction,
                language=default_language(center.account),
                via=Submission.Via.DRP,
                drp_agent=agent,
                drp_regime=regime,
                agent_request_id=agent_request_id,
                **identity,
            )
    except ValidationError as error:
        raise _refusal(error) from None
    except Throttled as throttled:
        raise DrpError(429, str(throttled.message), retry_after=throttled.retry_after) from None
    return submission


def agents_submission(*, agent: DrpAgent, request_id: str) -> Submission:
    """The submission ``request_id`` names, if it is this agent's: 404 when none has that id, 403 when another
    agent filed it (section 2.02.1)."""
    try:
        public_id = uuid.UUID(request_id)
    except ValueError:
        raise DrpError(404, "No request has this id.") from None
    submission = (
        Submission.objects.select_related("account", "jurisdiction", "request").filter(public_id=public_id).first()
    )
    if submission is None:
        raise DrpError(404, "No request has this id.")
    if submission.drp_agent_id != agent.pk:
        raise DrpError(403, "This request was filed by another agent.")
    return submission


def drp_request_cancel(*, agent: DrpAgent, submission: Submission, body: bytes) -> Submission:
    """The Data Rights Revoke (section 2.04): the agent's signed ``{"reason": …}`` withdraws its request, before the
    person confirmed it or after (then the request is withdrawn, as from the person's status page; an erasure only
    until it is executed). A request revoked already answers as it is; one closed otherwise is refused 409."""
    message = open_signed(body, verify_key=agent.verify_key)
    reason = message.get("reason", "")
    if not isinstance(reason, str):
        raise DrpError(400, "reason: must be a string.")
    if drp_status(submission)["status"] == "revoked":
        return submission
    try:
        with transaction.atomic(), acting_as(agent, reason="DRP revoke"):
            submission_cancel(submission=submission, actor=None, reason=reason)
    except ValidationError as error:
        raise DrpError(409, f"The request cannot be revoked: {' '.join(error.messages)}") from None
    submission.refresh_from_db()
    return submission


# --- status ----------------------------------------------------------------------------------------

#: Our request statuses → the protocol's states (section 3.02): verified but not yet worked on is still ``open``.
STATES: dict[str, str] = {
    Request.Status.RECEIVED: "open",
    Request.Status.VERIFYING: "open",
    Request.Status.IN_PROGRESS: "in_progress",
    Request.Status.WAITING: "in_progress",
    Request.Status.COMPLETED: "fulfilled",
    Request.Status.REJECTED: "denied",
    Request.Status.WITHDRAWN: "revoked",
}

AWAITING_PERSON = (
    "Waiting for the person to confirm the request with the link or code sent to them; "
    "it lapses unconfirmed after {days} days."
)


def _expected_by(submission: Submission, request: Request | None) -> dt.date:
    """The last day to answer: the request's; before it exists, the one the law gives from receipt."""
    if request is not None:
        return request.due_at
    return submission.jurisdiction.deadline_for(submission.account, submission.created_at).day


def drp_status(submission: Submission) -> dict[str, Any]:
    """The Exercise Status object (section 3.03) of the agent's request, as it stands in our workflow."""
    request = submission.request
    status: dict[str, Any] = {
        "request_id": str(submission.public_id),
        "received_at": submission.created_at.isoformat(),
    }
    if submission.drp_agent_request_id:
        status["agent_request_id"] = submission.drp_agent_request_id
    if submission.status == Submission.Status.PENDING:
        status["status"] = "open"
        status["processing_details"] = AWAITING_PERSON.format(days=settings.DSAR_SUBMISSION_TTL_DAYS)
    elif submission.status == Submission.Status.EXPIRED:
        # Never confirmed by the person: the verification timed out.
        status.update(status="expired", reason=Request.DenialReason.INSUF_VERIFICATION)
    elif submission.status == Submission.Status.CANCELLED:
        status["status"] = "revoked"
    elif request is not None:
        status["status"] = STATES[request.status]
        if request.status == Request.Status.REJECTED:
            status["reason"] = request.denial_reason or Request.DenialReason.OTHER
            status["processing_details"] = request.status_reason
        elif request.extended_at is not None and request.status not in Request.CLOSED:
            # Section 3.08: an extension's reason goes with the new date.
            status["processing_details"] = f"Deadline extended: {request.extension_reason}"
    else:
        # Verified, but the request it opened was since removed: nothing is left to report on.
        status.update(status="denied", reason=Request.DenialReason.OTHER)
    if status["status"] in ("open", "in_progress"):
        status["expected_by"] = _expected_by(submission, request).isoformat()
    return status
