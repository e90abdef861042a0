"""Filters of the requests list that the home page's figures link to (see dsar/dashboard.py): each filters by
the same queryset method the figure counts."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest


class AttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("scan-hits", "Erasures with undeclared scan hits"),
            ("archive", "Portability archive being built or failed"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "scan-hits":
            return queryset.with_undeclared_hits()
        if self.value() == "archive":
            return queryset.with_archive_unfinished()
        return queryset
