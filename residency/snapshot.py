"""The catalog and an account as plain values, either as they are now or as they were at a past moment.

The residency engine and the processing record read only these snapshots, so every report can be
produced as of a past date: the same code reads the live tables, or each row's last history record up
to that moment (django-simple-history keeps one per change, with the many-to-many links as they were).
A row whose last record by then is a deletion did not exist at that moment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.bounds import check_moment
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

T = TypeVar("T")


def _rows(model: type[models.Model], fields: list[str], m2m: list[str], as_of: datetime | None, **lookup: Any) -> list[dict]:
    """``model``'s rows as dicts of ``fields`` (attnames) and, for each of ``m2m``, the set of linked ids.

    Live when ``as_of`` is None; otherwise each row as its last history record at or before ``as_of``, with
    the links that record kept. Runs one query, plus one per many-to-many field.
    """
    if as_of is None:
        rows, key = list(model.objects.filter(**lookup).values("id", *fields)), "id"
    else:
        latest: dict[int, dict] = {}
        records = model.history.filter(history_date__lte=as_of, **lookup).order_by("history_date", "history_id")
        for record in records.values("id", "history_id", "history_type", *fields):
            latest[record["id"]] = record
        rows, key = [record for record in latest.values() if record["history_type"] != "-"], "history_id"
    wanted = {row[key] for row in rows}
    for name in m2m:
        relation = model._meta.get_field(name)
        target = f"{relation.m2m_reverse_field_name()}_id"
        if as_of is None:
            links_model, owner = relation.remote_field.through, f"{relation.m2m_field_name()}_id"
            every_link = links_model.objects.all()
        else:
            links_model, owner = HistoricalRecords.m2m_models[relation], "history_id"
            every_link = links_model.objects.filter(history__history_date__lte=as_of)
        # A few rows: their links by id; all of them: the whole table, not a list of ids as long as it.
        link_rows = links_model.objects.filter(**{f"{owner}__in": wanted}) if lookup else every_link
        links: dict[int, set[int]] = {}
        for owned_by, linked in link_rows.values_list(owner, target):
            if owned_by in wanted:
                links.setdefault(owned_by, set()).add(linked)
        for row in rows:
            row[name] = frozenset(links.get(row[key], ()))
    return rows


def _infos(
    info: type[T],
    model: type[models.Model],
    as_of: datetime | None,
    *,
    convert: dict[str, Callable[[dict], Any]] | None = None,
    extra: tuple[str, ...] = (),
    m2m: tuple[str, ...] = (),
    order: Callable[[dict], Any] | None = None,
    **lookup: Any,
) -> list[T]:
    """``model``'s rows (see :func:`_rows`) as ``info`` values: a field of ``info`` is copied from the column
    of the same name, or computed by ``convert[field](row)``; ``extra`` columns are read for the converters
    and ``order``."""
    convert = convert or {}
    copied = [item.name for item in dataclass_fields(info) if item.name not in convert]
    rows = _rows(model, [name for name in copied if name != "id"] + list(extra), list(m2m), as_of, **lookup)
    if order is not None:
        rows.sort(key=order)
    return [info(**{name: row[name] for name in copied}, **{name: make(row) for name, make in convert.items()}) for row in rows]


def end_of_day(day: date) -> datetime:
    """The last moment of ``day`` in the current time zone: "as of 1 March" includes all of 1 March."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)) - timedelta(microseconds=1)


def parse_as_of(value: str | None, *, field_name: str = "as_of") -> datetime | None:
    """``2026-03-01`` (the end of that day) or an ISO date and time; None or empty for now.

    Raises ValidationError naming ``field_name`` for anything else, a moment outside the calendar the
    database keeps (``0001-01-01T00:00:00+14:00``, see core/bounds.py), or a moment in the future.
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
    except OverflowError:  # the end of 9999-12-31 is past the calendar's last day
        moment = datetime.max.replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError(
            {field_name: f"{value!r} is not a date (2026-03-01) or a date and time (2026-03-01T12:00:00+00:00)."}
        ) from None
    # Today counts as the past (as of the end of today is now); anything later does not.
    if moment > max(timezone.now(), end_of_day(timezone.localdate())):
        raise ValidationError({field_name: f"{value} is in the future; a report can only be produced as of the past."})
    return check_moment(moment, field_name=field_name, shown=value)


@dataclass(frozen=True)
class RegionInfo:
    id: int
    code: str
    name: str
    jurisdiction: str
    country: str
    safeguard: str
    safeguard_note: str
    safeguard_reference: str


@dataclass(frozen=True)
class ProductInfo:
    id: int
    slug: str
    name: str
    position: int
    default_region: str | None
    default_region_note: str
    default_region_basis: str


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    slug: str
    name: str
    position: int
    purposes: tuple[str, ...]
    purposes_basis: str
    is_personal: bool
    personal_basis: str


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
    safeguard_reference: str


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
    safeguard_reference: str


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
    customer_data: str = ""
    hosted_data: str = ""
    purpose: str = ""
    data_location_option: str = ""
    documents: tuple[str, ...] = ()


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
    #: The SHA-256 of the file of ``version``: the content the label stands for.
    sha256: str = ""

    @cached_property
    def platform_sub_processor_ids(self) -> frozenset[int]:
        """The sub-processors some platform runs on: reviewed once, as their platform."""
        return frozenset(sub_id for platform in self.platforms for sub_id in platform.sub_processor_ids)

    @cached_property
    def migration_only_sub_processor_ids(self) -> frozenset[int]:
        """The sub-processors only migration platforms run on: used by an account only while it migrates in."""
        elsewhere = {
            sub_id
            for platform in self.platforms
            if platform.kind != ProcessingPlatform.Kind.MIGRATION
            for sub_id in platform.sub_processor_ids
        }
        return self.platform_sub_processor_ids - elsewhere


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
    load = CatalogLoad.objects.applied()
    if as_of is not None:
        load = load.filter(applied_at__lte=as_of)
    load = load.first()
    if as_of is not None and load is None:
        raise ValidationError({"as_of": f"No catalog had been loaded by {as_of:%Y-%m-%d %H:%M %Z}."})

    def ids(name: str) -> Callable[[dict], frozenset[int]]:
        return lambda row: row[name]

    def codes(name: str) -> Callable[[dict], tuple[str, ...]]:
        return lambda row: tuple(region.code for region in regions if region.id in row[name])

    def code(name: str) -> Callable[[dict], str | None]:
        return lambda row: region_codes.get(row[name])

    by_position = lambda row: (row["position"], row.get("slug") or row.get("code"))  # noqa: E731
    regions = _infos(RegionInfo, Region, as_of, extra=("position",), order=by_position)
    region_codes = {region.id: region.code for region in regions}
    products = {
        product.id: product
        for product in _infos(
            ProductInfo, Product, as_of, convert={"default_region": code("default_region_id")}, extra=("default_region_id",)
        )
    }
    categories = {
        category.id: category
        for category in _infos(CategoryInfo, DataCategory, as_of, convert={"purposes": lambda row: tuple(row["purposes"] or ())}, extra=("purposes",))
    }
    offers = [
        offer
        for offer in _infos(
            OfferInfo,
            HostingOffer,
            as_of,
            convert={"regions": codes("regions"), "fallback": code("fallback_region_id")},
            extra=("fallback_region_id",),
            m2m=("regions",),
        )
        if offer.product_id in products and offer.category_id in categories
    ]
    offers.sort(key=lambda o: (products[o.product_id].position, o.position, categories[o.category_id].position))
    routes = _infos(
        RouteInfo,
        TransientRoute,
        as_of,
        convert={"generated_in": code("generated_in_id"), "routed_to": code("routed_to_id")},
        extra=("generated_in_id", "routed_to_id"),
    )
    rules = _infos(
        RuleInfo,
        RetentionRule,
        as_of,
        convert={
            "product_ids": ids("products"),
            "storage_regions": lambda row: frozenset(codes("storage_regions")(row)),
            "kept_in": code("kept_in_id"),
        },
        extra=("kept_in_id", "slug"),
        m2m=("products", "storage_regions"),
        order=by_position,
    )
    integrations = {
        integration.id: integration
        for integration in _infos(
            IntegrationInfo,
            Integration,
            as_of,
            convert={"product_ids": ids("products"), "category_ids": ids("categories"), "regions": codes("processing_regions")},
            extra=("position",),
            m2m=("products", "categories", "processing_regions"),
            order=by_position,
        )
    }
    sub_processors = _infos(
        SubProcessorInfo,
        SubProcessor,
        as_of,
        convert={"product_ids": ids("products"), "category_ids": ids("categories"), "regions": codes("regions")},
        m2m=("products", "categories", "regions"),
        order=by_position,
    )
    platforms = _infos(
        PlatformInfo,
        ProcessingPlatform,
        as_of,
        convert={
            "product_ids": ids("products"),
            "category_ids": ids("categories"),
            "sub_processor_ids": ids("sub_processors"),
            "regions": codes("regions"),
        },
        m2m=("products", "categories", "sub_processors", "regions"),
        order=by_position,
    )
    listed = {name: (lambda row, name=name: tuple(row[name] or ())) for name in ("security_measures", "documents")}
    processor = next(
        iter(_infos(ProcessorInfo, Processor, as_of, convert=listed, extra=tuple(listed))),
        ProcessorInfo(),
    )
    return Catalog(
        as_of=as_of,
        version=load.version if load else "",
        sha256=load.sha256 if load else "",
        loaded_at=load.applied_at if load else None,
        regions={region.code: region for region in regions},
        products=products,
        categories=categories,
        offers=offers,
        routes=routes,
        rules=rules,
        integrations=integrations,
        sub_processors=sub_processors,
        platforms=platforms,
        processor=processor,
        region_codes=region_codes,
    )


def account_snapshots(catalog: Catalog, **lookup: Any) -> list[AccountInfo]:
    """The accounts matching ``lookup`` (all by default) at the catalog's moment, by name. Three queries."""
    return _infos(
        AccountInfo,
        Account,
        catalog.as_of,
        convert={
            "home_region": lambda row: catalog.region_codes.get(row["home_region_id"], ""),
            "product_ids": lambda row: row["products"],
            "integration_ids": lambda row: row["integrations"],
        },
        extra=("home_region_id",),
        m2m=("products", "integrations"),
        order=lambda row: row["name"],
        **lookup,
    )


def account_snapshot(account: Account | int, catalog: Catalog) -> AccountInfo:
    """One account at the catalog's moment. Raises ValidationError (``as_of``) if it did not exist then."""
    pk = account if isinstance(account, int) else account.pk
    found = account_snapshots(catalog, id=pk)
    if not found:
        if catalog.as_of is None:
            raise Account.DoesNotExist(f"No account {pk}.")
        raise ValidationError({"as_of": f"The account did not exist on {catalog.as_of:%Y-%m-%d %H:%M %Z}."})
    return found[0]
