"""The console: people (with their requests and "start a request"), requests (timeline, days left, and the
actions that call the same services as the API and the commands)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html, format_html_join

from core.admin import HistoryAdmin, posted_changes
from core.progress import progress_response
from dsar import services
from dsar.exports import export_create
from dsar.models import (
    ErasureProgress,
    Export,
    Jurisdiction,
    Person,
    Request,
    RequestEvent,
)
from dsar.report import access_report_html, readable_access_report, request_access_report
from dsar.summary import request_summary
from residency.snapshot import parse_as_of

logger = logging.getLogger(__name__)


def _errors(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _run_per_item(
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


@admin.register(Jurisdiction)
class JurisdictionAdmin(HistoryAdmin):
    list_display = ["name", "code", "period", "period_unit", "extension", "extension_unit", "moves_to_working_day"]
    search_fields = ["name", "code"]


class StartRequestForm(helpers.ActionForm):
    request_type = forms.ChoiceField(choices=[("", "— type —"), *Request.Type.choices], required=False, label="Type")
    jurisdiction = forms.ModelChoiceField(Jurisdiction.objects.all(), required=False, empty_label="— law —")
    channel = forms.ChoiceField(choices=Request.Channel.choices, required=False, initial=Request.Channel.ADMIN)


class PersonRequestInline(admin.TabularInline):
    model = Request
    fields = ["link", "type", "jurisdiction", "status", "received_at", "due_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Request")
    def link(self, obj: Request) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:dsar_request_change", args=[obj.pk]), obj)


@admin.register(Person)
class PersonAdmin(HistoryAdmin):
    list_display = ["__str__", "kind", "email", "phone", "account", "objected_to_marketing_at"]
    list_filter = ["kind", "account", ("objected_to_marketing_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "email", "phone", "external_id"]
    list_select_related = ["account"]
    readonly_fields = ["objected_to_marketing_at", "objection_request", "created_at"]
    inlines = [PersonRequestInline]
    action_form = StartRequestForm
    actions = ["start_request"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A person is removed by an erasure request, which also cleans every other store and the history.
        return False

    def _holds(self, request: HttpRequest, person: Person | None) -> list[str]:
        """The holds that freeze ``person``, read once per request (the page asks for them several times)."""
        if person is None or person.pk is None:
            return []
        known = request.__dict__.setdefault("_person_holds", {})
        if person.pk not in known:
            known[person.pk] = services.person_holds(person)
        return known[person.pk]

    def get_fields(self, request: HttpRequest, obj: Person | None = None) -> list[str]:
        fields = list(super().get_fields(request, obj))
        return ["legal_hold", *[name for name in fields if name != "legal_hold"]] if self._holds(request, obj) else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Person | None = None) -> list[str]:
        # Once a person exists, their identifiers change only through a rectification request, which
        # records why; an erasure later looks for every earlier value in the history.
        if obj is None:
            return list(self.readonly_fields)
        if self._holds(request, obj):
            return ["legal_hold", *Person.HELD_FIELDS, *self.readonly_fields]
        return [*services.RECTIFIABLE_FIELDS, *self.readonly_fields]

    @admin.display(description="legal hold")
    def legal_hold(self, person: Person) -> str:
        return format_html(
            "{}.<br>Frozen until then: {}; nor can the person be deleted.",
            services.person_hold_notice(services.person_holds(person)),
            ", ".join(Person.HELD_FIELDS),
        )

    def get_form(self, request: HttpRequest, obj: Person | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if not self._holds(request, obj):
            return form
        model_admin = self

        class HeldPersonForm(form):  # type: ignore[misc, valid-type]
            def clean(self) -> dict:
                data = super().clean()
                # Shown read-only; a POST that changes them anyway is refused by the rule every path applies.
                attempted = posted_changes(model_admin, request, self.instance, Person.HELD_FIELDS)
                try:
                    services.person_check_change(self.instance, attempted)
                except services.PersonHeld as held:
                    raise forms.ValidationError(str(held)) from held
                return data

        return HeldPersonForm

    def save_model(self, request: HttpRequest, obj: Person, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        services.person_update(
            person_id=obj.pk, changes={name: form.cleaned_data[name] for name in form.changed_data}, actor=request.user
        )

    def has_start_request_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("dsar.add_request")

    @admin.action(description="Start a request for the selected people (choose type and law)", permissions=["start_request"])
    def start_request(self, request: HttpRequest, queryset: QuerySet[Person]) -> None:
        request_type = request.POST.get("request_type", "")
        jurisdiction = request.POST.get("jurisdiction", "")
        if not request_type or not jurisdiction:
            self.message_user(request, "Choose a type and a law, then run the action again.", messages.ERROR)
            return
        law = Jurisdiction.objects.filter(pk=jurisdiction).first()
        channel = request.POST.get("channel") or Request.Channel.ADMIN

        def start(person: Person) -> str:
            created = services.request_create(
                account=person.account,
                person=person,
                type=request_type,
                jurisdiction=law or jurisdiction,
                channel=channel,
                actor=request.user,
            )
            moved = f" ({created.due_note})" if created.due_note else ""
            return f"request {created.pk} opened, due {created.due_at.isoformat()}{moved}"

        _run_per_item(self, request, queryset.select_related("account"), "started", start)


class DeadlineFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "deadline"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("overdue", "Overdue"), ("week", "Due within 7 days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Request]) -> QuerySet[Request]:
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.overdue(today)
        if self.value() == "week":
            return queryset.due_within(today, 7)
        return queryset


class RequestActionForm(helpers.ActionForm):
    text = forms.CharField(required=False, label="Note / reason", widget=forms.TextInput(attrs={"size": 40}))


class EventInline(admin.TabularInline):
    model = RequestEvent
    fields = ["at", "kind", "actor", "message"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "timeline"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ErasureProgressInline(admin.TabularInline):
    model = ErasureProgress
    fields = ["step", "source", "counts", "finished_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ExportInline(admin.TabularInline):
    model = Export
    fields = ["progress", "created_at", "ready_at", "expires_at", "size", "counts", "downloads_count"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Downloads")
    def downloads_count(self, export: Export) -> int:
        return export.downloads.count()

    @admin.display(description="Status")
    def progress(self, export: Export) -> str:
        """The archive's state, followed on the page while it is being built (core/progress.js)."""
        if export.status != Export.Status.PENDING:
            return export.get_status_display()
        url = reverse("admin:dsar_request_export_status", args=[export.request_id, export.pk])
        return format_html(
            '<span aria-live="polite" data-state="{}" data-status-url="{}">{}…</span>',
            export.status, url, export.get_status_display(),
        )


@admin.register(Request)
class RequestAdmin(HistoryAdmin):
    list_display = [
        "__str__",
        "account",
        "type",
        "jurisdiction",
        "status",
        "received_at",
        "due_at",
        "days_left",
        "assignee",
    ]
    list_filter = [DeadlineFilter, "type", "jurisdiction", "status", "assignee"]
    list_select_related = ["account", "jurisdiction", "assignee"]
    search_fields = ["=id", "person__email", "person__phone", "person__name"]
    date_hierarchy = "received_at"
    fieldsets = [
        ("Who and what", {"fields": ["account", "person", "type", "jurisdiction", "channel", "received_at"]}),
        ("Deadline", {"fields": [
            "due_at", "due_note", "days_left", "first_due_at", "extended_at", "extension_reason",
            "extension_notified_at",
        ]}),
        ("Identity", {"fields": ["verified_at", "verification_method"]}),
        ("Progress", {"fields": ["status", "status_reason", "assignee", "executed_at", "completed_at", "links"]}),
        ("Proof", {"fields": ["certificate_display", "scan_display"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"] if name != "assignee"]
    inlines = [EventInline, ErasureProgressInline, ExportInline]
    action_form = RequestActionForm
    change_form_template = "dsar/admin/request_change_form.html"

    class Media:
        # Asks before an action that cannot be undone (data-confirm on its form); follows archives being built.
        js = ["dsar/confirm.js", "core/progress.js"]
    actions = ["verify", "send_code", "extend", "preview_erasure", "execute", "generate_export", "complete", "reject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Requests start from a person ("Start a request"), or from the API's intake.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the request is the proof that it was answered

    @admin.display(description="Days left", ordering="due_at")
    def days_left(self, obj: Request) -> str:
        today = timezone.localdate()
        if obj.status in Request.CLOSED:
            return "—"
        left = obj.days_left(today)
        if left < 0:
            return format_html('<strong style="color:#ba2121">{} overdue</strong>', -left)
        if left <= 7:
            return format_html('<span style="color:#b36b00">{}</span>', left)
        return str(left)

    @admin.display(description="Pages")
    def links(self, obj: Request) -> str:
        if obj.pk is None:
            return "—"
        links = [
            ("Access report", reverse("admin:dsar_request_report", args=[obj.pk])),
            ("JSON", reverse("admin:dsar_request_report", args=[obj.pk]) + "?format=json"),
            ("HTML download", reverse("admin:dsar_request_report", args=[obj.pk]) + "?format=html"),
        ]
        if obj.type == Request.Type.ACCESS and obj.executed_at:
            # Where the data was, from the catalog in force, when the request was answered.
            answered = urlencode({"as_of": obj.executed_at.isoformat()})
            links.insert(1, ("as when answered", reverse("admin:dsar_request_report", args=[obj.pk]) + f"?{answered}"))
        if obj.type == Request.Type.RECTIFICATION:
            links.append(("Correct the person's data", reverse("admin:dsar_request_rectify", args=[obj.pk])))
        if obj.type == Request.Type.ERASURE and obj.scan and obj.scan.get("undeclared") and obj.subject:
            links.append(("Resolve the scan's hits", reverse("admin:dsar_request_scan_hits", args=[obj.pk])))
        return format_html_join(" · ", '<a href="{}">{}</a>', ((url, label) for label, url in links))

    @admin.display(description="Certificate")
    def certificate_display(self, obj: Request) -> str:
        if not obj.certificate:
            return "—"
        return render_to_string("dsar/admin/certificate.html", {"certificate": obj.certificate})

    @admin.display(description="Verification scan")
    def scan_display(self, obj: Request) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.scan, indent=2)) if obj.scan else "—"

    def save_model(self, request: HttpRequest, obj: Request, form: Any, change: bool) -> None:
        if change and "assignee" in form.changed_data:
            services.request_assign(request=obj, assignee=obj.assignee, actor=request.user)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view

        # Actions run outside the per-request transaction: each erasure step commits with its progress, so
        # an execution interrupted in the console resumes where it stopped. Every action calls services that
        # open their own transactions, and the list has no bulk deletion or inline editing.
        @transaction.non_atomic_requests
        def changelist(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
            return self.changelist_view(request, extra_context)

        # The request page runs the same actions from its buttons; the form's own save is atomic in Django.
        @transaction.non_atomic_requests
        def change(request: HttpRequest, object_id: str) -> HttpResponse:
            return self.change_view(request, object_id)

        return [
            path("", view(changelist), name="dsar_request_changelist"),
            path("<path:object_id>/change/", view(change), name="dsar_request_change"),
            path("<int:pk>/report/", view(self.report_view), name="dsar_request_report"),
            path("<int:pk>/rectify/", view(self.rectify_view), name="dsar_request_rectify"),
            path("<int:pk>/scan-hits/", view(self.scan_hits_view), name="dsar_request_scan_hits"),
            path("<int:pk>/erasure-preview/", view(self.erasure_preview_view), name="dsar_request_erasure_preview"),
            path(
                "<int:pk>/exports/<int:export_id>/status/",
                view(self.export_status_view),
                name="dsar_request_export_status",
            ),
            *super().get_urls(),
        ]

    # --- the request page: the request read top to bottom, its actions as buttons ---

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The request page; a POST naming ``_request_action`` runs that action (if the user may) on this request."""
        name = request.POST.get("_request_action") if request.method == "POST" else None
        if name:
            obj = self.get_object(request, object_id)
            actions = self.get_actions(request)
            if obj is None or name not in actions:
                raise PermissionDenied
            # Outside a request transaction (see get_urls): each erasure step commits with its progress.
            actions[name][0](self, request, Request.objects.filter(pk=obj.pk))
            return HttpResponseRedirect(reverse("admin:dsar_request_change", args=[obj.pk]))
        obj = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if obj is not None:
            # Days left as the account counts them: its deadline is in its own days.
            extra["summary"] = request_summary(obj, today=obj.account.local_date(timezone.now()))
            extra["buttons"] = self._buttons(request, obj)
        return super().change_view(request, object_id, form_url, extra)

    def _buttons(self, request: HttpRequest, obj: Request) -> list[dict[str, Any]]:
        """The actions this user may take on this request in its state, as buttons (a note field when needed)."""
        allowed = self.get_actions(request)
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
        buttons = []
        if obj.type == Request.Type.ERASURE and open_ and verified and "preview_erasure" in allowed:
            buttons.append({
                "url": reverse("admin:dsar_request_erasure_preview", args=[obj.pk]),
                "label": "Preview the erasure" if not executed else "Preview the erasure again",
            })
        for name, applies, text, confirm in wanted:
            if applies and name in allowed:
                buttons.append({"name": name, "label": allowed[name][2], "text": text, "confirm": confirm})
        return buttons

    def export_status_view(self, request: HttpRequest, pk: int, export_id: int) -> JsonResponse:
        """Where a portability archive is, for the request page to follow."""
        export = get_object_or_404(Export.objects.select_related("request"), pk=export_id, request_id=pk)
        if not self.has_view_permission(request, export.request):
            raise PermissionDenied
        text = {
            Export.Status.PENDING: "Being built by the background worker…",
            Export.Status.READY: f"Ready: {export.size:,} bytes; the link was emailed to the person.",
            Export.Status.FAILED: f"Failed: {export.error}",
            Export.Status.DELETED: "Deleted by erasure.",
        }[export.status]
        return progress_response(state=export.status, text=text, done=export.status != Export.Status.PENDING)

    def erasure_preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """What the erasure will erase, keep and leave behind, with the button that executes it."""
        obj = get_object_or_404(Request.objects.select_related("person", "account", "jurisdiction"), pk=pk)
        if not (self.has_view_permission(request, obj) and self.has_execute_erasure_permission(request)):
            raise PermissionDenied
        try:
            preview = services.request_erasure_preview(request=obj, actor=request.user)
        except ValidationError as exc:
            self.message_user(request, _errors(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:dsar_request_change", args=[pk]))
        return self._request_page(request, obj, "Erasure preview", "dsar/admin/erasure_preview.html", preview=preview)

    def _request_page(
        self, request: HttpRequest, obj: Request, crumb: str, template: str, **context: Any
    ) -> HttpResponse:
        """A page about one request, under it in the breadcrumbs (dsar/admin/request_page.html)."""
        context = {
            **self.admin_site.each_context(request),
            "title": f"{crumb} · {obj}",
            "crumb": crumb,
            "opts": self.model._meta,
            "original": obj,
            **context,
        }
        return TemplateResponse(request, template, context)

    # --- who may do what (core/roles.py); each action and page below checks one of these ---

    def has_verify_identity_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("dsar.verify_identity")

    def has_execute_erasure_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("dsar.execute_erasure")

    def has_execute_request_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("dsar.execute_request")

    def has_execute_permission(self, request: HttpRequest) -> bool:
        """Executing needs the permission of the request's type, checked per request; either lets the action show.
        It writes to the person (the erasure's letter, the archive's link), so reading requests is needed too."""
        may_execute = self.has_execute_erasure_permission(request) or self.has_execute_request_permission(request)
        return may_execute and self.has_read_request_permission(request)

    def has_download_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("dsar.download_export")

    def has_read_request_permission(self, request: HttpRequest) -> bool:
        """Reading requests, as such (Django lets a change permission stand for a view one): what every action that
        writes to the person about their request needs too, as ``requests:read`` does in the API."""
        return request.user.has_perm("dsar.view_request")

    # An action's permissions are alternatives to Django (any one shows it): those needing several combine them here.

    def has_extend_permission(self, request: HttpRequest) -> bool:
        """Extending tells the person: changing requests and reading them."""
        return self.has_change_permission(request) and self.has_read_request_permission(request)

    def has_generate_export_permission(self, request: HttpRequest) -> bool:
        """The archive emailed to the person is their data: executing requests, reading them and people's data."""
        return (
            self.has_execute_request_permission(request)
            and self.has_read_request_permission(request)
            and self.has_download_export_permission(request)
        )

    def report_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(Request.objects.select_related("account", "jurisdiction", "person"), pk=pk)
        # The report is the person's data: reading it is a download of personal data.
        if not (self.has_view_permission(request, obj) and self.has_download_export_permission(request)):
            raise PermissionDenied
        try:
            report = request_access_report(request=obj, as_of=parse_as_of(request.GET.get("as_of")))
        except ValidationError as exc:
            self.message_user(request, _errors(exc), messages.ERROR)
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
        return self._request_page(request, obj, "Access report", "dsar/admin/access_report.html", report=readable)

    def rectify_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(Request.objects.select_related("person"), pk=pk)
        # The page shows the person's data and can email it to them: reading both is needed as well as changing.
        may_read = self.has_read_request_permission(request) and request.user.has_perm("dsar.view_person")
        if not (may_read and self.has_change_permission(request, obj) and request.user.has_perm("dsar.change_person")):
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
                self.message_user(
                    request,
                    f"Corrected: {', '.join(changed) or 'nothing changed'}"
                    + ("; data sent to the person." if send else "."),
                )
                return HttpResponseRedirect(reverse("admin:dsar_request_change", args=[pk]))
        return self._request_page(request, obj, "Correct the person's data", "dsar/admin/rectify.html", form=form)

    def scan_hits_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The undeclared hits of an erasure's last scan, each to redact in place or declare retained."""
        obj = get_object_or_404(Request, pk=pk)
        if not (self.has_read_request_permission(request) and self.has_execute_erasure_permission(request)):
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
                self.message_user(request, f"Scanned again: {result.undeclared} undeclared hit(s) left.")
                return HttpResponseRedirect(reverse("admin:dsar_request_scan_hits", args=[pk]))
        obj.refresh_from_db()
        hits = [hit for hit in (obj.scan or {}).get("hits", []) if not hit["declared"]] if obj.subject else []
        return self._request_page(
            request, obj, "Scan hits", "dsar/admin/scan_hits.html",
            hits=hits, auto=settings.DSAR_ERASURE_FINALIZATION == "auto", form=form,
        )

    # --- actions: each calls the same service as the API and the commands, and reports per request ---

    def _text(self, request: HttpRequest) -> str:
        return request.POST.get("text", "").strip()

    @admin.action(description="Verify identity manually (note required)", permissions=["verify_identity"])
    def verify(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        note = self._text(request)
        _run_per_item(
            self,
            request,
            queryset,
            "verified",
            lambda r: services.request_verify_manually(request=r, note=note, actor=request.user),
        )

    @admin.action(description="Send a new verification code to the person's email on record", permissions=["change"])
    def send_code(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        _run_per_item(
            self, request, queryset, "code sent", lambda r: services.request_send_code(request=r, actor=request.user)
        )

    @admin.action(description="Extend the deadline (reason required; the person is told)", permissions=["extend"])
    def extend(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        reason = self._text(request)

        def act(r: Request) -> str:
            services.request_extend(request=r, reason=reason, actor=request.user)
            r.refresh_from_db()
            return f"extended to {r.due_at.isoformat()}" + (f" ({r.due_note})" if r.due_note else "")

        related = ("account__home_region", "jurisdiction", "person")
        _run_per_item(self, request, queryset.select_related(*related), "extended", act)

    @admin.action(description="Preview erasure", permissions=["execute_erasure"])
    def preview_erasure(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
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

        _run_per_item(self, request, queryset.select_related("person"), "previewed", act)

    @admin.action(description="Execute", permissions=["execute"])
    def execute(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        for r in queryset.select_related("person", "account", "jurisdiction"):
            allowed = (
                self.has_execute_erasure_permission(request)
                if r.type == Request.Type.ERASURE
                else self.has_execute_request_permission(request)
            )
            if not allowed:
                self.message_user(
                    request, f"{r}: not executed: you may not execute {r.get_type_display().lower()} requests.", messages.ERROR
                )
                continue
            if r.type == Request.Type.PORTABILITY and not self.has_download_export_permission(request):
                # The archive emailed to the person is their personal data, as an access report is.
                self.message_user(
                    request, f"{r}: not executed: you may not read people's data (dsar.download_export).", messages.ERROR
                )
                continue
            try:
                outcome = services.request_execute(request=r, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{r}: not executed: {_errors(exc)}", messages.ERROR)
                continue
            except Exception as exc:  # a source failed mid-way: what finished is stored, the rest is not
                logger.exception("Executing request %s failed", r.pk)
                self.message_user(
                    request,
                    f"{r}: stopped by an error ({exc}); the finished steps are kept, execute again to resume.",
                    messages.ERROR,
                )
                continue
            if outcome and outcome.blocked:
                self.message_user(request, f"{r}: refused, now waiting: {'; '.join(outcome.blocked)}", messages.WARNING)
            elif outcome and outcome.scan is not None:
                level = messages.SUCCESS if not outcome.scan.undeclared else messages.WARNING
                self.message_user(
                    request,
                    f"{r}: {outcome.erased} record(s) erased in {len(outcome.ran)} step(s) "
                    f"({outcome.skipped} already done); scan: {outcome.scan.undeclared} undeclared hit(s).",
                    level,
                )
            else:
                self.message_user(request, f"{r}: executed.", messages.SUCCESS)

    @admin.action(description="Generate export (emailed to the person)", permissions=["generate_export"])
    def generate_export(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        _run_per_item(
            self,
            request,
            queryset.select_related("person"),
            "export queued",
            lambda r: f"export {export_create(request=r, actor=request.user).pk} queued",
        )

    @admin.action(description="Complete", permissions=["change"])
    def complete(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        _run_per_item(
            self, request, queryset, "completed", lambda r: services.request_complete(request=r, actor=request.user)
        )

    @admin.action(description="Reject (reason required)", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Request]) -> None:
        reason = self._text(request)
        _run_per_item(
            self,
            request,
            queryset,
            "rejected",
            lambda r: services.request_reject(request=r, reason=reason, actor=request.user),
        )


class RectifyForm(forms.Form):
    kind = forms.ChoiceField(choices=Person.Kind.choices)
    name = forms.CharField(required=False, max_length=200)
    email = forms.EmailField(required=False)
    phone = forms.CharField(required=False, max_length=16, help_text="E.164, e.g. +46701234567.")
    external_id = forms.CharField(required=False, max_length=100)
    send_to_person = forms.BooleanField(required=False, label="Email the corrected data to the person")
