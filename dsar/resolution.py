"""Resolving what an erasure's verification scan still finds: redact it in place, or declare it retained
with a reason and a period. Either way the timeline and the audit chain record it, and the scan runs again
(a clean scan then completes the request, see :func:`dsar.erasure.request_verify_erasure`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Cast
from django.utils import timezone

from dsar.erasure import request_verify_erasure
from dsar.matching import Matcher
from dsar.models import Request, RequestEvent
from dsar.scan import INTERNAL_COLUMNS, ScanResult, has_account_column
from dsar.sources import Subject
from dsar.workflow import User, actor_label, add_event, record_history
from residency.append_only import sanctioned_write
from residency.audit import Action, Record, audit_append

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


def _model_of(table: str) -> type[models.Model]:
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table and not model._meta.proxy:
            return model
    raise ValidationError({"table": f"No table {table!r}."})


def _redact_value(value: Any, matcher: Matcher) -> Any:
    if isinstance(value, str):
        return matcher.redact(value)
    if isinstance(value, dict):
        return {key: _redact_value(item, matcher) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_value(item, matcher) for item in value]
    return value


def _redact_column(model: type[models.Model], column: str, subject: Subject) -> int:
    """Redact the subject's identifiers from ``column`` of ``model``'s rows (the subject's account only, where
    the table has one); returns how many rows changed."""
    field = next((f for f in model._meta.concrete_fields if f.column == column), None)
    if field is None or f"{model._meta.db_table}.{column}" in INTERNAL_COLUMNS:
        raise ValidationError({"column": f"{model._meta.db_table}.{column} cannot be redacted here."})
    matcher = Matcher(subject)
    rows = model._base_manager.all()
    if has_account_column(model):
        rows = rows.filter(account_id=subject.account_id)
    if isinstance(field, models.JSONField):
        rows = rows.annotate(_text=Cast(field.name, models.TextField())).filter(matcher.q("_text"))
    else:
        rows = rows.filter(matcher.q(field.name))
    changed = 0
    with sanctioned_write():  # a history table is append-only but for a scrubbing of the subject's data
        for pk, value in rows.values_list("pk", field.name).iterator(chunk_size=500):
            redacted = _redact_value(value, matcher)
            if redacted != value:
                model._base_manager.filter(pk=pk).update(**{field.name: redacted})
                changed += 1
    return changed


@transaction.atomic
def erasure_hit_redact(*, request: Request, table: str, column: str, actor: User = None) -> ScanResult:
    """Redact the person's identifiers where the last scan found them undeclared, then scan again.

    Only whole identifiers are replaced (an address inside a longer one is someone else's): a hit that is
    not the person's stays, and is for declaring instead."""
    request = Request.objects.select_for_update().get(pk=request.pk)
    hit = _open_hit(request, table, column)
    changed = _redact_column(_model_of(table), column, Subject(**request.subject))
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
        "rows": hit["count"],
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
