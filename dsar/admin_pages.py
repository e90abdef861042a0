"""The request's pages and confirmations in the console: the access report, the rectification form, the scan's
hits, the erasure preview, the archive's progress, the request page's buttons, and the list actions. Each calls the
same service as the API and the commands; ``dsar.admin.RequestAdmin`` only wires them (URLs, actions, permissions)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from core.progress import progress_response
from dsar import services
from dsar.exports import export_create
from dsar.models import Export, Person, Request
from dsar.report import request_access_report
from dsar.summary import request_summary
from residency.snapshot import parse_as_of

logger = logging.getLogger(__name__)

# ``model_admin`` below is dsar.admin.RequestAdmin (not imported: it imports this module): its permission methods
# (``has_execute_erasure_permission``...) are the ones each page and action checks.


def _errors(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def run_per_item(
    modeladmin: admin.ModelAdmin, request: HttpRequest, items: QuerySet, verb: str, act: Callable[[Any], str | None]
) -> None:
    """Run ``act`` on each item, reporting success or the reason for refusal per item."""
    for item in items:
        try:
            detail = act(item)
        except (ValidationError, PermissionDenied) as exc:
            modeladmin.message_user(request, f"{item}: not {verb}: {_errors(exc)}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{item}: {detail or verb}.", messages.SUCCESS)


class RequestActionForm(helpers.ActionForm):
    text = forms.CharField(required=False, label="Note / reason", widget=forms.TextInput(attrs={"size": 40}))


class RectifyForm(forms.Form):
    kind = forms.ChoiceField(choices=Person.Kind.choices)
    name = forms.CharField(required=False, max_length=200)
    email = forms.EmailField(required=False)
    phone = forms.CharField(required=False, max_length=16, help_text="E.164, e.g. +46701234567.")
    external_id = forms.CharField(required=False, max_length=100)
    send_to_person = forms.BooleanField(required=False, label="Email the corrected data to the person")


# --- the request page's buttons and the pages about one request ---


def request_action_post(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """A button of the request page: run the action it names (if the user may) on this request, then come back."""
    obj = model_admin.get_object(request, object_id)
    actions = model_admin.get_actions(request)
    name = request.POST.get("_request_action", "")
    if obj is None or name not in actions:
        raise PermissionDenied
    # Outside a request transaction (see RequestAdmin.get_urls): each erasure step commits with its progress.
    actions[name][0](model_admin, request, Request.objects.filter(pk=obj.pk))
    return HttpResponseRedirect(reverse("admin:dsar_request_change", args=[obj.pk]))


def request_page_context(model_admin: admin.ModelAdmin, request: HttpRequest, obj: Request) -> dict[str, Any]:
    """What the request page shows above its details: the summary and the buttons."""
    # Days left as the account counts them: its deadline is in its own days.
    return {
        "summary": request_summary(obj, today=obj.account.local_date(timezone.now())),
        "buttons": buttons(model_admin, request, obj),
    }


def buttons(model_admin: admin.ModelAdmin, request: HttpRequest, obj: Request) -> list[dict[str, Any]]:
    """The actions this user may take on this request in its state, as buttons (a note field when needed)."""
    allowed = model_admin.get_actions(request)
    open_ = obj.status not in Request.CLOSED
    verified = obj.verified_at is not None
    executed = obj.executed_at is not None
    wanted = [
        ("verify", open_ and not verified, "Verification note (how you checked who they are)", ""),
        ("send_code", open_ and not verified and obj.person_id is not None, "", ""),
        ("extend", open_ and obj.extended_at is None, "Reason for the extension (the person is told)", ""),
        ("execute", open_ and verified and not executed and obj.type != Request.Type.ERASURE, "", ""),
        ("generate_export", open_ and verified and obj.type in (Request.Type.ACCESS, Request.Type.PORTABILITY), "", ""),
        ("complete", open_ and (executed or obj.type == Request.Type.RECTIFICATION), "",
         "Complete this request? The person is told it is done."),
        ("reject", open_, "Reason for rejecting (the person is told)", "Reject this request? This cannot be undone."),
    ]
    shown = []
    if obj.type == Request.Type.ERASURE and open_ and verified and "preview_erasure" in allowed:
        shown.append({
            "url": reverse("admin:dsar_request_erasure_preview", args=[obj.pk]),
            "label": "Preview the erasure" if not executed else "Preview the erasure again",
        })
    for name, applies, text, confirm in wanted:
        if applies and name in allowed:
            shown.append({"name": name, "label": allowed[name][2], "text": text, "confirm": confirm})
    return shown


def export_status_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int, export_id: int) -> JsonResponse:
    """Where a portability archive is, for the request page to follow."""
    export = get_object_or_404(Export.objects.select_related("request"), pk=export_id, request_id=pk)
    if not model_admin.has_view_permission(request, export.request):
        raise PermissionDenied
    text = {
        Export.Status.PENDING: "Being built by the background worker…",
        Export.Status.READY: f"Ready: {export.size:,} bytes; the link was emailed to the person.",
        Export.Status.FAILED: f"Failed: {export.error}",
        Export.Status.DELETED: "Deleted by erasure.",
    }[export.status]
    return progress_response(state=export.status, text=text, done=export.status != Export.Status.PENDING)


def erasure_preview_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int) -> HttpResponse:
    """What the erasure will erase, keep and leave behind, with the button that executes it."""
    obj = get_object_or_404(Request.objects.select_related("person", "account", "jurisdiction"), pk=pk)
    if not (model_admin.has_view_permission(request, obj) and model_admin.has_execute_erasure_permission(request)):
        raise PermissionDenied
    try:
        preview = services.request_erasure_preview(request=obj, actor=request.user)
    except ValidationError as exc:
        model_admin.message_user(request, _errors(exc), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:dsar_request_change", args=[pk]))
    return request_page(model_admin, request, obj, "Erasure preview", "dsar/admin/erasure_preview.html", preview=preview)


def request_page(
    model_admin: admin.ModelAdmin, request: HttpRequest, obj: Request, crumb: str, template: str, **context: Any
) -> HttpResponse:
    """A page about one request, under it in the breadcrumbs (dsar/admin/request_page.html)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{crumb} · {obj}",
        "crumb": crumb,
        "opts": model_admin.model._meta,
        "original": obj,
        **context,
    }
    return TemplateResponse(request, template, context)


def report_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_or_404(Request.objects.select_related("account", "jurisdiction", "person"), pk=pk)
    # The report is the person's data: reading it is a download of personal data.
    if not (model_admin.has_view_permission(request, obj) and model_admin.has_download_export_permission(request)):
        raise PermissionDenied
    try:
        report = request_access_report(request=obj, as_of=parse_as_of(request.GET.get("as_of")))
    except ValidationError as exc:
        model_admin.message_user(request, _errors(exc), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:dsar_request_change", args=[pk]))
    fmt = request.GET.get("format")
    if fmt == "json":
        response: HttpResponse = JsonResponse(report, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = f'attachment; filename="request-{pk}-access-report.json"'
        add_never_cache_headers(response)
        return response
    if fmt == "html":
        response = HttpResponse(render_to_string("dsar/access_report_download.html", {"report": report}))
        response["Content-Disposition"] = f'attachment; filename="request-{pk}-access-report.html"'
        add_never_cache_headers(response)
        return response
    return request_page(model_admin, request, obj, "Access report", "dsar/admin/access_report.html", report=report)


def rectify_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_or_404(Request.objects.select_related("person"), pk=pk)
    # The page shows the person's data and can email it to them: reading both is needed as well as changing.
    may_read = model_admin.has_read_request_permission(request) and request.user.has_perm("dsar.view_person")
    if not (may_read and model_admin.has_change_permission(request, obj) and request.user.has_perm("dsar.change_person")):
        raise PermissionDenied
    person = obj.person
    form = RectifyForm(
        request.POST or None,
        initial={name: getattr(person, name) for name in services.RECTIFIABLE_FIELDS} if person else None,
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        send = data.pop("send_to_person")
        try:
            changed = services.person_rectify(request=obj, changes=data, actor=request.user)
            if send:
                services.person_send_data(request=obj, actor=request.user)
        except services.PersonHeld as held:
            form.add_error(None, str(held))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            model_admin.message_user(
                request,
                f"Corrected: {', '.join(changed) or 'nothing changed'}"
                + ("; data sent to the person." if send else "."),
            )
            return HttpResponseRedirect(reverse("admin:dsar_request_change", args=[pk]))
    return request_page(model_admin, request, obj, "Correct the person's data", "dsar/admin/rectify.html", form=form)


def scan_hits_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int) -> HttpResponse:
    """The undeclared hits of an erasure's last scan, each to redact in place or declare retained."""
    obj = get_object_or_404(Request, pk=pk)
    if not (model_admin.has_read_request_permission(request) and model_admin.has_execute_erasure_permission(request)):
        raise PermissionDenied
    form = forms.Form()
    if request.method == "POST":
        table, column = request.POST.get("table", ""), request.POST.get("column", "")
        try:
            if request.POST.get("action") == "declare":
                days = request.POST.get("retention_days", "")
                if not days.isdigit():
                    raise ValidationError({"retention_days": "Give how many days it is kept, as a whole number."})
                result = services.erasure_hit_declare(
                    request=obj,
                    table=table,
                    column=column,
                    reason=request.POST.get("reason", ""),
                    retention_days=int(days),
                    actor=request.user,
                )
            else:
                result = services.erasure_hit_redact(request=obj, table=table, column=column, actor=request.user)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            model_admin.message_user(request, f"Scanned again: {result.undeclared} undeclared hit(s) left.")
            return HttpResponseRedirect(reverse("admin:dsar_request_scan_hits", args=[pk]))
    obj.refresh_from_db()
    hits = [hit for hit in (obj.scan or {}).get("hits", []) if not hit["declared"]] if obj.subject else []
    return request_page(
        model_admin, request, obj, "Scan hits", "dsar/admin/scan_hits.html",
        hits=hits, auto=settings.DSAR_ERASURE_FINALIZATION == "auto", form=form,
    )


# --- actions: each calls the same service as the API and the commands, and reports per request ---


def _text(request: HttpRequest) -> str:
    return request.POST.get("text", "").strip()


def verify(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> None:
    note = _text(request)
    run_per_item(
        model_admin,
        request,
        queryset,
        "verified",
        lambda r: services.request_verify_manually(request=r, note=note, actor=request.user),
    )


def send_code(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> None:
    run_per_item(
        model_admin, request, queryset, "code sent", lambda r: services.request_send_code(request=r, actor=request.user)
    )


def extend(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> None:
    reason = _text(request)

    def act(r: Request) -> str:
        services.request_extend(request=r, reason=reason, actor=request.user)
        r.refresh_from_db()
        return f"extended to {r.due_at.isoformat()}" + (f" ({r.due_note})" if r.due_note else "")

    related = ("account__home_region", "jurisdiction", "person")
    run_per_item(model_admin, request, queryset.select_related(*related), "extended", act)


def preview_erasure(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> None:
    def act(r: Request) -> str:
        preview = services.request_erasure_preview(request=r, actor=request.user)
        parts = [
            f"{s.label}: " + (", ".join(f"{c} {n}" for c, n in s.counts.items()) or "nothing")
            for s in preview.sources
        ]
        kept = [f"{k['data_category']} ({k['reason']})" for s in preview.sources for k in s.retained]
        text = "will erase " + "; ".join(parts)
        if kept:
            text += " — keeps " + "; ".join(kept)
        if preview.outlives:
            text += " — outlives the erasure: " + " ".join(copy["statement"] for copy in preview.outlives)
        if preview.blockers:
            text += " — BLOCKED: " + "; ".join(preview.blockers)
        return text

    run_per_item(model_admin, request, queryset.select_related("person"), "previewed", act)


def execute(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> None:
    for r in queryset.select_related("person", "account", "jurisdiction"):
        allowed = (
            model_admin.has_execute_erasure_permission(request)
            if r.type == Request.Type.ERASURE
            else model_admin.has_execute_request_permission(request)
        )
        if not allowed:
            model_admin.message_user(
                request, f"{r}: not executed: you may not execute {r.get_type_display().lower()} requests.", messages.ERROR
            )
            continue
        if r.type == Request.Type.PORTABILITY and not model_admin.has_download_export_permission(request):
            # The archive emailed to the person is their personal data, as an access report is.
            model_admin.message_user(
                request, f"{r}: not executed: you may not read people's data (dsar.download_export).", messages.ERROR
            )
            continue
        try:
            outcome = services.request_execute(request=r, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            model_admin.message_user(request, f"{r}: not executed: {_errors(exc)}", messages.ERROR)
            continue
        except Exception as exc:  # a source failed mid-way: what finished is stored, the rest is not
            logger.exception("Executing request %s failed", r.pk)
            model_admin.message_user(
                request,
                f"{r}: stopped by an error ({exc}); the finished steps are kept, execute again to resume.",
                messages.ERROR,
            )
            continue
        if outcome and outcome.blocked:
            model_admin.message_user(request, f"{r}: refused, now waiting: {'; '.join(outcome.blocked)}", messages.WARNING)
        elif outcome and outcome.scan is not None:
            level = messages.SUCCESS if not outcome.scan.undeclared else messages.WARNING
            model_admin.message_user(
                request,
                f"{r}: {outcome.erased} record(s) erased in {len(outcome.ran)} step(s) "
                f"({outcome.skipped} already done); scan: {outcome.scan.undeclared} undeclared hit(s).",
                level,
            )
        else:
            model_admin.message_user(request, f"{r}: executed.", messages.SUCCESS)


def generate_export(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> None:
    run_per_item(
        model_admin,
        request,
        queryset.select_related("person"),
        "export queued",
        lambda r: f"export {export_create(request=r, actor=request.user).pk} queued",
    )


def complete(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> None:
    run_per_item(
        model_admin, request, queryset, "completed", lambda r: services.request_complete(request=r, actor=request.user)
    )


def reject(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> None:
    reason = _text(request)
    run_per_item(
        model_admin,
        request,
        queryset,
        "rejected",
        lambda r: services.request_reject(request=r, reason=reason, actor=request.user),
    )
