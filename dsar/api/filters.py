from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from dsar.models import MAX_DUE_WITHIN_DAYS, Jurisdiction, Request


class RequestFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=Request.Type.choices)
    status = django_filters.ChoiceFilter(choices=Request.Status.choices)
    jurisdiction = django_filters.ModelChoiceFilter(
        field_name="jurisdiction", to_field_name="code", queryset=Jurisdiction.objects.all()
    )
    assignee = django_filters.CharFilter(field_name="assignee__username")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Open and past the deadline.")
    due_within = django_filters.NumberFilter(
        method="filter_due_within",
        min_value=0,
        max_value=MAX_DUE_WITHIN_DAYS,
        label=f"Open and due within this many days (0 to {MAX_DUE_WITHIN_DAYS}).",
    )

    class Meta:
        model = Request
        fields = ["type", "status", "jurisdiction", "assignee"]

    def filter_overdue(self, queryset: QuerySet[Request], name: str, value: bool | None) -> QuerySet[Request]:
        if value is None:
            return queryset
        overdue = queryset.overdue(timezone.localdate())
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

    def filter_due_within(self, queryset: QuerySet[Request], name: str, value: object) -> QuerySet[Request]:
        if value is None:
            return queryset
        return queryset.due_within(timezone.localdate(), int(value))  # type: ignore[call-overload]
