"""The verification scan: after an erasure, look for the person's identifiers, as people write them, in every
text and JSON column of every table of their account, history tables included."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast

from dsar.matching import Matcher, json_value
from dsar.scope import in_account, log_entries_of_account
from dsar.sources import Subject

TEXT_FIELDS = (models.CharField, models.TextField)  # EmailField, SlugField, URLField… are CharFields
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
    #: The primary keys of the rows (as text) where an undeclared hit stands: what a declaration covers.
    rows: list[str] = field(default_factory=list)


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


@dataclass(frozen=True)
class Declared:
    """Data kept on purpose: where (``"table"`` or ``"table.column"``), why, and which rows: ``rows`` (a
    condition on the table's rows) or ``keys`` (their primary keys as text); neither: the whole location."""

    location: str
    reason: str
    rows: Q | None = None
    keys: frozenset[str] | None = None


def _text_columns(model: type[models.Model]) -> list[tuple[str, str, bool]]:
    """(field name, column, is JSON) of every concrete text or JSON column of a model."""
    columns = []
    for model_field in model._meta.concrete_fields:
        if isinstance(model_field, TEXT_FIELDS) and not model_field.choices:
            columns.append((model_field.name, model_field.column, False))
        elif isinstance(model_field, models.JSONField):
            columns.append((model_field.name, model_field.column, True))
    return columns


def scanned_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models(include_auto_created=True) if not model._meta.proxy and model._meta.managed]


def column_condition(model: type[models.Model], name: str, matcher: Matcher) -> tuple[dict[str, Any], Q]:
    """The annotation (JSON read as text) and the condition that narrow ``model``'s rows to those whose field
    ``name`` may hold the subject's identifiers."""
    field_ = model._meta.get_field(name)
    if isinstance(field_, models.JSONField):
        alias = f"_scan_text_{name}"
        return {alias: Cast(name, models.TextField())}, matcher.q(alias, json_text=True)
    return {}, matcher.q(name)


def rows_mentioning(
    model: type[models.Model], names: list[str], matcher: Matcher, account_id: int
) -> Iterator[tuple[Any, dict[str, tuple[Any, set[str]]]]]:
    """(primary key, {field: (its value, identifiers found)}) of the account's rows of ``model`` whose ``names``
    hold the subject's identifiers: narrowed by the database, decided by the matcher. One query, read in
    chunks."""
    annotations: dict[str, Any] = {}
    condition = Q(pk__in=[])
    for name in names:
        annotation, q = column_condition(model, name, matcher)
        annotations.update(annotation)
        condition |= q
    rows = in_account(model._base_manager.all(), account_id).annotate(**annotations).filter(condition)
    if model is LogEntry:
        entries = log_entries_of_account(rows, account_id)
        found = ((entry.pk, *(getattr(entry, name) for name in names)) for entry in entries)
    else:
        found = rows.values_list("pk", *names).iterator(chunk_size=500)
    for pk, *values in found:
        read = {name: json_value(value) for name, value in zip(names, values)}
        kinds = {name: (value, matcher.value_kinds(value)) for name, value in read.items()}
        kinds = {name: (value, found_kinds) for name, (value, found_kinds) in kinds.items() if found_kinds}
        if kinds:
            yield pk, kinds


def _declared_keys(model: type[models.Model], column: str, keys: set[str], declared: list[Declared]) -> dict[str, str]:
    """Of the rows ``keys`` with a hit in ``column``, those kept on purpose, with the reason."""
    table = model._meta.db_table
    reasons: dict[str, str] = {}
    for item in declared:
        if item.location not in (table, f"{table}.{column}"):
            continue
        pending = keys - set(reasons)
        if item.keys is not None:
            covered = pending & item.keys
        elif item.rows is not None:
            covered = {str(pk) for pk in model._base_manager.filter(item.rows, pk__in=pending).values_list("pk", flat=True)}
        else:
            covered = pending
        reasons.update((key, item.reason) for key in covered)
    return reasons


def scan_for_subject(subject: Subject, *, declared: Iterable[Declared] = ()) -> ScanResult:
    """Rows per table, column and identifier that still hold the subject's email, phone or name, written in
    any of the forms :mod:`dsar.matching` knows, within the subject's account (see :mod:`dsar.scope`).

    A hit is declared when ``declared`` covers its row (per row, not per column: a new hit where data was
    declared kept is a new hit). One query per table, plus one per declaration that applies, whatever the
    number of rows.
    """
    declared = list(declared)
    matcher = Matcher(subject)
    result = ScanResult()
    if not matcher:
        return result
    for model in scanned_models():
        table = model._meta.db_table
        columns = [(name, column) for name, column, _ in _text_columns(model) if f"{table}.{column}" not in INTERNAL_COLUMNS]
        if not columns:
            continue
        result.tables += 1
        result.columns += len(columns)
        column_of = dict(columns)
        found: dict[tuple[str, str], set[str]] = defaultdict(set)
        for pk, kinds in rows_mentioning(model, [name for name, _ in columns], matcher, subject.account_id):
            for name, (_, identifiers) in kinds.items():
                for identifier in identifiers:
                    found[(column_of[name], identifier)].add(str(pk))
        for column in sorted({column for column, _ in found}):
            keys = set().union(*(keys for (other, _), keys in found.items() if other == column))
            reasons = _declared_keys(model, column, keys, declared)
            for (other, identifier), keys in sorted(found.items()):
                if other != column:
                    continue
                kept = {key for key in keys if key in reasons}
                left = sorted(keys - kept, key=_numeric_first)
                if kept:
                    reason = "; ".join(sorted({reasons[key] for key in kept}))
                    result.hits.append(Hit(table, column, identifier, len(kept), True, reason))
                if left:
                    result.hits.append(Hit(table, column, identifier, len(left), False, "", left))
    return result


def _numeric_first(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (0, key)
