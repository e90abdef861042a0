"""The audit chain's console pages: an entry read as words and figures, and "Verify now" (core/admin.py wires
them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.history import origin_words
from core.models import AuditEntry
from core.sealing import SEAL_ACTIONS
from core.verification import audit_log_verify

#: Who may run the verification from the console (besides reading the chain): a full walk of every audit table.
VERIFY_PERMISSION = "core.verify_audit_chain"


def short_hash(value: str) -> SafeString:
    """A hash as its first twelve characters, the whole of it in the tooltip."""
    if not value:
        return format_html("{}", "–")
    return format_html('<code title="{}">{}…</code>', value, value[:12])


def _value(value: Any) -> SafeString:
    if isinstance(value, (dict, list)):
        return format_html("<code>{}</code>", json.dumps(value, ensure_ascii=False))
    return format_html("{}", "–" if value in (None, "") else value)


def _rows_table(columns: list[str], rows: list[list[Any]]) -> SafeString:
    head = format_html_join("", "<th>{}</th>", ((name,) for name in columns))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((_value(cell),) for cell in row)),) for row in rows)
    )
    return format_html('<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body)


def entry_details(entry: AuditEntry) -> SafeString:
    """The entry's data as a definition list: each field by name, a list of rows (the recordings a deletion took)
    as a table, and a field an erasure emptied said so, with its request."""
    data = dict(entry.data)
    items = []
    columns = data.pop("columns", None)
    for name, value in data.items():
        redaction = entry.redactions.get(name) if value is None else None
        if isinstance(redaction, dict):
            shown = format_html(
                "<em>redacted for request #{} ({})</em>", redaction.get("request"), redaction.get("reason") or "erasure"
            )
        elif columns and isinstance(value, list) and all(isinstance(row, list) for row in value):
            shown = _rows_table(columns, value)
        else:
            shown = _value(value)
        items.append((name.replace("_", " ").capitalize(), shown))
    if not items:
        return format_html("{}", "–")
    return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", items))


def may_verify(request: HttpRequest) -> bool:
    return request.user.has_perms(["core.view_auditentry", VERIFY_PERMISSION])


def verify_view(request: HttpRequest) -> HttpResponse:
    """On POST, verify the whole audit log as ``verify_audit_log`` does and say what was found; back to the chain."""
    if not may_verify(request):
        raise PermissionDenied
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    verdict = audit_log_verify()
    if verdict.intact:
        messages.success(request, verdict.summary)
    else:
        for problem in verdict.problems:
            messages.error(request, problem)
    return HttpResponseRedirect(reverse("admin:core_auditentry_changelist"))


@dataclass(frozen=True)
class Operation:
    """One operation of the chain, as the home page's recent actions say it."""

    text: str
    who: str
    where: str
    at: datetime
    url: str


def _object_words(entry: AuditEntry) -> str:
    """What the entry is about, in words: "request #42", "recording #7", "3 recordings"."""
    if not entry.object_id.isdigit():
        return entry.object_id
    try:
        name = apps.get_model(entry.object_type)._meta.verbose_name
    except (LookupError, ValueError):
        name = entry.object_type.rsplit(".", 1)[-1]
    return f"{name} #{entry.object_id}"


def recent_operations(limit: int = 10) -> list[Operation]:
    """The chain's newest operations (deletions, erasure steps, holds, identity checks, keys, redactions), newest
    first; the seals of audit tables are the chain's own bookkeeping, not operations, and are left out."""
    entries = AuditEntry.objects.exclude(action__in=SEAL_ACTIONS).order_by("-seq")[:limit]
    return [
        Operation(
            text=f"{entry.get_action_display()}: {_object_words(entry)}",
            who=entry.actor or "the system",
            where=origin_words(entry.origin),
            at=entry.at,
            url=reverse("admin:core_auditentry_change", args=[entry.pk]),
        )
        for entry in entries
    ]
