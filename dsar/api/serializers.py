from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from dsar.models import Jurisdiction, Request, RequestEvent, e164_validator
from dsar.sources import normal_phone
from residency.models import Account


class RequestCreateInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=Request.Type.choices)
    jurisdiction = serializers.SlugRelatedField(slug_field="code", queryset=Jurisdiction.objects.all())
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=32,
        help_text="E.164; spaces, dashes and a 00 prefix are accepted and removed (+46 70-123 45 67).",
    )
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    channel = serializers.ChoiceField(choices=Request.Channel.choices, required=False, default=Request.Channel.API)
    language = serializers.ChoiceField(
        choices=Request.Language.choices,
        required=False,
        default="",
        help_text="What the person is written to in (en, sv, fr); default: the account's country's language, else en.",
    )
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Staff only: the account the request is for. An API key's requests go to its own account.",
    )
    is_test = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Filed to try the workflow: it runs as any other, and is left out of the yearly metrics.",
    )


    def validate_phone(self, value: str) -> str:
        phone = normal_phone(value) or value.strip()
        if phone:
            e164_validator(phone)
        return phone


class RequestVerifyInput(serializers.Serializer):
    code = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=12, help_text="The code the person received."
    )
    method = serializers.ChoiceField(choices=[("code", "code"), ("manual", "manual")], required=False, default="code")
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Staff, manual: how the identity was checked."
    )


class RequestExtendInput(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class RequestRejectInput(serializers.Serializer):
    denial_reason = serializers.ChoiceField(
        choices=Request.DenialReason.choices,
        help_text="Why the request is refused, one of the Data Rights Protocol's reasons; the person's letter states it "
        "in plain words in their language.",
    )
    reason = serializers.CharField(
        allow_blank=True, max_length=2000, help_text="The rest in words: kept on the request and told to the person."
    )


class EventOutput(serializers.ModelSerializer):
    class Meta:
        model = RequestEvent
        fields = ["at", "kind", "actor", "message"]


class RequestOutput(serializers.ModelSerializer):
    jurisdiction = serializers.SlugRelatedField(slug_field="code", read_only=True)
    due_note = serializers.CharField(
        read_only=True,
        help_text="Why the deadline is not the plain count, e.g. \"due Mon 1 Dec 2025: 30 Nov 2025 is a Sunday\"; "
        "empty when it is.",
    )
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    days_left = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Request
        fields = [
            "id",
            "account",
            "person",
            "type",
            "jurisdiction",
            "channel",
            "language",
            "status",
            "denial_reason",
            "status_reason",
            "received_at",
            "due_at",
            "due_note",
            "first_due_at",
            "days_left",
            "overdue",
            "extended_at",
            "extension_reason",
            "extension_notified_at",
            "verified_at",
            "verification_method",
            "executed_at",
            "completed_at",
            "assignee",
            "is_test",
        ]

    def get_days_left(self, request: Request) -> int:
        return request.days_left(timezone.localdate())

    def get_overdue(self, request: Request) -> bool:
        return request.is_overdue(timezone.localdate())


class RequestDetailOutput(RequestOutput):
    timeline = EventOutput(source="events", many=True, read_only=True)
    certificate = serializers.JSONField(read_only=True)
    scan = serializers.JSONField(read_only=True)

    class Meta(RequestOutput.Meta):
        fields = [*RequestOutput.Meta.fields, "timeline", "certificate", "scan"]


class RequestCreatedOutput(serializers.ModelSerializer):
    class Meta:
        model = Request
        fields = ["id", "status", "due_at", "due_note"]


class OutlivingCopyOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[("backup", "backup"), ("log", "log")])
    region = serializers.CharField(allow_null=True)
    days = serializers.IntegerField(allow_null=True, help_text="null: the source states no period.")
    until = serializers.DateField(allow_null=True, help_text="The last day the copy can hold the erased data.")
    products = serializers.ListField(child=serializers.CharField())
    statement = serializers.CharField()


class ErasurePreviewOutput(serializers.Serializer):
    sources = serializers.ListField(child=serializers.DictField())
    totals = serializers.DictField(child=serializers.IntegerField())
    blockers = serializers.ListField(child=serializers.CharField())
    outlives = OutlivingCopyOutput(many=True, help_text="Copies the erasure cannot reach: backups and logs.")


class ExecuteOutput(serializers.Serializer):
    status = serializers.CharField()
    blockers = serializers.ListField(child=serializers.CharField())
    steps_run = serializers.IntegerField()
    steps_already_done = serializers.IntegerField()
    erased = serializers.IntegerField()
    scan = serializers.DictField(allow_null=True)


class ScanHitResolveInput(serializers.Serializer):
    table = serializers.CharField(max_length=100, help_text="Where the last scan found the hit, as it names it.")
    column = serializers.CharField(max_length=100)
    action = serializers.ChoiceField(
        choices=[("redact", "redact"), ("declare", "declare")],
        help_text="redact: replace the person's identifiers there; declare: keep them, with a reason and a period.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    retention_days = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=3650)


class ScanHitOutput(serializers.Serializer):
    table = serializers.CharField()
    column = serializers.CharField()
    identifier = serializers.CharField(help_text="Which identifier matched (email, phone or name), never its value.")
    count = serializers.IntegerField()
    declared = serializers.BooleanField()
    reason = serializers.CharField()


class ScanOutput(serializers.Serializer):
    status = serializers.CharField(help_text="The request's status after the new scan.")
    tables = serializers.IntegerField()
    columns = serializers.IntegerField()
    undeclared = serializers.IntegerField()
    declared = serializers.IntegerField()
    hits = ScanHitOutput(many=True)


class MetricsFiguresOutput(serializers.Serializer):
    type = serializers.CharField(help_text="Our request type (access, erasure…); empty in a law's total.")
    label = serializers.CharField(help_text="The type in the CCPA regulations' words (know/access, delete…).")
    received = serializers.IntegerField()
    complied = serializers.IntegerField(help_text="Complied with in whole or in part (completed).")
    denied = serializers.IntegerField()
    denied_by_reason = serializers.DictField(
        child=serializers.IntegerField(), help_text="Every denial reason (DRP's), zero included."
    )
    withdrawn = serializers.IntegerField()
    open = serializers.IntegerField(help_text="Received in the year and not closed yet.")
    median_days = serializers.FloatField(
        allow_null=True, help_text="Days from receipt to the answer (completed or denied), one decimal; null: none."
    )
    mean_days = serializers.FloatField(allow_null=True)


class MetricsLawOutput(serializers.Serializer):
    jurisdiction = serializers.CharField(help_text="The law's code, e.g. ccpa.")
    name = serializers.CharField()
    types = MetricsFiguresOutput(many=True)
    total = MetricsFiguresOutput()


class MetricsOutput(serializers.Serializer):
    year = serializers.IntegerField()
    account_id = serializers.IntegerField(allow_null=True, help_text="null: every account (staff).")
    account_name = serializers.CharField(allow_blank=True)
    laws = MetricsLawOutput(many=True, help_text="Each law with a request received in the year.")
