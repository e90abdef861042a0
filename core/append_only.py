"""History and audit tables are append-only in PostgreSQL itself (django-pgtrigger protect triggers).

Rows of the audit chain, of its seal ledger, of every django-simple-history table and of the other audit tables
apps protect (the request timeline) can be inserted, never updated or deleted — by the product, an
administrator's SQL session or anything else — except through :func:`scrub`, the one path an erasure or a
retention period takes to scrub personal data out of them. A history row may still lose its link to a deleted
login (``history_user`` set to NULL): the username is kept as text beside it. On SQLite nothing is installed;
``verify_audit_log`` still catches changes to the audit chain and to the sealed tables there.

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
from django.db import models, router, transaction
from simple_history.models import HistoricalChanges

from core.database_logins import runtime_login_scrub, runtime_role
from core.sealing import reseal
from core.sql import id_array

UPDATE_TRIGGER = "append_only_update"
DELETE_TRIGGER = "append_only_delete"


_protected: list[type[models.Model]] = []


def protected_models() -> list[type[models.Model]]:
    """The audit tables: the audit chain's entries, the seal ledger, every history table and the tables apps
    protect. The one list of what is evidence: the triggers protect these, and the runtime database login may
    only read and insert them (core/database_logins.py)."""
    return list(_protected)


def protect(*models_: type[models.Model]) -> None:
    """Make ``models_`` append-only: register their protect triggers (installed by ``migrate``:
    PGTRIGGER_INSTALL_ON_MIGRATE). Registering a table twice changes nothing."""
    for model in models_:
        model = model._meta.concrete_model
        if model in _protected:
            continue
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
        _protected.append(model)


def register_append_only_triggers() -> None:
    """Protect the audit chain, the seal ledger and every history table (an app protects its other audit
    tables itself, as dsar does its timeline)."""
    from core.models import AuditEntry, SealedRow

    protect(AuditEntry, SealedRow)
    protect(*(model for model in apps.get_models() if issubclass(model, HistoricalChanges) and not model._meta.proxy))


@contextmanager
def sanctioned_write(*models_: type[models.Model]) -> Iterator[None]:
    """Let the block update or delete rows of ``models_`` (default: every protected table; a table that is not
    protected needs no leave). Only a scrub (:func:`scrub`) goes through here."""
    targets = [model._meta.concrete_model for model in models_] if models_ else protected_models()
    uris = [
        f"{model._meta.label}:{name}" for model in targets if model in _protected for name in (UPDATE_TRIGGER, DELETE_TRIGGER)
    ]
    if not uris:
        yield
        return
    with pgtrigger.ignore(*uris):
        yield


def scrub(
    model: type[models.Model], changes: Mapping[Any, Mapping[str, Any]], *, reason: str, request_id: int | None = None
) -> int:
    """Set the given fields of the given rows (``{pk: {field: value}}``): an erasure's or a retention period's
    scrubbing of personal data, the one way a history, audit or other sealed row ever changes. Returns how many
    rows. A sealed table's rows are sealed again as they are now, under an audit chain entry naming ``reason``
    and the request (``request_id``) the scrub was for, so verification still finds them intact. Rows given the
    same values are written by one statement, whatever their number. Runs in the caller's transaction."""
    if not changes:
        return 0
    with transaction.atomic(savepoint=False):
        _apply_scrub(model, changes, reason=reason)
        reseal(model, list(changes), reason=reason, request_id=request_id)
    return len(changes)


def _apply_scrub(model: type[models.Model], changes: Mapping[Any, Mapping[str, Any]], *, reason: str) -> None:
    if runtime_role(router.db_for_write(model)) and model._meta.concrete_model in protected_models():
        # The runtime login may not update audit rows at all: it scrubs them through the owner's function.
        runtime_login_scrub(model, changes)
        return
    same: dict[str, list[Any]] = defaultdict(list)
    for pk, values in changes.items():
        same[json.dumps(values, sort_keys=True, default=str)].append(pk)
    # Rows sharing their new values take one UPDATE; rows each with their own (a redacted text) one per 500.
    shared = [pks for pks in same.values() if len(pks) > 1]
    own: dict[tuple[str, ...], list[Any]] = defaultdict(list)
    for pks in same.values():
        if len(pks) == 1:
            own[tuple(sorted(changes[pks[0]]))].append(pks[0])
    manager = model._base_manager
    with sanctioned_write(model):
        for pks in shared:
            manager.filter(pk__in=id_array(pks, using=manager.db)).update(**changes[pks[0]])
        for fields, pks in own.items():
            rows = [model(pk=pk, **changes[pk]) for pk in pks]
            manager.bulk_update(rows, [model._meta.get_field(name).name for name in fields], batch_size=500)
