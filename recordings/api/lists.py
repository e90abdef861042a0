"""Lists an integration can page through, however large: calls, recordings, tickets, monitoring and texts of
the caller's account, newest first, filtered by time (``since``, ``until``), line and person, with cursor
pagination (a page deep in a million rows costs what the first does: no COUNT, no OFFSET)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination

from core.api.filters import IdFilter, MomentFilter
from core.api.pagination import cursor_pagination
from core.api.permissions import Access, account_scope
from recordings.models import Call, MonitoringEntry, Recording, TextMessage, Ticket


def newest_first(field: str) -> type[CursorPagination]:
    """Cursor pagination over ``field`` then id, newest first (served by the (field, id) indexes)."""
    return cursor_pagination(f"-{field}", "-id")


class TimeLinePersonFilter(django_filters.FilterSet):
    """``since`` and ``until`` (ISO 8601, inclusive, exclusive) on the list's time, ``line``, ``person`` and
    ``account`` ids."""

    time_field = ""
    person_lookups: tuple[str, ...] = ()
    line_lookup = "line_id"

    since = MomentFilter(method="filter_since", help_text="From this time (ISO 8601), inclusive.")
    until = MomentFilter(method="filter_until", help_text="Before this time (ISO 8601).")
    line = IdFilter(method="filter_line", help_text="A phone line's id.")
    person = IdFilter(method="filter_person", help_text="A person's id (end user, agent…).")
    # An API key's lists hold its own account only, whatever this says.
    account = IdFilter(field_name="account_id", help_text="Staff: an account's id (default: every account).")

    def filter_since(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(**{f"{self.time_field}__gte": value})

    def filter_until(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(**{f"{self.time_field}__lt": value})

    def filter_line(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(**{self.line_lookup: value})

    def filter_person(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        match = Q()
        for lookup in self.person_lookups:
            match |= Q(**{lookup: value})
        return queryset.filter(match)


def _filter(model: type, time_field: str, person_lookups: tuple[str, ...], line_lookup: str = "line_id") -> type:
    meta = type("Meta", (), {"model": model, "fields": []})
    return type(
        f"{model.__name__}ListFilter",
        (TimeLinePersonFilter,),
        {"Meta": meta, "time_field": time_field, "person_lookups": person_lookups, "line_lookup": line_lookup},
    )


class ListRowSerializer(serializers.ModelSerializer):
    """A list row read as plain values (ids for relations, ISO 8601 times as DRF writes them): the same JSON as
    the declared fields give, without a model instance or DRF's per-field work on every row of every page.
    The declared fields still describe the schema."""

    @classmethod
    def columns(cls) -> list[str]:
        """The columns a row is read from (``line_id`` for ``line``), for ``QuerySet.values``."""
        return [cls.Meta.model._meta.get_field(name).attname for name in cls.Meta.fields]

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        if not hasattr(self, "_columns"):
            self._columns = list(zip(self.Meta.fields, self.columns()))
            self._zone = timezone.get_current_timezone()  # once per page, not per cell
        row = {}
        for name, column in self._columns:
            value = instance[column]
            if isinstance(value, datetime):
                value = value.astimezone(self._zone).isoformat()  # as DRF: in the current time zone, UTC as Z
                if value.endswith("+00:00"):
                    value = value[:-6] + "Z"
            row[name] = value
        return row


class CallListOutput(ListRowSerializer):
    class Meta:
        model = Call
        fields = [
            "id", "account", "line", "ticket", "end_user", "agent", "direction", "from_number", "to_number",
            "started", "ended", "duration_seconds", "ivr_external", "transferred_external",
        ]


class RecordingListOutput(ListRowSerializer):
    class Meta:
        model = Recording
        fields = ["id", "account", "line", "call", "ticket", "kind", "provider_sid", "duration_seconds", "created_at"]


class TicketListOutput(ListRowSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "account", "requester", "subject", "status", "created_at", "deleted_at", "deleted_by_name"]


class MonitoringListOutput(ListRowSerializer):
    class Meta:
        model = MonitoringEntry
        fields = ["id", "account", "call", "supervisor", "caller_number", "mode", "started", "ended"]


class TextListOutput(ListRowSerializer):
    class Meta:
        model = TextMessage
        fields = ["id", "account", "line", "person", "direction", "from_number", "to_number", "body", "sent_at"]


class AccountListApi(generics.ListAPIView):
    """A list of the caller's account (staff: every account, or ``?account=ID``)."""

    model: type = Call
    serializer_class: type[ListRowSerializer]

    def get_queryset(self) -> QuerySet:
        rows = self.model.objects.values(*self.serializer_class.columns())
        account = account_scope(self.request)
        return rows if account is None else rows.filter(account=account)


class CallListApi(AccountListApi):
    """Calls, newest first; ``person`` matches the end user or the agent."""

    model = Call
    access = {"GET": Access("recordings.view_call", "history:read")}
    serializer_class = CallListOutput
    pagination_class = newest_first("started")
    filterset_class = _filter(Call, "started", ("end_user_id", "agent_id"))


class RecordingListApi(AccountListApi):
    """Recordings and voicemails, newest first; ``person`` matches the call's end user or agent, or the ticket's
    requester."""

    model = Recording
    access = {"GET": Access("recordings.view_recording", "recordings:read")}
    serializer_class = RecordingListOutput
    pagination_class = newest_first("created_at")
    filterset_class = _filter(Recording, "created_at", ("call__end_user_id", "call__agent_id", "ticket__requester_id"))


class TicketListApi(AccountListApi):
    """Telephony tickets, newest first, soft-deleted ones included (``deleted_at`` says so); ``line`` matches
    tickets with a call on that line."""

    model = Ticket
    access = {"GET": Access("recordings.view_ticket", "tickets:read")}
    serializer_class = TicketListOutput
    pagination_class = newest_first("created_at")
    filterset_class = _filter(Ticket, "created_at", ("requester_id",), line_lookup="calls__line_id")

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().distinct() if "line" in self.request.query_params else super().get_queryset()


class MonitoringListApi(AccountListApi):
    """Monitoring history, newest first; ``person`` is the supervisor, ``line`` the monitored call's line."""

    model = MonitoringEntry
    access = {"GET": Access("recordings.view_monitoringentry", "history:read")}
    serializer_class = MonitoringListOutput
    pagination_class = newest_first("started")
    filterset_class = _filter(MonitoringEntry, "started", ("supervisor_id",), line_lookup="call__line_id")


class TextListApi(AccountListApi):
    """Text history, newest first; ``person`` is the texting person."""

    model = TextMessage
    access = {"GET": Access("recordings.view_textmessage", "history:read")}
    serializer_class = TextListOutput
    pagination_class = newest_first("sent_at")
    filterset_class = _filter(TextMessage, "sent_at", ("person_id",))
