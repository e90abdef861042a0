"""The audit chain of destructive operations: append, redact (erasure only) and verify.

Each :class:`~core.models.AuditEntry` keeps its fields in ``data`` and a SHA-256 digest of each field
in ``digests``. Its ``hash`` is an HMAC (keyed with ``AUDIT_CHAIN_KEY``, by default derived from the
``SECRET_KEY``) over the entry's sequence number, time, action, actor, origin, account, object, the
field DIGESTS and the previous entry's hash (appending is :mod:`core.chain`'s, re-exported here). So:

- changing any value, or any entry, breaks its digest or its hash; removing or inserting an entry breaks
  the sequence or the link to its neighbour; without the key nobody can compute a valid hash;
- an erasure may null a value that holds the subject's personal data (:func:`audit_redact`): the digest
  stays, so the chain still verifies, and the redaction is itself appended to the chain with its request,
  time and reason, so a value nulled outside the product, or a redaction attributed to another request
  afterwards, is reported;
- the audit tables people read (recording deletions, timelines, history) are sealed into the chain
  (:mod:`core.sealing`), and verification checks them too.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from core.append_only import scrub
from core.chain import GENESIS, Action, Record, audit_append, audit_append_many, digest, entry_hash
from core.models import AuditChainHead, AuditEntry
from core.sealing import SEAL_ACTIONS, verify_seals

# What the apps append with, from this one place.
__all__ = ["Action", "Record", "audit_append", "audit_append_many", "digest", "audit_redact", "audit_forget", "verify_chain"]

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
    """Null the given fields of each entry, note which request did it, when and why, and chain one entry saying
    the same of each field (so a note rewritten later no longer matches it). The digests stay, so the chain
    still verifies."""
    if not found:
        return 0
    now = timezone.now()
    for entry, fields in found:
        for name in fields:
            entry.data[name] = None
            entry.redactions[name] = {"request": request_id, "at": now.isoformat(), "reason": reason}
    changed = [entry for entry, _ in found]
    with transaction.atomic(savepoint=False):
        scrub(
            AuditEntry,
            {entry.pk: {"data": entry.data, "redactions": entry.redactions} for entry in changed},
            reason=reason,
            request_id=request_id,
        )
        audit_append_many(
            [
                Record(
                    action=Action.AUDIT_REDACTED,
                    object_type="dsar.request",
                    object_id=request_id,
                    account_id=account_id,
                    data={
                        "request": request_id,
                        "reason": reason,
                        "at": now.isoformat(),
                        "entries": {str(entry.seq): sorted(fields) for entry, fields in found},
                    },
                )
            ],
            at=now,
        )
    return len(changed)


# --------------------------------------------------------------------------------------------------
# Verification


@dataclass
class Verification:
    """What verification found: entries verified, sealed rows verified, and the problems, each naming its entry,
    or its table and row."""

    verified: int = 0
    seals: int = 0  # of the entries verified, those anchoring seals
    chain_problem: str = ""  # the first entry changed, removed or inserted
    sealed_problems: list[str] = field(default_factory=list)  # each sealed row changed, deleted or inserted
    unreported: int = 0  # sealed problems past the ones named
    sealed_rows: int = 0
    sealed_tables: int = 0
    redacted_by_request: dict[int, int] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        return ([self.chain_problem] if self.chain_problem else []) + self.sealed_problems

    @property
    def problem(self) -> str:
        return "; ".join(self.problems)

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Claim:
    """What a redaction entry of the chain says of one redacted field."""

    request: Any
    reason: str | None  # None: an entry written before redactions named their reason
    at: str | None


def verify_chain(*, batch_size: int = 2000, progress: Any = None, seal_progress: Any = None) -> Verification:
    """Walk the chain in order and report the first entry changed, removed or inserted outside the product, and
    any redaction whose attribution (request, time, reason) no longer matches the chain's record of it; then
    verify every sealed table against its seals (:func:`core.sealing.verify_seals`).

    Reads in batches (flat memory). ``progress(n)`` is called after each batch of entries, ``seal_progress(n)``
    as sealed rows are checked.
    """
    result = Verification()
    result.chain_problem = _verify_entries(result, batch_size=batch_size, progress=progress)
    seals = verify_seals(batch_size=batch_size, progress=seal_progress)
    result.sealed_rows, result.sealed_tables = seals.rows, seals.tables
    result.sealed_problems, result.unreported = seals.problems, seals.unreported
    return result


def _verify_entries(result: Verification, *, batch_size: int, progress: Any) -> str:
    expected_seq, prev = 1, GENESIS
    nulled: list[tuple[int, str, dict[str, Any]]] = []  # (seq, field, the entry's record of its redaction)
    claimed: dict[tuple[int, str], _Claim] = {}
    last_seq = 0
    while True:
        batch = list(AuditEntry.objects.filter(seq__gte=expected_seq).order_by("seq")[:batch_size])
        if not batch:
            break
        for entry in batch:
            problem = _check(entry, expected_seq, prev, nulled)
            if problem:
                return problem
            if entry.action == Action.AUDIT_REDACTED:
                claim = _Claim(entry.data.get("request"), entry.data.get("reason"), entry.data.get("at"))
                for seq, names in (entry.data.get("entries") or {}).items():
                    for name in names:
                        # A field is redacted once; older redaction entries listed every field redacted so far.
                        claimed.setdefault((int(seq), name), claim)
            expected_seq, prev, last_seq = entry.seq + 1, entry.hash, entry.seq
            result.verified += 1
            result.seals += entry.action in SEAL_ACTIONS
        if progress:
            progress(len(batch))
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash or GENESIS) != (last_seq, prev):
        return (
            f"the chain ends at entry {last_seq} but {head.seq} were appended: "
            f"entries after {last_seq} were removed (or the head was changed)"
        )
    per_entry: dict[int, Any] = {}  # entries, not fields: two redacted fields count once
    for seq, name, redaction in nulled:
        claim = claimed.get((seq, name))
        if claim is None:
            return f"entry {seq}: field {name!r} was emptied outside the product (no redaction records it)"
        recorded = (redaction.get("request"), redaction.get("reason"), redaction.get("at"))
        if claim.reason is None:  # an entry written before redactions named their reason and time
            matches = recorded[0] == claim.request
        else:
            matches = recorded == (claim.request, claim.reason, claim.at)
        if not matches:
            return (
                f"entry {seq}: the redaction of field {name!r} is attributed to request {recorded[0]} "
                f"({recorded[1] or 'no reason'}, {recorded[2] or 'no time'}), but the chain records request "
                f"{claim.request} ({claim.reason or 'no reason'}, {claim.at or 'no time'}): it was rewritten outside the product"
            )
        per_entry.setdefault(seq, redaction.get("request"))
    for request_id in per_entry.values():
        if request_id is not None:
            result.redacted_by_request[request_id] = result.redacted_by_request.get(request_id, 0) + 1
    return ""


def _check(entry: AuditEntry, expected_seq: int, prev: str, nulled: list[tuple[int, str, dict[str, Any]]]) -> str:
    if entry.seq != expected_seq:
        missing = f"entry {expected_seq}" if entry.seq == expected_seq + 1 else f"entries {expected_seq}–{entry.seq - 1}"
        return f"{missing} removed: the chain jumps from entry {expected_seq - 1} to entry {entry.seq}"
    if entry.prev_hash != prev:
        return f"entry {entry.seq} does not follow entry {entry.seq - 1}: it was inserted or the chain was rewritten"
    if set(entry.data) != set(entry.digests):
        return f"entry {entry.seq} was changed: its fields are not the ones it was written with"
    for name, value in entry.data.items():
        if value is None and name in entry.redactions:
            redaction = entry.redactions[name]
            nulled.append((entry.seq, name, redaction if isinstance(redaction, dict) else {}))
            continue
        if digest(value) != entry.digests[name]:
            return f"entry {entry.seq} was changed: field {name!r} no longer matches its digest"
    if not hmac.compare_digest(entry_hash(entry), entry.hash):
        return f"entry {entry.seq} was changed or inserted outside the product: its hash does not match its content"
    return ""
