"""The audit chain's links and how they are appended: the one primitive every writer of the chain stands on.

Each :class:`~core.models.AuditEntry` keeps its fields in ``data`` and a SHA-256 digest of each field in
``digests``; its ``hash`` is an HMAC (keyed with ``AUDIT_CHAIN_KEY``, by default derived from the ``SECRET_KEY``)
over its identity, those digests and the previous entry's hash. Redaction and verification are in
:mod:`core.audit`; this module is apart so that the seals of audit tables (:mod:`core.sealing`), which
verification checks and redaction writes, can append without importing them.

Appends run inside the caller's transaction (a rolled-back deletion leaves no entry) and lock the one
:class:`~core.models.AuditChainHead` row first, so concurrent writers queue instead of forking the chain; the
unique sequence number is the last guard.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

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
    """Append ``records`` in order as consecutive entries; returns them. Three queries plus one insert per
    500 entries, whatever their number. Runs in (and needs) the caller's transaction: an append that fails
    fails it (no savepoint of its own, as every sealed write appends)."""
    records = list(records)
    if not records:
        return []
    at = at or timezone.now()
    origin = current_origin()
    default_actor = current_actor()
    with transaction.atomic(savepoint=False):
        seq, prev = _lock_head()
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


def _lock_head() -> tuple[int, str]:
    """Lock the chain's head row and read it, creating it on the very first append. Taking the write lock with
    an UPDATE makes concurrent appenders queue here until this transaction ends, on SQLite as on PostgreSQL."""
    quote = connection.ops.quote_name
    table, key = quote(AuditChainHead._meta.db_table), quote(AuditChainHead._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET seq = seq WHERE {key} = 1 RETURNING seq, hash")
        rows = cursor.fetchall()
    if rows:
        return rows[0][0], rows[0][1] or GENESIS
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(pk=1, seq=0, hash=GENESIS)
    except IntegrityError:
        pass  # another writer created it first: its lock is waited for below
    return _lock_head()
