"""The bounds of the moments and ids the product accepts from outside: past them, a 400 naming the field.

Python's calendar runs from year 1 to year 9999, and SQLite keeps every moment in UTC: a moment at either end
of the calendar given with a time zone (``0001-01-01T00:00:00+14:00``, ``9999-12-31T23:59:59-12:00``) is
still a valid datetime, but one that overflows when it is turned into UTC for a query, or into a reader's
time zone to be shown. A day's margin at each end keeps every conversion inside the calendar. The offset it
was written with goes too: Python takes up to ±23:59, PostgreSQL at most ±15:59, so an accepted moment
reaches the database in the current time zone. Ids are the database's 64-bit integers; a larger number cannot
be sent as a query parameter at all.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

#: The first and last moments accepted (UTC): any time zone can show them, and the database can keep them.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
#: The largest id a database row can have (a signed 64-bit integer: BigAutoField on SQLite and PostgreSQL).
MAX_ID = 2**63 - 1

#: Said after the value; an out-of-range value is "invalid", as a malformed one is.
MOMENT_OUT_OF_RANGE = "is outside the dates this service keeps (0001-01-02 to 9999-12-30, UTC)."


def moment_in_range(value: datetime) -> bool:
    """Whether ``value`` lies between :data:`EARLIEST` and :data:`LATEST` (a naive value is read in the
    current time zone). Never raises: a value whose conversion to UTC overflows is simply out of range."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        return EARLIEST <= value.astimezone(UTC) <= LATEST
    except OverflowError:
        return False


def check_moment(value: datetime, *, field_name: str, shown: str | None = None) -> datetime:
    """``value`` in the current time zone, or a ValidationError naming ``field_name`` when it is out of range
    (``shown``: the value as the caller wrote it, for the message)."""
    if not moment_in_range(value):
        message = f"{shown or value.isoformat()} {MOMENT_OUT_OF_RANGE}"
        raise ValidationError({field_name: message})
    return in_current_time_zone(value)


def in_current_time_zone(value: datetime) -> datetime:
    """An in-range ``value`` (see :func:`moment_in_range`) as the same moment in the current time zone."""
    return timezone.localtime(timezone.make_aware(value) if timezone.is_naive(value) else value)
