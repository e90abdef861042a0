"""The console for telephony records. Every change goes through :mod:`recordings.services`."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.db.models.functions import Cast, Coalesce
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.admin import HistoryAdmin, HistoryColumns, LargeTableAdmin, OriginFilter, ReadOnlyAdmin, WhenFilter, posted_changes
from core.csv_safety import row_converter
from core.progress import progress_response
from recordings import console, services
from recordings.list_filters import PurgeFilter, UnfinishedExportFilter
from recordings.models import (
    AnalyticsRow,
    Call,
    HistoryExport,
    LegalHold,
    MonitoringEntry,
    PhoneLine,
    ProviderDeletion,
    Recording,
    RecordingDeletion,
    TextMessage,
    Ticket,
)


@admin.register(PhoneLine)
class PhoneLineAdmin(HistoryAdmin):
    list_display = ["name", "number", "account", "auto_delete_days"]
    list_filter = ["auto_delete_days", "account"]
    search_fields = ["name", "number"]

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        # A new window decides what the purge deletes for good: confirmed, with a reason, before the save.
        if request.method == "POST" and object_id and self.has_change_permission(request):
            answer = console.line_window_change(self, request, object_id)
            if isinstance(answer, HttpResponse):
                return answer
            request._line_change_reason = answer or ""  # type: ignore[attr-defined]
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: PhoneLine, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        services.phone_line_update(
            line_id=obj.pk,
            changes={name: form.cleaned_data[name] for name in form.changed_data},
            reason=getattr(request, "_line_change_reason", ""),
            user=request.user,
        )


class RecordingInline(admin.TabularInline):
    model = Recording
    fields = ["provider_sid", "kind", "duration_seconds", "created_at", "delete_link"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The link leads to a page that refuses those who may not delete recordings: do not offer it to them.
        allowed = request.user.has_perm("recordings.delete_recording")
        return [name for name in self.fields if allowed or name != "delete_link"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.get_fields(request, obj)

    @admin.display(description="delete")
    def delete_link(self, recording: Recording) -> str:
        url = reverse("admin:recordings_recording_delete_permanently", args=[recording.pk])
        return format_html('<a href="{}" class="deletelink">Delete permanently…</a>', url)


class DeletedFilter(admin.SimpleListFilter):
    title = "deletion"
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Live"), ("yes", "Soft-deleted")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(Ticket)
class TicketAdmin(LargeTableAdmin, HistoryAdmin):
    list_display = ["id", "subject", "account", "requester", "status", "created_at", "deleted_at", "deleted_by_name"]
    list_filter = [DeletedFilter, "status", ("created_at", admin.DateFieldListFilter), "account"]
    list_select_related = ["account", "requester"]
    search_fields = ["subject", "=id"]
    fields = ["account", "requester", "subject", "description", "status", "created_at", "deleted_at", "deleted_by_name"]
    readonly_fields = ["deleted_at", "deleted_by_name"]
    raw_id_fields = ["requester"]
    inlines = [RecordingInline]
    actions = ["soft_delete", "restore"]

    def _holds(self, request: HttpRequest, ticket: Ticket | None) -> list[LegalHold]:
        """The active holds covering ``ticket``, read once per request (the page asks for them several times)."""
        if ticket is None or ticket.pk is None:
            return []
        known = request.__dict__.setdefault("_ticket_holds", {})
        if ticket.pk not in known:
            known[ticket.pk] = services.holds_covering(ticket)
        return known[ticket.pk]

    def get_fields(self, request: HttpRequest, obj: Ticket | None = None) -> list[str]:
        fields = list(super().get_fields(request, obj))
        return ["legal_hold", *fields] if self._holds(request, obj) else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Ticket | None = None) -> list[str]:
        # What a hold covers is shown, not offered: the reason heads the page.
        if self._holds(request, obj):
            return ["legal_hold", *Ticket.HELD_FIELDS, *self.readonly_fields]
        return list(self.readonly_fields)

    @admin.display(description="legal hold")
    def legal_hold(self, ticket: Ticket) -> str:
        notices = [services.hold_notice(hold) for hold in services.holds_covering(ticket)]
        frozen = ", ".join(Ticket._meta.get_field(name).verbose_name for name in Ticket.HELD_FIELDS)
        return format_html("{}.<br>Frozen until then: {}; nor can the ticket be deleted.", "; ".join(notices), frozen)

    def get_form(self, request: HttpRequest, obj: Ticket | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if not self._holds(request, obj):
            return form
        model_admin = self

        class HeldTicketForm(form):  # type: ignore[misc, valid-type]
            def clean(self) -> dict:
                data = super().clean()
                # The page shows the held fields read-only; a POST that changes them anyway (a page opened before
                # the hold, a forged form) is refused by the same rule as every other path, not silently dropped.
                attempted = posted_changes(model_admin, request, self.instance, Ticket.HELD_FIELDS)
                try:
                    services.hold_check_change(self.instance, attempted)
                except services.TicketHeld as held:
                    raise forms.ValidationError(str(held)) from held
                return data

        return HeldTicketForm

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Through the service, which applies the legal holds under the ticket's lock (the form only says it early).
        services.ticket_update(
            ticket_id=obj.pk, changes={name: form.cleaned_data[name] for name in form.changed_data}, user=request.user
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Tickets are soft-deleted (the action below); the purge deletes them for good 7 days later.
        return False

    def has_soft_delete_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("recordings.delete_ticket")

    @admin.action(
        description="Delete selected tickets… (restorable for 7 days, then purged with their recordings)",
        permissions=["soft_delete"],
    )
    def soft_delete(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return console.soft_delete_tickets_action(self, request, queryset)

    @admin.action(description="Restore selected deleted tickets", permissions=["soft_delete"])
    def restore(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = sum(services.ticket_restore(ticket_id=pk, user=request.user) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{done} ticket(s) restored.", messages.SUCCESS)


class TelephonyHistoryAdmin(ReadOnlyAdmin, LargeTableAdmin, HistoryAdmin):
    """Call, monitoring and text history and analytics come from the telephony product and hold people's
    numbers: they are read here, never added, edited or deleted. Their only way out is the services that
    apply legal holds and the erasure rules (deletion of a person, the purge)."""


@admin.register(Call)
class CallAdmin(TelephonyHistoryAdmin):
    list_display = ["id", "account", "line", "direction", "from_number", "to_number", "started", "ended", "duration_seconds"]
    list_filter = ["direction", "ivr_external", "transferred_external", ("started", admin.DateFieldListFilter), "account"]
    list_select_related = ["account", "line"]
    search_fields = ["from_number", "to_number", "=id"]
    raw_id_fields = ["ticket", "end_user", "agent", "line"]


@admin.register(Recording)
class RecordingAdmin(LargeTableAdmin, HistoryAdmin):
    # The provider's id names the recording (its number is in its page's address and title).
    list_display = [
        "provider_sid", "kind", "account", "line", "ticket", "duration", "created_at", "auto_delete_on", "hold",
    ]
    list_filter = [PurgeFilter, "kind", ("created_at", admin.DateFieldListFilter), "account", "line"]
    list_select_related = ["account", "line", "ticket"]
    search_fields = ["provider_sid", "=ticket__id", "=id"]
    raw_id_fields = ["call", "ticket", "line"]
    readonly_fields = ["auto_delete_on", "legal_holds"]
    actions = ["delete_permanently"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Both columns come with the page's own query: no query per row.
        return super().get_queryset(request).with_auto_delete_at().with_first_hold()

    @admin.display(description="seconds", ordering="duration_seconds")
    def duration(self, recording: Recording) -> int:
        return recording.duration_seconds

    @admin.display(description="auto-delete", ordering="auto_delete_at")
    def auto_delete_on(self, recording: Recording) -> str:
        """When the line's window has the purge delete it; a hold postpones that until it is released."""
        return "never (the line keeps recordings)" if recording.auto_delete_at is None else date_format(
            timezone.localtime(recording.auto_delete_at), "DATETIME_FORMAT"
        )

    @admin.display(description="legal hold")
    def hold(self, recording: Recording) -> str:
        if recording.first_hold_id is None:
            return "—"
        url = reverse("admin:recordings_legalhold_change", args=[recording.first_hold_id])
        return format_html('held: <a href="{}">hold #{}</a>', url, recording.first_hold_id)

    @admin.display(description="legal holds")
    def legal_holds(self, recording: Recording) -> str:
        holds = services.holds_covering_recording(recording)
        if not holds:
            return "none: the purge deletes it once it passes its line's window or its ticket is purged"
        return format_html_join(
            mark_safe("<br>"),  # a constant separator
            '<a href="{}">hold #{}</a> on {} ({}), placed by {}: not deleted by any path until released',
            (
                (reverse("admin:recordings_legalhold_change", args=[hold.pk]), hold.pk, hold.target_label, hold.reason,
                 hold.placed_by_name or "unknown")
                for hold in holds
            ),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Recordings come only from the telephony product.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only the audited paths below delete recordings: Django's own delete would skip the audit log
        # and the provider.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A recording is evidence of a call: it is viewed or deleted, never edited.
        return False

    def has_delete_permanently_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("recordings.delete_recording")

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:recording_id>/delete-permanently/",
                self.admin_site.admin_view(self.delete_one_view),
                name="recordings_recording_delete_permanently",
            ),
            *super().get_urls(),
        ]

    def delete_one_view(self, request: HttpRequest, recording_id: int) -> HttpResponse:
        if not self.has_delete_permanently_permission(request):
            raise PermissionDenied
        return console.delete_recording_view(self, request, recording_id)

    @admin.action(description="Delete selected recordings permanently…", permissions=["delete_permanently"])
    def delete_permanently(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return console.delete_recordings_action(self, request, queryset)


@admin.register(MonitoringEntry)
class MonitoringEntryAdmin(TelephonyHistoryAdmin):
    list_display = ["id", "account", "call", "supervisor", "mode", "caller_number", "started", "ended"]
    list_filter = ["mode", ("started", admin.DateFieldListFilter), "account"]
    list_select_related = ["account", "call", "supervisor"]
    raw_id_fields = ["call", "supervisor"]


@admin.register(TextMessage)
class TextMessageAdmin(TelephonyHistoryAdmin):
    list_display = ["id", "account", "line", "direction", "from_number", "to_number", "sent_at"]
    list_filter = ["direction", ("sent_at", admin.DateFieldListFilter), "account"]
    list_select_related = ["account", "line"]
    search_fields = ["from_number", "to_number"]
    raw_id_fields = ["line", "person"]


@admin.register(AnalyticsRow)
class AnalyticsRowAdmin(TelephonyHistoryAdmin):
    list_display = ["id", "account", "call", "person", "phone_number", "started", "ivr_external", "transferred_external"]
    list_filter = ["ivr_external", "transferred_external", ("started", admin.DateFieldListFilter), "account"]
    list_select_related = ["account", "call", "person"]
    raw_id_fields = ["call", "person"]


class LegalHoldForm(forms.ModelForm):
    class Meta:
        model = LegalHold
        fields = ["account", "scope", "ticket", "person", "reason"]


class ActiveFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "active"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Active"), ("no", "Released")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(released_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(released_at__isnull=False)
        return queryset


@admin.register(LegalHold)
class LegalHoldAdmin(HistoryAdmin):
    form = LegalHoldForm
    list_display = ["id", "account", "scope", "target", "reason", "placed_by", "placed_at", "released_at", "released_by"]
    list_filter = [ActiveFilter, "scope", "account"]
    raw_id_fields = ["ticket", "person"]
    actions = ["release"]

    @admin.display(description="placed by", ordering="placed_by_name")
    def placed_by(self, hold: LegalHold) -> str:
        return hold.placed_by_name or "—"

    @admin.display(description="released by", ordering="released_by_name")
    def released_by(self, hold: LegalHold) -> str:
        return hold.released_by_name or "—"

    @admin.display(description="covers")
    def target(self, hold: LegalHold) -> str:
        return hold.target_label

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("recordings.place_hold")

    def has_release_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("recordings.release_hold")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A hold is placed and released, never edited: its history is evidence.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: LegalHold, form: Any, change: bool) -> None:
        hold = services.legal_hold_place(
            account=obj.account, scope=obj.scope, reason=obj.reason, user=request.user, ticket=obj.ticket, person=obj.person
        )
        obj.pk = hold.pk

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        admin_site_service = services

        class ValidatingForm(form):  # type: ignore[misc, valid-type]
            def clean(self) -> dict:
                data = super().clean()
                # The service's own checks, run here so a mistake shows on the form instead of failing the save.
                try:
                    admin_site_service.legal_hold_validate(
                        account=data.get("account"), scope=data.get("scope", ""), reason=data.get("reason", ""),
                        ticket=data.get("ticket"), person=data.get("person"),
                    )
                except ValidationError as exc:
                    raise forms.ValidationError(exc.message_dict) from exc
                return data

        return ValidatingForm

    @admin.action(description="Release selected holds…", permissions=["release"])
    def release(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return console.release_holds_action(self, request, queryset)

    def get_urls(self) -> list[URLPattern]:
        release = path("<int:hold_id>/release/", self.admin_site.admin_view(self.release_view), name="recordings_legalhold_release")
        return [release, *super().get_urls()]

    def release_view(self, request: HttpRequest, hold_id: int) -> HttpResponse:
        if not self.has_release_permission(request):
            raise PermissionDenied
        return console.release_hold_view(self, request, hold_id)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "may_release": self.has_release_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)


AUDIT_CSV_HEADER = ["deleted_at", "who", "origin", "recording_id", "provider_sid", "kind", "ticket_id", "line_id", "account", "reason", "detail"]


class _Echo:
    def write(self, value: str) -> str:
        return value


#: The audit log CSV's columns: (lookup, kind of cell), in the order of its header.
AUDIT_CSV_COLUMNS = [
    ("history_date", "datetime"), ("history_username", "text"), ("history_origin", "text"), ("id", "int"),
    ("provider_sid", "text"), ("kind", "text"), ("ticket_id", "int"), ("line_id", "int"), ("account_label", "text"),
    ("deletion_reason", "text"), ("deletion_detail", "text"),
]


def audit_csv_rows(queryset: QuerySet) -> Iterator[list[str]]:
    """The audit log's CSV rows (header first), read as plain values in chunks: no model instances, memory flat."""
    yield AUDIT_CSV_HEADER
    convert = row_converter(kind for _, kind in AUDIT_CSV_COLUMNS)
    rows = queryset.annotate(
        account_label=Coalesce("account__name", Cast("account_id", models.CharField()))
    ).values_list(*(lookup for lookup, _ in AUDIT_CSV_COLUMNS))
    for row in rows.iterator(chunk_size=2000):
        yield convert(row)


#: How a deletion's detail names the erasure it was part of (recordings/sources.py writes it).
ERASURE_REQUEST = re.compile(r"Erasure (request #(\d+))")


@admin.register(RecordingDeletion)
class RecordingDeletionAdmin(HistoryColumns, ReadOnlyAdmin, LargeTableAdmin):
    """The audit log of deleted recordings (read-only)."""

    list_display = ["when", "who", "from_where", "recording", "kind", "ticket_number", "deletion_reason", "detail"]
    list_filter = ["deletion_reason", ("history_origin", OriginFilter), "kind", ("history_date", WhenFilter), "account"]
    search_fields = ["history_username", "provider_sid", "deletion_detail", "=ticket__id", "=id"]
    actions = ["export_csv"]
    list_select_related = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return RecordingDeletion.objects.all()

    @admin.display(description="recording", ordering="id")
    def recording(self, entry: RecordingDeletion) -> str:
        return f"{entry.provider_sid} (#{entry.id})"

    @admin.display(description="ticket", ordering="ticket_id")
    def ticket_number(self, entry: RecordingDeletion) -> str:
        return f"#{entry.ticket_id}" if entry.ticket_id else "—"

    @admin.display(description="detail", ordering="deletion_detail")
    def detail(self, entry: RecordingDeletion) -> str:
        """The detail, with the erasure request it names (``Erasure request #42 …``) linked to its page."""
        found = ERASURE_REQUEST.search(entry.deletion_detail)
        if found is None:
            return entry.deletion_detail or "—"
        start, end = found.span(1)
        url = reverse("admin:dsar_request_change", args=[int(found.group(2))])
        text = entry.deletion_detail
        return format_html('{}<a href="{}">{}</a>{}', text[:start], url, text[start:end], text[end:])

    def get_urls(self) -> list[URLPattern]:
        return [
            path("export.csv", self.admin_site.admin_view(self.export_view), name="recordings_recordingdeletion_export"),
            *super().get_urls(),
        ]

    def _csv_response(self, queryset: QuerySet) -> StreamingHttpResponse:
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse((writer.writerow(row) for row in audit_csv_rows(queryset)), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="recording-deletions-{timezone.localdate()}.csv"'
        add_never_cache_headers(response)
        return response

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The whole log as filtered on the page (the changelist's own filters and search)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:  # as the page itself answers a filter it cannot apply
            return HttpResponseRedirect(f"{reverse('admin:recordings_recordingdeletion_changelist')}?{ERROR_FLAG}=1")
        return self._csv_response(changelist.get_queryset(request))

    @admin.action(description="Export selected entries to CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        return self._csv_response(queryset)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "export_url": reverse("admin:recordings_recordingdeletion_export")}
        return super().changelist_view(request, extra_context)


class PendingFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("pending", "Pending"), ("retrying", "Failed, retrying"), ("done", "Done")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "pending":
            return queryset.filter(done_at__isnull=True)
        if self.value() == "retrying":
            return queryset.filter(done_at__isnull=True, attempts__gt=0)
        if self.value() == "done":
            return queryset.filter(done_at__isnull=False)
        return queryset


@admin.register(ProviderDeletion)
class ProviderDeletionAdmin(HistoryAdmin):
    list_display = ["provider_sid", "state", "attempts", "last_status", "last_error", "last_attempt_at", "next_attempt_at", "done_at", "account"]
    list_filter = [PendingFilter, "account"]
    search_fields = ["provider_sid", "=recording_id"]
    readonly_fields = [f.name for f in ProviderDeletion._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Retry selected pending deletions now", permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet) -> HttpResponseRedirect | None:
        count = services.provider_deletion_retry_now(deletion_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} deletion(s) will be sent on the worker's next run.", messages.SUCCESS)
        return None


class HistoryExportForm(forms.ModelForm):
    """A new export. ``requester`` (the login asking) is set by :meth:`HistoryExportAdmin.get_form`."""

    requester: Any = None
    recipient = forms.EmailField(
        required=False,
        help_text=(
            "Where the download link is sent: the address of an active staff login allowed to read this history "
            "and to download exports. Empty: your own address."
        ),
    )

    class Meta:
        model = HistoryExport
        fields = ["account", "kind", "start", "end"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("start", "end"):
            self.fields[name].required = False
        self.fields["start"].help_text = "Empty: the first day of the current month."
        self.fields["end"].help_text = "Inclusive. Empty: the last day of the current month."

    def _post_clean(self) -> None:
        # The service fills in the defaults and validates; the model's own checks would run before it.
        pass

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if kind and not self.requester.has_perm(HistoryExport.read_permission(kind)):
            # Exporting is reading: the same permission as the history's own list.
            raise forms.ValidationError(
                {"kind": f"You may not read {HistoryExport.Kind(kind).label.lower()} "
                         f"({HistoryExport.read_permission(kind)}), so you may not export it."}
            )
        if data.get("account") and kind:
            try:
                data["start"], data["end"] = services.history_export_range(
                    account=data["account"], kind=kind, start=data.get("start"), end=data.get("end")
                )
                data["recipient"] = services.history_export_recipient(
                    kind=kind, recipient=data.get("recipient") or "", requester=self.requester
                )
            except ValidationError as exc:
                raise forms.ValidationError(exc.message_dict) from exc
            except PermissionDenied as exc:
                raise forms.ValidationError({"kind": str(exc)}) from exc
        return data


@admin.register(HistoryExport)
class HistoryExportAdmin(HistoryAdmin):
    """Exports of call and monitoring history: request one here; the link is emailed when the file is ready."""

    list_display = ["id", "account", "kind", "start", "end", "status", "row_count", "requested_by_name", "email", "created_at", "finished_at"]
    list_filter = [UnfinishedExportFilter, "kind", "status", "account"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = type("HistoryExportForm", (HistoryExportForm,), {"requester": request.user})
        return super().get_form(request, obj, change=change, **kwargs)

    @staticmethod
    def may_download(request: HttpRequest, export: HistoryExport) -> bool:
        """The link is the download's only credential: shown to those who may download and read what it holds."""
        return request.user.has_perms([services.DOWNLOAD_PERMISSION, HistoryExport.read_permission(export.kind)])

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        fields = [f.name for f in HistoryExport._meta.fields if f.name != "requested_by"]
        return fields + ["download"] if self.may_download(request, obj) else fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["account", "kind", "start", "end", "recipient"]
        return [name for name in self.get_readonly_fields(request, obj)]

    @admin.display(description="download")
    def download(self, export: HistoryExport) -> str:
        if export.status != HistoryExport.Status.DONE:
            return "—"
        return format_html('<a href="{}">CSV ({} rows)</a>', services.export_download_url(export), export.row_count)

    def save_model(self, request: HttpRequest, obj: HistoryExport, form: Any, change: bool) -> None:
        export = services.history_export_request(
            account=form.cleaned_data["account"],
            kind=form.cleaned_data["kind"],
            start=form.cleaned_data.get("start"),
            end=form.cleaned_data.get("end"),
            user=request.user,
            recipient=form.cleaned_data["recipient"],
        )
        # The admin logs and redirects with ``obj``: make it the export the service created.
        for model_field in HistoryExport._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(export, model_field.attname))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def response_add(self, request: HttpRequest, obj: HistoryExport, post_url_continue: str | None = None) -> HttpResponse:
        """To the new export's page, where its progress shows until the file is ready."""
        self.message_user(request, f"Export {obj.pk} queued; its link is emailed to {obj.email} when it is ready.")
        return HttpResponseRedirect(reverse("admin:recordings_historyexport_change", args=[obj.pk]))

    def get_urls(self) -> list[URLPattern]:
        status = path("<int:pk>/status/", self.admin_site.admin_view(self.status_view), name="recordings_historyexport_status")
        return [status, *super().get_urls()]

    def status_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        """Where the export is, for its page to follow (core/static/core/progress.js)."""
        export = get_object_or_404(HistoryExport, pk=pk)
        if not self.has_view_permission(request, export):
            raise PermissionDenied
        done = export.status in (HistoryExport.Status.DONE, HistoryExport.Status.FAILED, HistoryExport.Status.EXPIRED)
        rows = f"{export.row_count:,} row{'s' if export.row_count != 1 else ''}"
        text = {
            HistoryExport.Status.QUEUED: "Queued: waiting for the background worker…",
            HistoryExport.Status.RUNNING: "Running: writing the rows…",
            HistoryExport.Status.DONE: f"Done: {rows}.",
            HistoryExport.Status.FAILED: f"Failed: {export.error}",
            HistoryExport.Status.EXPIRED: "Expired: the file has been removed.",
        }[export.status]
        link = None
        if export.status == HistoryExport.Status.DONE and self.may_download(request, export):
            link = (services.export_download_url(export), f"Download the CSV ({rows})")
        return progress_response(state=export.status, text=text, done=done, link=link)
