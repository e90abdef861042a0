"""The residency engine: where an account's data is stored, processed, backed up and logged."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from residency.models import (
    Account,
    CatalogLoad,
    HostingOffer,
    Region,
    RetentionRule,
    SubProcessor,
    TransientRoute,
)


@dataclass(frozen=True)
class Hop:
    """A place data passes through (a transient route) or a copy is kept (backups, logs)."""

    region: str | None
    minutes: int | None = None
    days: int | None = None


@dataclass
class Entry:
    """One subscribed product × data category."""

    product: str
    product_name: str
    data_category: str
    data_category_name: str
    purposes: list[str]
    stored_in: str | None
    rule: str
    transient: list[Hop] = field(default_factory=list)
    backups: list[Hop] = field(default_factory=list)
    logs: list[Hop] = field(default_factory=list)
    integrations: list[str] = field(default_factory=list)
    transfer: bool = False
    review: bool = False
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Transfer:
    """A place outside the home region's jurisdiction that the data reaches, and why."""

    product: str
    data_category: str
    region: str | None
    reason: str


@dataclass(frozen=True)
class SubProcessorUse:
    slug: str
    name: str
    purpose: str
    regions: list[str]
    in_storage_region: bool
    products: list[str]


@dataclass
class ResidencyReport:
    account_id: int
    account: str
    home_region: str
    jurisdiction: str
    catalog_version: str
    entries: list[Entry]
    transfers: list[Transfer]
    reviews: list[str]
    sub_processors: list[SubProcessorUse]
    notes: list[str]

    def entries_for_category(self, data_category: str) -> list[Entry]:
        """The entries of one data category across the account's products (empty if none)."""
        return [entry for entry in self.entries if entry.data_category == data_category]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _keys(related: Any, attribute: str = "pk") -> frozenset:
    """The keys of a prefetched relation: a catalog row's scope, where empty means every one."""
    return frozenset(getattr(obj, attribute) for obj in related.all())


def _codes(regions: Any) -> list[str]:
    return [region.code for region in regions.all()]


def _covers(scope: frozenset, key: Any) -> bool:
    return not scope or key in scope


def account_residency_report(*, account: Account) -> ResidencyReport:
    """Where every subscribed product × data category of ``account`` lives, and what leaves its jurisdiction.

    For each hosting offer of a subscribed product, the category is stored:
    - nowhere known, when the source states no region (``review``, never guessed);
    - in the home region when a transient route ends there (processed on the way for N minutes);
    - in the home region when it is offered there;
    - otherwise in the offer's fallback region (a transfer when that is another jurisdiction).
    Backups and logs follow the retention rules for the storage region; integrations and
    sub-processors add the places they process data. Every place outside the home region's
    jurisdiction is listed in ``transfers`` with its reason. Runs a fixed number of queries.
    """
    home = account.home_region
    jurisdiction_of = dict(Region.objects.values_list("code", "jurisdiction"))
    products = list(account.products.all())
    product_ids = {product.pk for product in products}
    offers = (
        HostingOffer.objects.filter(product__in=products)
        .select_related("product", "category", "fallback_region")
        .prefetch_related("regions")
        .order_by("product__position", "position", "category__position")
    )
    routes = {
        (route.product_id, route.category_id): route
        for route in TransientRoute.objects.filter(product__in=products, routed_to=home).select_related("generated_in")
    }
    # Each catalog row with the scopes it applies to, read once (an empty scope means "every").
    rules = [
        (rule, _keys(rule.products), _keys(rule.storage_regions, "code"))
        for rule in RetentionRule.objects.select_related("kept_in").prefetch_related("products", "storage_regions")
    ]
    integrations = [
        (integration, _keys(integration.products), _keys(integration.categories), _codes(integration.processing_regions))
        for integration in account.integrations.prefetch_related("products", "categories", "processing_regions")
    ]
    sub_processors = [
        (sub, products, _keys(sub.categories), _codes(sub.regions))
        for sub in SubProcessor.objects.prefetch_related("products", "categories", "regions")
        if not (products := _keys(sub.products)) or product_ids & products
    ]

    transfers: dict[tuple[str, str, str | None, str], Transfer] = {}
    reviews: list[str] = []

    def outside(region_code: str | None) -> bool:
        return region_code is None or jurisdiction_of.get(region_code) != home.jurisdiction

    def flag(entry: Entry, region: str | None, reason: str) -> None:
        entry.transfer = True
        entry.reasons.append(reason)
        transfers.setdefault(
            (entry.product, entry.data_category, region, reason),
            Transfer(product=entry.product, data_category=entry.data_category, region=region, reason=reason),
        )

    entries: list[Entry] = []
    for offer in offers:
        product, category = offer.product, offer.category
        offered = [region.code for region in offer.regions.all()]
        route = routes.get((product.pk, category.pk))
        entry = Entry(
            product=product.slug,
            product_name=product.name,
            data_category=category.slug,
            data_category_name=category.name,
            purposes=list(category.purposes),
            stored_in=None,
            rule="",
        )
        entries.append(entry)

        if not offer.documented:
            entry.review = True
            entry.rule = "The source states no region for this category: flagged for review, not guessed."
            entry.reasons.append(entry.rule)
            reviews.append(f"{product.name} · {category.name}: the source states no storage region.")
            continue
        if route is not None:
            entry.stored_in = home.code
            entry.transient.append(Hop(region=route.generated_in.code, minutes=route.held_minutes))
            entry.rule = (
                f"Generated in {route.generated_in.code}, held there {route.held_minutes} minutes, "
                f"then routed to {home.code} (transient route)."
            )
        elif home.code in offered:
            entry.stored_in = home.code
            entry.rule = f"Offered in the home region {home.code}."
        else:
            entry.stored_in = offer.fallback_region.code
            entry.rule = f"Not offered in {home.code} (offered: {', '.join(offered)}); stored in {entry.stored_in}."

        if route is not None and outside(route.generated_in.code):
            flag(
                entry,
                route.generated_in.code,
                f"Processed in {route.generated_in.code} for {route.held_minutes} minutes before storage in {home.code}.",
            )
        if outside(entry.stored_in):
            flag(entry, entry.stored_in, f"Stored in {entry.stored_in}: not offered in the home region {home.code}.")

        for rule, rule_products, storage_regions in rules:
            if not (_covers(rule_products, product.pk) and _covers(storage_regions, entry.stored_in)):
                continue
            kept_in = rule.kept_in.code if rule.kept_in else entry.stored_in
            copies = entry.backups if rule.kind == RetentionRule.Kind.BACKUP else entry.logs
            copies.append(Hop(region=kept_in, days=rule.days))
            if kept_in != entry.stored_in and outside(kept_in):
                what = "Backups" if rule.kind == RetentionRule.Kind.BACKUP else "Logs"
                period = f" for {rule.days} days" if rule.days else ""
                flag(entry, kept_in, f"{what} kept in {kept_in}{period} ({rule.name}).")

        for integration, integration_products, touched, regions in integrations:
            if not _covers(integration_products, product.pk) or category.pk not in touched:
                continue
            entry.integrations.append(integration.slug)
            for region in [code for code in regions if outside(code)] or ([] if regions else [None]):
                where = f"in {region}" if region else f"outside {home.jurisdiction}"
                flag(entry, region, f"Integration '{integration.name}' ({integration.get_kind_display().lower()}) is enabled: it processes this data {where}.")

        for sub, sub_products, processed, regions in sub_processors:
            if sub.in_storage_region or category.pk not in processed or not _covers(sub_products, product.pk):
                continue
            for region in regions:
                if outside(region):
                    flag(entry, region, f"Sub-processor {sub.name} processes this data in {region} ({sub.purpose}).")

    uses = []
    for sub, _products, _categories, regions in sub_processors:
        uses.append(
            SubProcessorUse(
                slug=sub.slug,
                name=sub.name,
                purpose=sub.purpose,
                regions=regions,
                in_storage_region=sub.in_storage_region,
                products=[product.slug for product in sub.products.all()],
            )
        )
        if not regions and not sub.in_storage_region:
            reviews.append(f"Sub-processor {sub.name}: the source states no region.")

    notes = []
    if account.custom_mailbox and home.code == "EEA":
        notes.append(
            "EEA account with a custom mailbox: its data stays in the EEA by default; third-party integrations, "
            "marketplace apps and custom apps take it out of the EEA (see transfers)."
        )
    latest_load = CatalogLoad.objects.order_by("-loaded_at").first()
    return ResidencyReport(
        account_id=account.pk,
        account=account.name,
        home_region=home.code,
        jurisdiction=home.jurisdiction,
        catalog_version=latest_load.version if latest_load else "",
        entries=entries,
        transfers=list(transfers.values()),
        reviews=reviews,
        sub_processors=uses,
        notes=notes,
    )
