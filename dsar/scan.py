"""The verification scan: after an erasure, look for the person's identifiers in every text column of every
table, history tables included."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Count, Q
from django.db.models.functions import Cast

from dsar.sources import Subject
from residency.models import Account

TEXT_FIELDS = (models.CharField, models.TextField)  # EmailField, SlugField, URLField… are CharFields
#: Shorter names match inside ordinary words ("Al" in "Call"), so they are not searched for.
MIN_NAME_LENGTH = 3
#: dsar's own copy of the identifiers the erasure needs, cleared when the request is completed.
INTERNAL_COLUMNS = {"dsar_request.subject"}


@dataclass
class Hit:
    table: str
    column: str
    identifier: str  # "email", "phone" or "name": which identifier matched, never its value
    count: int
    declared: bool
    reason: str = ""


@dataclass
class ScanResult:
    tables: int = 0
    columns: int = 0
    hits: list[Hit] = field(default_factory=list)

    @property
    def undeclared(self) -> int:
        """Rows still holding an identifier where no source declared a retention: should be zero."""
        return sum(hit.count for hit in self.hits if not hit.declared)

    @property
    def declared(self) -> int:
        return sum(hit.count for hit in self.hits if hit.declared)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tables": self.tables,
            "columns": self.columns,
            "undeclared": self.undeclared,
            "declared": self.declared,
            "hits": [asdict(hit) for hit in self.hits],
        }


def _needles(subject: Subject) -> dict[str, list[str]]:
    """What to search for, by identifier; JSON columns hold non-ASCII text escaped, so that form is searched too."""
    needles: dict[str, list[str]] = {}
    for identifier in ("email", "phone", "name"):
        for value in subject.identifiers(identifier):
            if identifier == "name" and len(value) < MIN_NAME_LENGTH:
                continue
            escaped = json.dumps(value)[1:-1]
            needles.setdefault(identifier, []).extend([value] if escaped == value else [value, escaped])
    return needles


def _text_columns(model: type[models.Model]) -> list[tuple[str, str, bool]]:
    """(field name, column, is JSON) of every concrete text or JSON column of a model."""
    columns = []
    for model_field in model._meta.concrete_fields:
        if isinstance(model_field, TEXT_FIELDS) and not model_field.choices:
            columns.append((model_field.name, model_field.column, False))
        elif isinstance(model_field, models.JSONField):
            columns.append((model_field.name, model_field.column, True))
    return columns


def has_account_column(model: type[models.Model]) -> bool:
    try:
        field = model._meta.get_field("account")
    except FieldDoesNotExist:
        return False
    return field.concrete and field.is_relation and field.related_model is Account


def scan_for_subject(subject: Subject, *, declared: dict[str, str] | None = None) -> ScanResult:
    """Rows per table, column and identifier that still contain the subject's email, phone or name.

    ``declared`` maps ``"table"`` or ``"table.column"`` to the reason data is kept there on purpose.
    Tables with an ``account`` column are searched within the subject's account only. One query per table,
    whatever the number of rows.
    """
    declared = declared or {}
    needles = _needles(subject)
    result = ScanResult()
    if not needles:
        return result
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        table = model._meta.db_table
        columns = _text_columns(model)
        if not columns:
            continue
        result.tables += 1
        result.columns += len(columns)
        annotations: dict[str, Any] = {}
        aggregates: dict[str, Any] = {}
        for name, column, is_json in columns:
            if f"{table}.{column}" in INTERNAL_COLUMNS:
                continue
            lookup_field = name
            if is_json:
                lookup_field = f"_scan_text_{name}"
                annotations[lookup_field] = Cast(name, models.TextField())
            for identifier, values in needles.items():
                condition = Q()
                for value in values:
                    condition |= Q(**{f"{lookup_field}__icontains": value})
                aggregates[f"{column}|{identifier}"] = Count("pk", filter=condition)
        if not aggregates:
            continue
        rows = model._base_manager.all()
        if has_account_column(model):
            # Another account's records are another controller's: the same address there is not a leftover.
            rows = rows.filter(account_id=subject.account_id)
        counts = rows.annotate(**annotations).aggregate(**aggregates)
        for key, count in counts.items():
            if not count:
                continue
            column, identifier = key.split("|")
            reason = declared.get(f"{table}.{column}") or declared.get(table) or ""
            result.hits.append(
                Hit(
                    table=table, column=column, identifier=identifier, count=count, declared=bool(reason), reason=reason
                )
            )
    return result
