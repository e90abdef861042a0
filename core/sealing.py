"""Sealed tables: the audit tables people read (recording deletions, request timelines, the history of
requests, people, holds and lines) cannot be rewritten, emptied or added to outside the product without
``verify_audit_log`` saying so.

Every row written to a sealed table is sealed in the same transaction: the SHA-256 of its stored column values
(read back from the database as its driver returns them, which is how verification reads them too; in canonical
JSON; without ``history_user_id``, which deleting a login nulls, as the username is kept as text) goes into the
seal ledger (:class:`~core.models.SealedRow`), and each sealing call appends one entry to the audit chain naming
the table, how many rows, their id range and a digest over their ledger rows. So a seal cannot be edited,
removed or added without breaking the chain, and the chain's keyed hashes cannot be recomputed without the key.

A sanctioned scrub (:func:`core.append_only.scrub`) seals the rows it changed again, under an entry naming the
reason and the request; a row must match its newest seal. Rows already in a table when it is first sealed are
sealed once, as a baseline, after ``migrate``; never again, so a row inserted outside the product later is
reported, not absorbed. NULL columns are left out of a digest, so a nullable column added later keeps the seals
valid; a migration that fills or rewrites a sealed table's column changes what was sealed, and verification
will say so.

Apps register their tables in ``AppConfig.ready`` (:func:`register`): core knows none of them. Work is set-based
(one read and one ledger insert per sealing call, whatever its number of rows) and verification streams every
table and the ledger in key order, in batches, with flat memory.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Q
from django.db.models.functions import Cast

from core.chain import Action, Record, audit_append_many
from core.models import AuditChainHead, AuditEntry, SealedRow
from core.sql import id_array, insert_json_rows

#: The object type of the chain entries that anchor seals; their object id is the table.
OBJECT_TYPE = "sealed table"
#: The actions of those entries.
SEAL_ACTIONS = (Action.ROWS_SEALED, Action.ROWS_SCRUBBED, Action.SEAL_BASELINE)
#: How many problems verification names; past that it counts them.
REPORTED = 50

_registry: dict[str, type[models.Model]] = {}


def register(*models_: type[models.Model]) -> None:
    """Seal every row written to ``models_`` from now on. Called by the app that owns them, from its
    ``AppConfig.ready``, which also makes them append-only (:func:`core.append_only.protect`)."""
    for model in models_:
        model = model._meta.concrete_model
        _registry[model._meta.db_table] = model


def sealed_models() -> list[type[models.Model]]:
    """The sealed tables' models, by table name."""
    return [_registry[table] for table in sorted(_registry)]


def is_sealed(model: type[models.Model]) -> bool:
    return _registry.get(model._meta.db_table) is model._meta.concrete_model


def _sealed_fields(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if field.attname != "history_user_id"]


_DATES = (models.DateTimeField, models.DateField, models.TimeField)


def _read(rows: models.QuerySet, names: Sequence[str]) -> models.QuerySet:
    """``rows.values_list(*names)``, reading on SQLite each date or time as the text stored: its driver would parse
    each into a ``datetime`` only for the digest to write it back, as ``str()``, to the same text (as Django stores
    it, ``str()`` of the naive UTC value)."""
    if connections[rows.db].vendor != "sqlite":
        return rows.values_list(*names)
    fields = {field.attname: field for field in rows.model._meta.concrete_fields}
    return rows.values_list(
        *(Cast(name, models.TextField()) if isinstance(fields.get(name), _DATES) else name for name in names)
    )


def _fetch(values: models.QuerySet) -> Iterator[tuple[Any, ...]]:
    """The rows of ``values`` (a ``values_list`` queryset) as the database driver returns them, without Django's
    conversions: sealing and verification read a row the same way, and hash what is stored."""
    sql, params = values.query.get_compiler(using=values.db).as_sql()
    with connections[values.db].cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(2000):
            yield from rows


#: Canonical JSON (as the chain writes it): sorted keys, no spaces, UTF-8 as is, ``str()`` of what JSON has no type for.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _json_str_of(value: Any) -> str:
    # ``str()`` of a date, time or datetime is digits, ``-``, ``:``, ``.``, ``+`` and a space: nothing to escape.
    return f'"{value}"'


#: How a value of each exact type is written, as ``_CANONICAL`` writes it (``bool`` is not ``int`` here: it
#: falls through to ``_CANONICAL``, as does every other type).
_WRITERS: dict[type, Callable[[Any], str]] = {
    str: encode_basestring,  # the encoder's own string writer
    int: int.__repr__,
    datetime.datetime: _json_str_of,
    datetime.date: _json_str_of,
    datetime.time: _json_str_of,
}


def row_digester(columns: Sequence[str]) -> Callable[[Sequence[Any]], str]:
    """A function giving the SHA-256 of a stored row of ``columns``: its columns and values in canonical JSON
    (exactly ``_CANONICAL.encode`` of the row as a dict). NULL columns are left out, so a nullable column added to a
    table later leaves the rows sealed before it verifying.

    The keys are sorted once for every row, and each value is written by its type: the same text as the encoder
    writes for the whole dict, at a third of its cost (sealing and verifying read every row of the audit tables)."""
    order = sorted(range(len(columns)), key=lambda index: columns[index])
    keys = [(index, f"{encode_basestring(columns[index])}:") for index in order]
    writers = _WRITERS
    fallback = _CANONICAL.encode
    sha256 = hashlib.sha256

    def digest(row: Sequence[Any]) -> str:
        parts = []
        for index, key in keys:
            value = row[index]
            if value is not None:
                write = writers.get(type(value), fallback)
                parts.append(key + write(value))
        return sha256(("{" + ",".join(parts) + "}").encode()).hexdigest()

    return digest


def row_digest(columns: Sequence[str], row: Sequence[Any]) -> str:
    """The SHA-256 of one stored row (see :func:`row_digester`, for many rows of the same columns)."""
    return row_digester(columns)(row)


def _digests(model: type[models.Model], rows: models.QuerySet) -> list[tuple[int, str]]:
    """``(id, digest)`` of each row of ``rows`` (of ``model``, ordered by id), read in one query."""
    fields = _sealed_fields(model)
    digest = row_digester([field.column for field in fields])
    at = [field.attname for field in fields].index(model._meta.pk.attname)
    return [(row[at], digest(row)) for row in _fetch(_read(rows, [field.attname for field in fields]))]


class LedgerDigest:
    """The digest over one chain entry's ledger rows, fed in id order."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0
        self.first: int | None = None
        self.last: int | None = None

    def add(self, row_id: int, row_digest: str) -> None:
        self._hash.update(f"{row_id}:{row_digest}\n".encode())
        self.count += 1
        if self.first is None:
            self.first = row_id
        self.last = row_id

    def summary(self) -> dict[str, Any]:
        """What the chain entry records of its ledger rows."""
        return {"rows": self.count, "first": self.first, "last": self.last, "digest": self._hash.hexdigest()}


def _anchor(model: type[models.Model], sealed: Sequence[tuple[int, str]], *, action: str, data: dict[str, Any]) -> None:
    """Chain one entry for ``sealed`` rows of ``model``, then write their ledger rows under it."""
    table = model._meta.db_table
    ledger = LedgerDigest()
    for row_id, row_digest in sealed:
        ledger.add(row_id, row_digest)
    [entry] = audit_append_many(
        [Record(action=action, object_type=OBJECT_TYPE, object_id=table, data={"table": table, **ledger.summary(), **data})]
    )
    insert_json_rows(
        SealedRow._meta.db_table,
        ["entry_seq", "table_name", "row_id", "digest"],
        [(entry.seq, table, row_id, row_digest) for row_id, row_digest in sealed],
    )


def seal_rows(
    model: type[models.Model], ids: Iterable[int], *, action: str = Action.ROWS_SEALED, data: dict[str, Any] | None = None
) -> int:
    """Seal the rows ``ids`` of ``model`` as they are stored now (nothing for a table that is not sealed); returns
    how many. Runs in the caller's transaction: the write and its seal commit or roll back together."""
    if not is_sealed(model):
        return 0
    ids = sorted({int(pk) for pk in ids})
    if not ids:
        return 0
    with transaction.atomic(savepoint=False):
        sealed = _digests(model, model._base_manager.filter(pk__in=id_array(ids)).order_by("pk"))
        _anchor(model, sealed, action=action, data=data or {})
    return len(sealed)


def reseal(model: type[models.Model], ids: Iterable[int], *, reason: str, request_id: int | None) -> int:
    """Seal again rows a sanctioned scrub changed, under an entry naming why and for which request."""
    return seal_rows(model, ids, action=Action.ROWS_SCRUBBED, data={"reason": reason, "request": request_id})


def seal_history_row(sender: type, history_instance: models.Model, **kwargs: Any) -> None:
    """``post_create_historical_record`` receiver: seal a history row simple-history wrote for one object."""
    seal_rows(type(history_instance), [history_instance.pk])


def seal_history_rows(sender: type[models.Model], ids: list[Any], **kwargs: Any) -> None:
    """``core.history.history_written`` receiver: seal the history rows ``write_history`` or
    ``write_history_from`` wrote."""
    seal_rows(sender, ids)


def reseal_added_column(model: type[models.Model], column: str, *, reason: str, batch_size: int = 2000) -> int:
    """Seal again the rows of ``model`` that a migration changed only by adding ``column`` to them (a column with
    a default fills every existing row): each row whose newest seal matches it read without ``column``, under one
    chain entry naming ``reason``; returns how many. A row that does not match even without it was changed
    otherwise, and is left for verification to report."""
    if not is_sealed(model):
        return 0
    fields = _sealed_fields(model)
    pk = model._meta.pk
    others = [field for field in fields if field.attname != pk.attname]
    columns = [pk.column] + [field.column for field in others]
    if column not in columns:
        return 0
    at = columns.index(column)
    now, before = row_digester(columns), row_digester(columns[:at] + columns[at + 1 :])
    rows = _stream(model._base_manager.all(), [pk.attname], [field.attname for field in others], batch_size)
    table = model._meta.db_table
    seals = _newest(_stream(SealedRow.objects.filter(table_name=table), ["row_id", "entry_seq"], ["digest"], batch_size))
    seal = next(seals, None)
    changed = []
    for row in rows:
        while seal is not None and seal[0] < row[0]:
            seal = next(seals, None)
        if seal is None:
            break
        if seal[0] == row[0] and now(row) != seal[1] and before(row[:at] + row[at + 1 :]) == seal[1]:
            changed.append(row[0])
    return reseal(model, changed, reason=reason, request_id=None) if changed else 0


# --------------------------------------------------------------------------------------------------
# Baseline: the rows a table holds when it is first sealed


def seal_baseline(*, using: str = DEFAULT_DB_ALIAS, batch_size: int = 5000, verbosity: int = 0, **kwargs: Any) -> None:
    """``post_migrate`` receiver: seal the rows of every sealed table the chain has never sealed a row of, as
    they stand (one chain entry per ``batch_size`` rows). Once a table has a seal it is left alone, so rows
    inserted outside the product since are reported, never absorbed. (An empty table gets no entry: its
    first row the product writes is its first seal.)"""
    tables = set(connections[using].introspection.table_names())
    platform = {AuditEntry._meta.db_table, AuditChainHead._meta.db_table, SealedRow._meta.db_table}
    if not platform <= tables:
        return
    for model in sealed_models():
        table = model._meta.db_table
        if table not in tables or AuditEntry.objects.using(using).filter(object_type=OBJECT_TYPE, object_id=table).exists():
            continue
        count = 0
        with transaction.atomic(using=using):
            rows = model._base_manager.using(using).order_by("pk")
            while sealed := _digests(model, rows[:batch_size]):
                _anchor(model, sealed, action=Action.SEAL_BASELINE, data={})
                count += len(sealed)
                rows = model._base_manager.using(using).filter(pk__gt=sealed[-1][0]).order_by("pk")
        if verbosity >= 1 and count:
            print(f"  Sealed the {count} rows {table} held before it was sealed (once, as a baseline).")


# --------------------------------------------------------------------------------------------------
# Verification


@dataclass
class SealCheck:
    """What verifying the sealed tables found: rows checked, and each problem naming its table and row."""

    rows: int = 0
    tables: int = 0
    problems: list[str] = field(default_factory=list)
    unreported: int = 0

    def report(self, problem: str) -> None:
        if len(self.problems) < REPORTED:
            self.problems.append(problem)
        else:
            self.unreported += 1


def _after(keys: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows whose ``keys`` come after ``values`` in order (a keyset page's start)."""
    q = Q(**{f"{keys[-1]}__gt": values[-1]})
    for index in range(len(keys) - 2, -1, -1):
        q = Q(**{f"{keys[index]}__gt": values[index]}) | (Q(**{keys[index]: values[index]}) & q)
    return q


def _stream(rows: models.QuerySet, keys: Sequence[str], fields: Sequence[str], batch_size: int) -> Iterator[tuple[Any, ...]]:
    """``(*keys, *fields)`` of every row of ``rows`` in ``keys`` order, ``batch_size`` rows per query, as
    :func:`_fetch` reads them."""
    start: tuple[Any, ...] | None = None
    while True:
        page = rows if start is None else rows.filter(_after(keys, start))
        batch = list(_fetch(_read(page.order_by(*keys), [*keys, *fields])[:batch_size]))
        yield from batch
        if len(batch) < batch_size:
            return
        start = batch[-1][: len(keys)]


def _newest(seals: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, str, int]]:
    """``(row id, digest, entry)`` of each row's newest seal, from ``(row id, entry, digest)`` in that order."""
    current: tuple[int, str, int] | None = None
    for row_id, seq, row_digest in seals:
        if current is not None and current[0] != row_id:
            yield current
        current = (row_id, row_digest, seq)
    if current is not None:
        yield current


def _verify_ledger(check: SealCheck, batch_size: int) -> None:
    """Each anchoring entry against its ledger rows (count, ids, digest, table), merged in entry order."""
    entries = _stream(AuditEntry.objects.filter(action__in=SEAL_ACTIONS), ["seq"], ["data"], batch_size)
    ledger = _stream(SealedRow.objects.all(), ["entry_seq", "row_id"], ["table_name", "digest"], batch_size)
    pending = next(ledger, None)
    for seq, stored in entries:
        data = json.loads(stored) if isinstance(stored, str) else stored  # JSON as the driver returns it
        while pending is not None and pending[0] < seq:
            check.report(
                f"seal ledger: the seal of {pending[2]} row {pending[1]} names entry {pending[0]}, which seals nothing: "
                "it was added outside the product"
            )
            pending = next(ledger, None)
        found = LedgerDigest()
        tables = set()
        while pending is not None and pending[0] == seq:
            found.add(pending[1], pending[3])
            tables.add(pending[2])
            pending = next(ledger, None)
        expected = {key: data.get(key) for key in ("rows", "first", "last", "digest")}
        if found.summary() != expected or tables - {data.get("table")}:
            check.report(
                f"seal ledger: the seals of {data.get('table')} anchored by entry {seq} no longer match it: seals were "
                "changed, removed or added outside the product"
            )
    while pending is not None:
        check.report(
            f"seal ledger: the seal of {pending[2]} row {pending[1]} names entry {pending[0]}, which seals nothing: "
            "it was added outside the product"
        )
        pending = next(ledger, None)


def _verify_table(model: type[models.Model], check: SealCheck, batch_size: int, progress: Callable[[int], Any] | None) -> None:
    """Every row of ``model`` against its newest seal, merged in id order."""
    table = model._meta.db_table
    fields = _sealed_fields(model)
    pk = model._meta.pk
    others = [field for field in fields if field.attname != pk.attname]
    digest = row_digester([pk.column] + [field.column for field in others])
    rows = _stream(model._base_manager.all(), [pk.attname], [field.attname for field in others], batch_size)
    seals = _newest(_stream(SealedRow.objects.filter(table_name=table), ["row_id", "entry_seq"], ["digest"], batch_size))
    row, seal = next(rows, None), next(seals, None)
    done = 0
    while row is not None or seal is not None:
        if seal is None or (row is not None and row[0] < seal[0]):
            check.report(f"{table} row {row[0]} has no seal: it was inserted outside the product")
            row = next(rows, None)
        elif row is None or seal[0] < row[0]:
            check.report(f"{table} row {seal[0]} (sealed by entry {seal[2]}) is gone: it was deleted outside the product")
            seal = next(seals, None)
        else:
            if digest(row) != seal[1]:
                check.report(
                    f"{table} row {row[0]} no longer matches its seal (entry {seal[2]}): it was changed outside the product"
                )
            check.rows += 1
            row, seal = next(rows, None), next(seals, None)
        done += 1
        if progress and done % batch_size == 0:
            progress(batch_size)
    if progress and done % batch_size:
        progress(done % batch_size)


def verify_seals(*, batch_size: int = 2000, progress: Callable[[int], Any] | None = None) -> SealCheck:
    """Verify the seal ledger against the chain, then every sealed table against the ledger: report each row
    changed, deleted or inserted outside the product, naming its table and id. ``progress(n)`` is called as
    rows are checked."""
    check = SealCheck()
    _verify_ledger(check, batch_size)
    for model in sealed_models():
        _verify_table(model, check, batch_size, progress)
        check.tables += 1
    return check
