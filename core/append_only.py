"""History and audit tables are append-only in PostgreSQL itself (django-pgtrigger protect triggers).

Rows of the audit chain and of every django-simple-history table can be inserted, never updated or
deleted — by the product, an administrator's SQL session or anything else — except inside
:func:`sanctioned_write`, the one path an erasure takes to scrub the subject's personal data out of them.
A history row may still lose its link to a deleted login (``history_user`` set to NULL): the username is
kept as text beside it. On SQLite nothing is installed; the audit chain's verification still catches
changes to the audit table there.

Any login can switch these triggers off, and the tables' owner can drop them: on PostgreSQL the application
runs as a login that owns no table and may not update, delete or truncate these rows at all; it scrubs
through the owner's function instead (:mod:`core.database_logins`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pgtrigger
from django.apps import apps
from django.db import models, router
from simple_history.models import HistoricalChanges

from core.database_logins import runtime_login_scrub, runtime_role

UPDATE_TRIGGER = "append_only_update"
DELETE_TRIGGER = "append_only_delete"


def protected_models() -> list[type[models.Model]]:
    """The audit tables: the audit chain's entries and every history table. The one list of what is evidence:
    the triggers protect these, and the runtime database login may only read and insert them
    (core/database_logins.py); an audit table core adds belongs here (its model's ``scrubbable_fields``
    name what an erasure may scrub in it, if anything)."""
    from core.models import AuditEntry

    return [AuditEntry] + [
        model for model in apps.get_models() if issubclass(model, HistoricalChanges) and not model._meta.proxy
    ]


def register_append_only_triggers() -> None:
    """Register the protect triggers (installed by ``migrate``: PGTRIGGER_INSTALL_ON_MIGRATE)."""
    for model in protected_models():
        # A history row may lose its link to a deleted login; many-to-many history tables have no such link.
        linked_to_login = any(field.name == "history_user" for field in model._meta.fields)
        pgtrigger.register(
            pgtrigger.Protect(
                name=UPDATE_TRIGGER,
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["history_user"]) if linked_to_login else None,
            ),
            pgtrigger.Protect(name=DELETE_TRIGGER, operation=pgtrigger.Delete),
        )(model)


@contextmanager
def sanctioned_write(*models_: type[models.Model]) -> Iterator[None]:
    """Let the block update or delete rows of ``models_`` (default: every protected table). Only an
    erasure's scrubbing of the subject's personal data goes through here."""
    targets = models_ or tuple(protected_models())
    uris = [f"{model._meta.label}:{name}" for model in targets for name in (UPDATE_TRIGGER, DELETE_TRIGGER)]
    with pgtrigger.ignore(*uris):
        yield


def scrub(model: type[models.Model], changes: Mapping[Any, Mapping[str, Any]], *, reason: str) -> int:
    """Set the given fields of the given rows of a protected table (``{pk: {field: value}}``): an erasure's or
    a retention period's scrubbing of personal data, the one way a history or audit row ever changes. Returns
    how many rows. Rows given the same values are written by one statement per 500."""
    if not changes:
        return 0
    _apply_scrub(model, changes, reason=reason)
    return len(changes)


def _apply_scrub(model: type[models.Model], changes: Mapping[Any, Mapping[str, Any]], *, reason: str) -> None:
    if runtime_role(router.db_for_write(model)) and model._meta.concrete_model in protected_models():
        # The runtime login may not update audit rows at all: it scrubs them through the owner's function.
        runtime_login_scrub(model, changes)
        return
    groups: dict[str, list[Any]] = defaultdict(list)
    for pk, values in changes.items():
        groups[json.dumps(values, sort_keys=True, default=str)].append(pk)
    with sanctioned_write(model):
        for pks in groups.values():
            values = changes[pks[0]]
            for start in range(0, len(pks), 500):
                model._base_manager.filter(pk__in=pks[start : start + 500]).update(**values)
