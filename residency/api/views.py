from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from residency.api import serializers as s
from residency.api.permissions import Access, account_scope
from residency.engine import account_residency_report
from residency.models import (
    Account,
    DataCategory,
    HostingOffer,
    Integration,
    Product,
    Region,
    RetentionRule,
    SubProcessor,
    TransientRoute,
)
from residency.services import account_create


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


class AccountResidency(APIView):
    """Where every subscribed product × data category of the account is stored, passes through, is
    backed up and logged, and every transfer outside the home region's jurisdiction with its reason."""

    access = {"GET": Access("residency.view_account", "residency:read")}

    @extend_schema(responses=s.ResidencyReportSerializer)
    def get(self, request: Request, pk: int) -> Response:
        account = get_object_or_404(visible_accounts(request), pk=pk)
        return Response(s.ResidencyReportSerializer(account_residency_report(account=account)).data)
