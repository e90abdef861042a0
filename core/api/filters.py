"""The query parameters every API list shares: moments (``since``, ``until``) and ids (``line``, ``person``,
``account``). Each refuses what the database cannot be asked (a moment past the calendar's end once in UTC,
an id beyond a 64-bit integer, a fraction) with a 400 naming the parameter, instead of a server error when
the query runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from core.bounds import MAX_ID, MOMENT_OUT_OF_RANGE, in_current_time_zone, moment_in_range


class MomentField(IsoDateTimeField):
    """An ISO 8601 date and time, within the calendar the database keeps, in the current time zone
    (core/bounds.py)."""

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        if not moment_in_range(moment):
            raise ValidationError(f"{value} {MOMENT_OUT_OF_RANGE}", code="invalid")
        return in_current_time_zone(moment)


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = MomentField


class IdField(forms.IntegerField):
    """A row's id: a whole number from 1 to the largest the database holds (``1.5`` and ``1e3`` are not ids)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class IdFilter(django_filters.NumberFilter):
    field_class = IdField
