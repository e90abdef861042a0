"""The recordings API: one view per operation; views validate, call a service, serialize."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import Access, account_scope, api_key_of, check_access
from recordings import services
from recordings.api.lists import CallListApi, MonitoringListApi
from recordings.models import HistoryExport, Recording, Ticket
from residency.models import Account


class RecordingOutput(serializers.ModelSerializer):
    class Meta:
        model = Recording
        fields = ["id", "account", "line", "call", "ticket", "kind", "provider_sid", "duration_seconds", "created_at"]


class RecordingDetailApi(APIView):
    """A recording; DELETE deletes it permanently (audited, and at the provider), unless a legal hold covers it."""

    access = {
        "GET": Access("recordings.view_recording", "recordings:read"),
        "DELETE": Access("recordings.delete_recording", "recordings:delete"),
    }

    def _recordings(self, request: Request) -> Any:
        account = account_scope(request)
        return Recording.objects.for_account(account) if account else Recording.objects.all()

    @extend_schema(responses=RecordingOutput)
    def get(self, request: Request, recording_id: int) -> Response:
        recording = get_object_or_404(self._recordings(request), pk=recording_id)
        return Response(RecordingOutput(recording).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, recording_id: int) -> Response:
        user = request.user if request.user.is_authenticated else None
        services.recording_delete(recording_id=recording_id, user=user, account=account_scope(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TicketOutput(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "account", "subject", "status", "created_at", "deleted_at", "deleted_by_name"]


def _tickets(request: Request) -> Any:
    account = account_scope(request)
    return Ticket.objects.for_account(account) if account else Ticket.objects.all()


class TicketDetailApi(APIView):
    """A telephony ticket; DELETE soft-deletes it: restorable for 7 days, then the purge deletes it for good
    with all its recordings, each audited with the ticket's ID and who deleted it."""

    access = {
        "GET": Access("recordings.view_ticket", "tickets:read"),
        "DELETE": Access("recordings.delete_ticket", "tickets:delete"),
    }

    @extend_schema(responses=TicketOutput)
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(TicketOutput(get_object_or_404(_tickets(request), pk=ticket_id)).data)

    @extend_schema(responses={200: TicketOutput})
    def delete(self, request: Request, ticket_id: int) -> Response:
        ticket = get_object_or_404(_tickets(request), pk=ticket_id)
        services.ticket_soft_delete(ticket_id=ticket.pk, user=request.user)
        ticket.refresh_from_db()
        return Response(TicketOutput(ticket).data)


class TicketRestoreApi(APIView):
    """Undo a ticket's soft deletion, within the 7 days before the purge."""

    access = {"POST": Access("recordings.delete_ticket", "tickets:delete")}

    @extend_schema(request=None, responses={200: TicketOutput})
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = get_object_or_404(_tickets(request), pk=ticket_id)
        services.ticket_restore(ticket_id=ticket.pk, user=request.user)
        ticket.refresh_from_db()
        return Response(TicketOutput(ticket).data)


class ExportOutput(serializers.ModelSerializer):
    account = serializers.CharField(source="account.name")

    class Meta:
        model = HistoryExport
        fields = ["id", "account", "kind", "start", "end", "status", "row_count", "created_at", "finished_at", "error"]


class ExportCreateApi(APIView):
    """Queue a CSV export of call or monitoring history; the signed download link is emailed when it is ready.

    The caller needs ``exports:create`` and what reading that history needs (``history:read``, as its list), and
    the link goes only to an active staff login allowed to read it: by default the key's owner or the staff user.
    """

    access = {"POST": Access("recordings.add_historyexport", "exports:create")}

    #: Reading what each kind of export holds: what its list needs (GET calls/, GET monitoring/).
    read_access = {
        HistoryExport.Kind.CALL_HISTORY: CallListApi.access["GET"],
        HistoryExport.Kind.MONITORING_HISTORY: MonitoringListApi.access["GET"],
    }

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=HistoryExport.Kind.choices)
        start = serializers.DateField(required=False, help_text="Default: the first day of the current month.")
        end = serializers.DateField(required=False, help_text="Inclusive. Default: the last day of the current month.")
        account = serializers.PrimaryKeyRelatedField(
            queryset=Account.objects.all(), required=False, help_text="Staff only; an API key exports its own account."
        )
        recipient = serializers.EmailField(
            required=False,
            help_text=(
                "Where the download link is sent: the email address of an active staff login (a console user) "
                "allowed to read this history and to download exports; no other address is accepted. Default: "
                "the API key's owner (the staff user who created the key), or the staff user calling."
            ),
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if "email" in self.initial_data:
                # The field's old name: ignoring it would send the link somewhere the caller did not say.
                raise serializers.ValidationError({"email": "This field is now called recipient."})
            return attrs

    @extend_schema(request=InputSerializer, responses={202: ExportOutput})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kind = data.validated_data["kind"]
        check_access(request, self.read_access[kind])
        account = account_scope(request)
        if account is None:
            account = data.validated_data.get("account")
            if account is None:
                raise serializers.ValidationError({"account": "Staff must name the account to export."})
        user = request.user if request.user.is_authenticated else None
        export = services.history_export_request(
            account=account,
            kind=kind,
            start=data.validated_data.get("start"),
            end=data.validated_data.get("end"),
            user=user,
            api_key=api_key_of(request),
            recipient=data.validated_data.get("recipient", ""),
        )
        return Response(ExportOutput(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(APIView):
    """An export's status."""

    access = {"GET": Access("recordings.view_historyexport", "exports:read")}

    @extend_schema(responses=ExportOutput)
    def get(self, request: Request, export_id: int) -> Response:
        account = account_scope(request)
        exports = HistoryExport.objects.filter(account=account) if account else HistoryExport.objects.all()
        return Response(ExportOutput(get_object_or_404(exports.select_related("account"), pk=export_id)).data)


class ExportDownloadApi(APIView):
    """The CSV file behind an emailed link; the signed token is the authorization and expires after 7 days."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={(200, "text/csv"): bytes})
    def get(self, request: Request, token: str) -> FileResponse:
        try:
            export = services.export_from_token(token)
        except (signing.BadSignature, HistoryExport.DoesNotExist) as exc:
            raise Http404("This download link is invalid or has expired.") from exc
        path = services.export_path(export)
        if not path.is_file():
            raise Http404("The export file is no longer available.")
        # FileResponse streams the file in chunks; the file is never read into memory.
        response = FileResponse(
            path.open("rb"), as_attachment=True, filename=f"{export.kind}-{export.start}-{export.end}.csv", content_type="text/csv"
        )
        add_never_cache_headers(response)  # call data: no browser or proxy keeps a copy
        return response
