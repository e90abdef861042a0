"""Cursor pagination for lists that grow without bound: a page deep in a million rows costs what the first
does (no COUNT, no OFFSET), and a row added meanwhile never shifts a page."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


def cursor_pagination(*ordering: str) -> type[CursorPagination]:
    """Cursor pagination in ``ordering`` (ending with the id, so that it is unique; an index serves it).

    ``page_size`` (default 100, at most 1000) sets a page's length; ``next`` and ``previous`` carry the cursor.
    """
    name = "".join(field.strip("-").title().replace("_", "") for field in ordering)
    return type(
        f"CursorBy{name}",
        (CursorPagination,),
        {"ordering": ordering, "page_size": 100, "page_size_query_param": "page_size", "max_page_size": 1000},
    )
