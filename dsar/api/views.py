"""One view per operation: validate the input, call the service, serialize the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, status
from rest_framework.request import Request as ApiRequest
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import cursor_pagination
from core.api.permissions import Access, account_scope, check_access
from core.api.throttling import (
    ApiKeyRateThrottle,
    IntakeRateThrottle,
    UserRateThrottle,
)
from dsar import services
from dsar.api import serializers as s
from dsar.api.filters import RequestFilter
from dsar.exports import LinkRefused, export_download
from dsar.metrics import FIRST_YEAR, check_year, request_metrics
from dsar.models import Request
from dsar.report import request_access_report
from residency.api.views import AS_OF, as_of_errors
from residency.models import Account
from residency.snapshot import parse_as_of


def refused_for_its_state(*fields: str, methods: list[str]) -> Callable[[type[APIView]], type[APIView]]:
    """Documents that ``methods`` answer 400 naming the request's ``fields`` (its status, type or person) when
    the request is not in a state that allows the operation (not verified, closed, of another type, its
    person erased): the schema then lists those bodies with the others."""

    def decorate(view: type[APIView]) -> type[APIView]:
        for name in fields:
            view = extend_validation_errors(["invalid"], field_name=name, methods=methods)(view)
        return view

    return decorate


def visible_requests(request: ApiRequest) -> QuerySet[Request]:
    """Staff see every request; an API key only its own account's (another account's answers 404)."""
    return Request.objects.for_account(account_scope(request)).select_related("jurisdiction", "assignee")


class OutsideRequestTransaction:
    """For views served outside the per-request transaction (see urls.py), whose writes commit as they go.

    DRF marks the enclosing transaction for rollback when it turns an error into a response. These views
    have no request transaction of their own; an enclosing one belongs to a caller (a test case), and
    must not be poisoned by an ordinary 400/404.
    """

    def handle_exception(self, exc: Exception) -> Response:
        connection = transaction.get_connection()
        needed_rollback = connection.needs_rollback
        response = super().handle_exception(exc)  # type: ignore[misc]
        if connection.in_atomic_block:
            connection.needs_rollback = needed_rollback
        return response


#: Reading a request: what every operation that writes to its person about it needs as well (a letter or a link
#: leaves only through a caller allowed to read what it says).
READ_REQUEST = Access("dsar.view_request", "requests:read")
#: Reading a person's data (an access report): what sending them a portability archive needs as well.
READ_PERSONAL_DATA = Access("dsar.download_export", "requests:report")


class RequestObjectView(APIView):
    def get_request_object(self, pk: int) -> Request:
        return get_object_or_404(visible_requests(self.request).select_related("person", "account"), pk=pk)


class RequestListCreate(generics.ListAPIView):
    """Requests, soonest deadline first, a page at a time (cursor); filter by type, status, jurisdiction,
    assignee, overdue, due_within."""

    access = {
        "GET": Access("dsar.view_request", "requests:read"),
        "POST": Access("dsar.add_request", "requests:create"),
    }
    throttle_classes = [ApiKeyRateThrottle, UserRateThrottle, IntakeRateThrottle]
    serializer_class = s.RequestOutput
    filterset_class = RequestFilter
    pagination_class = cursor_pagination("due_at", "id")

    def get_queryset(self) -> QuerySet[Request]:
        return visible_requests(self.request)

    @extend_schema(request=s.RequestCreateInput, responses={201: s.RequestCreatedOutput})
    def post(self, request: ApiRequest) -> Response:
        """Intake: open a request for the person with this email or phone (created when unknown)."""
        data = s.RequestCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        scope = account_scope(request)
        account = values.pop("account")
        if scope is not None:
            if account is not None and account.pk != scope.pk:
                raise ValidationError({"account": "An API key opens requests for its own account only."})
            account = scope
        elif account is None:
            raise ValidationError({"account": "Staff must say which account the request is for."})
        created = services.request_create(account=account, actor=request.user, **values)
        return Response(s.RequestCreatedOutput(created).data, status=status.HTTP_201_CREATED)


class RequestDetail(generics.RetrieveAPIView):
    """One request with its timeline, days left, certificate and last verification scan."""

    access = {"GET": Access("dsar.view_request", "requests:read")}
    serializer_class = s.RequestDetailOutput

    def get_queryset(self) -> QuerySet[Request]:
        return visible_requests(self.request).prefetch_related("events")


@refused_for_its_state("status", methods=["post"])
class RequestVerify(OutsideRequestTransaction, RequestObjectView):
    """Verify the requester: ``{"code": …}`` as the person received it, or (staff) ``{"method": "manual", "note": …}``."""

    access = {"POST": Access("dsar.verify_identity", "requests:verify")}

    @extend_schema(request=s.RequestVerifyInput, responses={200: s.RequestOutput})
    def post(self, request: ApiRequest, pk: int) -> Response:
        data = s.RequestVerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        target = self.get_request_object(pk)
        if data.validated_data["method"] == "manual":
            # Vouching for someone's identity is a staff member's act; no key scope allows it.
            check_access(request, Access("dsar.verify_identity", None))
            services.request_verify_manually(request=target, note=data.validated_data["note"], actor=request.user)
        else:
            if not data.validated_data["code"]:
                raise ValidationError({"code": "Send the code the person received, or method manual with a note."})
            services.request_verify_code(request=target, code=data.validated_data["code"], actor=request.user)
        target.refresh_from_db()
        return Response(s.RequestOutput(target).data)


@refused_for_its_state("status", methods=["post"])
class RequestExtend(RequestObjectView):
    """Extend the deadline once, with a reason, before the first deadline passes; the person is told (so it needs
    ``requests:read`` too)."""

    access = {"POST": Access("dsar.change_request", "requests:manage")}

    @extend_schema(request=s.RequestExtendInput, responses={200: s.RequestOutput})
    def post(self, request: ApiRequest, pk: int) -> Response:
        check_access(request, READ_REQUEST)
        data = s.RequestExtendInput(data=request.data)
        data.is_valid(raise_exception=True)
        target = self.get_request_object(pk)
        services.request_extend(request=target, reason=data.validated_data["reason"], actor=request.user)
        target.refresh_from_db()
        return Response(s.RequestOutput(target).data)


@refused_for_its_state("status", methods=["post"])
class RequestReject(RequestObjectView):
    """Refuse the request: ``denial_reason`` (one of DRP's reasons) and ``reason`` (the rest in words), both required;
    the person is told both (the reason in plain words in their language), as from the console."""

    access = {"POST": Access("dsar.change_request", "requests:manage")}

    @extend_schema(request=s.RequestRejectInput, responses={200: s.RequestOutput})
    def post(self, request: ApiRequest, pk: int) -> Response:
        data = s.RequestRejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        target = self.get_request_object(pk)
        services.request_reject(
            request=target,
            reason=data.validated_data["reason"],
            denial_reason=data.validated_data["denial_reason"],
            actor=request.user,
        )
        target.refresh_from_db()
        return Response(s.RequestOutput(target).data)


@refused_for_its_state("type", "person", methods=["get", "post"])
class RequestErasurePreview(RequestObjectView):
    """What each source would erase, what it keeps and why, and what blocks the erasure now."""

    access = {
        "GET": Access("dsar.execute_erasure", "requests:execute"),
        "POST": Access("dsar.execute_erasure", "requests:execute"),
    }

    @extend_schema(request=None, responses={200: s.ErasurePreviewOutput})
    def post(self, request: ApiRequest, pk: int) -> Response:
        preview = services.request_erasure_preview(request=self.get_request_object(pk), actor=request.user)
        return Response(preview.as_dict())

    @extend_schema(responses={200: s.ErasurePreviewOutput})
    def get(self, request: ApiRequest, pk: int) -> Response:
        return self.post(request, pk)


@refused_for_its_state("status", "type", "person", methods=["post"])
class RequestExecute(OutsideRequestTransaction, RequestObjectView):
    """Do what the request asks. An erasure that a source blocks answers 409 and the request waits.

    Executing writes to the person (the erasure's letter, the portability archive's link), so it needs
    ``requests:read`` too, and a portability request ``requests:report`` (the archive is their personal data)."""

    # The gate; which permission executing needs depends on the request's type (checked below).
    access = {"POST": Access("dsar.view_request", "requests:execute")}

    @extend_schema(request=None, responses={200: s.ExecuteOutput, 409: s.ExecuteOutput})
    def post(self, request: ApiRequest, pk: int) -> Response:
        check_access(request, READ_REQUEST)
        target = self.get_request_object(pk)
        needed = "dsar.execute_erasure" if target.type == Request.Type.ERASURE else "dsar.execute_request"
        check_access(request, Access(needed, "requests:execute"))
        if target.type == Request.Type.PORTABILITY:
            check_access(request, READ_PERSONAL_DATA)
        outcome = services.request_execute(request=target, actor=request.user)
        target.refresh_from_db()
        body: dict[str, Any] = {
            "status": target.status,
            "blockers": outcome.blocked if outcome else [],
            "steps_run": len(outcome.ran) if outcome else 0,
            "steps_already_done": outcome.skipped if outcome else 0,
            "erased": outcome.erased if outcome else 0,
            "scan": outcome.scan.as_dict() if outcome and outcome.scan else None,
        }
        # The request's move to `waiting` must stay: answered, not raised, so the transaction commits.
        return Response(body, status=status.HTTP_409_CONFLICT if body["blockers"] else status.HTTP_200_OK)


@refused_for_its_state("status", methods=["post"])
class RequestScanHits(RequestObjectView):
    """Resolve a hit of the erasure's last verification scan: redact it in place or declare it retained (with
    a reason and a period); the scan runs again, and a clean one completes the request unless finalization
    is manual."""

    access = {
        "GET": Access("dsar.view_request", "requests:read"),
        "POST": Access("dsar.execute_erasure", "requests:execute"),
    }

    def _body(self, target: Request) -> dict[str, Any]:
        target.refresh_from_db()
        scan = target.scan or {"tables": 0, "columns": 0, "undeclared": 0, "declared": 0, "hits": []}
        return {"status": target.status, **{key: scan[key] for key in ("tables", "columns", "undeclared", "declared", "hits")}}

    @extend_schema(responses={200: s.ScanOutput})
    def get(self, request: ApiRequest, pk: int) -> Response:
        return Response(self._body(self.get_request_object(pk)))

    @extend_schema(request=s.ScanHitResolveInput, responses={200: s.ScanOutput})
    def post(self, request: ApiRequest, pk: int) -> Response:
        check_access(request, READ_REQUEST)  # a clean scan completes the erasure and writes to the person
        data = s.ScanHitResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        target = self.get_request_object(pk)
        values = data.validated_data
        if values["action"] == "declare":
            if values["retention_days"] is None:
                raise ValidationError({"retention_days": "Give how many days it is kept, from 1 to 3650."})
            services.erasure_hit_declare(
                request=target,
                table=values["table"],
                column=values["column"],
                reason=values["reason"],
                retention_days=values["retention_days"],
                actor=request.user,
            )
        else:
            services.erasure_hit_redact(request=target, table=values["table"], column=values["column"], actor=request.user)
        return Response(self._body(target))


@as_of_errors
@refused_for_its_state("status", "person", methods=["get"])
class RequestReport(RequestObjectView):
    """The access report: the person's records by data category, where each is stored and why."""

    access = {"GET": Access("dsar.download_export", "requests:report")}

    @extend_schema(
        parameters=[AS_OF],
        responses={200: OpenApiResponse(description="The access report as JSON; catalog_version names the catalog used.")},
    )
    def get(self, request: ApiRequest, pk: int) -> Response:
        as_of = parse_as_of(request.query_params.get("as_of"))
        return Response(request_access_report(request=self.get_request_object(pk), as_of=as_of))


@extend_validation_errors(["invalid"], field_name="year", methods=["get"])
@extend_validation_errors(["invalid"], field_name="account", methods=["get"])
class RequestMetrics(APIView):
    """The yearly request metrics (CCPA regulations §7102): the requests received in ``year`` (the day of receipt
    in each account's time zone), by law and by type, received, complied with, denied (by reason), withdrawn,
    still open, and the median and mean days to answer. Test requests are left out. An API key reads its own
    account's; staff every account's, or one's with ``account``."""

    access = {"GET": READ_REQUEST}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "year", OpenApiTypes.INT, required=True, description=f"The calendar year, from {FIRST_YEAR} to this year."
            ),
            OpenApiParameter("account", OpenApiTypes.INT, description="Staff only: one account's requests."),
        ],
        responses={200: s.MetricsOutput},
    )
    def get(self, request: ApiRequest) -> Response:
        year = check_year(request.query_params.get("year", ""))
        scope = account_scope(request)
        asked = request.query_params.get("account", "").strip()
        account = scope
        if asked:
            found = Account.objects.filter(pk=int(asked)).first() if asked.isdigit() else None
            if found is None or (scope is not None and found.pk != scope.pk):
                raise ValidationError({"account": f"No account with id {asked!r} that you may read."})
            account = found
        return Response(s.MetricsOutput(request_metrics(year=year, account=account).as_dict()).data)


def export_download_view(request: HttpRequest, token: str) -> HttpResponse:
    """The signed link emailed to the person: the token is the only credential, and it expires."""
    try:
        export, archive = export_download(token=token)
    except LinkRefused as refused:
        return HttpResponse(str(refused), status=refused.status, content_type="text/plain")
    # Streamed from the file in blocks (and closed by the response): memory stays flat whatever its size.
    response = FileResponse(
        archive, content_type="application/zip", as_attachment=True, filename=f"request-{export.request_id}-data.zip"
    )
    add_never_cache_headers(response)  # personal data: no browser or proxy keeps a copy
    return response
