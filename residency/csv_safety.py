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
from collections.abc import Callable, Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r", "\n")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


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
    if E164.fullmatch(text):
        return text
    if text.startswith(CONTROL_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return f"'{text}"
    return text


def _datetime_cell(vendor: str) -> Callable[[Any], str]:
    if vendor == "sqlite":
        # Django's SQLite driver hands back naive datetimes holding UTC (USE_TZ): say so, as an aware one would.
        return lambda value: "" if value is None else f"{value.isoformat()}+00:00"
    return lambda value: "" if value is None else value.isoformat()


def _text_cell(value: Any) -> str:
    """:func:`safe_cell` for text read from the database, quick for the usual cell (no risky first character)."""
    if value is None:
        return ""
    if value and (value[0] in "=+-@" or value[0].isspace()):
        return safe_cell(value)
    return value


def cell_converters(kinds: Iterable[str], vendor: str) -> list[Callable[[Any], str]]:
    """One converter per column, for rows read straight from the database driver (no model instances), giving
    the cell :func:`safe_cell` would: ``kinds`` are ``int``, ``text``, ``bool`` or ``datetime``; ``vendor``
    is the connection's (``sqlite``, ``postgresql``)."""
    by_kind: dict[str, Callable[[Any], str]] = {
        "int": lambda value: "" if value is None else str(value),
        "bool": lambda value: "yes" if value else "no",
        "text": _text_cell,
        "datetime": _datetime_cell(vendor),
    }
    return [by_kind[kind] for kind in kinds]
