"""The console: people (with their requests and "start a request"), requests (timeline, days left, and the
actions that call the same services as the API and the commands)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from core.admin import HistoryAdmin, posted_changes
from core.documents import DOCUMENT_FORMATS, document_response
from dsar import admin_pages as pages
from dsar import drp, services
from dsar.list_filters import AttentionFilter
from dsar.models import (
    DrpAgent,
    ErasureProgress,
    Export,
    Jurisdiction,
    Person,
    PrivacyCenter,
    Request,
    RequestEvent,
)
from dsar.words import named_counts


@admin.register(Jurisdiction)
class JurisdictionAdmin(HistoryAdmin):
    list_display = ["name", "code", "period", "period_unit", "extension", "extension_unit", "moves_to_working_day"]
    search_fields = ["name", "code"]


@admin.register(PrivacyCenter)
class PrivacyCenterAdmin(HistoryAdmin):
    """An account's privacy center: its address, whether it takes requests, the law of people who live where none
    of the product's laws applies, and the days an erasure waits for the person to change their mind."""

    list_display = ["__str__", "account", "is_open", "default_jurisdiction", "erasure_grace_days", "page"]
    list_filter = ["is_open", "default_jurisdiction"]
    list_select_related = ["account", "default_jurisdiction"]
    search_fields = ["slug", "account__name"]
    fields = ["account", "slug", "is_open", "default_jurisdiction", "erasure_grace_days", "page", "created_at"]
    readonly_fields = ["page", "created_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Its address is in emails already sent; closing it (is_open) is how it stops taking requests.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: PrivacyCenter | None = None) -> list[str]:
        # The account is the center's for good: requests and emailed links name it.
        return [*self.readonly_fields, "account"] if obj is not None else list(self.readonly_fields)

    @admin.display(description="Page")
    def page(self, obj: PrivacyCenter) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("privacy:center", kwargs={"slug": obj.slug})
        return format_html('<a href="{}">{}</a>', url, url)


class StartRequestForm(helpers.ActionForm):
    request_type = forms.ChoiceField(choices=[("", "— type —"), *Request.Type.choices], required=False, label="Type")
    jurisdiction = forms.ModelChoiceField(Jurisdiction.objects.all(), required=False, empty_label="— law —")
    channel = forms.ChoiceField(choices=Request.Channel.choices, required=False, initial=Request.Channel.ADMIN)
    # What the person receives is written in this language; "the account's" follows the account's country. Checked
    # by the action (a ChoiceField's refusal would read "No action selected", naming nothing).
    language = forms.CharField(
        required=False,
        label="Language",
        widget=forms.Select(choices=[("", "— the account's language —"), *Request.Language.choices]),
    )
    is_test = forms.BooleanField(required=False, label="Test request (left out of the yearly metrics)")


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
        if obj is None:
            return form
        if not self._holds(request, obj):

            class PersonForm(form):  # type: ignore[misc, valid-type]
                def clean(self) -> dict:
                    data = super().clean()
                    # The service's own check, so a refused value (an external id taken in the new account) is
                    # an error beside its field rather than a failed save.
                    changes = {name: data[name] for name in self.changed_data if name in data}
                    try:
                        services.person_validate_change(Person.objects.get(pk=self.instance.pk), changes)
                    except ValidationError as exc:
                        for field, errors in exc.message_dict.items():
                            self.add_error(field if field in self.fields else None, errors)
                    return data

            return PersonForm
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
    def start_request(self, request: HttpRequest, queryset: QuerySet[Person]) -> HttpResponse | None:
        return pages.start_request(self, request, queryset)


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


class EventInline(admin.TabularInline):
    model = RequestEvent
    fields = ["at", "kind", "actor", "message"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "timeline"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def counts_table(counts: dict[str, int] | None) -> str:
    """Records by category as a small table, largest first; a dash when there are none."""
    if not counts:
        return "—"
    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td></tr>", sorted(named_counts(counts), key=lambda item: (-item[1], item[0]))
    )
    return format_html('<table class="counts"><tbody>{}</tbody></table>', rows)


class ErasureProgressInline(admin.TabularInline):
    model = ErasureProgress
    fields = ["step", "source", "counts_display", "finished_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Records")
    def counts_display(self, progress: ErasureProgress) -> str:
        return counts_table(progress.counts)


class ExportInline(admin.TabularInline):
    model = Export
    fields = ["progress", "created_at", "ready_at", "expires_at", "size_display", "counts_display", "downloads_count"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Size")
    def size_display(self, export: Export) -> str:
        return filesizeformat(export.size) if export.size else "—"

    @admin.display(description="Records")
    def counts_display(self, export: Export) -> str:
        return counts_table(export.counts)

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
    # "#12 Erasure" names the type; the time of receipt and the deadline note are on the request's page.
    list_display = ["__str__", "account", "law", "status", "received_on", "due_at", "days_left", "assignee", "duplicate"]
    list_filter = [
        DeadlineFilter, AttentionFilter, "type", "jurisdiction", "status", "denial_reason", "is_test", "assignee"
    ]
    list_select_related = ["account", "jurisdiction", "assignee"]
    search_fields = ["=id", "person__email", "person__phone", "person__name"]
    date_hierarchy = "received_at"
    fieldsets = [
        ("Who and what", {"fields": ["account", "person", "type", "jurisdiction", "channel", "received_at", "is_test"]}),
        ("Deadline", {"fields": [
            "due_at", "due_note", "days_left", "first_due_at", "extended_at", "extension_reason",
            "extension_notified_at",
        ]}),
        ("Identity", {"fields": ["verified_at", "verification_method"]}),
        ("Progress", {"fields": ["status", "denial_reason", "status_reason", "assignee", "executed_at", "completed_at", "links"]}),
        ("Proof", {"fields": ["certificate_display", "scan_display"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"] if name != "assignee"]
    inlines = [EventInline, ErasureProgressInline, ExportInline]
    action_form = pages.RequestActionForm
    change_form_template = "dsar/admin/request_change_form.html"

    class Media:
        # Asks before an action that cannot be undone (data-confirm on its form); follows archives being built.
        js = ["dsar/confirm.js", "core/progress.js"]
    actions = [
        "verify", "send_code", "extend", "preview_erasure", "execute", "generate_export", "resend_export", "complete",
        "reject",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Requests start from a person ("Start a request"), or from the API's intake.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the request is the proof that it was answered

    @admin.display(description="Law", ordering="jurisdiction__name")
    def law(self, obj: Request) -> str:
        return str(obj.jurisdiction)

    @admin.display(description="Received", ordering="received_at")
    def received_on(self, obj: Request) -> str:
        """The day of receipt, in the console's time zone."""
        return date_format(timezone.localtime(obj.received_at), "DATE_FORMAT")

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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Request]:
        return super().get_queryset(request).with_duplicate_of()

    @admin.display(description="Duplicate of?")
    def duplicate(self, obj: Request) -> str:
        """The same person's earlier open request of the same type: flagged for staff to check, never linked."""
        earlier = getattr(obj, "duplicate_of", None)
        if not earlier:
            return "—"
        return format_html('<a href="{}">#{}</a>', reverse("admin:dsar_request_change", args=[earlier]), earlier)

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
        url = reverse("admin:dsar_request_certificate", args=[obj.pk])
        links = format_html('<p><a href="{}?format=pdf">Download PDF</a> · <a href="{}?format=html">HTML</a></p>', url, url)
        return render_to_string("dsar/admin/certificate.html", {"certificate": obj.certificate}) + links

    def certificate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """An erasure's certificate as a document to file, HTML or PDF (it holds no personal data)."""
        obj = get_object_or_404(Request.objects.select_related("account"), pk=pk)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        fmt = request.GET.get("format", "pdf")
        if not obj.certificate or fmt not in DOCUMENT_FORMATS:
            raise Http404("This request has no certificate in that format.")
        html = render_to_string("dsar/certificate_download.html", {"certificate": obj.certificate, "request_obj": obj})
        return document_response(html=html, filename=f"request-{obj.pk}-erasure-certificate", fmt=fmt)

    @admin.display(description="Verification scan")
    def scan_display(self, obj: Request) -> str:
        if not obj.scan:
            return "—"
        return render_to_string("dsar/admin/scan.html", {"scan": obj.scan})

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

        # A wrong code stays counted although the page reports it (as the API's view, dsar.identity).
        @transaction.non_atomic_requests
        def verify_code(request: HttpRequest, pk: int) -> HttpResponse:
            return self.verify_code_view(request, pk)

        return [
            path("", view(changelist), name="dsar_request_changelist"),
            path("<path:object_id>/change/", view(change), name="dsar_request_change"),
            path("<int:pk>/report/", view(self.report_view), name="dsar_request_report"),
            path("<int:pk>/rectify/", view(self.rectify_view), name="dsar_request_rectify"),
            path("<int:pk>/scan-hits/", view(self.scan_hits_view), name="dsar_request_scan_hits"),
            path("<int:pk>/erasure-preview/", view(self.erasure_preview_view), name="dsar_request_erasure_preview"),
            path("<int:pk>/verify-code/", view(verify_code), name="dsar_request_verify_code"),
            path("<int:pk>/certificate/", view(self.certificate_view), name="dsar_request_certificate"),
            path("metrics/", view(self.metrics_view), name="dsar_request_metrics"),
            path(
                "<int:pk>/submissions/<int:submission_id>/authorization/",
                view(self.agent_proof_view),
                name="dsar_request_agent_proof",
            ),
            path(
                "<int:pk>/exports/<int:export_id>/status/",
                view(self.export_status_view),
                name="dsar_request_export_status",
            ),
            path(
                "<int:pk>/exports/<int:export_id>/download/",
                view(self.export_download_view),
                name="dsar_request_export_download",
            ),
            *super().get_urls(),
        ]

    # --- the request page: the request read top to bottom, its actions as buttons ---

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The request page; a POST naming ``_request_action`` runs that action (if the user may) on this request."""
        if request.method == "POST" and request.POST.get("_request_action"):
            return pages.request_action_post(self, request, object_id)
        obj = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if obj is not None:
            extra.update(pages.request_page_context(self, request, obj))
        return super().change_view(request, object_id, form_url, extra)

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

    # --- pages about one request (dsar/admin_pages.py) ---

    def report_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return pages.report_view(self, request, pk)

    def rectify_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return pages.rectify_view(self, request, pk)

    def scan_hits_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return pages.scan_hits_view(self, request, pk)

    def erasure_preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return pages.erasure_preview_view(self, request, pk)

    def verify_code_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return pages.verify_code_view(self, request, pk)

    def metrics_view(self, request: HttpRequest) -> HttpResponse:
        return pages.metrics_view(self, request)

    def export_status_view(self, request: HttpRequest, pk: int, export_id: int) -> HttpResponse:
        return pages.export_status_view(self, request, pk, export_id)

    def export_download_view(self, request: HttpRequest, pk: int, export_id: int) -> HttpResponse:
        return pages.export_download_view(self, request, pk, export_id)

    def agent_proof_view(self, request: HttpRequest, pk: int, submission_id: int) -> HttpResponse:
        return pages.agent_proof_view(self, request, pk, submission_id)

    # --- actions (dsar/admin_pages.py): each calls the same service as the API and the commands ---

    @admin.action(description="Verify identity manually (note required)", permissions=["verify_identity"])
    def verify(self, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
        return pages.verify(self, request, queryset)

    @admin.action(description="Send a new verification code to the person's email on record", permissions=["change"])
    def send_code(self, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
        return pages.send_code(self, request, queryset)

    @admin.action(description="Extend the deadline (reason required; the person is told)", permissions=["extend"])
    def extend(self, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
        return pages.extend(self, request, queryset)

    @admin.action(description="Preview erasure", permissions=["execute_erasure"])
    def preview_erasure(self, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
        return pages.preview_erasure(self, request, queryset)

    @admin.action(description="Execute", permissions=["execute"])
    def execute(self, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
        return pages.execute(self, request, queryset)

    @admin.action(description="Generate export (emailed to the person)", permissions=["generate_export"])
    def generate_export(self, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
        return pages.generate_export(self, request, queryset)

    @admin.action(description="Email the archive's link again", permissions=["generate_export"])
    def resend_export(self, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
        return pages.resend_export(self, request, queryset)

    @admin.action(description="Complete", permissions=["change"])
    def complete(self, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
        return pages.complete(self, request, queryset)

    @admin.action(description="Reject (reason required)", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Request]) -> HttpResponse | None:
        return pages.reject(self, request, queryset)


class DrpAgentForm(forms.ModelForm):
    """The agent as the DRP directory lists it: its id and its Ed25519 verify key (base64), both checked."""

    class Meta:
        model = DrpAgent
        fields = ["agent_id", "name", "verify_key", "is_active"]

    def clean_agent_id(self) -> str:
        value = self.cleaned_data["agent_id"].strip()
        if error := drp.agent_id_errors(value):
            raise ValidationError(error)
        return value

    def clean_verify_key(self) -> str:
        value = self.cleaned_data["verify_key"].strip()
        if error := drp.verify_key_errors(value):
            raise ValidationError(error)
        return value


@admin.register(DrpAgent)
class DrpAgentAdmin(HistoryAdmin):
    """Authorized agents that file requests through the Data Rights Protocol (dsar/drp.py). An agent registers
    itself for its bearer token; staff enter who it is and the key it signs with, and switch it off by
    deactivating it (its requests keep naming it, so it is never deleted)."""

    form = DrpAgentForm
    list_display = ["name", "agent_id", "is_active", "token_issued_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "agent_id"]
    fields = ["agent_id", "name", "verify_key", "is_active", "token_digest", "token_issued_at", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: DrpAgent | None = None) -> list[str]:
        # The id is what the agent signs its messages with and what its requests name: a new id is a new agent.
        fixed = ["token_digest", "token_issued_at", "created_at"]
        return ["agent_id", *fixed] if obj is not None else fixed

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # its requests name it: deactivate it instead
