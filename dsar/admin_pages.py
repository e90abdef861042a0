"""The request's pages and confirmations in the console: the access report, the rectification form, the scan's
hits, the erasure preview, the archive's progress, the request page's buttons, and the list actions. Each calls the
same service as the API and the commands; ``dsar.admin.RequestAdmin`` only wires them (URLs, actions, permissions)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import PurePath
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html

from core.charts import Chart, bar_chart
from core.confirmation import Confirmation, Row, confirmation_page, confirmed
from core.progress import progress_response
from dsar import services
from dsar.exports import (
    export_create,
    export_create_blockers,
    export_open,
    export_resend,
    export_resend_blockers,
    export_unavailable,
    latest_archive,
)
from dsar.metrics import FIRST_YEAR, LawMetrics, check_year, request_metrics, write_csv
from dsar.models import Export, Jurisdiction, Person, Request, RequestEvent, Submission
from dsar.report import access_report_html, readable_access_report, request_access_report
from dsar.submissions import proof_storage
from dsar.summary import request_summary
from dsar.workflow import add_event
from residency.models import Account
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
    response = actions[name][0](model_admin, request, Request.objects.filter(pk=obj.pk))
    if response is not None:  # its confirmation page, or the erasure's preview
        return response
    return HttpResponseRedirect(reverse("admin:dsar_request_change", args=[obj.pk]))


def request_page_context(model_admin: admin.ModelAdmin, request: HttpRequest, obj: Request) -> dict[str, Any]:
    """What the request page shows above its details: the summary and the buttons."""
    # Days left as the account counts them: its deadline is in its own days.
    return {
        "summary": request_summary(obj, today=obj.account.local_date(timezone.now())),
        "buttons": buttons(model_admin, request, obj),
        "siblings": [
            {"request": sibling, "url": reverse("admin:dsar_request_change", args=[sibling.pk])}
            for sibling in Request.objects.siblings_of(obj).select_related("jurisdiction")
        ],
        "duplicate_of": Request.objects.with_duplicate_of().get(pk=obj.pk).duplicate_of,
        "submissions": submissions_rows(model_admin, request, obj),
        # A code was emailed: the person may read it out on the phone.
        "code_form": model_admin.has_verify_identity_permission(request)
        and not services.request_send_code_blockers(obj)
        and obj.codes.filter(used_at__isnull=True, revoked_at__isnull=True).exists(),
    }


def submissions_rows(model_admin: admin.ModelAdmin, request: HttpRequest, obj: Request) -> list[dict[str, Any]]:
    """The privacy center's submissions behind the request (the one that opened it, and duplicates linked to it):
    who filed each (the person, their agent, a DRP agent), when, and the agent's signed authorization, to download
    for those who may download people's data."""
    may_download = model_admin.has_download_export_permission(request)
    rows = []
    for submission in obj.submissions.select_related("drp_agent").order_by("created_at", "pk"):
        proof_url = ""
        if submission.agent_proof and may_download:
            proof_url = reverse("admin:dsar_request_agent_proof", args=[obj.pk, submission.pk])
        rows.append({
            "submission": submission,
            "agent": submission.drp_agent.name if submission.drp_agent else submission.agent_name,
            "agent_email": submission.agent_email,
            "proof_url": proof_url,
            "proof": f"{submission.agent_proof_type}, {filesizeformat(submission.agent_proof_size)}"
            if submission.agent_proof else "",
        })
    return rows


def agent_proof_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int, submission_id: int) -> HttpResponse:
    """An authorized agent's signed authorization, for a member of staff allowed to read people's data: served
    from DSAR_AGENT_PROOF_ROOT (outside the web root) as an attachment of the type checked when it was uploaded,
    never sniffed; the download goes on the request's timeline with their name. Reading it changes nothing."""
    obj = get_object_or_404(Request, pk=pk)
    if not (model_admin.has_view_permission(request, obj) and model_admin.has_download_export_permission(request)):
        raise PermissionDenied
    submission = get_object_or_404(Submission, pk=submission_id, request=obj)
    storage = proof_storage()
    if not submission.agent_proof or not storage.exists(submission.agent_proof):
        model_admin.message_user(request, "Authorization: this submission's file is no longer stored.", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:dsar_request_change", args=[pk]))
    add_event(
        obj, RequestEvent.Kind.EXPORT, f"The agent's authorization of submission {submission.pk} downloaded from the console.",
        actor=request.user,
    )
    # The stored name's extension is the one the upload's check chose from its content (dsar.submissions.PROOF_TYPES).
    extension = PurePath(submission.agent_proof).suffix or ".bin"
    response = FileResponse(
        storage.open(submission.agent_proof, "rb"),
        content_type=submission.agent_proof_type or "application/octet-stream",
        as_attachment=True,
        filename=f"request-{pk}-authorization-{submission.pk}{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)  # the person's and the agent's data: no browser or proxy keeps a copy
    return response


def buttons(model_admin: admin.ModelAdmin, request: HttpRequest, obj: Request) -> list[dict[str, Any]]:
    """The actions this user may take on this request, as buttons (a note field when needed): those that can succeed
    in its state, and, for the others that concern its type, the reason they cannot, from the services' own
    ``*_blockers`` (the rules they refuse with), so the page offers no click that would only be refused."""
    allowed = model_admin.get_actions(request)
    today = obj.account.local_date(timezone.now())
    executed = obj.executed_at is not None
    exports = obj.type in (Request.Type.ACCESS, Request.Type.PORTABILITY)
    archive = latest_archive(obj) if exports else None
    # A step already done is not offered again (the summary says who was verified, how and when).
    unverified = not obj.is_verified
    wanted: list[tuple[str, bool, Callable[[], dict[str, str]], str]] = [
        ("verify", unverified, lambda: services.request_verify_blockers(obj),
         "Verification note (how you checked who they are)"),
        ("send_code", unverified, lambda: services.request_send_code_blockers(obj), ""),
        ("extend", True, lambda: services.request_extend_blockers(obj, today=today),
         "Reason for the extension (the person is told)"),
        ("execute", obj.type != Request.Type.ERASURE and obj.type != Request.Type.RECTIFICATION and not executed,
         lambda: services.request_execute_blockers(obj), ""),
        ("generate_export", exports, lambda: export_create_blockers(obj), ""),
        ("resend_export", archive is not None, lambda: export_resend_blockers(obj, archive), ""),
        ("complete", True, lambda: services.request_complete_blockers(obj), ""),
        ("reject", True, lambda: services.request_reject_blockers(obj), "Reason for rejecting"),
    ]
    shown: list[dict[str, Any]] = []
    if obj.type == Request.Type.ERASURE and "preview_erasure" in allowed:
        blockers = services.request_execute_blockers(obj)
        if blockers:
            shown.append({"label": "Preview the erasure", "blocked": " ".join(blockers.values())})
        else:
            shown.append({
                "url": reverse("admin:dsar_request_erasure_preview", args=[obj.pk]),
                "label": "Preview the erasure" if not executed else "Preview the erasure again",
            })
    if archive is not None and model_admin.has_download_export_permission(request):
        why = export_unavailable(archive)
        label = f"Download the archive (ZIP, {filesizeformat(archive.size)})"
        if why:
            shown.append({"label": label, "blocked": why})
        else:
            shown.append({"label": label, "url": reverse("admin:dsar_request_export_download", args=[obj.pk, archive.pk])})
    closed = obj.status in Request.CLOSED
    for name, concerns, blockers_of, text in wanted:
        if not concerns or name not in allowed:
            continue
        blockers = blockers_of()
        if closed and blockers:
            continue  # a closed request says so once, in its summary, not beside every button
        label = allowed[name][2]
        if blockers:
            shown.append({"name": name, "label": label, "blocked": " ".join(blockers.values())})
        else:
            shown.append({"name": name, "label": label, "text": text})
    return shown


def verify_code_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int) -> HttpResponse:
    """The code a person reads out on the phone, typed in by the officer: checked by the same service as the API's,
    so a wrong code is counted against the same limit. Nothing runs on GET."""
    obj = get_object_or_404(Request.objects.select_related("person"), pk=pk)
    if not (model_admin.has_view_permission(request, obj) and model_admin.has_verify_identity_permission(request)):
        raise PermissionDenied
    page = HttpResponseRedirect(reverse("admin:dsar_request_change", args=[pk]))
    if request.method != "POST":
        return page
    code = request.POST.get("code", "").strip()
    if not code:
        model_admin.message_user(request, "code: type the code the person reads out.", messages.ERROR)
        return page
    try:
        services.request_verify_code(request=obj, code=code, actor=request.user)
    except ValidationError as exc:
        model_admin.message_user(request, f"code: {_errors(exc)}", messages.ERROR)
    else:
        model_admin.message_user(request, "Identity verified with the code the person read out.", messages.SUCCESS)
    return page


def export_status_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int, export_id: int) -> JsonResponse:
    """Where a portability archive is, for the request page to follow."""
    export = get_object_or_404(Export.objects.select_related("request"), pk=export_id, request_id=pk)
    if not model_admin.has_view_permission(request, export.request):
        raise PermissionDenied
    text = {
        Export.Status.PENDING: "Being built by the background worker…",
        Export.Status.READY: f"Ready: {filesizeformat(export.size)}; the link was emailed to the person.",
        Export.Status.FAILED: f"Failed: {export.error}",
        Export.Status.DELETED: "Deleted by erasure.",
    }[export.status]
    return progress_response(state=export.status, text=text, done=export.status != Export.Status.PENDING)


def export_download_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int, export_id: int) -> HttpResponse:
    """The request's archive, for a member of staff allowed to read people's data; the download goes on the
    request's timeline with their name. Reading it changes nothing, so it answers a GET."""
    obj = get_object_or_404(Request, pk=pk)
    if not (model_admin.has_view_permission(request, obj) and model_admin.has_download_export_permission(request)):
        raise PermissionDenied
    try:
        export, archive = export_open(request=obj, export_id=export_id, actor=request.user)
    except ValidationError as exc:
        model_admin.message_user(request, f"Archive: {_errors(exc)}", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:dsar_request_change", args=[pk]))
    response = FileResponse(
        archive, content_type="application/zip", as_attachment=True, filename=f"request-{pk}-data.zip"
    )
    add_never_cache_headers(response)  # the person's data: no browser or proxy keeps a copy
    return response


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
        # What the person receives: in their language, under their data sources' labels.
        response = HttpResponse(access_report_html(request=obj, report=report))
        response["Content-Disposition"] = f'attachment; filename="request-{pk}-access-report.html"'
        add_never_cache_headers(response)
        return response
    readable = readable_access_report(request=obj, report=report, for_staff=True)
    return request_page(model_admin, request, obj, "Access report", "dsar/admin/access_report.html", report=readable)


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
        if request.POST.get("action") != "declare" and not confirmed(request):
            # Redacting overwrites rows in place: the page says which and how many before it runs.
            hit = next((h for h in (obj.scan or {}).get("hits", []) if (h["table"], h["column"]) == (table, column)), None)
            if hit is None:
                form.add_error(None, f"table, column: {table}.{column} is not a hit of the last scan; it may be resolved already.")
            else:
                return request_page(
                    model_admin, request, obj, "Redact in place?", "dsar/admin/scan_hit_redact.html", hit=hit,
                )
        try:
            if form.errors:
                raise ValidationError(form.non_field_errors())
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


def start_request(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Person]) -> HttpResponse | None:
    """People's action: open a request of the chosen type and law for each, once confirmed."""
    request_type = request.POST.get("request_type", "")
    jurisdiction = request.POST.get("jurisdiction", "")
    if not request_type or not jurisdiction:
        model_admin.message_user(request, "Choose a type and a law, then run the action again.", messages.ERROR)
        return None
    law = Jurisdiction.objects.filter(pk=jurisdiction).first()
    channel = request.POST.get("channel") or Request.Channel.ADMIN
    language = request.POST.get("language", "")
    if language and language not in Request.Language.values:
        model_admin.message_user(request, f"Language: choose one of {', '.join(Request.Language.labels)}.", messages.ERROR)
        return None
    is_test = bool(request.POST.get("is_test"))
    if not confirmed(request):
        kind = dict(Request.Type.choices).get(request_type, request_type)
        page = Confirmation(
            title=f"Open {str(kind).lower()} requests under {law or jurisdiction} for these people?",
            happens=[
                "A request is opened for each person: its legal deadline starts counting today.",
                "It still needs the person's identity verified before anything is done with their data.",
                "What the person receives is written in "
                + (dict(Request.Language.choices)[language] if language else "each account's language")
                + ".",
                *(["Each is marked as a test request: it runs as any other, and is left out of the yearly metrics."]
                  if is_test else []),
            ],
            cannot_be_undone="a request is the proof that it was answered: it is closed (completed or rejected), "
            "never deleted.",
            rows=[
                Row(
                    person,
                    [person.account, ", ".join(str(r) for r in person.requests.open().filter(type=request_type)) or "—"],
                    reverse("admin:dsar_person_change", args=[person.pk]),
                )
                for person in queryset.select_related("account")
            ],
            columns=["Account", f"Open {str(kind).lower()} requests already"],
        )
        return confirmation_page(model_admin, request, page)

    def start(person: Person) -> str:
        created = services.request_create(
            account=person.account,
            person=person,
            type=request_type,
            jurisdiction=law or jurisdiction,
            channel=channel,
            language=language,
            is_test=is_test,
            actor=request.user,
        )
        moved = f" ({created.due_note})" if created.due_note else ""
        return f"request {created.pk} opened, due {created.due_at.isoformat()}{moved}"

    run_per_item(model_admin, request, queryset.select_related("account"), "started", start)
    return None


def _text(request: HttpRequest) -> str:
    return request.POST.get("text", "").strip()


def _rows(queryset: QuerySet[Request], *extra: tuple[str, Callable[[Request], Any]]) -> Confirmation:
    """Columns and rows of the requests an action will act on: what, under which law, where it stands, due when."""
    columns = ["Type", "Law", "Status", "Due", *(label for label, _ in extra)]
    rows = [
        Row(
            r,
            [r.get_type_display(), r.jurisdiction, r.get_status_display(), r.due_at, *(cell(r) for _, cell in extra)],
            reverse("admin:dsar_request_change", args=[r.pk]),
        )
        for r in queryset.select_related("jurisdiction", "person", "account")
    ]
    return Confirmation(title="", happens=[], cannot_be_undone="", rows=rows, columns=columns)


def _ask(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Request],
    *,
    title: str,
    happens: list[str],
    cannot_be_undone: str,
    note: str = "",
    extra: tuple[tuple[str, Callable[[Request], Any]], ...] = (),
) -> HttpResponse:
    """The confirmation page of a request action (core/confirmation.py): nothing has run yet."""
    page = _rows(queryset, *extra)
    page.title, page.happens, page.cannot_be_undone, page.note = title, happens, cannot_be_undone, note
    return confirmation_page(model_admin, request, page)


def _email_on_record(r: Request) -> str:
    return "yes" if r.person and r.person.email else "no: nothing can be sent"


def verify(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
    if not confirmed(request):
        return _ask(
            model_admin, request, queryset,
            title="Mark the identity of these requests' people as verified?",
            happens=[
                "Each request is recorded as verified by you, with your note, on its timeline and in its history.",
                "A verified request can then be executed: its data reported, exported or erased.",
            ],
            cannot_be_undone="a verification stays on the request; it is not withdrawn.",
            note="Verification note (how you checked who they are)",
        )
    note = _text(request)
    run_per_item(
        model_admin,
        request,
        queryset,
        "verified",
        lambda r: services.request_verify_manually(request=r, note=note, actor=request.user),
    )
    return None


def send_code(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
    if not confirmed(request):
        return _ask(
            model_admin, request, queryset,
            title="Email a new verification code to these requests' people?",
            happens=["Each person gets an email with a new one-time code at their address on record; "
                     "the codes sent before stop working."],
            cannot_be_undone="an email once sent cannot be recalled.",
            extra=(("Email on record", _email_on_record),),
        )
    run_per_item(
        model_admin, request, queryset, "code sent", lambda r: services.request_send_code(request=r, actor=request.user)
    )
    return None


def extend(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
    if not confirmed(request):
        return _ask(
            model_admin, request, queryset,
            title="Extend the deadline of these requests?",
            happens=[
                "Each deadline moves by what the request's law allows, counted from receipt.",
                "Each person is emailed the new deadline and your reason.",
            ],
            cannot_be_undone="a deadline is extended once and is not shortened back; the email cannot be recalled.",
            note="Reason for the extension (the person is told)",
            extra=(("Email on record", _email_on_record),),
        )
    reason = _text(request)

    def act(r: Request) -> str:
        services.request_extend(request=r, reason=reason, actor=request.user)
        r.refresh_from_db()
        return f"extended to {r.due_at.isoformat()}" + (f" ({r.due_note})" if r.due_note else "")

    related = ("account__home_region", "jurisdiction", "person")
    run_per_item(model_admin, request, queryset.select_related(*related), "extended", act)
    return None


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


#: What executing does, by type, said on the confirmation page.
EXECUTES = {
    Request.Type.ACCESS: "Access: the access report is produced and the request recorded as answered.",
    Request.Type.PORTABILITY: "Portability: an archive of the person's data is built and a download link emailed to them.",
    Request.Type.OBJECTION: "Objection: the person is excluded from every marketing use from now, and the request completed.",
    Request.Type.RECTIFICATION: "Rectification: nothing runs here; correct the person's data from the request.",
}


def _erasure_from_its_preview(request: HttpRequest, r: Request) -> bool:
    """Whether this is the erasure's own confirmation: its preview page's button, for this one request.

    An erasure is never executed from the list, even confirmed. Each is signed off on its own preview: what it erases
    by category, what it keeps and why, what outlives it (backups, kept numbers) and what a hold keeps, for one
    person. A privacy officer answers for each erasure (the certificate names who executed it); counts of many
    people side by side invite approving them as a batch. So the list sends each erasure to its preview."""
    return r.type == Request.Type.ERASURE and request.POST.get("_request_action") == "execute"


def execute(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
    chosen = list(queryset.select_related("person", "account", "jurisdiction"))
    erasures = [r for r in chosen if r.type == Request.Type.ERASURE]
    if not confirmed(request):
        if len(chosen) == 1 and erasures:
            # One erasure, from the list or its page: its preview is its confirmation page.
            return HttpResponseRedirect(reverse("admin:dsar_request_erasure_preview", args=[erasures[0].pk]))
        page = _rows(queryset)
        for row in page.rows:
            if row.item.type == Request.Type.ERASURE:
                row.url = reverse("admin:dsar_request_erasure_preview", args=[row.item.pk])
                row.refused = "An erasure is not executed from the list: follow its name to its preview, and execute it there."
        page.title = "Execute these requests?" if len(erasures) < len(chosen) else "Execute each erasure from its preview"
        page.happens = [EXECUTES[kind] for kind in dict.fromkeys(r.type for r in chosen) if kind in EXECUTES]
        if erasures:
            page.happens.append(
                f"{len(erasures)} erasure{'s' if len(erasures) != 1 else ''} below {'is' if len(erasures) == 1 else 'are'} "
                "not executed here: each is signed off on its own preview (what it erases, keeps and leaves behind)."
            )
        page.cannot_be_undone = "a report produced, an archive sent or an objection recorded stays so; emails cannot be recalled."
        return confirmation_page(model_admin, request, page)
    for r in chosen:
        if r.type == Request.Type.ERASURE and not _erasure_from_its_preview(request, r):
            url = reverse("admin:dsar_request_erasure_preview", args=[r.pk])
            model_admin.message_user(
                request,
                format_html('{}: not executed: an erasure runs from <a href="{}">its preview</a>.', r, url),
                messages.ERROR,
            )
            continue
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
    return None


def generate_export(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]
) -> HttpResponse | None:
    if not confirmed(request):
        return _ask(
            model_admin, request, queryset,
            title="Build an archive of these requests' people's data and email it to them?",
            happens=["An archive (JSON and CSV) of each person's data is built in the background; a download link, "
                     "which expires, is emailed to the person's address on record."],
            cannot_be_undone="the person's data leaves with the link; an email cannot be recalled.",
            extra=(("Email on record", _email_on_record),),
        )
    run_per_item(
        model_admin,
        request,
        queryset.select_related("person"),
        "export queued",
        lambda r: f"export {export_create(request=r, actor=request.user).pk} queued",
    )
    return None


def resend_export(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]
) -> HttpResponse | None:
    if not confirmed(request):
        return _ask(
            model_admin, request, queryset,
            title="Email the link to these requests' archives again?",
            happens=["Each person gets a new email with a link to the archive already built; it expires when the "
                     "archive does. Nothing is built again."],
            cannot_be_undone="the person's data leaves with the link; an email cannot be recalled.",
            extra=(("Email on record", _email_on_record),),
        )

    def act(r: Request) -> str:
        export = export_resend(request=r, actor=request.user)
        return f"link to export {export.pk} emailed again"

    run_per_item(model_admin, request, queryset.select_related("person"), "link sent", act)
    return None


def complete(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
    if not confirmed(request):
        return _ask(
            model_admin, request, queryset,
            title="Complete these requests?",
            happens=[
                "Each request is closed as completed, with you as the one who closed it.",
                "An erasure keeps its certificate (counts, not data); the identifiers kept for its scan are dropped.",
            ],
            cannot_be_undone="a completed request is not reopened; the identifiers dropped are gone.",
        )
    run_per_item(
        model_admin, request, queryset, "completed", lambda r: services.request_complete(request=r, actor=request.user)
    )
    return None


def reject(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
    page = _rows(queryset)
    page.title = "Reject these requests?"
    page.happens = [
        "Each request is closed as rejected, with the denial reason and your words on its timeline and in its history.",
        "Each person with an email on record is told why: the denial reason in plain words in their language, then "
        "your words as you write them.",
    ]
    page.cannot_be_undone = "a rejected request is not reopened: the person has to make a new one."
    page.choice, page.choice_field, page.choices = "Denial reason", "denial_reason", Request.DenialReason.choices
    page.note = "Reason for rejecting (the person reads it)"
    page.note_missing = "Reason for rejecting: required; the person is told it."
    form = page.form(request)
    if not form.is_valid():  # the first click, or a confirmation without a reason: the page (again)
        return confirmation_page(model_admin, request, page, form)
    reason, denial_reason = form.cleaned_data["text"], form.cleaned_data["denial_reason"]
    run_per_item(
        model_admin,
        request,
        queryset,
        "rejected",
        lambda r: services.request_reject(request=r, reason=reason, denial_reason=denial_reason, actor=request.user),
    )
    return None


# --- the yearly metrics (dsar/metrics.py) ---


def _metrics_asked(request: HttpRequest) -> tuple[int, Account | None, dict[str, str]]:
    """The year and account the page or its CSV is asked for, and what was refused (field → why): a bad year
    falls back to this one, an unknown account to every account, each said beside its field."""
    errors: dict[str, str] = {}
    year = timezone.localdate().year
    asked_year = request.GET.get("year", "").strip()
    if asked_year:
        try:
            year = check_year(asked_year)
        except ValidationError as exc:
            errors["year"] = " ".join(exc.message_dict["year"])
    account = None
    asked_account = request.GET.get("account", "").strip()
    if asked_account:
        account = Account.objects.filter(pk=int(asked_account)).first() if asked_account.isdigit() else None
        if account is None:
            errors["account"] = f"No account with id {asked_account!r}; showing every account."
    return year, account, errors


def metrics_chart(law: LawMetrics) -> Chart:
    """One law's requests of the year by type: complied with, denied, withdrawn and open stacked (the stack is
    what was received), with the median days to answer under each type."""
    return Chart(
        title=f"{law.name}: requests received by type, and what became of them",
        labels=[figures.label for figures in law.types],
        series={
            "complied with": [figures.complied for figures in law.types],
            "denied": [figures.denied for figures in law.types],
            "withdrawn": [figures.withdrawn for figures in law.types],
            "still open": [figures.open for figures in law.types],
        },
        line=("median days to answer", [figures.median_days for figures in law.types]),
        axis="request type",
        empty="No request received",
    )


def metrics_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """The yearly request metrics (CCPA regulations §7102): a table and a chart per law, for every account or
    one; ``?format=csv`` downloads the same figures. Reading requests is all it needs; it changes nothing."""
    if not model_admin.has_read_request_permission(request):
        raise PermissionDenied
    year, account, errors = _metrics_asked(request)
    if request.GET.get("format") == "csv":
        if errors:
            return HttpResponse(
                "\n".join(f"{name}: {why}" for name, why in errors.items()), status=400, content_type="text/plain"
            )
        metrics = request_metrics(year=year, account=account)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        suffix = f"-account-{account.pk}" if account else ""
        response["Content-Disposition"] = f'attachment; filename="request-metrics-{year}{suffix}.csv"'
        write_csv(metrics, response)
        return response
    metrics = request_metrics(year=year, account=account)
    query = urlencode({"year": year, **({"account": account.pk} if account else {}), "format": "csv"})
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Request metrics for {year}",
        "opts": model_admin.model._meta,
        "metrics": metrics,
        "laws": [(law, bar_chart(metrics_chart(law))) for law in metrics.laws],
        "reasons": Request.DenialReason.choices,
        "years": list(range(timezone.localdate().year, FIRST_YEAR - 1, -1)),
        "year": year,
        "account": account,
        "accounts": Account.objects.order_by("name").values_list("pk", "name"),
        "errors": errors,
        "csv_url": f"{reverse('admin:dsar_request_metrics')}?{query}",
    }
    return TemplateResponse(request, "dsar/admin/metrics.html", context)
