"""Which rows of any table belong to one customer account: what keeps an erasure, its scan and the resolution
of its hits inside the request's account. Another account's records are another controller's, even when they
name someone with the same name.

A table belongs to an account through a chain of links ending at ``Account`` (``account``,
``request__account``, ``export__request__account``; history tables keep the same links). The console's
change log names its object by content type and id: an entry is the account's when the object it names (or,
once deleted, its history) is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from residency.models import Account

#: How many links away from a table its account may be.
_MAX_DEPTH = 3


@cache
def account_path(model: type[models.Model]) -> str | None:
    """The lookup from ``model`` to its account's id (``"account_id"``, ``"request__account_id"``…), or None
    when its rows belong to no account (the catalog, logins)."""
    if model is Account or getattr(model, "instance_type", None) is Account:
        return "id"  # the account itself, and its history
    frontier: list[tuple[type[models.Model], str]] = [(model, "")]
    for _ in range(_MAX_DEPTH):
        following = []
        for current, prefix in frontier:
            for field in current._meta.concrete_fields:
                if not field.is_relation or field.related_model is None:
                    continue
                if field.related_model is Account:
                    return f"{prefix}{field.name}_id"
                if field.related_model is not get_user_model() and field.related_model is not current:
                    following.append((field.related_model, f"{prefix}{field.name}__"))
        frontier = following
    return None


def account_q(model: type[models.Model], account_id: int) -> Q | None:
    """The condition for ``model``'s rows of the account; None when the table belongs to no account."""
    path = account_path(model)
    return Q(**{path: account_id}) if path else None


def in_account(rows: Any, account_id: int) -> Any:
    """``rows`` (a queryset of any table) narrowed to the account's. A table that belongs to no account is kept
    whole, except the change log, narrowed in Python by :func:`log_entries_of_account`."""
    condition = account_q(rows.model, account_id)
    return rows.filter(condition) if condition is not None else rows


def log_entries_of_account(entries: Iterable[LogEntry], account_id: int) -> list[LogEntry]:
    """The change-log entries among ``entries`` whose object is the account's: looked up live, else in the
    object's history. An entry whose object belongs to no account, or cannot be found, is not the account's.
    One query per kind of object, whatever the number of entries."""
    entries = list(entries)
    by_type: dict[int, list[LogEntry]] = defaultdict(list)
    for entry in entries:
        by_type[entry.content_type_id].append(entry)
    theirs: list[LogEntry] = []
    for group in by_type.values():
        model = group[0].content_type.model_class()
        if model is None or account_path(model) is None:
            continue
        ids = {entry.object_id for entry in group}
        found = _objects_of_account(model, ids, account_id)
        theirs += [entry for entry in group if entry.object_id in found]
    return theirs


def _objects_of_account(model: type[models.Model], ids: set[str], account_id: int) -> set[str]:
    """Of ``ids`` (as the change log writes them), those of the account's objects, live or in history."""
    pk_field = model._meta.pk
    keys = set()
    for value in ids:
        try:
            keys.add(pk_field.to_python(value))
        except ValidationError:  # an id the table could never hold names nothing of the account's
            continue
    found = {str(pk) for pk in model._base_manager.filter(account_q(model, account_id), pk__in=keys).values_list("pk", flat=True)}
    history = getattr(model, "history", None)
    missing = {key for key in keys if str(key) not in found}
    if missing and history is not None and account_path(history.model) is not None:
        found |= {
            str(pk)
            for pk in history.model.objects.filter(account_q(history.model, account_id), **{f"{pk_field.attname}__in": missing})
            .values_list(pk_field.attname, flat=True)
            .distinct()
        }
    return found
