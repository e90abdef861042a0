"""The one function every CSV the product writes passes its cells through (history exports, portability
archives, the audit log).

A spreadsheet runs a cell as a formula when its text starts with ``=``, ``+``, ``-`` or ``@`` (also after
leading spaces, and tab or carriage return can smuggle one in): such text gets a leading apostrophe, which
spreadsheets show as text. A phone number in E.164 (``+46701234567``) is data, not a formula, and stays
readable as it is.

For exports of millions of rows the same cells are written without a Python call per cell: the query writes
times and booleans as their cell text (:class:`IsoDateTime`, :func:`yes_no`) and the free text is made safe
column by column (:func:`chunk_converter`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db.models import Case, CharField, Value, When

from core.sql import UtcDateTimeText

FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r", "\n")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
#: Text :func:`safe_cell` may rewrite: it starts with a formula character or any whitespace (``\s`` is
#: ``str.isspace``, what ``lstrip`` strips) and is not an E.164 number (:func:`is_e164`, spelt as a pattern).
#: Asked with ``match`` from C (``filter``), it spares a Python test of every cell of a column.
MAY_RUN = re.compile(r"(?!\+[1-9][0-9]{6,14}\Z)[=+\-@\s]")


def is_e164(text: str) -> bool:
    """Whether ``text`` is a phone number in E.164 (``+`` and 7 to 15 digits, the first not 0): the same
    answer as ``E164.fullmatch``, without the regular expression (it is asked of most phone cells)."""
    rest = text[1:]
    return text[:1] == "+" and 8 <= len(text) <= 16 and rest[:1] != "0" and rest.isascii() and rest.isdigit()


def safe_cell(value: Any) -> str:
    """``value`` as CSV cell text a spreadsheet will not evaluate.

    ``None`` is empty, booleans are ``yes``/``no``, dates and times ISO 8601; a number keeps its sign
    (``-5`` is a value, not a formula); text starting, after any spaces, with a formula character gets a
    leading apostrophe, except an E.164 phone number.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if is_e164(text):
        return text
    if text.startswith(CONTROL_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return f"'{text}"
    return text


def row_converter(kinds: Iterable[str]) -> Callable[[Sequence[Any]], list[Any]]:
    """A function turning a row of plain values (read by ``values_list`` or straight from the database
    driver: no model instances) into the cells :func:`safe_cell` would give, for ``csv.writer``; ``kinds``
    name each column's kind (``int``, ``text``, ``bool`` or ``datetime``). A naive datetime is taken as UTC,
    as Django's SQLite driver hands them back (``USE_TZ``), and says so.

    Built for millions of rows: numbers and ``None`` pass through (``csv.writer`` writes them as ``safe_cell``
    would), and a text cell is looked at once, rewritten only when its first character is risky.
    """
    kinds = list(kinds)
    unknown = set(kinds) - {"int", "text", "bool", "datetime"}
    if unknown:
        raise ValueError(f"Unknown column kinds: {sorted(unknown)}")
    texts = [index for index, kind in enumerate(kinds) if kind == "text"]
    bools = [index for index, kind in enumerate(kinds) if kind == "bool"]
    datetimes = [index for index, kind in enumerate(kinds) if kind == "datetime"]
    risky = "=+-@"

    def convert(row: Sequence[Any]) -> list[Any]:
        cells = list(row)
        for index in texts:
            value = cells[index]
            if value and (value[0] in risky or value[0].isspace()):
                if not is_e164(value):  # an E.164 number (most phone cells) is data
                    cells[index] = safe_cell(value)
        for index in bools:
            cells[index] = "yes" if cells[index] else "no"
        for index in datetimes:
            value = cells[index]
            if value is not None:
                cells[index] = value.isoformat() if value.tzinfo else value.isoformat() + "+00:00"
        return cells

    return convert


def safe_text_column(values: Sequence[str | None]) -> Sequence[str | None]:
    """One column of text cells (``None`` for NULL, which ``csv.writer`` writes empty) as :func:`safe_cell`
    would write them: ``values`` itself when no cell needs rewriting, the usual case.

    Each distinct value is looked at once, by :data:`MAY_RUN` from C: a chunk of a history repeats its lines'
    and people's names, and its numbers are E.164, so no Python code runs per cell unless one may run.
    """
    distinct = set(values)
    distinct.discard(None)
    rewritten = {value: safe_cell(value) for value in filter(MAY_RUN.match, distinct)}
    if all(cell == value for value, cell in rewritten.items()):
        return values
    return list(map(rewritten.get, values, values))


def chunk_converter(kinds: Iterable[str]) -> Callable[[list[Sequence[Any]]], list[Sequence[Any]]]:
    """A function turning a chunk of rows read straight from the database driver into rows of cells for
    ``csv.writer``, converting column by column; ``kinds`` says once per column what it needs: ``text`` (free
    text, numbers typed by people: :func:`safe_text_column`) or ``as_is`` (numbers and NULL, which
    ``csv.writer`` writes as :func:`safe_cell` would, or text the query wrote already, such as
    :class:`IsoDateTime` and :func:`yes_no`).

    A chunk with nothing to rewrite comes back as it is: the cost per row is a transposition done in C.
    """
    kinds = list(kinds)
    unknown = set(kinds) - {"text", "as_is"}
    if unknown:
        raise ValueError(f"Unknown column kinds: {sorted(unknown)}")
    texts = [index for index, kind in enumerate(kinds) if kind == "text"]

    def convert(rows: list[Sequence[Any]]) -> list[Sequence[Any]]:
        if not rows or not texts:
            return rows
        columns: list[Sequence[Any]] = list(zip(*rows))
        changed = False
        for index in texts:
            safe = safe_text_column(columns[index])
            if safe is not columns[index]:
                columns[index], changed = safe, True
        return list(zip(*columns)) if changed else rows

    return convert


class IsoDateTime(UtcDateTimeText):
    """A datetime column as the cell text :func:`safe_cell` gives its value, written by the database: ISO 8601
    in UTC with microseconds only when there are some (``2026-03-29T00:59:59.999999+00:00``,
    ``2026-03-29T01:00:00+00:00``); NULL stays NULL. No row's time is parsed into a Python datetime only to be
    formatted again, which was most of the time a large export took.

    UTC, not the site's time zone: that is what exports have always shown (the database connection's zone).
    """

    separator = "T"


def yes_no(lookup: str) -> Case:
    """A boolean column as ``yes`` or ``no`` (NULL too is ``no``), written by the database, for a CSV cell."""
    return Case(When(**{lookup: True}, then=Value("yes")), default=Value("no"), output_field=CharField())
