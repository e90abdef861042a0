"""Keep signed download links out of the logs.

A download link's token is its only credential. Django logs the path of every answer of 400 or more
("Gone: /api/v1/dsar/exports/<token>/" for a link whose archive was deleted, while the token itself
is still valid), the development server logs every request line, and so would anything else that
names a path. The configured handlers redact such tokens, whoever logged them.
"""

from __future__ import annotations

import logging
import re

# What django.core.signing produces (both link kinds use it): a value, a base62 timestamp and a 43-character
# URL-safe base64 HMAC-SHA256, joined by colons (percent-encoded in a raw request line, perhaps).
_COLON = r"(?::|%3[Aa])"
SIGNED_VALUE = re.compile(rf"[\w.\-]*{_COLON}[0-9A-Za-z]+{_COLON}[\w\-]{{43}}(?![\w\-])")
REDACTED = "[signed token]"


def redact(text: str) -> str:
    """``text`` with every signed value replaced by a placeholder."""
    return SIGNED_VALUE.sub(REDACTED, text)


class RedactSignedValues(logging.Filter):
    """Rewrites a record whose message holds a signed value; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
