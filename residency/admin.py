from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import HistoryAdmin, ReadOnlyAdmin
from core.documents import file_response
from core.models import ApiKey
from residency.documents import FILE_FORMATS, records_file, report_context, report_file
from residency.engine import account_residency_report
from residency.home import ResidencyFilter
from residency.models import (
    Account,
    CatalogLoad,
    ChangeNotice,
    DataCategory,
    HostingOffer,
    Integration,
    ProcessingPlatform,
    Processor,
    Product,
    Region,
    RetentionRule,
    SubProcessor,
    TransientRoute,
)
from residency.records import (
    account_processing_record,
    all_processing_records,
    write_csv,
)
from residency.services import check_integrations, check_migration
from residency.snapshot import parse_as_of

T = TypeVar("T")

@admin.register(Region)
class RegionAdmin(HistoryAdmin):
    list_display = ["code", "name", "jurisdiction"]
    search_fields = ["code", "name", "jurisdiction"]


@admin.register(Product)
class ProductAdmin(HistoryAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]


@admin.register(DataCategory)
class DataCategoryAdmin(HistoryAdmin):
    list_display = ["name", "slug", "is_personal", "definition_in_source", "definition"]
    list_filter = ["is_personal", "definition_in_source", "offers__product"]
    search_fields = ["name", "slug", "definition"]


@admin.register(HostingOffer)
class HostingOfferAdmin(HistoryAdmin):
    list_display = ["product", "category", "offered_regions", "fallback_region", "documented"]
    list_filter = ["product", "regions", "documented"]
    search_fields = ["product__name", "category__name", "category__slug", "note"]
    filter_horizontal = ["regions"]
    change_list_template = "admin/residency/hostingoffer/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("product", "category", "fallback_region").prefetch_related("regions")

    @admin.display(description="regions offered")
    def offered_regions(self, offer: HostingOffer) -> str:
        return ", ".join(region.code for region in offer.regions.all()) or "not stated"

    def get_urls(self) -> list:
        return [
            path("matrix/", self.admin_site.admin_view(self.matrix_view), name="residency_hosting_matrix"),
            *super().get_urls(),
        ]

    def matrix_view(self, request: HttpRequest) -> HttpResponse:
        """The catalog as the source document's table: one row per row of the file, regions as columns."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        regions = list(Region.objects.all())
        offers = HostingOffer.objects.select_related("product", "category").prefetch_related("regions")
        rows: OrderedDict[tuple[int, int], dict[str, Any]] = OrderedDict()
        for offer in offers.order_by("product__position", "position", "category__position"):
            row = rows.setdefault(
                (offer.product_id, offer.position),
                {"product": offer.product, "categories": [], "offer": offer, "regions": {r.code for r in offer.regions.all()}},
            )
            row["categories"].append(offer.category)
        routes = TransientRoute.objects.select_related("product", "category", "generated_in", "routed_to")
        context = {
            **self.admin_site.each_context(request),
            "title": "Hosting matrix",
            "opts": self.model._meta,
            "regions": regions,
            "rows": [
                {**row, "cells": [region.code in row["regions"] for region in regions]} for row in rows.values()
            ],
            "routes": routes,
            "retention": RetentionRule.objects.select_related("kept_in").prefetch_related("products", "storage_regions"),
            "integrations": Integration.objects.prefetch_related("products", "categories", "processing_regions"),
            "sub_processors": SubProcessor.objects.prefetch_related("products", "regions"),
            "catalog_load": CatalogLoad.objects.first(),
        }
        return TemplateResponse(request, "admin/residency/hosting_matrix.html", context)


@admin.register(TransientRoute)
class TransientRouteAdmin(HistoryAdmin):
    list_display = ["product", "category", "generated_in", "held_minutes", "routed_to"]
    list_filter = ["product", "generated_in", "routed_to"]
    search_fields = ["product__name", "category__name", "note"]


@admin.register(RetentionRule)
class RetentionRuleAdmin(HistoryAdmin):
    list_display = ["name", "kind", "kept_in", "days"]
    list_filter = ["kind", "products", "storage_regions"]
    search_fields = ["name", "slug", "note"]
    filter_horizontal = ["products", "storage_regions"]


@admin.register(Integration)
class IntegrationAdmin(HistoryAdmin):
    list_display = ["name", "slug", "kind"]
    list_filter = ["kind", "products"]
    search_fields = ["name", "slug", "note"]
    filter_horizontal = ["products", "categories", "processing_regions"]


@admin.register(SubProcessor)
class SubProcessorAdmin(HistoryAdmin):
    list_display = ["name", "purpose", "in_storage_region"]
    list_filter = ["in_storage_region", "products", "regions"]
    search_fields = ["name", "slug", "purpose"]
    filter_horizontal = ["products", "categories", "regions"]


@admin.register(ProcessingPlatform)
class ProcessingPlatformAdmin(HistoryAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    filter_horizontal = ["products", "categories", "sub_processors", "regions"]


@admin.register(Processor)
class ProcessorAdmin(HistoryAdmin):
    list_display = ["name", "email", "dpo_email"]


@admin.register(CatalogLoad)
class CatalogLoadAdmin(HistoryAdmin):
    list_display = ["version", "status", "loaded_at", "effective_from", "applied_at", "source", "accounts_affected", "notice_count"]
    list_filter = ["status"]
    readonly_fields = [
        "version", "status", "source", "sha256", "changes", "loaded_at", "effective_from", "applied_at", "impact_display",
        "notices_link", "content",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(notice_total=Count("notices"))

    @admin.display(description="notices", ordering="notice_total")
    def notice_count(self, load: CatalogLoad) -> int:
        return load.notice_total

    @admin.display(description="notices to accounts (Art. 28(2))")
    def notices_link(self, load: CatalogLoad) -> str:
        count = load.notices.count()
        if not count:
            return "None: the load gave no account a new sub-processor or transfer."
        url = reverse("admin:residency_changenotice_changelist") + f"?catalog_load__id__exact={load.pk}"
        return format_html('<a href="{}">{} notice{}</a>', url, count, "s" if count > 1 else "")

    @admin.display(description="accounts affected")
    def accounts_affected(self, load: CatalogLoad) -> int:
        return len(load.impact)

    @admin.display(description="what it changed for each account")
    def impact_display(self, load: CatalogLoad) -> str:
        if not load.impact:
            return "No account's residency report changed."
        return format_html_join(
            "",
            "<p><strong>{}</strong></p><ul>{}</ul>",
            (
                (affected["account"], format_html_join("", "<li>{}</li>", ((line,) for line in affected["changes"])))
                for affected in load.impact
            ),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AccountForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = [
            "name", "home_region", "plan", "products", "integrations", "custom_mailbox",
            *Account.PLACE_FIELDS, *Account.CONTACT_FIELDS, *Account.MIGRATION_FIELDS,
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        try:
            check_integrations(cleaned.get("products") or [], cleaned.get("integrations") or [])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["integrations"][0]) from exc
        try:
            check_migration(
                cleaned.get("migration_in_progress", False), cleaned.get("migration_started_on"), cleaned.get("migration_ends_on")
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                self.add_error(name, errors)
        return cleaned


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ["name", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChangeNotice)
class ChangeNoticeAdmin(ReadOnlyAdmin, HistoryAdmin):
    """The notices of new sub-processors and transfers sent to accounts (Art. 28(2)): evidence, read only."""

    list_display = ["account", "catalog_version", "effective_from", "objection_until", "timing", "delivery", "created_at"]
    list_filter = ["account", "catalog_load", ("emailed_at", admin.EmptyFieldListFilter)]
    search_fields = ["account__name", "sent_to"]
    readonly_fields = [
        "account", "catalog_load", "changes_display", "effective_from", "objection_until", "sent_to", "emailed_at",
        "email_error", "created_at",
    ]
    exclude = ["changes"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("account", "catalog_load")

    @admin.display(description="catalog", ordering="catalog_load__loaded_at")
    def catalog_version(self, notice: ChangeNotice) -> str:
        return notice.catalog_load.version

    @admin.display(description="timing")
    def timing(self, notice: ChangeNotice) -> str:
        if notice.applies_before_objection_ends:
            return "applies before the objection window ends"
        return "applies after the objection window"

    @admin.display(description="delivery")
    def delivery(self, notice: ChangeNotice) -> str:
        if notice.emailed_at:
            return f"emailed to {notice.sent_to}"
        if not notice.sent_to:
            return "not sent: the account has no privacy contact"
        return f"not sent yet: {notice.email_error}" if notice.email_error else "queued"

    @admin.display(description="what changed")
    def changes_display(self, notice: ChangeNotice) -> str:
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((line,) for line in notice.changes)))


def _as_of_refused(message: str) -> HttpResponse:
    """A download asked for a moment it cannot be produced for: 400 naming the field, never a silent "now"."""
    return HttpResponse(f"as_of: {message}", status=400, content_type="text/plain; charset=utf-8")


@admin.register(Account)
class AccountAdmin(HistoryAdmin):
    form = AccountForm
    list_display = ["name", "home_region", "plan", "product_list", "residency_link"]
    list_filter = [ResidencyFilter, "home_region", "plan", "products", "integrations", "custom_mailbox"]
    search_fields = ["name"]
    filter_horizontal = ["products", "integrations"]
    inlines = [ApiKeyInline]
    fieldsets = [
        (None, {"fields": ["name", "home_region", "plan", "products", "integrations", "custom_mailbox"]}),
        (
            "Where the controller is (the day a request is received on; the holidays that move its deadline)",
            {"fields": Account.PLACE_FIELDS},
        ),
        (
            "The controller's contacts (record of processing; notices of new sub-processors go to the privacy contact)",
            {"fields": Account.CONTACT_FIELDS},
        ),
        ("Migration in from another vendor", {"fields": Account.MIGRATION_FIELDS}),
    ]
    change_form_template = "admin/residency/account/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("home_region").prefetch_related("products")

    @admin.display(description="products")
    def product_list(self, account: Account) -> str:
        return ", ".join(product.name for product in account.products.all())

    @admin.display(description="reports")
    def residency_link(self, account: Account) -> str:
        return format_html(
            '<a href="{}">Residency report</a> · <a href="{}">Record of processing</a>',
            reverse("admin:residency_account_residency", args=[account.pk]),
            reverse("admin:residency_account_processing_record", args=[account.pk]),
        )

    def get_urls(self) -> list:
        return [
            path("<int:pk>/residency/", self.admin_site.admin_view(self.residency_view), name="residency_account_residency"),
            path(
                "<int:pk>/processing-record/",
                self.admin_site.admin_view(self.processing_record_view),
                name="residency_account_processing_record",
            ),
            path(
                "processing-records.csv",
                self.admin_site.admin_view(self.processing_records_view),
                {"fmt": "csv"},
                name="residency_account_processing_records_csv",
            ),
            path(
                "processing-records.xlsx",
                self.admin_site.admin_view(self.processing_records_view),
                {"fmt": "xlsx"},
                name="residency_account_processing_records_xlsx",
            ),
            *super().get_urls(),
        ]

    def _as_of(self, request: HttpRequest) -> tuple[Any, str]:
        """The ``as_of`` of the query string, and the error to show when it is not a past date."""
        try:
            return parse_as_of(request.GET.get("as_of")), ""
        except ValidationError as exc:
            return None, " ".join(exc.message_dict["as_of"])

    def _account_page(
        self, request: HttpRequest, pk: int, title: str, build: Callable[..., T]
    ) -> tuple[Account, T, dict[str, Any]]:
        """The account, ``build(account=, as_of=)`` for the moment asked for, and the context every account
        report page shares. A moment that is not a past date, or before the account or the first catalog,
        is said in ``as_of_error`` and the page shows now."""
        account = get_object_or_404(Account.objects.select_related("home_region"), pk=pk)
        if not self.has_view_permission(request, account):
            raise PermissionDenied
        as_of, error = self._as_of(request)
        try:
            built = build(account=account, as_of=as_of)
        except ValidationError as exc:
            error = " ".join(exc.message_dict.get("as_of", exc.messages))
            built = build(account=account, as_of=None)
        asked = request.GET.get("as_of", "")
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title} of {account.name}",
            "opts": self.model._meta,
            "original": account,
            # The box shows the date the page is for: the one asked, or today when that was refused.
            "as_of_value": timezone.localdate().isoformat() if error else asked,
            "as_of_asked": asked,
            "as_of_error": error,
        }
        return account, built, context

    def processing_record_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        account, record, context = self._account_page(request, pk, "Record of processing", account_processing_record)
        fmt = request.GET.get("format")
        if fmt not in {"json", "csv", *FILE_FORMATS}:
            return TemplateResponse(request, "admin/residency/account/processing_record.html", {**context, "record": record})
        if context["as_of_error"]:
            return _as_of_refused(context["as_of_error"])
        name = f"processing-record-{account.pk}-{(record.as_of or record.generated_at)[:10]}.{fmt}"
        if fmt in FILE_FORMATS:
            return file_response(records_file([record], fmt), filename=name, content_type=FILE_FORMATS[fmt])
        if fmt == "json":
            response = HttpResponse(json.dumps(record.as_dict(), indent=2, ensure_ascii=False), content_type="application/json")
        elif fmt == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            write_csv([record], response)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def processing_records_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        """Every account's record: one CSV (a row per transfer), or one workbook with a sheet per account."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        as_of, error = self._as_of(request)
        if error:
            return _as_of_refused(error)
        try:
            records = all_processing_records(as_of=as_of)
        except ValidationError as exc:
            return _as_of_refused(" ".join(exc.messages))
        stamp = (as_of or timezone.now()).date().isoformat()
        if fmt == "xlsx":
            return file_response(records_file(records, fmt), filename=f"processing-records-{stamp}.xlsx", content_type=FILE_FORMATS[fmt])
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="processing-records-{stamp}.csv"'
        write_csv(records, response)
        return response

    def residency_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        account, report, context = self._account_page(request, pk, "Residency", account_residency_report)
        fmt = request.GET.get("format")
        if fmt in FILE_FORMATS:
            if context["as_of_error"]:
                return _as_of_refused(context["as_of_error"])
            stamp = (report.as_of or timezone.now().isoformat())[:10]
            return file_response(
                report_file(account, report, fmt), filename=f"residency-report-{account.pk}-{stamp}.{fmt}", content_type=FILE_FORMATS[fmt]
            )
        return TemplateResponse(request, "admin/residency/account/residency.html", {**context, **report_context(account, report)})
