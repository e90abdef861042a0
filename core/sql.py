"""Set-based statements whose parameters do not grow with the rows they name.

A list of ids written as ``IN (%s, %s, …)`` takes one parameter per id: a statement per 500 ids to stay under
the databases' limits, so work on 20,000 rows would cost forty times the queries of work on 500. Passed as one
array (PostgreSQL) or one JSON text (SQLite), any number of ids is one parameter of one statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections, models
from django.db.models import Func
from django.db.models.expressions import RawSQL


def rows_with_ids(model: type[models.Model], ids: Sequence[int], *, using: str = DEFAULT_DB_ALIAS) -> models.QuerySet:
    """The rows of ``model`` whose keys are ``ids`` (sorted, none repeated), as a queryset that reads them in key
    order with one parameter, whatever their number: for statements that write each of them (``INSERT … SELECT``,
    ``DELETE``), on tables that may be large.

    On PostgreSQL ``key = ANY(array)`` within the ids' range: the planner scans the range in key order and tests
    each row against the array, hashed. Joined against ``unnest(array)`` instead, it would probe the key's index
    once per id, in hash order, and each row the statement writes would then land at a random place in the
    indexes of the table written (half the speed, measured on 10,000-row batches). SQLite already walks an
    ``IN`` list in order."""
    rows = model._base_manager.using(using).filter(pk__gte=ids[0], pk__lte=ids[-1])
    if connections[using].vendor != "postgresql":
        return rows.filter(pk__in=id_array(ids, using=using))
    quote = connections[using].ops.quote_name
    column = f"{quote(model._meta.db_table)}.{quote(model._meta.pk.column)}"
    return rows.filter(RawSQL(f"{column} = ANY(%s::bigint[])", [_array_text(ids)], output_field=models.BooleanField()))


def keys_kept(rows: models.QuerySet, *, name: str) -> models.QuerySet:
    """``rows`` as they are now, their keys written once into the connection's temporary table ``name``: the
    statements that then name them (``INSERT … SELECT``, ``DELETE``) look each up by key, with no filter evaluated
    again and no list of ids sent back and forth. SQLite only, inside the transaction that holds the write lock
    (the rows cannot change under it); the table is emptied at each use and gone with the connection."""
    connection = connections[rows.db]
    assert connection.vendor == "sqlite", "keys_kept is for SQLite, whose transactions hold the write lock"
    quote = connection.ops.quote_name
    sql, params = rows.order_by().values_list("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {quote(name)} (id INTEGER PRIMARY KEY)")
        cursor.execute(f"DELETE FROM {quote(name)}")
        cursor.execute(f"INSERT INTO {quote(name)} (id) {sql}", params)
    return rows.model._base_manager.using(rows.db).filter(pk__in=RawSQL(f"SELECT id FROM {quote(name)}", []))


def id_array(ids: Iterable[int], *, using: str = DEFAULT_DB_ALIAS) -> RawSQL:
    """A subquery yielding ``ids``, for ``filter(pk__in=id_array(ids))``: one parameter whatever their number."""
    ids = [int(pk) for pk in ids]
    if connections[using].vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [_array_text(ids)])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


def _array_text(ids: Iterable[int]) -> str:
    """``ids`` as PostgreSQL writes an array of integers (``{1,2,3}``), for a ``%s::bigint[]`` parameter: the driver
    sends one string, where it would dump a list element by element in Python (a quarter of a second for the
    purge's arrays of 100,000 rows)."""
    return "{" + ",".join(str(int(pk)) for pk in ids) + "}"


def insert_json_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """``INSERT INTO table (columns)`` the ``rows`` (of integers and texts, in ``columns`` order) in one statement
    with one parameter, read back from JSON by the database."""
    if not rows:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        types = ["bigint" if isinstance(value, int) else "text" for value in rows[0]]
        picks = ", ".join(f"(item->>{index})::{kind}" for index, kind in enumerate(types))
        select = f"SELECT {picks} FROM json_array_elements(%s::json) AS item"
    else:
        picks = ", ".join(f"json_extract(value, '$[{index}]')" for index in range(len(columns)))
        select = f"SELECT {picks} FROM json_each(%s)"
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(table)} ({names}) {select}", [json.dumps([list(row) for row in rows])])


class UtcDateTimeText(Func):
    """A datetime column as the text Python writes for its value read as an aware UTC datetime, written by the
    database: ``str()`` (``2026-03-29 00:59:59.999999+00:00``, ``2026-03-29 01:00:00+00:00``: microseconds only
    when there are some), or ``isoformat()`` for a ``separator`` of ``T``. NULL stays NULL. Reading a large table's
    times this way spares parsing each into a datetime only to write it out again (the driver's parser for
    Django's time zones is pure Python: most of the time a large read took on PostgreSQL)."""

    arity = 1
    output_field = models.CharField()
    separator = " "

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError(f"{type(self).__name__} is written for PostgreSQL and SQLite, not {connection.vendor}.")

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return utc_datetime_text(f"({sql})", separator=self.separator), list(params)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        # Django stores a datetime on SQLite as str() of its naive UTC value: "2026-03-29 00:59:59.999999",
        # microseconds only when there are some.
        return f"(replace({sql}, ' ', '{self.separator}') || '+00:00')", list(params)


def utc_datetime_text(column: str, *, separator: str = " ") -> str:
    """PostgreSQL SQL writing the timestamp ``column`` (SQL) as :class:`UtcDateTimeText` does."""
    # Six digits of microseconds always, then the ".000000" of a whole second dropped, as Python does.
    between = '"T"' if separator == "T" else " "
    return f"replace(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD{between}HH24:MI:SS.US\"+00:00\"'), '.000000+', '+')"
