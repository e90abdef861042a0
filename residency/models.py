"""The residency catalog (what the vendor's hosting page states) and the customer accounts."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.history import AuditedHistory


class CatalogEntry(models.Model):
    """Fields every catalog row has: a stable slug the API and the catalog file use, and a position."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0, help_text="Order in the catalog file.")

    class Meta:
        abstract = True
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name


class Safeguard(models.TextChoices):
    """What makes a transfer to a third country lawful (GDPR Chapter V), as the catalog states it.

    The EU-US Data Privacy Framework is not a value here: the record names it only for a sub-processor the
    catalog lists as certified (``SubProcessor.dpf_certified``), and only for a transfer from the EEA to the US.
    """

    NONE_STATED = "", "None stated"
    ADEQUACY = "adequacy", "Adequacy decision"
    SCC = "scc", "Standard contractual clauses"
    BCR = "bcr", "Binding corporate rules"


class Region(models.Model):
    code = models.CharField(max_length=8, unique=True, help_text="US, EEA, IND, AU…")
    name = models.CharField(max_length=100)
    jurisdiction = models.CharField(
        max_length=100, help_text="The legal area the region belongs to; leaving it is a transfer."
    )
    country = models.CharField(
        max_length=100, blank=True, help_text="The country the data centres are in; empty: the source does not name it."
    )
    safeguard = models.CharField(
        max_length=16, choices=Safeguard.choices, blank=True, help_text="What covers a transfer into this region."
    )
    safeguard_note = models.TextField(blank=True)
    safeguard_reference = models.CharField(
        max_length=500, blank=True, help_text="Where the safeguard is documented: a URL or a document's id."
    )
    position = models.PositiveIntegerField(default=0)
    history = AuditedHistory()

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.code


class Basis(models.TextChoices):
    """Where a catalog statement comes from: the source document, or the catalog itself (an addition the source does
    not make, which every report and record labels as the catalog's own)."""

    SOURCE = "source", "the source document"
    CATALOG = "catalog", "the catalog's own addition"


class Product(CatalogEntry):
    default_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where the product stores an account's data when the account's home region is not offered.",
    )
    default_region_note = models.TextField(blank=True, help_text="Where the rule comes from.")
    default_region_basis = models.CharField(max_length=7, choices=Basis.choices, default=Basis.CATALOG)
    history = AuditedHistory()

    class Meta(CatalogEntry.Meta):
        pass


class DataCategory(CatalogEntry):
    definition = models.TextField(blank=True)
    definition_in_source = models.BooleanField(
        default=True, help_text="False when the source document names the category without defining it."
    )
    purposes = models.JSONField(default=list, blank=True, help_text="What the data is processed for.")
    purposes_basis = models.CharField(max_length=7, choices=Basis.choices, default=Basis.CATALOG)
    is_personal = models.BooleanField(default=True, help_text="Whether the category holds personal data.")
    personal_basis = models.CharField(max_length=7, choices=Basis.choices, default=Basis.CATALOG)
    history = AuditedHistory()

    class Meta(CatalogEntry.Meta):
        verbose_name_plural = "data categories"


class HostingOffer(models.Model):
    """One row of the hosting table: where a product's data category can be stored."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="offers")
    category = models.ForeignKey(DataCategory, on_delete=models.PROTECT, related_name="offers")
    regions = models.ManyToManyField(Region, blank=True, related_name="offers")
    fallback_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where the data is stored for accounts whose home region is not offered.",
    )
    documented = models.BooleanField(
        default=True, help_text="False when the source states no region: reported for review, never guessed."
    )
    regions_basis = models.TextField(
        blank=True, help_text="Set when the source gives the row no region line: where its regions are read from, and why."
    )
    note = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    history = AuditedHistory(m2m_fields=[regions])

    class Meta:
        ordering = ["product__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["product", "category"], name="hosting_offer_unique_product_category"),
            models.CheckConstraint(
                condition=Q(documented=False, fallback_region__isnull=True)
                | Q(documented=True, fallback_region__isnull=False),
                name="hosting_offer_fallback_iff_documented",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} · {self.category}"


class TransientRoute(models.Model):
    """Data generated in one region, held there for a while, then routed to where it is stored."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="routes")
    category = models.ForeignKey(DataCategory, on_delete=models.PROTECT, related_name="routes")
    generated_in = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    held_minutes = models.PositiveIntegerField()
    routed_to = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", help_text="Applies to accounts homed in this region."
    )
    note = models.TextField(blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["product__position", "category__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "category", "generated_in", "routed_to"], name="transient_route_unique"
            ),
            models.CheckConstraint(condition=Q(held_minutes__gt=0), name="transient_route_minutes_positive"),
            models.CheckConstraint(
                condition=~Q(generated_in=models.F("routed_to")), name="transient_route_between_two_regions"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} · {self.category}: {self.generated_in} {self.held_minutes} min → {self.routed_to}"


class RetentionRule(CatalogEntry):
    """Where backups or logs of stored data are kept, and for how long."""

    class Kind(models.TextChoices):
        BACKUP = "backup", "Backups"
        LOG = "log", "Logs"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    products = models.ManyToManyField(Product, blank=True, help_text="Empty: every product.")
    storage_regions = models.ManyToManyField(
        Region, blank=True, related_name="+", help_text="Applies to data stored in these regions; empty: every region."
    )
    kept_in = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: in the region where the data is stored.",
    )
    days = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the source states no period.")
    note = models.TextField(blank=True)
    history = AuditedHistory(m2m_fields=[products, storage_regions])

    class Meta(CatalogEntry.Meta):
        constraints = [models.CheckConstraint(condition=Q(days__isnull=True) | Q(days__gt=0), name="retention_days_positive")]


class Integration(CatalogEntry):
    """A third-party integration, marketplace app or custom app an account can enable."""

    class Kind(models.TextChoices):
        MARKETPLACE_APP = "marketplace_app", "Marketplace app"
        THIRD_PARTY = "third_party", "Third-party integration"
        CUSTOM_APP = "custom_app", "Custom app"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    products = models.ManyToManyField(Product, blank=True, help_text="Available for these products; empty: all.")
    categories = models.ManyToManyField(DataCategory, blank=True, help_text="The data categories it touches.")
    processing_regions = models.ManyToManyField(
        Region, blank=True, related_name="+", help_text="Where it processes data; empty: not stated."
    )
    source_says = models.TextField(blank=True, help_text="The source's own words on where it processes data.")
    safeguard = models.CharField(max_length=16, choices=Safeguard.choices, blank=True)
    safeguard_note = models.TextField(blank=True)
    safeguard_reference = models.CharField(
        max_length=500, blank=True, help_text="Where the safeguard is documented: a URL or a document's id."
    )
    note = models.TextField(blank=True)
    history = AuditedHistory(m2m_fields=[products, categories, processing_regions])


class SubProcessor(CatalogEntry):
    purpose = models.CharField(max_length=300)
    products = models.ManyToManyField(Product, blank=True, help_text="Used for these products; empty: all.")
    categories = models.ManyToManyField(DataCategory, blank=True, help_text="The data categories it processes.")
    regions = models.ManyToManyField(Region, blank=True, related_name="+", help_text="Empty: not stated.")
    in_storage_region = models.BooleanField(
        default=False, help_text="Processes the data inside the account's storage region."
    )
    dpf_certified = models.BooleanField(
        default=False, help_text="Listed as certified under the EU-US Data Privacy Framework."
    )
    safeguard = models.CharField(max_length=16, choices=Safeguard.choices, blank=True)
    safeguard_note = models.TextField(blank=True)
    safeguard_reference = models.CharField(
        max_length=500, blank=True, help_text="Where the safeguard is documented: a URL or a document's id."
    )
    note = models.TextField(blank=True)
    history = AuditedHistory(m2m_fields=[products, categories, regions])


class ProcessingPlatform(CatalogEntry):
    """A place that processes an account's data outside the hosting table: single sign-on, migration."""

    class Kind(models.TextChoices):
        SSO = "sso", "Single sign-on"
        MIGRATION = "migration", "Data migration"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    products = models.ManyToManyField(Product, blank=True, help_text="Used for these products; empty: all.")
    categories = models.ManyToManyField(DataCategory, blank=True, help_text="The data it processes.")
    sub_processors = models.ManyToManyField(SubProcessor, blank=True, help_text="The environments it runs in.")
    regions = models.ManyToManyField(Region, blank=True, related_name="+", help_text="Empty: the source names none.")
    note = models.TextField(blank=True)
    history = AuditedHistory(m2m_fields=[products, categories, sub_processors, regions])


class Processor(models.Model):
    """The vendor as processor (GDPR Art. 30(2)(a) and (d)): one row, from the catalog file's [processor] table.

    An empty field is one the catalog does not state; the record shows it as missing.
    """

    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    dpo_name = models.CharField(max_length=200, blank=True)
    dpo_email = models.EmailField(blank=True)
    representative = models.TextField(blank=True, help_text="The representative in the EU (Art. 27), if any.")
    security_measures = models.JSONField(
        default=list, blank=True, help_text="The technical and organisational measures (Art. 32(1)), one per item."
    )
    customer_data = models.TextField(blank=True, help_text="What the source calls customer data: what is processed.")
    hosted_data = models.TextField(blank=True, help_text="What the source calls hosted data.")
    purpose = models.TextField(blank=True, help_text="The purpose of processing, in the source's words.")
    data_location_option = models.TextField(blank=True, help_text="What the source says of choosing where data is stored.")
    documents = models.JSONField(
        default=list, blank=True, help_text="The documents the source points to (terms, privacy notice, sub-processor list)."
    )
    history = AuditedHistory()

    class Meta:
        verbose_name = "processor (the vendor)"
        verbose_name_plural = "processor (the vendor)"

    def __str__(self) -> str:
        return self.name


class CatalogLoadQuerySet(models.QuerySet):
    def applied(self) -> "CatalogLoadQuerySet":
        """The loads the database took, latest first: which catalog was in force when."""
        return self.filter(status=CatalogLoad.Status.APPLIED).order_by("-applied_at", "-pk")

    def scheduled(self) -> "CatalogLoadQuerySet":
        """Loads waiting for their ``effective_from``, earliest first."""
        return self.filter(status=CatalogLoad.Status.SCHEDULED).order_by("effective_from", "pk")


class CatalogLoad(models.Model):
    """One load of the catalog file that changed something: the evidence of which catalog was in force.

    A file whose ``effective_from`` is still ahead is checked, its impact and notices recorded, and scheduled:
    the database takes it on that date (``apply_scheduled_catalogs``), and until then reports show the catalog
    in force. A version label stands for one content (``sha256``): loading other content under it is refused."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        APPLIED = "applied", "Applied"
        WITHDRAWN = "withdrawn", "Withdrawn before it applied"

    version = models.CharField(max_length=50)
    source = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    content = models.TextField(blank=True, editable=False, help_text="The file as loaded: what the version label stands for.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPLIED)
    applied_at = models.DateTimeField(null=True, blank=True, help_text="When the database took it; empty while scheduled.")
    changes = models.JSONField(default=dict, help_text="Counts of created, updated and deleted rows by kind.")
    impact = models.JSONField(
        default=list, blank=True, help_text="The accounts whose residency report the load changed, and how."
    )
    loaded_at = models.DateTimeField(default=timezone.now)
    effective_from = models.DateField(
        null=True, blank=True, help_text="When the catalog says the change takes effect; empty: when loaded."
    )
    history = AuditedHistory()

    objects = CatalogLoadQuerySet.as_manager()

    class Meta:
        ordering = ["-loaded_at"]
        get_latest_by = "loaded_at"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="applied", applied_at__isnull=False) | ~models.Q(status="applied"),
                name="residency_catalogload_applied_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"catalog {self.version} ({self.loaded_at:%Y-%m-%d %H:%M})"


#: The time zone an account's dates are counted in when it names none, by home region code: where the
#: product places its customers' working day by default. The product's own choice, not the source's.
REGION_TIME_ZONES = {"US": "America/New_York", "EEA": "Europe/Brussels", "IND": "Asia/Kolkata", "AU": "Australia/Sydney"}
#: The country of a home region that is one country; the EEA is many, so an EEA account names its own.
REGION_COUNTRIES = {"US": "US", "IND": "IN", "AU": "AU"}


def validate_time_zone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/Stockholm).")


def validate_country(value: str) -> None:
    import phonenumbers  # here, not with the models: its metadata is large and only this check needs it

    if value and value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"{value!r} is not an ISO 3166 country code (two capital letters, e.g. SE).")


class Account(models.Model):
    class Plan(models.TextChoices):
        TEAM = "team", "Team"
        GROWTH = "growth", "Growth"
        PROFESSIONAL = "professional", "Professional"
        ENTERPRISE = "enterprise", "Enterprise"

    name = models.CharField(max_length=200, unique=True)
    home_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="accounts")
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.TEAM)
    products = models.ManyToManyField(Product, blank=True, related_name="accounts")
    integrations = models.ManyToManyField(Integration, blank=True, related_name="accounts")
    custom_mailbox = models.BooleanField(default=False, help_text="The account receives email on its own mailbox.")
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[validate_country],
        help_text="ISO 3166 code of the controller's country (e.g. SE): how national phone numbers are read and "
        "which public holidays move a deadline. Empty: none (numbers only in international form, weekends only).",
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="IANA name (e.g. Europe/Stockholm): the day a request is received on. Empty: the home region's.",
    )
    # The controller's contacts (GDPR Art. 30(2)(a)); empty: not known, shown as missing in the record.
    privacy_contact_name = models.CharField(max_length=200, blank=True)
    privacy_contact_email = models.EmailField(
        blank=True, help_text="Receives the notices of new sub-processors and transfers (Art. 28(2))."
    )
    dpo_name = models.CharField("DPO name", max_length=200, blank=True)
    dpo_email = models.EmailField("DPO email", blank=True)
    migration_in_progress = models.BooleanField(
        default=False, help_text="The account is moving in from another vendor through the migration platform."
    )
    migration_started_on = models.DateField(null=True, blank=True)
    migration_ends_on = models.DateField(null=True, blank=True, help_text="Expected end; empty: not known.")
    created_at = models.DateTimeField(default=timezone.now)
    history = AuditedHistory(m2m_fields=[products, integrations])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(migration_in_progress=False) | Q(migration_started_on__isnull=False),
                name="account_migration_has_start",
            ),
            models.CheckConstraint(
                condition=Q(migration_ends_on__isnull=True)
                | Q(migration_started_on__isnull=True)
                | Q(migration_ends_on__gte=models.F("migration_started_on")),
                name="account_migration_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    #: Where the controller is: the day a request is received on, the holidays that move its deadline.
    PLACE_FIELDS = ("country", "time_zone")
    #: What the record of processing reads from the account besides its products: the controller's contacts
    #: (Art. 30(2)(a)) and a migration in progress (a processing location of its own).
    CONTACT_FIELDS = ("privacy_contact_name", "privacy_contact_email", "dpo_name", "dpo_email")
    MIGRATION_FIELDS = ("migration_in_progress", "migration_started_on", "migration_ends_on")

    def zone(self) -> zoneinfo.ZoneInfo:
        """The account's time zone: its own, else its home region's default, else the server's."""
        name = self.time_zone or REGION_TIME_ZONES.get(self.home_region.code, "") or settings.TIME_ZONE
        return zoneinfo.ZoneInfo(name)

    def country_code(self) -> str:
        """The account's country (ISO 3166), else its home region's when that is one country, else ""."""
        return self.country or REGION_COUNTRIES.get(self.home_region.code, "")

    def local_date(self, moment: datetime) -> date:
        """The day ``moment`` falls on in the account's time zone."""
        return moment.astimezone(self.zone()).date()

    def has_plan_at_least(self, plan: str) -> bool:
        """Whether the account's plan is ``plan`` or a higher one (team < growth < professional < enterprise)."""
        order = list(self.Plan.values)
        return order.index(self.plan) >= order.index(plan)


class ChangeNotice(models.Model):
    """What a processor owes its controller before a new sub-processor or transfer (GDPR Art. 28(2)):
    notice of the change, from when it applies, and until when the controller may object."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="change_notices")
    catalog_load = models.ForeignKey(CatalogLoad, on_delete=models.PROTECT, related_name="notices")
    changes = models.JSONField(default=list, help_text="The new sub-processors and transfers, in words.")
    effective_from = models.DateField()
    objection_until = models.DateField()
    sent_to = models.EmailField(blank=True, help_text="Empty: the account has no privacy contact.")
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = AuditedHistory()

    class Meta:
        ordering = ["-created_at", "account__name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "catalog_load"], name="change_notice_once_per_load"),
        ]

    def __str__(self) -> str:
        return f"{self.account}: catalog {self.catalog_load.version}"

    @property
    def applies_before_objection_ends(self) -> bool:
        """Whether the change applies before the account's time to object is over (Art. 28(2) wants it after)."""
        return self.effective_from < self.objection_until
