"""The one function every CSV the product writes passes its cells through (history exports, portability
archives, the audit log).

A spreadsheet runs a cell as a formula when its text starts with ``=``, ``+``, ``-`` or ``@`` (also after
leading spaces, and tab or carriage return can smuggle one in): such text gets a leading apostrophe, which
spreadsheets show as text. A phone number in E.164 (``+46701234567``) is data, not a formula, and stays
readable as it is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r", "\n")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


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
