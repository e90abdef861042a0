"""Filters of the telephony lists that the home page's figures link to (see recordings/dashboard.py): each
filters by the same query the figure counts."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from recordings.models import HistoryExport

#: How far ahead the home page looks at the purge, in days.
PURGE_AHEAD_DAYS = 7


class PurgeFilter(admin.SimpleListFilter):
    title = "purge"
    parameter_name = "purge"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("now", "Due for the purge now"), ("week", f"Purged within {PURGE_AHEAD_DAYS} days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "now":
            return queryset.purged_within(timezone.now(), 0)
        if self.value() == "week":
            return queryset.purged_within(timezone.now(), PURGE_AHEAD_DAYS)
        return queryset


#: Exports someone is waiting for, or that need someone to look at them.
UNFINISHED_EXPORTS = [HistoryExport.Status.QUEUED, HistoryExport.Status.RUNNING, HistoryExport.Status.FAILED]


def unfinished_exports(queryset: QuerySet[HistoryExport]) -> QuerySet[HistoryExport]:
    return queryset.filter(status__in=UNFINISHED_EXPORTS)


class UnfinishedExportFilter(admin.SimpleListFilter):
    title = "progress"
    parameter_name = "progress"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("unfinished", "Queued, running or failed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "unfinished":
            return unfinished_exports(queryset)
        return queryset
