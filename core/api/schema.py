"""The OpenAPI schema's operations, with every error body each can answer.

drf-standardized-errors documents the 400 of a request body's fields and of a list's filters; what the API's
own shared parts refuse is added here, once for every view that uses them: a cursor-paginated list answers
400 naming ``cursor`` when the cursor is not one of its own (core/api/pagination.py).
"""

from __future__ import annotations

from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema

from core.api.pagination import CheckedCursorPagination


class AutoSchema(StandardizedErrorsAutoSchema):
    def _get_extra_validation_errors(self) -> dict[str, set[str]]:
        errors = super()._get_extra_validation_errors()
        paginator = self._get_paginator() if self.method == "GET" and self._is_list_view() else None
        if isinstance(paginator, CheckedCursorPagination):
            errors[paginator.cursor_query_param] = {*errors.get(paginator.cursor_query_param, ()), "invalid"}
        return errors
