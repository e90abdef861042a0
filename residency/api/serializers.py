from __future__ import annotations

from rest_framework import serializers

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


def codes(field: str = "code") -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field=field, many=True, read_only=True)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "jurisdiction"]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["slug", "name"]


class DataCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = DataCategory
        fields = ["slug", "name", "definition", "definition_in_source", "purposes", "is_personal"]


class HostingOfferSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    data_category = serializers.SlugRelatedField(source="category", slug_field="slug", read_only=True)
    regions = codes()
    fallback_region = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = HostingOffer
        fields = ["product", "data_category", "regions", "fallback_region", "documented", "note"]


class TransientRouteSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    data_category = serializers.SlugRelatedField(source="category", slug_field="slug", read_only=True)
    generated_in = serializers.SlugRelatedField(slug_field="code", read_only=True)
    routed_to = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = TransientRoute
        fields = ["product", "data_category", "generated_in", "held_minutes", "routed_to", "note"]


class RetentionRuleSerializer(serializers.ModelSerializer):
    products = codes("slug")
    storage_regions = codes()
    kept_in = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = RetentionRule
        fields = ["slug", "name", "kind", "products", "storage_regions", "kept_in", "days", "note"]


class IntegrationSerializer(serializers.ModelSerializer):
    products = codes("slug")
    categories = codes("slug")
    processing_regions = codes()

    class Meta:
        model = Integration
        fields = ["slug", "name", "kind", "products", "categories", "processing_regions", "note"]


class SubProcessorSerializer(serializers.ModelSerializer):
    products = codes("slug")
    categories = codes("slug")
    regions = codes()

    class Meta:
        model = SubProcessor
        fields = ["slug", "name", "purpose", "products", "categories", "regions", "in_storage_region", "note"]


class AccountOutputSerializer(serializers.ModelSerializer):
    home_region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    products = codes("slug")
    integrations = codes("slug")

    class Meta:
        model = Account
        fields = ["id", "name", "home_region", "plan", "products", "integrations", "custom_mailbox", "created_at"]


class AccountInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    home_region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())
    plan = serializers.ChoiceField(choices=Account.Plan.choices, default=Account.Plan.TEAM)
    products = serializers.SlugRelatedField(slug_field="slug", many=True, queryset=Product.objects.all(), default=list)
    integrations = serializers.SlugRelatedField(
        slug_field="slug", many=True, queryset=Integration.objects.all(), default=list
    )
    custom_mailbox = serializers.BooleanField(default=False)


class HopSerializer(serializers.Serializer):
    region = serializers.CharField(allow_null=True)


class TransientHopSerializer(HopSerializer):
    minutes = serializers.IntegerField()


class RetentionHopSerializer(HopSerializer):
    days = serializers.IntegerField(allow_null=True, help_text="null: the source states no period.")


class EntrySerializer(serializers.Serializer):
    product = serializers.CharField()
    product_name = serializers.CharField()
    data_category = serializers.CharField()
    data_category_name = serializers.CharField()
    purposes = serializers.ListField(child=serializers.CharField())
    stored_in = serializers.CharField(allow_null=True, help_text="null: the source states no region (see review).")
    rule = serializers.CharField()
    transient = TransientHopSerializer(many=True)
    backups = RetentionHopSerializer(many=True)
    logs = RetentionHopSerializer(many=True)
    integrations = serializers.ListField(child=serializers.CharField())
    transfer = serializers.BooleanField()
    review = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class TransferSerializer(serializers.Serializer):
    product = serializers.CharField()
    data_category = serializers.CharField()
    region = serializers.CharField(allow_null=True, help_text="null: outside the jurisdiction, region not stated.")
    reason = serializers.CharField()


class SubProcessorUseSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    purpose = serializers.CharField()
    regions = serializers.ListField(child=serializers.CharField())
    in_storage_region = serializers.BooleanField()
    products = serializers.ListField(child=serializers.CharField())


class ReportAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="account_id")
    name = serializers.CharField(source="account")


class ResidencyReportSerializer(serializers.Serializer):
    account = ReportAccountSerializer(source="*")
    home_region = serializers.CharField()
    jurisdiction = serializers.CharField()
    catalog_version = serializers.CharField()
    entries = EntrySerializer(many=True)
    transfers = TransferSerializer(many=True)
    reviews = serializers.ListField(child=serializers.CharField())
    sub_processors = SubProcessorUseSerializer(many=True)
    notes = serializers.ListField(child=serializers.CharField())
