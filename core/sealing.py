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

Apps register their tables in ``AppConfig.ready`` (:func:`register`): core knows none of them. Work is set-based,
whatever the number of rows: a sealing call reads the digests and inserts the ledger rows in one statement each
(on PostgreSQL the database computes, sums up and writes them without sending them to Python), and verification
streams every table and the ledger in key order, in batches, with flat memory.
"""

from __future__ import annotations

import datetime
import hashlib
import heapq
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from core.chain import Action, Record, audit_append_many
from core.models import AuditChainHead, AuditEntry, SealedRow
from core.sql import UtcDateTimeText, insert_json_rows, rows_with_ids, utc_datetime_text

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
    """``rows.values_list(*names)``, reading each date and time as text written by the database, not parsed into
    a Python value only for the digest to write it back as ``str()`` of it: on SQLite the text stored (as Django
    stores it, ``str()`` of the naive UTC value); on PostgreSQL a datetime as ``str()`` of the aware UTC value the
    driver would give (:class:`~core.sql.UtcDateTimeText`; its parser for Django's time zones is pure Python), and
    dates and times as the driver reads them."""
    fields = {field.attname: field for field in rows.model._meta.concrete_fields}
    sqlite = connections[rows.db].vendor == "sqlite"

    def column(name: str) -> Any:
        field = fields.get(name)
        if sqlite and isinstance(field, _DATES):
            return Cast(name, models.TextField())
        if not sqlite and isinstance(field, models.DateTimeField):
            return UtcDateTimeText(name)
        return name

    return rows.values_list(*(column(name) for name in names))


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


#: How a value of each type is written in a row's digest, as ``_CANONICAL`` writes it: a format field over
#: ``row[index]``. ``bool`` is not ``int`` here: it falls through, as does every other type, to ``_CANONICAL``. (``str()``
#: of a date, time or datetime is digits, ``-``, ``:``, ``.``, ``+`` and a space: nothing to escape.)
_WRITERS: dict[type, str] = {
    str: "{_string(row[%d])}",  # the encoder's own string writer
    int: "{row[%d]}",
    datetime.datetime: '"{row[%d]}"',
    datetime.date: '"{row[%d]}"',
    datetime.time: '"{row[%d]}"',
}
_FALLBACK = "{_canonical(row[%d])}"
#: Digest functions kept per column set: one for each pattern of value types (NULLs included) met.
_KINDS = 64


def row_digester(columns: Sequence[str]) -> Callable[[Sequence[Any]], str]:
    """A function giving the SHA-256 of a stored row of ``columns``: its columns and values in canonical JSON
    (exactly ``_CANONICAL.encode`` of the row as a dict). NULL columns are left out, so a nullable column added to a
    table later leaves the rows sealed before it verifying.

    Sealing and verifying read every row of the audit tables, so rows are not encoded as dicts: for each pattern
    of value types met (the types of a table's columns, and which are NULL), one function is compiled that writes
    the keys, sorted once, and each value by its type in a single f-string. The text is the encoder's, at a fifth
    of its cost; a pattern past the first ``_KINDS`` is written by the encoder itself."""
    order = sorted(range(len(columns)), key=lambda index: columns[index])
    names = {"_string": encode_basestring, "_canonical": _CANONICAL.encode, "_sha256": hashlib.sha256}
    compiled: dict[tuple[type, ...], Callable[[Sequence[Any]], str]] = {}

    def compile_for(kinds: tuple[type, ...]) -> Callable[[Sequence[Any]], str]:
        fields = []
        for index in order:
            if kinds[index] is not type(None):
                key = encode_basestring(columns[index]).replace("{", "{{").replace("}", "}}")
                fields.append(f"{key}:" + _WRITERS.get(kinds[index], _FALLBACK) % index)
        text = "{{" + ",".join(fields) + "}}"
        namespace = dict(names)
        exec(f"def digest(row):\n    return _sha256(f{text!r}.encode()).hexdigest()\n", namespace)
        return namespace["digest"]

    def digest(row: Sequence[Any]) -> str:
        kinds = tuple(map(type, row))
        function = compiled.get(kinds)
        if function is None:
            if len(compiled) >= _KINDS:
                return hashlib.sha256(
                    _CANONICAL.encode({columns[i]: value for i, value in enumerate(row) if value is not None}).encode()
                ).hexdigest()
            function = compiled[kinds] = compile_for(kinds)
        return function(row)

    return digest


def row_digest(columns: Sequence[str], row: Sequence[Any]) -> str:
    """The SHA-256 of one stored row (see :func:`row_digester`, for many rows of the same columns)."""
    return row_digester(columns)(row)


#: How each database writes a column's value in a row's canonical JSON exactly as Python writes the value it reads
#: (``_read``, ``_fetch``), by the column's type (``{}`` stands for the column); a type not named here is hashed in
#: Python. Integers are their digits. PostgreSQL: ``to_json`` escapes text as the encoder does (``"``, ``\\``,
#: control characters; nothing else) and writes booleans as JSON does; a timestamp is written as
#: :class:`~core.sql.UtcDateTimeText`, a date as ISO. SQLite: ``json_quote`` escapes text as the encoder does; dates
#: and times are the text stored, as ``_read`` reads them; a boolean is what Django's converter for the ``bool``
#: type reads (true only for the text ``1``).
_SQL_JSON: dict[str, dict[str, str]] = {
    "postgresql": {
        **dict.fromkeys(("integer", "bigint", "smallint"), "{}::text"),
        **dict.fromkeys(("boolean", "text", "varchar"), "to_json({})::text"),
        "timestamp with time zone": "'\"' || " + utc_datetime_text("{}") + " || '\"'",
        "date": "'\"' || to_char({}, 'YYYY-MM-DD') || '\"'",
    },
    "sqlite": {
        **dict.fromkeys(("integer", "bigint", "smallint", "integer unsigned", "smallint unsigned", "bigint unsigned"), "{}"),
        **dict.fromkeys(("text", "varchar"), "json_quote({})"),
        **dict.fromkeys(("datetime", "date", "time"), "json_quote(CAST({} AS TEXT))"),
        "bool": "CASE WHEN {} IS NULL THEN NULL WHEN CAST({} AS TEXT) = '1' THEN 'true' ELSE 'false' END",
    },
}
#: The most columns a digest written by the database takes (PostgreSQL passes at most 100 arguments to a function).
_MOST_COLUMNS = 90


def _sql_digest(model: type[models.Model], using: str) -> RawSQL | None:
    """Each row's digest (:func:`row_digester`) computed by the database, when every sealed column is of a type in
    ``_SQL_JSON``; else ``None``, and the rows are read and hashed in Python.

    Keys in sorted order, NULL columns left out as in Python: each column's ``"key":value`` piece is NULL when its
    value is (``||`` with NULL is NULL). PostgreSQL joins the pieces with ``concat_ws``, which skips NULLs. SQLite
    (which has no ``concat_ws`` before 3.44) writes them with one ``printf``, where NULL writes nothing: a column
    that cannot be NULL has its key in the format and its value as an argument, a nullable one its whole piece, led
    by its comma (the first comma is dropped); few operations per column, which is what a write sealing many rows
    pays for each (``json_quote`` writes NULL as ``null``, hence ``nullif``: a text ``null`` is quoted). Then
    SHA-256 of the UTF-8 text: on SQLite the ``SHA256`` function Django registers on every connection, which hashes
    the text as Python does."""
    connection = connections[using]
    writers = _SQL_JSON.get(connection.vendor)
    fields = sorted(_sealed_fields(model), key=lambda sealed: sealed.column)
    if writers is None or len(fields) > _MOST_COLUMNS:
        return None
    quote = connection.ops.quote_name
    columns = []  # each column's key, value (SQL) and whether it can be NULL
    for sealed in fields:
        writer = writers.get((sealed.db_type(connection) or "").split("(")[0].strip())
        if writer is None:
            return None
        value = writer.replace("{}", f"{quote(model._meta.db_table)}.{quote(sealed.column)}")
        if sealed.null and "json_quote" in writer:
            value = f"nullif({value}, 'null')"
        columns.append((encode_basestring(sealed.column) + ":", value, sealed.null))
    if connection.vendor == "postgresql":
        text = f"'{{' || concat_ws(',', {', '.join(f'{_literal(key)} || {value}' for key, value, _ in columns)}) || '}}'"
        digest = f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')"
    else:
        form = "".join("%s" if null else "," + key.replace("%", "%%") + "%s" for key, _, null in columns)
        values = ", ".join(f"{_literal(',' + key)} || {value}" if null else value for key, value, null in columns)
        digest = f"SHA256('{{' || substr(printf({_literal(form)}, {values}), 2) || '}}')"
    # A ``%`` in the SQL is the driver's placeholder unless doubled.
    return RawSQL(digest.replace("%", "%%"), [], output_field=models.CharField())


def _literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _digests(model: type[models.Model], rows: models.QuerySet) -> list[tuple[int, str]]:
    """``(id, digest)`` of each row of ``rows`` (of ``model``, ordered by id), read in one query: computed by the
    database where it can (:func:`_sql_digest`), else from the rows read."""
    in_sql = _sql_digest(model, rows.db)
    if in_sql is not None:
        return list(_fetch(rows.values_list("pk", in_sql)))
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

    def add_all(self, sealed: Sequence[tuple[int, str]]) -> None:
        """:meth:`add` each ``(id, digest)`` of ``sealed``, hashed as one text."""
        if sealed:
            self._hash.update("".join([f"{row_id}:{row_digest}\n" for row_id, row_digest in sealed]).encode())
            self.count += len(sealed)
            if self.first is None:
                self.first = sealed[0][0]
            self.last = sealed[-1][0]

    def summary(self) -> dict[str, Any]:
        """What the chain entry records of its ledger rows."""
        return {"rows": self.count, "first": self.first, "last": self.last, "digest": self._hash.hexdigest()}


def _anchor_entry(table: str, summary: dict[str, Any], *, action: str, data: dict[str, Any]) -> AuditEntry:
    """Append the chain entry anchoring a sealing call's ledger rows: the table, the ledger's ``summary``
    (:meth:`LedgerDigest.summary`) and ``data``."""
    [entry] = audit_append_many(
        [Record(action=action, object_type=OBJECT_TYPE, object_id=table, data={"table": table, **summary, **data})]
    )
    return entry


def _anchor(model: type[models.Model], sealed: Sequence[tuple[int, str]], *, action: str, data: dict[str, Any]) -> None:
    """Chain one entry for ``sealed`` rows of ``model``, then write their ledger rows under it."""
    table = model._meta.db_table
    ledger = LedgerDigest()
    ledger.add_all(sealed)
    entry = _anchor_entry(table, ledger.summary(), action=action, data=data)
    insert_json_rows(
        SealedRow._meta.db_table,
        ["entry_seq", "table_name", "row_id", "digest", "following"],
        [(entry.seq, table, first, digests[0], "".join(digests[1:]) or None) for first, digests in _runs(sealed)],
    )


#: The most rows one ledger row seals (its run): bounds what verification holds of a run (64 characters a row).
RUN = 256


def _runs(sealed: Sequence[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
    """``(first id, digests)`` of each run of consecutive ids in ``sealed`` (in id order), at most :data:`RUN` each:
    a bulk write's rows take one ledger row per run instead of one each."""
    first, digests = None, []
    for row_id, row_digest in sealed:
        if digests and (row_id != first + len(digests) or len(digests) == RUN):
            yield first, digests
            digests = []
        if not digests:
            first = row_id
        digests.append(row_digest)
    if digests:
        yield first, digests


def _expand(first: int, digest: str, following: str | None) -> Iterator[tuple[int, str]]:
    """``(id, digest)`` of each row a ledger row seals: its first row, then the run's following rows."""
    yield first, digest
    for offset in range(0, len(following or ""), 64):
        yield first + 1 + offset // 64, following[offset : offset + 64]


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
    if ids[-1] - ids[0] + 1 == len(ids):  # consecutive (a bulk insert's): a range is cheaper to read than a list
        rows = model._base_manager.filter(pk__gte=ids[0], pk__lte=ids[-1])
    else:
        rows = rows_with_ids(model, ids)
    with transaction.atomic(savepoint=False):
        if connections[rows.db].vendor == "postgresql" and (digest := _sql_digest(model, rows.db)) is not None:
            return _seal_in_database(model, rows, digest, action=action, data=data or {})
        sealed = _digests(model, rows.order_by("pk"))
        _anchor(model, sealed, action=action, data=data or {})
    return len(sealed)


#: PostgreSQL: the digests of one sealing call, between the statement that computes them and the one that writes
#: their ledger rows (emptied by it). Temporary: each connection has its own.
_DIGESTS = "core_sealing_digests"


def _seal_in_database(model: type[models.Model], rows: models.QuerySet, digest: RawSQL, *, action: str, data: dict[str, Any]) -> int:
    """:func:`seal_rows` on PostgreSQL, where nothing of the rows comes to Python: the database computes each row's
    digest (``digest``, from :func:`_sql_digest`) into a temporary table, returns the ledger's summary as
    :class:`LedgerDigest` writes it (same text hashed), and after the chain entry is appended, writes the ledger
    rows in runs as :func:`_runs` cuts them (consecutive ids, at most :data:`RUN` each). Reading the digests and
    sending them back cost as much as computing them (measured on the purge's 30,000-row batches)."""
    table = model._meta.db_table
    select, params = rows.order_by().values_list("pk", digest).query.sql_with_params()
    with connections[rows.db].cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_DIGESTS} (row_id bigint NOT NULL, digest text NOT NULL)"
        )
        cursor.execute(
            f"WITH new AS (INSERT INTO {_DIGESTS} (row_id, digest) {select} RETURNING row_id, digest) "
            "SELECT count(*), min(row_id), max(row_id), encode(sha256(convert_to("
            "coalesce(string_agg(row_id::text || ':' || digest || chr(10), '' ORDER BY row_id), ''), 'UTF8')), 'hex') "
            "FROM new",
            params,
        )
        count, first, last, ledger = cursor.fetchone()
        entry = _anchor_entry(table, {"rows": count, "first": first, "last": last, "digest": ledger}, action=action, data=data)
        # Runs: an island of consecutive ids has the same id - row_number(); it is cut every RUN rows.
        cursor.execute(
            f"WITH done AS (DELETE FROM {_DIGESTS} RETURNING row_id, digest), "
            "islands AS (SELECT row_id, digest, row_id - row_number() OVER (ORDER BY row_id) AS island FROM done), "
            "runs AS (SELECT row_id, digest, island, (row_number() OVER (PARTITION BY island ORDER BY row_id) - 1) / %s AS run FROM islands) "
            f"INSERT INTO {SealedRow._meta.db_table} (entry_seq, table_name, row_id, digest, following) "
            "SELECT %s, %s, min(row_id), (array_agg(digest ORDER BY row_id))[1], "
            "nullif(substr(string_agg(digest, '' ORDER BY row_id), 65), '') FROM runs GROUP BY island, run",
            [RUN, entry.seq, table],
        )
    return count


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
    return reseal_added_columns(model, [column], reason=reason, batch_size=batch_size)


def reseal_added_columns(
    model: type[models.Model], added: Iterable[str], *, reason: str, batch_size: int = 2000
) -> int:
    """``reseal_added_column`` for a migration that added several columns at once: a row is sealed again when
    its newest seal matches it read without all of them."""
    if not is_sealed(model):
        return 0
    columns = _row_columns(model)
    added = [column for column in added if column in columns]
    if not added or not model._base_manager.exists():
        return 0
    kept = [at for at, column in enumerate(columns) if column not in added]
    now, before = row_digester(columns), row_digester([columns[at] for at in kept])
    changed = [
        row[0]
        for row, seal in _rows_and_seals(model, batch_size)
        if row is not None
        and seal is not None
        and now(row) != seal[1]
        and before(tuple(row[at] for at in kept)) == seal[1]
    ]
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


def _ledger(rows: models.QuerySet, keys: Sequence[str], batch_size: int) -> Iterator[tuple[Any, ...]]:
    """``(*keys, table, first id, digest, following)`` of the ledger rows ``rows`` in ``keys`` order, fewer per
    query than a table's rows (a run holds up to :data:`RUN` digests)."""
    return _stream(rows, keys, ["table_name", "row_id", "digest", "following"], max(1, min(batch_size, 2000 // 4)))


def seals(table: str, *, batch_size: int = 2000) -> Iterator[tuple[int, int, str]]:
    """``(row id, entry, digest)`` of every seal of ``table``'s rows, in that order, runs read out row by row.

    The ledger rows come in order of their first row; a run may hold rows after the start of later ledger rows
    (a row sealed again, alone or in another run), so the runs open at once are merged, lazily: a ledger row is
    opened only when nothing before its first row is left. What is held is those runs, whatever the table's size."""
    ledger = _ledger(SealedRow.objects.filter(table_name=table), ["row_id", "entry_seq"], batch_size)
    pending = next(ledger, None)
    open_runs: list[tuple[int, int, str, int, Iterator[tuple[int, str]]]] = []
    opened = 0
    while open_runs or pending is not None:
        while pending is not None and (not open_runs or (pending[0], pending[1]) <= open_runs[0][:2]):
            row_id, seq, _table, first, digest, following = pending
            run = _expand(first, digest, following)
            row_id, row_digest = next(run)
            opened += 1
            heapq.heappush(open_runs, (row_id, seq, row_digest, opened, run))
            pending = next(ledger, None)
        row_id, seq, row_digest, order, run = heapq.heappop(open_runs)
        yield row_id, seq, row_digest
        if (following := next(run, None)) is not None:
            heapq.heappush(open_runs, (following[0], seq, following[1], order, run))


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
    ledger = (
        (seq, row_id, table, row_digest)
        for seq, _first, table, first, digest, following in _ledger(SealedRow.objects.all(), ["entry_seq", "row_id"], batch_size)
        for row_id, row_digest in _expand(first, digest, following)
    )
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


def _row_columns(model: type[models.Model]) -> list[str]:
    """The sealed columns of ``model`` as :func:`_rows_and_seals` reads them: its key first."""
    pk = model._meta.pk
    return [pk.column] + [field.column for field in _sealed_fields(model) if field.attname != pk.attname]


def _rows_and_seals(
    model: type[models.Model], batch_size: int
) -> Iterator[tuple[tuple[Any, ...] | None, tuple[int, str, int] | None]]:
    """Each row of ``model`` (its :func:`_row_columns`) with its newest seal, merged in id order: ``(row, seal)``,
    ``(row, None)`` for a row with no seal, ``(None, seal)`` for a seal whose row is gone."""
    pk = model._meta.pk
    others = [field.attname for field in _sealed_fields(model) if field.attname != pk.attname]
    rows = _stream(model._base_manager.all(), [pk.attname], others, batch_size)
    newest = _newest(seals(model._meta.db_table, batch_size=batch_size))
    row, seal = next(rows, None), next(newest, None)
    while row is not None or seal is not None:
        if seal is None or (row is not None and row[0] < seal[0]):
            yield row, None
            row = next(rows, None)
        elif row is None or seal[0] < row[0]:
            yield None, seal
            seal = next(newest, None)
        else:
            yield row, seal
            row, seal = next(rows, None), next(newest, None)


def _verify_table(model: type[models.Model], check: SealCheck, batch_size: int, progress: Callable[[int], Any] | None) -> None:
    """Every row of ``model`` against its newest seal."""
    table = model._meta.db_table
    digest = row_digester(_row_columns(model))
    done = 0
    for row, seal in _rows_and_seals(model, batch_size):
        if seal is None:
            check.report(f"{table} row {row[0]} has no seal: it was inserted outside the product")
        elif row is None:
            check.report(f"{table} row {seal[0]} (sealed by entry {seal[2]}) is gone: it was deleted outside the product")
        else:
            if digest(row) != seal[1]:
                check.report(
                    f"{table} row {row[0]} no longer matches its seal (entry {seal[2]}): it was changed outside the product"
                )
            check.rows += 1
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
