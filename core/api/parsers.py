"""The API's JSON parser, refusing bodies nested deeper than any of its operations reads.

Python's JSON decoder recurses once per level of nesting: a body of a thousand ``[`` (a few kilobytes, far
under the size limit) exhausts the stack and would answer a server error. No operation reads more than a few
levels, so a body deeper than :data:`MAX_DEPTH` answers 400 before it is decoded.
"""

from __future__ import annotations

import io
import re
from itertools import accumulate
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

#: The deepest nesting of arrays and objects accepted in a request body.
MAX_DEPTH = 64

# A JSON string, escapes included: brackets inside one are text, not nesting.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest in the JSON text ``body`` (0 for a scalar). Linear in its length,
    with no recursion; brackets inside strings do not count."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[byte] for byte in brackets), default=0)


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        body = stream.read() if stream is not None else b""
        if nesting_depth(body) > MAX_DEPTH:
            raise ParseError(f"The request body nests arrays and objects deeper than {MAX_DEPTH} levels.")
        return super().parse(io.BytesIO(body), media_type, parser_context)
