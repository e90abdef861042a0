"""Signed checkpoints of the audit chain, kept outside the database: what catches a chain cut short.

The chain (:mod:`core.audit`) shows every change, insertion and reordering of its entries, but not the loss
of its last ones: remove them and move the head back, and what remains still links up. So, on a schedule
(``audit_checkpoint`` in ``SCHEDULES``, every ``AUDIT_CHECKPOINT_INTERVAL`` seconds, also when nothing
happened), the head ``{seq, hash, at}`` is signed with Ed25519 and written to a *witness* that the
application's database login cannot reach:

- the private key comes from the environment (``AUDIT_CHECKPOINT_KEY``), never from the database; an
  auditor holds the public key (``AUDIT_CHECKPOINT_PUBLIC_KEY``, printed by ``audit_checkpoint --public-key``);
- the witness is a directory of files that are created once and never rewritten (``AUDIT_WITNESS_DIR``; on
  another host or a write-once mount in production, or an S3 bucket with object lock synchronised from it,
  see the README).

:func:`verify_checkpoints` then holds the database to every checkpoint: each must be signed by the key, and
the chain must still hold the entry it names with the hash it names (a shorter log or another head is
reported); no checkpoint while entries are older than the tolerance, or a gap between checkpoints (or
since the last one) longer than the schedule allows, is reported too: a stopped schedule is how a cut
would go unseen.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.models import AuditChainHead, AuditEntry

GENESIS = "0" * 64


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment, as signed."""

    seq: int
    hash: str
    at: datetime
    signature: str = ""
    name: str = ""

    def message(self) -> bytes:
        """The signed bytes: the head and the time, in canonical JSON."""
        content = {"seq": self.seq, "hash": self.hash, "at": self.at.isoformat()}
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


# --------------------------------------------------------------------------------------------------
# Keys


def _private_key() -> Ed25519PrivateKey:
    configured = settings.AUDIT_CHECKPOINT_KEY
    if configured:
        try:
            seed = base64.b64decode(configured, validate=True)
            return Ed25519PrivateKey.from_private_bytes(seed)
        except ValueError as exc:
            raise ImproperlyConfigured(
                "AUDIT_CHECKPOINT_KEY: give the base64 of a 32-byte Ed25519 private key "
                "(`manage.py audit_checkpoint --new-key` prints one)."
            ) from exc
    # Development only (check --deploy refuses it): a key derived from SECRET_KEY, which is not in the database either.
    return Ed25519PrivateKey.from_private_bytes(salted_hmac("core.audit-checkpoint", "key", algorithm="sha256").digest())


def public_key() -> Ed25519PublicKey:
    """The key checkpoints are verified with: ``AUDIT_CHECKPOINT_PUBLIC_KEY`` when set (an auditor's copy),
    else the private key's own."""
    configured = settings.AUDIT_CHECKPOINT_PUBLIC_KEY
    if configured:
        try:
            return Ed25519PublicKey.from_public_bytes(base64.b64decode(configured, validate=True))
        except ValueError as exc:
            raise ImproperlyConfigured("AUDIT_CHECKPOINT_PUBLIC_KEY: give the base64 of a 32-byte Ed25519 public key.") from exc
    return _private_key().public_key()


def public_key_text() -> str:
    return base64.b64encode(public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def new_private_key_text() -> str:
    """A fresh private key, as ``AUDIT_CHECKPOINT_KEY`` takes it."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    return base64.b64encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()


# --------------------------------------------------------------------------------------------------
# The witness: a directory of files written once


def witness_dir() -> Path:
    return Path(settings.AUDIT_WITNESS_DIR)


def _write_once(path: Path, content: bytes) -> None:
    """Create ``path`` with ``content``; an existing file is never replaced (``O_EXCL``), and the file is made
    read-only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoints() -> list[Checkpoint]:
    """Every checkpoint in the witness, oldest first (file names start with the time)."""
    directory = witness_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("checkpoint-*.json")):
        try:
            content = json.loads(path.read_text())
            found.append(
                Checkpoint(
                    seq=int(content["seq"]),
                    hash=str(content["hash"]),
                    at=datetime.fromisoformat(content["at"]),
                    signature=str(content["signature"]),
                    name=path.name,
                )
            )
        except (ValueError, KeyError, TypeError):
            found.append(Checkpoint(seq=-1, hash="", at=timezone.now(), name=path.name))
    return found


# --------------------------------------------------------------------------------------------------
# Writing


def audit_checkpoint_write(*, now: datetime | None = None) -> Checkpoint:
    """Sign the chain's head as it is now and write it to the witness; returns the checkpoint.

    Refuses (``ValueError``) when the chain no longer holds the previous checkpoint's entry with its hash:
    anchoring a chain that was cut would bless the cut."""
    now = now or timezone.now()
    head = AuditChainHead.objects.filter(pk=1).first()
    seq, hash_ = (head.seq, head.hash or GENESIS) if head else (0, GENESIS)
    previous = read_checkpoints()
    if previous:
        problem = _holds(previous[-1])
        if problem:
            raise ValueError(f"not checkpointed: {problem}")
    checkpoint = Checkpoint(seq=seq, hash=hash_, at=now)
    signature = base64.b64encode(_private_key().sign(checkpoint.message())).decode()
    directory = witness_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"checkpoint-{now.astimezone(dt_timezone.utc):%Y%m%dT%H%M%S%fZ}-{seq:012d}.json"
    body = {"seq": seq, "hash": hash_, "at": now.isoformat(), "signature": signature, "key": public_key_text()}
    _write_once(directory / name, json.dumps(body, sort_keys=True, indent=1).encode())
    return Checkpoint(seq=seq, hash=hash_, at=now, signature=signature, name=name)


# --------------------------------------------------------------------------------------------------
# Verifying


def tolerance() -> timedelta:
    """How long the chain may go without a checkpoint: the schedule's interval, plus as much again for a run
    that starts late."""
    return timedelta(seconds=2 * settings.AUDIT_CHECKPOINT_INTERVAL)


def _signed(checkpoint: Checkpoint) -> bool:
    try:
        public_key().verify(base64.b64decode(checkpoint.signature), checkpoint.message())
    except (InvalidSignature, ValueError):
        return False
    return True


def _holds(checkpoint: Checkpoint) -> str:
    """What is wrong with the chain against ``checkpoint``; empty when it still holds the checkpointed head."""
    if checkpoint.seq == 0:
        return ""
    entry = AuditEntry.objects.filter(seq=checkpoint.seq).values_list("hash", flat=True).first()
    if entry is None:
        last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        if last < checkpoint.seq:
            return (
                f"the log is shorter than {checkpoint.name}: it ends at entry {last}, "
                f"the checkpoint of {checkpoint.at:%Y-%m-%d %H:%M} saw {checkpoint.seq}"
            )
        return f"entry {checkpoint.seq}, which {checkpoint.name} signed, is missing"
    if entry != checkpoint.hash:
        return (
            f"entry {checkpoint.seq} is not the one {checkpoint.name} signed: the chain has another head "
            "(it was rewritten from there)"
        )
    return ""


def verify_checkpoints(*, now: datetime | None = None) -> list[str]:
    """The problems of the chain against the witness's checkpoints; empty when every checkpoint holds and
    none is missing or late."""
    now = now or timezone.now()
    problems: list[str] = []
    checkpoints = read_checkpoints()
    allowed = tolerance()
    for checkpoint in checkpoints:
        if checkpoint.seq < 0 or not _signed(checkpoint):
            problems.append(f"{checkpoint.name} is not signed by the audit key (forged or damaged)")
            continue
        problem = _holds(checkpoint)
        if problem:
            problems.append(problem)
    valid = [checkpoint for checkpoint in checkpoints if checkpoint.seq >= 0]
    if not valid:
        oldest = AuditEntry.objects.order_by("seq").values_list("at", flat=True).first()
        if oldest is not None and now - oldest > allowed:
            problems.append(
                f"no checkpoint in {witness_dir()}: entries since {oldest:%Y-%m-%d %H:%M} were never anchored "
                "(is audit_checkpoint scheduled?)"
            )
        return problems
    for earlier, later in zip(valid, valid[1:]):
        if later.at - earlier.at > allowed:
            problems.append(
                f"no checkpoint between {earlier.at:%Y-%m-%d %H:%M} and {later.at:%Y-%m-%d %H:%M}: "
                f"longer than the schedule allows ({_hours(allowed)})"
            )
    if now - valid[-1].at > allowed:
        problems.append(
            f"the last checkpoint is of {valid[-1].at:%Y-%m-%d %H:%M}: none since, longer than the schedule allows "
            f"({_hours(allowed)})"
        )
    return problems


def _hours(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minutes" if minutes < 120 else f"{minutes / 60:g} hours"
