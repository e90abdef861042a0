from __future__ import annotations

from rest_framework import serializers

from residency.models import (
    Account,
    Basis,
    ChangeNotice,
    DataCategory,
    HostingOffer,
    Integration,
    Product,
    Region,
    RetentionRule,
    SubProcessor,
    TransientRoute,
    validate_country,
    validate_time_zone,
)


def codes(field: str = "code") -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field=field, many=True, read_only=True)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "jurisdiction", "country", "safeguard", "safeguard_note"]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["slug", "name"]


class DataCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = DataCategory
        fields = ["slug", "name", "definition", "definition_in_source", "purposes", "purposes_basis", "is_personal", "personal_basis"]


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
        fields = [
            "slug", "name", "kind", "products", "categories", "processing_regions", "source_says", "safeguard",
            "safeguard_note", "note",
        ]


class SubProcessorSerializer(serializers.ModelSerializer):
    products = codes("slug")
    categories = codes("slug")
    regions = codes()

    class Meta:
        model = SubProcessor
        fields = [
            "slug", "name", "purpose", "products", "categories", "regions", "in_storage_region", "dpf_certified",
            "safeguard", "safeguard_note", "note",
        ]


class AccountOutputSerializer(serializers.ModelSerializer):
    home_region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    products = codes("slug")
    integrations = codes("slug")

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "home_region",
            "plan",
            "products",
            "integrations",
            "custom_mailbox",
            *Account.PLACE_FIELDS,
            *Account.CONTACT_FIELDS,
            *Account.MIGRATION_FIELDS,
            "created_at",
        ]


class AccountInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    home_region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())
    plan = serializers.ChoiceField(choices=Account.Plan.choices, default=Account.Plan.TEAM)
    products = serializers.SlugRelatedField(slug_field="slug", many=True, queryset=Product.objects.all(), default=list)
    integrations = serializers.SlugRelatedField(
        slug_field="slug", many=True, queryset=Integration.objects.all(), default=list
    )
    custom_mailbox = serializers.BooleanField(default=False)
    country = serializers.CharField(
        max_length=2,
        required=False,
        allow_blank=True,
        validators=[validate_country],
        help_text="ISO 3166 code (e.g. SE): the public holidays that move a deadline. Empty: weekends only.",
    )
    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        validators=[validate_time_zone],
        help_text="IANA name (e.g. Europe/Stockholm): the day a request is received on. Empty: the home region's.",
    )
    privacy_contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    privacy_contact_email = serializers.EmailField(required=False, allow_blank=True)
    dpo_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    dpo_email = serializers.EmailField(required=False, allow_blank=True)
    migration_in_progress = serializers.BooleanField(default=False)
    migration_started_on = serializers.DateField(required=False, allow_null=True)
    migration_ends_on = serializers.DateField(required=False, allow_null=True)


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
    purposes_basis = serializers.ChoiceField(choices=Basis.choices, help_text="catalog: the catalog's own addition.")
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
    product = serializers.CharField(help_text="A product slug, or a platform slug for a processing location.")
    data_category = serializers.CharField()
    origin = serializers.CharField(
        allow_null=True, help_text="The region whose jurisdiction the data leaves: the account's home region."
    )
    region = serializers.CharField(allow_null=True, help_text="null: outside the jurisdiction, region not stated.")
    reason = serializers.CharField()
    via = serializers.ChoiceField(
        choices=["storage", "transit", "backup", "log", "integration", "sub_processor", "platform"],
        help_text="What takes the data there.",
    )
    via_slug = serializers.CharField(help_text="The integration, sub-processor or platform; empty otherwise.")


class PlatformUseSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    environments = serializers.ListField(child=serializers.CharField())
    regions = serializers.ListField(child=serializers.CharField(), help_text="Empty: the source names none (review).")
    review = serializers.BooleanField()
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
    catalog_sha256 = serializers.CharField(help_text="The SHA-256 of the catalog file of that version.")
    entries = EntrySerializer(many=True)
    transfers = TransferSerializer(many=True)
    reviews = serializers.ListField(child=serializers.CharField())
    sub_processors = SubProcessorUseSerializer(many=True)
    platforms = PlatformUseSerializer(many=True)
    notes = serializers.ListField(child=serializers.CharField())
    as_of = serializers.CharField(allow_null=True, help_text="null: now; else the moment the report describes.")
    catalog_loaded_at = serializers.CharField(allow_null=True, help_text="When the catalog version in force was loaded.")


class PartySerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["processor", "controller"])
    name = serializers.CharField()
    contact_name = serializers.CharField(help_text="Empty: missing.")
    email = serializers.CharField(help_text="Empty: missing.")
    address = serializers.CharField(help_text="Empty: missing.")
    dpo_name = serializers.CharField(help_text="Empty: missing.")
    dpo_email = serializers.CharField(help_text="Empty: missing.")
    representative = serializers.CharField(help_text="Empty: none stated.")


class ProcessingActivitySerializer(serializers.Serializer):
    product = serializers.CharField()
    product_name = serializers.CharField()
    data_category = serializers.CharField()
    data_category_name = serializers.CharField()
    personal_data = serializers.BooleanField()
    personal_basis = serializers.ChoiceField(choices=Basis.choices, help_text="catalog: the catalog's own addition.")
    purposes = serializers.ListField(child=serializers.CharField())
    purposes_basis = serializers.ChoiceField(choices=Basis.choices, help_text="catalog: the catalog's own addition.")
    stored_in = serializers.CharField(allow_null=True)


class RecordTransferSerializer(serializers.Serializer):
    product = serializers.CharField()
    data_category = serializers.CharField()
    what = serializers.CharField()
    region = serializers.CharField(allow_null=True)
    country = serializers.CharField(allow_null=True, help_text="null: missing (review).")
    safeguard = serializers.CharField(allow_null=True, help_text="null: none stated (review).")
    safeguard_note = serializers.CharField()
    safeguard_reference = serializers.CharField(help_text="Where the safeguard is documented (URL or document id); empty: not stated.")
    third_country = serializers.BooleanField(
        help_text="A transfer to a third country under GDPR Chapter V; false: a place outside a non-GDPR controller's jurisdiction."
    )
    via = serializers.CharField()
    reason = serializers.CharField()
    review = serializers.BooleanField()


class ProcessingRecordSerializer(serializers.Serializer):
    """The processor's record of processing for the account (GDPR Art. 30(2))."""

    account = ReportAccountSerializer(source="*")
    home_region = serializers.CharField()
    jurisdiction = serializers.CharField()
    catalog_version = serializers.CharField()
    catalog_sha256 = serializers.CharField(help_text="The SHA-256 of the catalog file of that version.")
    catalog_loaded_at = serializers.CharField(allow_null=True)
    as_of = serializers.CharField(allow_null=True)
    generated_at = serializers.CharField()
    regime = serializers.CharField(help_text="The law that governs the controller: GDPR, or the law of its jurisdiction.")
    regime_note = serializers.CharField()
    processor = PartySerializer()
    controller = PartySerializer()
    customer_data = serializers.CharField(help_text="What is processed, in the source's words.")
    hosted_data = serializers.CharField()
    purpose = serializers.CharField(help_text="Why, in the source's words.")
    data_location_option = serializers.CharField()
    documents = serializers.ListField(child=serializers.CharField(), help_text="The documents the source points to.")
    processing = ProcessingActivitySerializer(many=True)
    transfers = RecordTransferSerializer(many=True)
    processing_locations = PlatformUseSerializer(many=True)
    sub_processors = SubProcessorUseSerializer(many=True)
    security_measures = serializers.ListField(child=serializers.CharField())
    reviews = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField(), help_text="The fields nobody has filled.")


class ChangeNoticeSerializer(serializers.ModelSerializer):
    catalog_version = serializers.CharField(source="catalog_load.version")

    class Meta:
        model = ChangeNotice
        fields = [
            "id", "catalog_version", "changes", "effective_from", "objection_until", "sent_to", "emailed_at", "created_at"
        ]
