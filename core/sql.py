"""Set-based statements whose parameters do not grow with the rows they name.

A list of ids written as ``IN (%s, %s, …)`` takes one parameter per id: a statement per 500 ids to stay under
the databases' limits, so work on 20,000 rows would cost forty times the queries of work on 500. Passed as one
array (PostgreSQL) or one JSON text (SQLite), any number of ids is one parameter of one statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.expressions import RawSQL


def id_array(ids: Iterable[int], *, using: str = DEFAULT_DB_ALIAS) -> RawSQL:
    """A subquery yielding ``ids``, for ``filter(pk__in=id_array(ids))``: one parameter whatever their number."""
    ids = [int(pk) for pk in ids]
    if connections[using].vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


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
