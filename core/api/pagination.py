"""Cursor pagination for lists that grow without bound: a page deep in a million rows costs what the first
does (no COUNT, no OFFSET), and a row added meanwhile never shifts a page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field, QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from core.bounds import MAX_ID, in_current_time_zone, moment_in_range

INVALID_CURSOR = "This is not a cursor of this list: follow the next and previous links as given."


class CheckedCursorPagination(CursorPagination):
    """A cursor is the list's own ``next`` or ``previous`` link, but it is also a query parameter anyone can
    write: one that does not decode, or whose position is no value of the ordering's first field (a date past
    the calendar, an id beyond any integer), answers 400 naming ``cursor`` instead of failing in the query."""

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list | None:
        self._position_field = queryset.model._meta.get_field(self.ordering[0].lstrip("-"))
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: INVALID_CURSOR}, code="invalid") from None
        if cursor is None or cursor.position is None:
            return cursor
        position = _value_of(self._position_field, cursor.position)
        if position is None:
            raise ValidationError({self.cursor_query_param: INVALID_CURSOR}, code="invalid")
        return cursor._replace(position=position)


def _value_of(field: Field, text: str) -> Any:
    """``text`` read as a value of ``field`` that a query can compare with (a moment in the current time zone),
    or None."""
    if "\x00" in text:
        return None
    try:
        value = field.to_python(text)
    except DjangoValidationError:
        return None
    if isinstance(value, datetime):
        return in_current_time_zone(value) if moment_in_range(value) else None
    if isinstance(value, int):
        return value if -MAX_ID - 1 <= value <= MAX_ID else None
    return value


def cursor_pagination(*ordering: str) -> type[CursorPagination]:
    """Cursor pagination in ``ordering`` (ending with the id, so that it is unique; an index serves it).

    ``page_size`` (default 100, at most 1000) sets a page's length; ``next`` and ``previous`` carry the cursor.
    """
    name = "".join(field.strip("-").title().replace("_", "") for field in ordering)
    return type(
        f"CursorBy{name}",
        (CheckedCursorPagination,),
        {"ordering": ordering, "page_size": 100, "page_size_query_param": "page_size", "max_page_size": 1000},
    )
