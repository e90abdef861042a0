"""The catalog and an account as plain values, either as they are now or as they were at a past moment.

The residency engine and the processing record read only these snapshots, so every report can be
produced as of a past date: the same code reads the live tables, or each row's last history record up
to that moment (django-simple-history keeps one per change, with the many-to-many links as they were).
A row whose last record by then is a deletion did not exist at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from residency.models import (
    Account,
    CatalogLoad,
    DataCategory,
    HostingOffer,
    Integration,
    ProcessingPlatform,
    Processor,
    Product,
    Region,
    RetentionRule,
    SubProcessor,
    TransientRoute,
)


def _rows(model: type[models.Model], fields: list[str], m2m: list[str], as_of: datetime | None, **lookup: Any) -> list[dict]:
    """``model``'s rows as dicts of ``fields`` (attnames) and, for each of ``m2m``, the set of linked ids.

    Live when ``as_of`` is None; otherwise each row as its last history record at or before ``as_of``.
    Runs one query, plus one per many-to-many field.
    """
    if as_of is None:
        rows = list(model.objects.filter(**lookup).values("id", *fields))
        for name in m2m:
            relation = model._meta.get_field(name)
            through = relation.remote_field.through
            source, target = f"{relation.m2m_field_name()}_id", f"{relation.m2m_reverse_field_name()}_id"
            links: dict[int, set[int]] = {}
            # Every row's links: one query, without a list of ids as long as the table (SQLite caps those).
            through_rows = through.objects.filter(**{f"{source}__in": [row["id"] for row in rows]}) if lookup else through.objects.all()
            for owner, linked in through_rows.values_list(source, target):
                links.setdefault(owner, set()).add(linked)
            for row in rows:
                row[name] = frozenset(links.get(row["id"], ()))
        return rows

    latest: dict[int, dict] = {}
    records = (
        model.history.filter(history_date__lte=as_of, **lookup)
        .order_by("history_date", "history_id")
        .values("id", "history_id", "history_type", *fields)
    )
    for record in records:
        latest[record["id"]] = record
    rows = [record for record in latest.values() if record["history_type"] != "-"]
    for name in m2m:
        relation = model._meta.get_field(name)
        historical_links = HistoricalRecords.m2m_models[relation]
        target = f"{relation.m2m_reverse_field_name()}_id"
        links = {}
        chosen = {row["history_id"] for row in rows}
        link_rows = (
            historical_links.objects.filter(history_id__in=chosen)
            if lookup
            else historical_links.objects.filter(history__history_date__lte=as_of)
        )
        for history_id, linked in link_rows.values_list("history_id", target):
            if history_id in chosen:
                links.setdefault(history_id, set()).add(linked)
        for row in rows:
            row[name] = frozenset(links.get(row["history_id"], ()))
    return rows


def end_of_day(day: date) -> datetime:
    """The last moment of ``day`` in the current time zone: "as of 1 March" includes all of 1 March."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)) - timedelta(microseconds=1)


def parse_as_of(value: str | None, *, field_name: str = "as_of") -> datetime | None:
    """``2026-03-01`` (the end of that day) or an ISO date and time; None or empty for now.

    Raises ValidationError naming ``field_name`` for anything else, or a moment in the future.
    """
    if not value:
        return None
    try:
        if len(value) == 10:
            moment = end_of_day(date.fromisoformat(value))
        else:
            moment = datetime.fromisoformat(value)
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
    except (ValueError, OverflowError):
        raise ValidationError(
            {field_name: f"{value!r} is not a date (2026-03-01) or a date and time (2026-03-01T12:00:00+00:00)."}
        ) from None
    # Today counts as the past (as of the end of today is now); anything later does not.
    if moment > max(timezone.now(), end_of_day(timezone.localdate())):
        raise ValidationError({field_name: f"{value} is in the future; a report can only be produced as of the past."})
    return moment


@dataclass(frozen=True)
class RegionInfo:
    code: str
    name: str
    jurisdiction: str
    country: str
    safeguard: str
    safeguard_note: str


@dataclass(frozen=True)
class ProductInfo:
    id: int
    slug: str
    name: str
    position: int
    default_region: str | None
    default_region_note: str


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    slug: str
    name: str
    position: int
    purposes: tuple[str, ...]
    is_personal: bool


@dataclass(frozen=True)
class OfferInfo:
    product_id: int
    category_id: int
    regions: tuple[str, ...]
    fallback: str | None
    documented: bool
    regions_basis: str
    note: str
    position: int


@dataclass(frozen=True)
class RouteInfo:
    product_id: int
    category_id: int
    generated_in: str
    routed_to: str
    held_minutes: int


@dataclass(frozen=True)
class RuleInfo:
    name: str
    kind: str
    position: int
    product_ids: frozenset[int]
    storage_regions: frozenset[str]
    kept_in: str | None
    days: int | None


@dataclass(frozen=True)
class IntegrationInfo:
    id: int
    slug: str
    name: str
    kind: str
    product_ids: frozenset[int]
    category_ids: frozenset[int]
    regions: tuple[str, ...]
    source_says: str
    safeguard: str
    safeguard_note: str


@dataclass(frozen=True)
class SubProcessorInfo:
    id: int
    slug: str
    name: str
    purpose: str
    position: int
    product_ids: frozenset[int]
    category_ids: frozenset[int]
    regions: tuple[str, ...]
    in_storage_region: bool
    dpf_certified: bool
    safeguard: str
    safeguard_note: str


@dataclass(frozen=True)
class PlatformInfo:
    slug: str
    name: str
    kind: str
    position: int
    product_ids: frozenset[int]
    category_ids: frozenset[int]
    sub_processor_ids: frozenset[int]
    regions: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class ProcessorInfo:
    name: str = ""
    address: str = ""
    email: str = ""
    dpo_name: str = ""
    dpo_email: str = ""
    representative: str = ""
    security_measures: tuple[str, ...] = ()


@dataclass
class Catalog:
    """The whole catalog at one moment, and the version of the file then in force."""

    as_of: datetime | None
    version: str
    loaded_at: datetime | None
    regions: dict[str, RegionInfo]
    products: dict[int, ProductInfo]
    categories: dict[int, CategoryInfo]
    offers: list[OfferInfo]
    routes: list[RouteInfo]
    rules: list[RuleInfo]
    integrations: dict[int, IntegrationInfo]
    sub_processors: list[SubProcessorInfo]
    platforms: list[PlatformInfo]
    processor: ProcessorInfo = field(default_factory=ProcessorInfo)
    #: Region codes by primary key, for the accounts' home regions.
    region_codes: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountInfo:
    """An account as the reports read it."""

    id: int
    name: str
    home_region: str
    plan: str
    product_ids: frozenset[int]
    integration_ids: frozenset[int]
    custom_mailbox: bool
    privacy_contact_name: str
    privacy_contact_email: str
    dpo_name: str
    dpo_email: str
    migration_in_progress: bool
    migration_started_on: date | None
    migration_ends_on: date | None


def catalog_snapshot(as_of: datetime | None = None) -> Catalog:
    """The catalog now, or as it was at ``as_of``. A fixed number of queries (about twenty).

    Raises ValidationError (field ``as_of``) when no catalog had been loaded by then.
    """
    load = CatalogLoad.objects.order_by("-loaded_at")
    if as_of is not None:
        load = load.filter(loaded_at__lte=as_of)
    load = load.first()
    if as_of is not None and load is None:
        raise ValidationError({"as_of": f"No catalog had been loaded by {as_of:%Y-%m-%d %H:%M %Z}."})

    regions_by_id = {
        row["id"]: RegionInfo(
            code=row["code"],
            name=row["name"],
            jurisdiction=row["jurisdiction"],
            country=row["country"],
            safeguard=row["safeguard"],
            safeguard_note=row["safeguard_note"],
        )
        for row in sorted(
            _rows(Region, ["code", "name", "jurisdiction", "country", "safeguard", "safeguard_note", "position"], [], as_of),
            key=lambda row: (row["position"], row["code"]),
        )
    }

    def code(region_id: int | None) -> str | None:
        region = regions_by_id.get(region_id) if region_id is not None else None
        return region.code if region else None

    def codes(region_ids: frozenset[int]) -> tuple[str, ...]:
        return tuple(region.code for pk, region in regions_by_id.items() if pk in region_ids)

    products = {
        row["id"]: ProductInfo(
            id=row["id"],
            slug=row["slug"],
            name=row["name"],
            position=row["position"],
            default_region=code(row["default_region_id"]),
            default_region_note=row["default_region_note"],
        )
        for row in _rows(Product, ["slug", "name", "position", "default_region_id", "default_region_note"], [], as_of)
    }
    categories = {
        row["id"]: CategoryInfo(
            id=row["id"],
            slug=row["slug"],
            name=row["name"],
            position=row["position"],
            purposes=tuple(row["purposes"] or ()),
            is_personal=row["is_personal"],
        )
        for row in _rows(DataCategory, ["slug", "name", "position", "purposes", "is_personal"], [], as_of)
    }
    offers = [
        OfferInfo(
            product_id=row["product_id"],
            category_id=row["category_id"],
            regions=codes(row["regions"]),
            fallback=code(row["fallback_region_id"]),
            documented=row["documented"],
            regions_basis=row["regions_basis"],
            note=row["note"],
            position=row["position"],
        )
        for row in _rows(
            HostingOffer,
            ["product_id", "category_id", "fallback_region_id", "documented", "regions_basis", "note", "position"],
            ["regions"],
            as_of,
        )
        if row["product_id"] in products and row["category_id"] in categories
    ]
    offers.sort(key=lambda o: (products[o.product_id].position, o.position, categories[o.category_id].position))
    routes = [
        RouteInfo(
            product_id=row["product_id"],
            category_id=row["category_id"],
            generated_in=code(row["generated_in_id"]),
            routed_to=code(row["routed_to_id"]),
            held_minutes=row["held_minutes"],
        )
        for row in _rows(TransientRoute, ["product_id", "category_id", "generated_in_id", "routed_to_id", "held_minutes"], [], as_of)
    ]
    rules = sorted(
        (
            RuleInfo(
                name=row["name"],
                kind=row["kind"],
                position=row["position"],
                product_ids=row["products"],
                storage_regions=frozenset(codes(row["storage_regions"])),
                kept_in=code(row["kept_in_id"]),
                days=row["days"],
            )
            for row in _rows(RetentionRule, ["name", "kind", "position", "kept_in_id", "days"], ["products", "storage_regions"], as_of)
        ),
        key=lambda rule: rule.position,
    )
    integrations = {
        row["id"]: IntegrationInfo(
            id=row["id"],
            slug=row["slug"],
            name=row["name"],
            kind=row["kind"],
            product_ids=row["products"],
            category_ids=row["categories"],
            regions=codes(row["processing_regions"]),
            source_says=row["source_says"],
            safeguard=row["safeguard"],
            safeguard_note=row["safeguard_note"],
        )
        for row in sorted(
            _rows(
                Integration,
                ["slug", "name", "kind", "position", "source_says", "safeguard", "safeguard_note"],
                ["products", "categories", "processing_regions"],
                as_of,
            ),
            key=lambda row: (row["position"], row["slug"]),
        )
    }
    sub_processors = sorted(
        (
            SubProcessorInfo(
                id=row["id"],
                slug=row["slug"],
                name=row["name"],
                purpose=row["purpose"],
                position=row["position"],
                product_ids=row["products"],
                category_ids=row["categories"],
                regions=codes(row["regions"]),
                in_storage_region=row["in_storage_region"],
                dpf_certified=row["dpf_certified"],
                safeguard=row["safeguard"],
                safeguard_note=row["safeguard_note"],
            )
            for row in _rows(
                SubProcessor,
                ["slug", "name", "purpose", "position", "in_storage_region", "dpf_certified", "safeguard", "safeguard_note"],
                ["products", "categories", "regions"],
                as_of,
            )
        ),
        key=lambda sub: (sub.position, sub.slug),
    )
    platforms = sorted(
        (
            PlatformInfo(
                slug=row["slug"],
                name=row["name"],
                kind=row["kind"],
                position=row["position"],
                product_ids=row["products"],
                category_ids=row["categories"],
                sub_processor_ids=row["sub_processors"],
                regions=codes(row["regions"]),
                note=row["note"],
            )
            for row in _rows(
                ProcessingPlatform, ["slug", "name", "kind", "position", "note"], ["products", "categories", "sub_processors", "regions"], as_of
            )
        ),
        key=lambda platform: (platform.position, platform.slug),
    )
    processor_rows = _rows(
        Processor, ["name", "address", "email", "dpo_name", "dpo_email", "representative", "security_measures"], [], as_of
    )
    processor = ProcessorInfo()
    if processor_rows:
        row = processor_rows[0]
        processor = ProcessorInfo(
            **{name: row[name] for name in ("name", "address", "email", "dpo_name", "dpo_email", "representative")},
            security_measures=tuple(row["security_measures"] or ()),
        )
    return Catalog(
        as_of=as_of,
        version=load.version if load else "",
        loaded_at=load.loaded_at if load else None,
        regions={region.code: region for region in regions_by_id.values()},
        products=products,
        categories=categories,
        offers=offers,
        routes=routes,
        rules=rules,
        integrations=integrations,
        sub_processors=sub_processors,
        platforms=platforms,
        processor=processor,
        region_codes={pk: region.code for pk, region in regions_by_id.items()},
    )


_ACCOUNT_FIELDS = ["name", "home_region_id", "plan", "custom_mailbox", *Account.CONTACT_FIELDS, *Account.MIGRATION_FIELDS]


def account_snapshots(catalog: Catalog, **lookup: Any) -> list[AccountInfo]:
    """The accounts matching ``lookup`` (all by default) at the catalog's moment, by name. Three queries."""
    accounts = [
        AccountInfo(
            id=row["id"],
            home_region=catalog.region_codes.get(row["home_region_id"], ""),
            product_ids=row["products"],
            integration_ids=row["integrations"],
            **{name: row[name] for name in _ACCOUNT_FIELDS if name != "home_region_id"},
        )
        for row in _rows(Account, _ACCOUNT_FIELDS, ["products", "integrations"], catalog.as_of, **lookup)
    ]
    return sorted(accounts, key=lambda account: account.name)


def account_snapshot(account: Account | int, catalog: Catalog) -> AccountInfo:
    """One account at the catalog's moment. Raises ValidationError (``as_of``) if it did not exist then."""
    pk = account if isinstance(account, int) else account.pk
    found = account_snapshots(catalog, id=pk)
    if not found:
        if catalog.as_of is None:
            raise Account.DoesNotExist(f"No account {pk}.")
        raise ValidationError({"as_of": f"The account did not exist on {catalog.as_of:%Y-%m-%d %H:%M %Z}."})
    return found[0]
