"""The audit chain of destructive operations: append, redact (erasure only) and verify.

Each :class:`~core.models.AuditEntry` keeps its fields in ``data`` and a SHA-256 digest of each field
in ``digests``. Its ``hash`` is an HMAC (keyed with ``AUDIT_CHAIN_KEY``, by default derived from the
``SECRET_KEY``) over the entry's sequence number, time, action, actor, origin, account, object, the
field DIGESTS and the previous entry's hash. So:

- changing any value, or any entry, breaks its digest or its hash; removing or inserting an entry breaks
  the sequence or the link to its neighbour; without the key nobody can compute a valid hash;
- an erasure may null a value that holds the subject's personal data (:func:`audit_redact`): the digest
  stays, so the chain still verifies, and the redaction is itself appended to the chain, so a value
  nulled outside the product is reported.

Appends run inside the caller's transaction (a rolled-back deletion leaves no entry) and lock the one
:class:`~core.models.AuditChainHead` row first, so concurrent writers queue instead of forking the
chain; the unique sequence number is the last guard.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.append_only import sanctioned_write
from core.history import current_actor, current_origin
from core.models import AuditChainHead, AuditEntry

GENESIS = "0" * 64
Action = AuditEntry.Action


@dataclass(frozen=True)
class Record:
    """What to append: the operation, what it acted on, and its fields (JSON values)."""

    action: str
    object_type: str
    object_id: Any
    data: dict[str, Any]
    account_id: int | None = None
    #: Who did it; default: the current actor (a login, or an API key's label).
    actor: str | None = None


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value: Any) -> str:
    """The SHA-256 of a field's value in canonical JSON."""
    return hashlib.sha256(_canonical(value).encode()).hexdigest()


def _key() -> bytes:
    configured = getattr(settings, "AUDIT_CHAIN_KEY", "")
    if configured:
        return configured.encode()
    # The salt is the one the chain was first keyed with (before this module moved to core): changing it
    # would make every existing entry fail verification.
    return salted_hmac("residency.audit-chain", "key", algorithm="sha256").digest()


def entry_hash(entry: AuditEntry) -> str:
    """The keyed hash of ``entry``: over its identity, its field digests and the previous hash."""
    content = _canonical(
        {
            "seq": entry.seq,
            "at": entry.at.isoformat(),
            "action": entry.action,
            "actor": entry.actor,
            "origin": entry.origin,
            "account": entry.account_id,
            "object": [entry.object_type, entry.object_id],
            "digests": entry.digests,
            "prev": entry.prev_hash,
        }
    )
    return hmac.new(_key(), content.encode(), hashlib.sha256).hexdigest()


def audit_append(record: Record) -> AuditEntry:
    """Append one entry; see :func:`audit_append_many`."""
    return audit_append_many([record])[0]


def audit_append_many(records: Iterable[Record], *, at: datetime | None = None) -> list[AuditEntry]:
    """Append ``records`` in order as consecutive entries; returns them. Two queries plus one insert per
    500 entries, whatever their number. Runs in (and needs) the caller's transaction."""
    records = list(records)
    if not records:
        return []
    at = at or timezone.now()
    origin = current_origin()
    default_actor = current_actor()
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _append_locked(records, at=at, origin=origin, default_actor=default_actor)
        except IntegrityError:
            # Another writer created the head row or took the sequence numbers first: read the head again.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _append_locked(records: list[Record], *, at: datetime, origin: str, default_actor: str) -> list[AuditEntry]:
    AuditChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS})
    # Taking the write lock first (an UPDATE) makes concurrent appenders wait here, on SQLite as on PostgreSQL.
    AuditChainHead.objects.filter(pk=1).update(seq=F("seq"))
    head = AuditChainHead.objects.select_for_update().get(pk=1)
    seq, prev = head.seq, head.hash or GENESIS
    entries = []
    for record in records:
        seq += 1
        # Each field in canonical JSON once: its digest, and the value stored (exactly what was hashed).
        texts = {name: _canonical(value) for name, value in record.data.items()}
        data = {name: json.loads(text) for name, text in texts.items()}
        entry = AuditEntry(
            seq=seq,
            at=at,
            action=record.action,
            actor=(record.actor if record.actor is not None else default_actor)[:150],
            origin=origin,
            account_id=record.account_id,
            object_type=record.object_type,
            object_id=str(record.object_id),
            data=data,
            digests={name: hashlib.sha256(text.encode()).hexdigest() for name, text in texts.items()},
            redactions={},
            prev_hash=prev,
        )
        entry.hash = entry_hash(entry)
        prev = entry.hash
        entries.append(entry)
    AuditEntry.objects.bulk_create(entries, batch_size=500)
    AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    return entries


# --------------------------------------------------------------------------------------------------
# Redaction: the one sanctioned change to an entry.


def audit_redact(
    *,
    account_id: int,
    pattern: str,
    mentions: Callable[[Any], bool],
    request_id: int,
    reason: str = "erasure",
    entries: Iterable[int] | None = None,
) -> int:
    """Null every field of the account's entries (or of ``entries``, by sequence number) whose value
    ``mentions`` says holds the subject's personal data; returns how many entries changed. ``pattern``, a
    regular expression over the entry's JSON text, narrows the entries in the database (a superset: the
    caller's matcher decides). The digests stay, so the chain still verifies; each entry records which request
    redacted which field, and one appended entry lists them all. Only the account's entries are read: another
    account's are another controller's evidence."""
    candidates = AuditEntry.objects.filter(account_id=account_id).exclude(action=Action.AUDIT_REDACTED)
    if entries is not None:
        candidates = candidates.filter(seq__in=list(entries))
    if pattern:
        candidates = candidates.annotate(data_text=Cast("data", TextField())).filter(data_text__regex=pattern)
    found = []
    for entry in candidates.iterator(chunk_size=500):
        fields = [name for name, value in entry.data.items() if value is not None and mentions(value)]
        if fields:
            found.append((entry, fields))
    return _null_fields(found, account_id=account_id, request_id=request_id, reason=reason)


def audit_forget(*, object_type: str, object_id: int, fields: Iterable[str], account_id: int, reason: str) -> int:
    """Null ``fields`` of the entries about one object (a request's staff notes, after their retention
    period); returns how many entries changed, recorded as :func:`audit_redact` records its own."""
    fields = list(fields)
    entries = AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id)).exclude(
        action=Action.AUDIT_REDACTED
    )
    found = [(entry, [name for name in fields if entry.data.get(name) is not None]) for entry in entries]
    return _null_fields([(entry, names) for entry, names in found if names], account_id=account_id, request_id=object_id, reason=reason)


def _null_fields(found: list[tuple[AuditEntry, list[str]]], *, account_id: int, request_id: int, reason: str) -> int:
    """Null the given fields of each entry, note which request did it and why, and chain one entry listing them.
    The digests stay, so the chain still verifies."""
    if not found:
        return 0
    now = timezone.now()
    for entry, fields in found:
        for name in fields:
            entry.data[name] = None
            entry.redactions[name] = {"request": request_id, "at": now.isoformat(), "reason": reason}
    changed = [entry for entry, _ in found]
    with transaction.atomic(), sanctioned_write(AuditEntry):
        AuditEntry.objects.bulk_update(changed, ["data", "redactions"], batch_size=500)
        audit_append(
            Record(
                action=Action.AUDIT_REDACTED,
                object_type="dsar.request",
                object_id=request_id,
                account_id=account_id,
                data={"request": request_id, "entries": {str(e.seq): sorted(e.redactions) for e in changed}},
            )
        )
    return len(changed)


# --------------------------------------------------------------------------------------------------
# Verification


@dataclass
class Verification:
    verified: int = 0
    problem: str = ""
    redacted_by_request: dict[int, int] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return not self.problem


def verify_chain(*, batch_size: int = 2000, progress: Any = None) -> Verification:
    """Walk the chain in order and report the first entry changed, removed or inserted outside the product.

    Reads in batches (flat memory). ``progress(n)`` is called after each batch.
    """
    result = Verification()
    expected_seq, prev = 1, GENESIS
    nulled: list[tuple[int, str, int | None]] = []  # (seq, field, request named in the entry)
    claimed: set[tuple[int, str]] = set()
    last_seq = 0
    while True:
        batch = list(AuditEntry.objects.filter(seq__gte=expected_seq).order_by("seq")[:batch_size])
        if not batch:
            break
        for entry in batch:
            problem = _check(entry, expected_seq, prev, nulled)
            if problem:
                result.problem = problem
                return result
            if entry.action == Action.AUDIT_REDACTED:
                for seq, names in (entry.data.get("entries") or {}).items():
                    claimed.update((int(seq), name) for name in names)
            expected_seq, prev, last_seq = entry.seq + 1, entry.hash, entry.seq
            result.verified += 1
        if progress:
            progress(len(batch))
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash or GENESIS) != (last_seq, prev):
        result.problem = (
            f"the chain ends at entry {last_seq} but {head.seq} were appended: "
            f"entries after {last_seq} were removed (or the head was changed)"
        )
        return result
    per_entry: dict[int, int | None] = {}  # entries, not fields: two redacted fields count once
    for seq, name, request_id in nulled:
        if (seq, name) not in claimed:
            result.problem = f"entry {seq}: field {name!r} was emptied outside the product (no redaction records it)"
            return result
        per_entry.setdefault(seq, request_id)
    for request_id in per_entry.values():
        if request_id is not None:
            result.redacted_by_request[request_id] = result.redacted_by_request.get(request_id, 0) + 1
    return result


def _check(entry: AuditEntry, expected_seq: int, prev: str, nulled: list[tuple[int, str, int | None]]) -> str:
    if entry.seq != expected_seq:
        missing = f"entry {expected_seq}" if entry.seq == expected_seq + 1 else f"entries {expected_seq}–{entry.seq - 1}"
        return f"{missing} removed: the chain jumps from entry {expected_seq - 1} to entry {entry.seq}"
    if entry.prev_hash != prev:
        return f"entry {entry.seq} does not follow entry {entry.seq - 1}: it was inserted or the chain was rewritten"
    if set(entry.data) != set(entry.digests):
        return f"entry {entry.seq} was changed: its fields are not the ones it was written with"
    for name, value in entry.data.items():
        if value is None and name in entry.redactions:
            nulled.append((entry.seq, name, entry.redactions[name].get("request")))
            continue
        if digest(value) != entry.digests[name]:
            return f"entry {entry.seq} was changed: field {name!r} no longer matches its digest"
    if not hmac.compare_digest(entry_hash(entry), entry.hash):
        return f"entry {entry.seq} was changed or inserted outside the product: its hash does not match its content"
    return ""
