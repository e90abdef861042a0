from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core.api.permissions import Access, account_scope
from core.documents import file_response
from core.api.renderers import FILE_RENDERERS
from residency.api import serializers as s
from residency.documents import FILE_FORMATS, records_file, report_file
from residency.engine import account_residency_report
from residency.models import (
    Account,
    ChangeNotice,
    DataCategory,
    HostingOffer,
    Integration,
    Product,
    Region,
    RetentionRule,
    SubProcessor,
    TransientRoute,
)
from residency.records import account_processing_record
from residency.services import account_create
from residency.snapshot import parse_as_of


def visible_accounts(request: Request) -> QuerySet[Account]:
    """Staff see every account; an API key sees its own account only (others answer 404)."""
    accounts = Account.objects.select_related("home_region").prefetch_related("products", "integrations")
    scope = account_scope(request)
    return accounts.filter(pk=scope.pk) if scope else accounts


class CatalogList(generics.ListAPIView):
    pagination_class = None


class RegionList(CatalogList):
    """The hosting regions and the jurisdiction each belongs to."""

    access = {"GET": Access("residency.view_region", "residency:read")}
    queryset = Region.objects.all()
    serializer_class = s.RegionSerializer


class ProductList(CatalogList):
    access = {"GET": Access("residency.view_product", "residency:read")}
    queryset = Product.objects.all()
    serializer_class = s.ProductSerializer


class DataCategoryList(CatalogList):
    """Data categories with their definitions and the purposes they are processed for."""

    access = {"GET": Access("residency.view_datacategory", "residency:read")}
    queryset = DataCategory.objects.all()
    serializer_class = s.DataCategorySerializer
    filterset_fields = ["is_personal"]


class HostingOfferList(CatalogList):
    """The hosting table: which regions each product's data categories can be stored in."""

    access = {"GET": Access("residency.view_hostingoffer", "residency:read")}
    queryset = HostingOffer.objects.select_related("product", "category", "fallback_region").prefetch_related("regions")
    serializer_class = s.HostingOfferSerializer
    filterset_fields = {"product__slug": ["exact"], "category__slug": ["exact"], "regions__code": ["exact"], "documented": ["exact"]}


class TransientRouteList(CatalogList):
    access = {"GET": Access("residency.view_transientroute", "residency:read")}
    queryset = TransientRoute.objects.select_related("product", "category", "generated_in", "routed_to")
    serializer_class = s.TransientRouteSerializer


class RetentionRuleList(CatalogList):
    access = {"GET": Access("residency.view_retentionrule", "residency:read")}
    queryset = RetentionRule.objects.select_related("kept_in").prefetch_related("products", "storage_regions")
    serializer_class = s.RetentionRuleSerializer


class IntegrationList(CatalogList):
    access = {"GET": Access("residency.view_integration", "residency:read")}
    queryset = Integration.objects.prefetch_related("products", "categories", "processing_regions")
    serializer_class = s.IntegrationSerializer


class SubProcessorList(CatalogList):
    access = {"GET": Access("residency.view_subprocessor", "residency:read")}
    queryset = SubProcessor.objects.prefetch_related("products", "categories", "regions")
    serializer_class = s.SubProcessorSerializer


class AccountListCreate(generics.GenericAPIView):
    """List the accounts you may see (an API key: its own); staff create accounts."""

    access = {
        "GET": Access("residency.view_account", "residency:read"),
        # Accounts are created by staff only: no key scope opens this.
        "POST": Access("residency.add_account", None),
    }

    serializer_class = s.AccountOutputSerializer
    filterset_fields = {"home_region__code": ["exact"], "plan": ["exact"], "products__slug": ["exact"]}

    def get_queryset(self) -> QuerySet[Account]:
        return visible_accounts(self.request)

    @extend_schema(operation_id="v1_accounts_list", responses=s.AccountOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.AccountOutputSerializer(page, many=True).data)

    @extend_schema(request=s.AccountInputSerializer, responses={201: s.AccountOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = s.AccountInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = account_create(**serializer.validated_data)
        return Response(s.AccountOutputSerializer(account).data, status=status.HTTP_201_CREATED)


class AccountDetail(APIView):
    access = {"GET": Access("residency.view_account", "residency:read")}

    @extend_schema(responses=s.AccountOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.AccountOutputSerializer(get_object_or_404(visible_accounts(request), pk=pk)).data)


AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.STR,
    description="A past date (2026-03-01: the end of that day) or date and time (ISO 8601): the report as it "
    "stood then, from the history of the catalog and the account, with the catalog version then in force.",
)


#: Views taking ``as_of`` answer 400 naming it when it is not a past date.
as_of_errors = extend_validation_errors(["invalid"], field_name="as_of", methods=["get"])

FORMAT = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", *FILE_FORMATS],
    description="json (the default), or the document as a file: html, pdf, or xlsx (a workbook). Or ask by Accept.",
)


def _files(serializer: type) -> dict:
    """The responses of a view that also answers as files."""
    return {
        (200, "application/json"): serializer,
        **{(200, renderer.media_type): OpenApiTypes.BINARY for renderer in FILE_RENDERERS},
    }


def _file(content: bytes, fmt: str, name: str) -> HttpResponse:
    """``content`` (a file in ``fmt``) as the attachment ``name.fmt``, as the console gives it."""
    return file_response(content, filename=f"{name}.{fmt}", content_type=FILE_FORMATS[fmt])


@as_of_errors
class AccountResidency(APIView):
    """Where every subscribed product × data category of the account is stored, passes through, is
    backed up and logged, and every transfer outside the home region's jurisdiction with its reason."""

    access = {"GET": Access("residency.view_account", "residency:read")}
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, *FILE_RENDERERS]

    @extend_schema(parameters=[AS_OF, FORMAT], responses=_files(s.ResidencyReportSerializer))
    def get(self, request: Request, pk: int) -> Response:
        account = get_object_or_404(visible_accounts(request), pk=pk)
        as_of = parse_as_of(request.query_params.get("as_of"))
        report = account_residency_report(account=account, as_of=as_of)
        fmt = request.accepted_renderer.format
        if fmt in FILE_FORMATS:
            return _file(report_file(account, report, fmt), fmt, f"residency-report-{account.pk}-{(report.as_of or timezone.now().isoformat())[:10]}")
        return Response(s.ResidencyReportSerializer(report).data)


@as_of_errors
class AccountProcessingRecord(APIView):
    """The processor's record of processing for the account (GDPR Art. 30(2)): the parties and their
    contacts, the categories of processing, every transfer with its country and safeguard (or a review
    flag), the security measures; ``missing`` names every field nobody has filled."""

    access = {"GET": Access("residency.view_account", "residency:read")}
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, *FILE_RENDERERS]

    @extend_schema(parameters=[AS_OF, FORMAT], responses=_files(s.ProcessingRecordSerializer))
    def get(self, request: Request, pk: int) -> Response:
        account = get_object_or_404(visible_accounts(request), pk=pk)
        as_of = parse_as_of(request.query_params.get("as_of"))
        record = account_processing_record(account=account, as_of=as_of)
        fmt = request.accepted_renderer.format
        if fmt in FILE_FORMATS:
            return _file(records_file([record], fmt), fmt, f"processing-record-{account.pk}-{(record.as_of or record.generated_at)[:10]}")
        return Response(s.ProcessingRecordSerializer(record).data)


class AccountNotices(generics.ListAPIView):
    """The notices of new sub-processors and transfers sent to the account (GDPR Art. 28(2)), newest first."""

    access = {"GET": Access("residency.view_changenotice", "residency:read")}
    serializer_class = s.ChangeNoticeSerializer

    def get_queryset(self) -> QuerySet[ChangeNotice]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator asks without a URL
            return ChangeNotice.objects.none()
        account = get_object_or_404(visible_accounts(self.request), pk=self.kwargs["pk"])
        return ChangeNotice.objects.filter(account=account).select_related("catalog_load").order_by("-created_at", "-id")
