"""Resolving what an erasure's verification scan still finds: redact it in place, or declare it retained
with a reason and a period. Either way the timeline and the audit chain record it, and the scan runs again
(a clean scan then completes the request, see :func:`dsar.erasure.request_verify_erasure`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from core.append_only import scrub
from core.audit import Action, Record, audit_append
from core.models import AuditEntry
from dsar.erasure import redact_audit_entries, request_verify_erasure
from dsar.matching import Matcher
from dsar.models import Request, RequestEvent
from dsar.scan import INTERNAL_COLUMNS, ScanResult, rows_mentioning
from dsar.sources import Subject
from dsar.workflow import User, actor_label, add_event, record_history, request_subject

#: The longest a staff member may declare a leftover retained for, in days (ten years).
MAX_RETENTION_DAYS = 3650


def _open_hit(request: Request, table: str, column: str) -> dict[str, Any]:
    """The undeclared hit of the request's last scan at ``table.column``, or a ValidationError naming the field."""
    if request.type != Request.Type.ERASURE or not request.scan:
        raise ValidationError({"status": "Only an erasure with a verification scan has hits to resolve."})
    if not request.subject:
        raise ValidationError({"status": "The request is closed; its hits were resolved."})
    hits = [hit for hit in request.scan.get("hits", []) if not hit["declared"]]
    if not any(hit["table"] == table for hit in hits):
        raise ValidationError({"table": f"The last scan found nothing undeclared in {table!r}."})
    found = [hit for hit in hits if hit["table"] == table and hit["column"] == column]
    if not found:
        raise ValidationError({"column": f"The last scan found nothing undeclared in {table}.{column}."})
    return found[0]


def hits_at(request: Request, table: str, column: str) -> list[dict[str, Any]]:
    """The undeclared hits of the request's last scan at ``table.column`` (one per identifier)."""
    return [
        hit
        for hit in (request.scan or {}).get("hits", [])
        if not hit["declared"] and hit["table"] == table and hit["column"] == column
    ]


def _model_of(table: str) -> type[models.Model]:
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table and not model._meta.proxy:
            return model
    raise ValidationError({"table": f"No table {table!r}."})


def _redact_column(model: type[models.Model], column: str, request: Request, subject: Subject) -> int:
    """Redact the subject's identifiers from ``column`` of the account's rows of ``model`` (see
    :mod:`dsar.scope`) where the last scan found them undeclared; returns how many rows changed. Rows declared
    kept (a ticket a legal hold keeps as it is, data a staff member declared) are left alone. An audit entry is
    never rewritten: its field is nulled through the chain's sanctioned path, which appends the redaction and
    keeps the chain verifying."""
    field = next((f for f in model._meta.concrete_fields if f.column == column), None)
    if field is None or f"{model._meta.db_table}.{column}" in INTERNAL_COLUMNS:
        raise ValidationError({"column": f"{model._meta.db_table}.{column} cannot be redacted here."})
    matcher = Matcher(subject)
    if model is AuditEntry:
        return redact_audit_entries(request=request, subject=subject)
    undeclared = {key for hit in hits_at(request, model._meta.db_table, column) for key in hit.get("rows", [])}
    changes = {}
    for pk, found in rows_mentioning(model, [field.name], matcher, subject.account_id):
        if str(pk) not in undeclared:
            continue
        value, _ = found[field.name]
        redacted = matcher.redact_value(value)
        if redacted != value:
            changes[pk] = {field.name: redacted}
    # A history or sealed table is append-only but for a scrubbing of the subject's data (sealed again after).
    return scrub(model, changes, reason="erasure: scan hit redacted in place", request_id=request.pk)


@transaction.atomic
def erasure_hit_redact(*, request: Request, table: str, column: str, actor: User = None) -> ScanResult:
    """Redact the person's identifiers where the last scan found them undeclared, then scan again.

    Only whole identifiers are replaced (an address inside a longer one is someone else's): a hit that is
    not the person's stays, and is for declaring instead."""
    request = Request.objects.select_for_update().get(pk=request.pk)
    hit = _open_hit(request, table, column)
    changed = _redact_column(_model_of(table), column, request, request_subject(request))
    audit_append(
        Record(
            action=Action.ERASURE_HIT_REDACTED,
            object_type="dsar.request",
            object_id=request.pk,
            account_id=request.account_id,
            actor=actor_label(actor),
            data={"table": table, "column": column, "identifier": hit["identifier"], "rows": changed},
        )
    )
    add_event(
        request,
        RequestEvent.Kind.STEP_DONE,
        f"Scan hit in {table}.{column} ({hit['identifier']}) redacted in place: {changed} row(s) changed"
        + ("." if changed else "; what remains is not a whole identifier of the person: declare it if it stays."),
        actor=actor,
    )
    return request_verify_erasure(request=request, actor=actor)


@transaction.atomic
def erasure_hit_declare(
    *, request: Request, table: str, column: str, reason: str, retention_days: int, actor: User = None
) -> ScanResult:
    """Declare the hit at ``table.column`` retained on purpose, with the reason and for how long; then scan
    again. The declaration goes into the certificate."""
    request = Request.objects.select_for_update().get(pk=request.pk)
    hit = _open_hit(request, table, column)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the data is kept (the rule that allows it)."})
    if not isinstance(retention_days, int) or not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise ValidationError({"retention_days": f"Give how many days it is kept, from 1 to {MAX_RETENTION_DAYS}."})
    now = timezone.now()
    declaration = {
        "location": f"{table}.{column}",
        "identifier": hit["identifier"],
        # The rows declared, by primary key: a hit in another row of the same column is a new hit.
        "rows": sorted({key for found in hits_at(request, table, column) for key in found.get("rows", [])}),
        "reason": reason,
        "retention_days": retention_days,
        "until": (timezone.localdate(now) + dt.timedelta(days=retention_days)).isoformat(),
        "by": actor_label(actor),
        "at": now.isoformat(),
    }
    Request.objects.filter(pk=request.pk).update(declarations=[*request.declarations, declaration])
    record_history(request, actor=actor, reason="scan hit declared retained")
    audit_append(
        Record(
            action=Action.ERASURE_HIT_DECLARED,
            object_type="dsar.request",
            object_id=request.pk,
            account_id=request.account_id,
            actor=actor_label(actor),
            data={key: declaration[key] for key in ("location", "identifier", "reason", "retention_days")},
        )
    )
    add_event(
        request,
        RequestEvent.Kind.STEP_DONE,
        f"Scan hit in {table}.{column} ({hit['identifier']}) declared retained for {retention_days} days: {reason}",
        actor=actor,
    )
    request.refresh_from_db()
    return request_verify_erasure(request=request, actor=actor)
