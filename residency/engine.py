"""The residency engine: where an account's data is stored, processed, backed up and logged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from residency.models import Account, Integration, ProcessingPlatform, RetentionRule
from residency.snapshot import AccountInfo, Catalog, IntegrationInfo, PlatformInfo, account_snapshot, catalog_snapshot


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
    #: Where ``purposes`` come from: ``catalog`` (its own addition, labelled so) or ``source``.
    purposes_basis: str = "catalog"
    transient: list[Hop] = field(default_factory=list)
    backups: list[Hop] = field(default_factory=list)
    logs: list[Hop] = field(default_factory=list)
    integrations: list[str] = field(default_factory=list)
    transfer: bool = False
    review: bool = False
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Transfer:
    """A place outside the home region's jurisdiction that the data reaches, and why.

    ``origin`` is the region whose jurisdiction the data leaves: the account's home region, whose law governs it
    (the storage region a copy is made from is in ``reason``). ``region`` is its destination (None: not stated).
    ``via`` is the basis, what takes it there: ``storage``, ``transit``, ``backup``, ``log``, ``integration``,
    ``sub_processor`` or ``platform``; ``via_slug`` names the integration, sub-processor or platform. The four
    together are what the transfer is (:attr:`key`): the same destination reached on another basis is another
    transfer, and owes its own notice.
    """

    product: str
    data_category: str
    region: str | None
    reason: str
    via: str = "storage"
    via_slug: str = ""
    origin: str | None = None

    @property
    def key(self) -> tuple[str, str, str | None, str | None, str, str]:
        return (self.product, self.data_category, self.origin, self.region, self.via, self.via_slug)


@dataclass(frozen=True)
class SubProcessorUse:
    slug: str
    name: str
    purpose: str
    regions: list[str]
    in_storage_region: bool
    products: list[str]


@dataclass(frozen=True)
class PlatformUse:
    """A processing location outside the hosting table (single sign-on, a migration in progress)."""

    slug: str
    name: str
    kind: str
    categories: list[str]
    environments: list[str]
    regions: list[str]
    review: bool
    reason: str


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
    platforms: list[PlatformUse] = field(default_factory=list)
    #: None for a report of now; else the moment (ISO 8601) the report describes.
    as_of: str | None = None
    catalog_loaded_at: str | None = None
    #: The SHA-256 of the catalog file of ``catalog_version``.
    catalog_sha256: str = ""

    def entries_for_category(self, data_category: str) -> list[Entry]:
        """The entries of one data category across the account's products (empty if none)."""
        return [entry for entry in self.entries if entry.data_category == data_category]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def account_residency_report(
    *, account: Account | int, as_of: datetime | None = None, catalog: Catalog | None = None
) -> ResidencyReport:
    """The residency report of ``account`` now, or as of a past moment (see :mod:`residency.snapshot`).

    Pass ``catalog`` to reuse one snapshot for many accounts. A fixed number of queries, whatever the
    account subscribes to. Raises ValidationError (``as_of``) when the account or a catalog did not exist then.
    """
    catalog = catalog or catalog_snapshot(as_of)
    return residency_report(account=account_snapshot(account, catalog), catalog=catalog)


def _covers(scope: frozenset, key: Any) -> bool:
    return not scope or key in scope


def residency_report(*, account: AccountInfo, catalog: Catalog) -> ResidencyReport:
    """Where every subscribed product × data category of ``account`` lives, and what leaves its jurisdiction.

    For each hosting offer of a subscribed product, the category is stored:
    - nowhere known, when the source states no region (``review``, never guessed);
    - in the home region when a transient route ends there (processed on the way for N minutes);
    - in the home region when it is offered there;
    - otherwise by the catalog's stated rule: the only region offered, the product's default region, or
      the row's own fallback (a transfer when that is another jurisdiction).
    Backups and logs follow the retention rules for the storage region; integrations, sub-processors and
    platforms (single sign-on, a migration in progress) add the places they process data. Every place
    outside the home region's jurisdiction is listed in ``transfers`` with its reason. Reads no database.
    """
    home = catalog.regions[account.home_region]

    def outside(region_code: str | None) -> bool:
        return region_code is None or region_code not in catalog.regions or catalog.regions[region_code].jurisdiction != home.jurisdiction

    products = account.product_ids
    routes = {(route.product_id, route.category_id): route for route in catalog.routes if route.routed_to == home.code}
    integrations = [catalog.integrations[pk] for pk in catalog.integrations if pk in account.integration_ids]
    subs_used = [sub for sub in catalog.sub_processors if not sub.product_ids or products & sub.product_ids]
    platforms = [
        platform
        for platform in catalog.platforms
        if (not platform.product_ids or products & platform.product_ids)
        and (platform.kind != ProcessingPlatform.Kind.MIGRATION or account.migration_in_progress)
    ]
    if not account.migration_in_progress:
        subs_used = [sub for sub in subs_used if sub.id not in catalog.migration_only_sub_processor_ids]

    transfers: dict[tuple[str, str, str | None, str], Transfer] = {}
    reviews: list[str] = []

    def flag(entry: Entry | None, product: str, category: str, region: str | None, reason: str, via: str, via_slug: str = "") -> None:
        if entry is not None:
            entry.transfer = True
            entry.reasons.append(reason)
        transfers.setdefault(
            (product, category, region, reason),
            Transfer(
                product=product, data_category=category, region=region, reason=reason, via=via, via_slug=via_slug,
                origin=home.code,
            ),
        )

    entries: list[Entry] = []
    for offer in catalog.offers:
        if offer.product_id not in products:
            continue
        product, category = catalog.products[offer.product_id], catalog.categories[offer.category_id]
        offered = list(offer.regions)
        route = routes.get((offer.product_id, offer.category_id))
        entry = Entry(
            product=product.slug,
            product_name=product.name,
            data_category=category.slug,
            data_category_name=category.name,
            purposes=list(category.purposes),
            purposes_basis=category.purposes_basis,
            stored_in=None,
            rule="",
        )
        entries.append(entry)

        def add(region: str | None, reason: str, via: str, via_slug: str = "") -> None:
            flag(entry, product.slug, category.slug, region, reason, via, via_slug)

        if not offer.documented:
            entry.review = True
            entry.rule = "The source states no region for this category: flagged for review, not guessed."
            entry.reasons.append(entry.rule)
            reviews.append(f"{product.name} · {category.name}: the source states no storage region.")
            continue
        if route is not None:
            entry.stored_in = home.code
            entry.transient.append(Hop(region=route.generated_in, minutes=route.held_minutes))
            entry.rule = (
                f"Generated in {route.generated_in}, held there {route.held_minutes} minutes, "
                f"then routed to {home.code} (transient route)."
            )
        elif home.code in offered:
            entry.stored_in = home.code
            entry.rule = f"Offered in the home region {home.code}."
        else:
            entry.stored_in = offer.fallback
            if len(offered) == 1:
                entry.rule = f"Offered only in {entry.stored_in}; stored there."
            elif offer.fallback == product.default_region:
                note = f" ({product.default_region_note})" if product.default_region_note else ""
                entry.rule = (
                    f"Not offered in {home.code} (offered: {', '.join(offered)}); stored in {entry.stored_in}, "
                    f"{product.name}'s default region by the catalog's rule{note}."
                )
            else:
                entry.rule = (
                    f"Not offered in {home.code} (offered: {', '.join(offered)}); stored in {entry.stored_in}, "
                    "the fallback this hosting row states."
                )
        if offer.regions_basis:
            entry.rule += f" Note on the regions: {offer.regions_basis}"

        if route is not None and outside(route.generated_in):
            add(
                route.generated_in,
                f"Processed in {route.generated_in} for {route.held_minutes} minutes before storage in {home.code}.",
                "transit",
            )
        if outside(entry.stored_in):
            add(entry.stored_in, f"Stored in {entry.stored_in}: not offered in the home region {home.code}.", "storage")

        for rule in catalog.rules:
            if not (_covers(rule.product_ids, product.id) and _covers(rule.storage_regions, entry.stored_in)):
                continue
            kept_in = rule.kept_in or entry.stored_in
            copies = entry.backups if rule.kind == RetentionRule.Kind.BACKUP else entry.logs
            copies.append(Hop(region=kept_in, days=rule.days))
            if kept_in != entry.stored_in and outside(kept_in):
                what = "Backups" if rule.kind == RetentionRule.Kind.BACKUP else "Logs"
                period = f" for {rule.days} days" if rule.days else ""
                add(kept_in, f"{what} kept in {kept_in}{period} ({rule.name}).", rule.kind)

        for integration in integrations:
            if not _covers(integration.product_ids, product.id) or category.id not in integration.category_ids:
                continue
            entry.integrations.append(integration.slug)
            regions = list(integration.regions)
            for region in [code for code in regions if outside(code)] or ([] if regions else [None]):
                add(region, _integration_reason(integration, region, home.jurisdiction), "integration", integration.slug)

        for sub in subs_used:
            if sub.in_storage_region or category.id not in sub.category_ids or not _covers(sub.product_ids, product.id):
                continue
            for region in sub.regions:
                if outside(region):
                    add(region, f"Sub-processor {sub.name} processes this data in {region} ({sub.purpose}).", "sub_processor", sub.slug)

    uses = []
    for sub in subs_used:
        uses.append(
            SubProcessorUse(
                slug=sub.slug,
                name=sub.name,
                purpose=sub.purpose,
                regions=list(sub.regions),
                in_storage_region=sub.in_storage_region,
                products=[catalog.products[pk].slug for pk in sorted(sub.product_ids) if pk in catalog.products],
            )
        )
        # A platform's sub-processors are reviewed once, as the platform.
        if not sub.regions and not sub.in_storage_region and sub.id not in catalog.platform_sub_processor_ids:
            reviews.append(f"Sub-processor {sub.name}: the source states no region.")

    platform_uses = [_platform_use(platform, account, catalog, outside, flag, reviews) for platform in platforms]

    notes = []
    if account.custom_mailbox and home.code == "EEA":
        notes.append(
            "EEA account with a custom mailbox: its data stays in the EEA by default; third-party integrations, "
            "marketplace apps and custom apps take it out of the EEA (see transfers)."
        )
    return ResidencyReport(
        account_id=account.id,
        account=account.name,
        home_region=home.code,
        jurisdiction=home.jurisdiction,
        catalog_version=catalog.version,
        entries=entries,
        transfers=list(transfers.values()),
        reviews=reviews,
        sub_processors=uses,
        notes=notes,
        platforms=platform_uses,
        as_of=catalog.as_of.isoformat() if catalog.as_of else None,
        catalog_loaded_at=catalog.loaded_at.isoformat() if catalog.loaded_at else None,
        catalog_sha256=catalog.sha256,
    )


def _integration_reason(integration: IntegrationInfo, region: str | None, jurisdiction: str) -> str:
    """Why an enabled integration is a transfer: the source's own words where it has some, and what the
    product infers from them for this account's jurisdiction."""
    kind = Integration.Kind(integration.kind).label.lower() if integration.kind in Integration.Kind.values else integration.kind
    enabled = f"Integration '{integration.name}' ({kind}) is enabled"
    if region:
        return f"{enabled}: it processes this data in {region}."
    if not integration.source_says:
        return f"{enabled}: it processes this data outside {jurisdiction}."
    says = f"{enabled}. The source says: \u201c{integration.source_says}\u201d"
    if jurisdiction == "EEA":
        return f"{says} Flagged as processing outside the EEA."
    return (
        f"{says} The source speaks of the EEA only; for an account in {jurisdiction} the product infers that the "
        f"data may equally be processed outside {jurisdiction}, and flags it."
    )


def _platform_use(
    platform: PlatformInfo,
    account: AccountInfo,
    catalog: Catalog,
    outside: Callable[[str | None], bool],
    flag: Callable[..., None],
    reviews: list[str],
) -> PlatformUse:
    """A platform as a processing location of the account: a transfer where it names a region outside the
    jurisdiction, a review item where the source names none."""
    categories = [catalog.categories[pk] for pk in sorted(platform.category_ids) if pk in catalog.categories]
    environments = [sub.name for sub in catalog.sub_processors if sub.id in platform.sub_processor_ids]
    what = ", ".join(category.name for category in categories)
    where = f" in the {' and '.join(environments)} environment{'s' if len(environments) > 1 else ''}" if environments else ""
    reason = f"{platform.name} processes {what}{where}."
    if platform.kind == ProcessingPlatform.Kind.MIGRATION:
        since = f" since {account.migration_started_on:%Y-%m-%d}" if account.migration_started_on else ""
        until = f", expected to end {account.migration_ends_on:%Y-%m-%d}" if account.migration_ends_on else ", end not set"
        reason += f" The account is migrating in{since}{until}."
    review = not platform.regions
    if review:
        reason += " The source names no region: to review, not guessed."
        reviews.append(reason)
    for region in platform.regions:
        if outside(region):
            for category in categories:
                flag(None, platform.slug, category.slug, region, f"{platform.name} processes this data in {region}.", "platform", platform.slug)
    return PlatformUse(
        slug=platform.slug,
        name=platform.name,
        kind=platform.kind,
        categories=[category.slug for category in categories],
        environments=environments,
        regions=list(platform.regions),
        review=review,
        reason=reason,
    )
