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
