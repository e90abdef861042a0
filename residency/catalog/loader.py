"""Reads the catalog file, validates it whole, and syncs the database to it.

The file is parsed and checked completely before anything is written: an unknown region, a missing
field or a negative duration is reported with the file, the entry and the field, and the database
is left exactly as it was. Syncing updates only what differs, so a second load changes nothing (and
writes no history rows).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core.history import write_history

from residency.catalog.impact import AccountImpact, footprints, impact
from residency.models import (
    Basis,
    CatalogLoad,
    ChangeNotice,
    DataCategory,
    HostingOffer,
    Integration,
    ProcessingPlatform,
    Processor,
    Product,
    Region,
    RetentionRule,
    Safeguard,
    SubProcessor,
    TransientRoute,
)
from residency.notices import change_notices_record


class CatalogError(Exception):
    """The catalog file cannot be loaded; the message names the file, entry and field."""


@dataclass
class Row:
    """One database row the file asks for: lookup key, plain fields, many-to-many fields."""

    label: str
    key: dict[str, Any]
    fields: dict[str, Any] = field(default_factory=dict)
    m2m: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class CatalogSpec:
    path: Path
    version: str
    sha256: str
    #: The file's text: stored with the load, what its version label stands for.
    text: str
    regions: list[Row]
    products: list[Row]
    categories: list[Row]
    hosting: list[Row]
    routes: list[Row]
    retention: list[Row]
    integrations: list[Row]
    sub_processors: list[Row]
    platforms: list[Row]
    processor: list[Row]
    effective_from: date | None = None


@dataclass
class CatalogChanges:
    version: str
    lines: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    #: The accounts whose residency report the change moves, and how (see catalog/impact.py).
    impact: list[AccountImpact] = field(default_factory=list)
    #: The Art. 28(2) notices the load recorded (see residency/notices.py); none on a dry run's rollback.
    notices: list[ChangeNotice] = field(default_factory=list)
    #: The date the database takes the change, when the file's ``effective_from`` is still ahead; else None.
    scheduled_for: date | None = None

    #: Entries that only moved within the file: saved in their new order, not changes of meaning.
    reordered: Counter = field(default_factory=Counter)

    def add(self, action: str, kind: str, label: str, detail: str = "") -> None:
        self.counts[f"{kind}.{action}"] += 1
        self.lines.append(f"{action} {kind} {label}{': ' + detail if detail else ''}")

    @property
    def changed(self) -> bool:
        """Whether the load writes anything (a reordering too: reports list entries in the file's order)."""
        return bool(self.lines or self.reordered)


#: The largest catalog file read, checked before it is read: the shipped one is about 20 kB.
MAX_BYTES = 2 * 1024 * 1024
#: The JSON Schema of the file, published beside it for editors (``#:schema`` on its first line).
SCHEMA_PATH = Path(__file__).with_name("catalog.schema.json")


@cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _entry_label(path: Path, section: str, index: int, entry: Any) -> str:
    """Where an entry of the file is, as every error names it: ``catalog.toml: hosting[3] (product 'freshdesk')``."""
    where = f"{path.name}: {section}[{index}]"
    for name in ("slug", "code", "product"):
        if isinstance(entry, dict) and isinstance(entry.get(name), str):
            return f"{where} ({name} {entry[name]!r})"
    return where


def _as_json(value: Any) -> Any:
    """The parsed TOML as JSON Schema reads it: dates and times as ISO 8601 text."""
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _schema_errors(path: Path, data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, message)`` of each place the file breaks the schema; ``where`` as :func:`_entry_label`, with the
    field when there is one."""
    for error in sorted(_schema_validator().iter_errors(_as_json(data)), key=lambda error: list(map(str, error.absolute_path))):
        at = list(error.absolute_path)
        if not at:
            yield f"{path.name}", error.message
            continue
        section = at[0]
        if section == "processor":
            where, rest = f"{path.name}: [processor]", at[1:]
        elif len(at) > 1 and isinstance(at[1], int):
            where, rest = _entry_label(path, section, at[1], data[section][at[1]]), at[2:]
        else:
            where, rest = f"{path.name}", at
        yield (f"{where}: field '{rest[0]}'" if rest else where), error.message


def _located(path: Path, text: bytes, offset: int) -> str:
    """``catalog.toml: line L, column C`` of byte ``offset`` of ``text`` (columns count characters)."""
    before = text[:offset]
    line = before.count(b"\n") + 1
    column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
    return f"{path.name}: line {line}, column {column}"


class _Reader:
    """Typed access to one entry of the file, with errors that say where."""

    def __init__(self, path: Path, section: str, index: int, entry: Any, errors: list[str]) -> None:
        self.errors = errors
        self.where = _entry_label(path, section, index, entry)
        self.entry = entry if isinstance(entry, dict) else {}
        if not isinstance(entry, dict):
            self.fail("", "must be a table")

    def fail(self, name: str, message: str) -> None:
        self.errors.append(f"{self.where}: field '{name}': {message}" if name else f"{self.where}: {message}")

    def str(self, name: str, *, required: bool = True, default: str = "") -> str:
        value = self.entry.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(name, "must be a non-empty string" if required else "must be a string")
            return default
        return value.strip()

    def bool(self, name: str, default: bool) -> bool:
        value = self.entry.get(name, default)
        if not isinstance(value, bool):
            self.fail(name, "must be true or false")
            return default
        return value

    def int(self, name: str, *, required: bool = True) -> int | None:
        value = self.entry.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            self.fail(name, f"must be a positive whole number, not {value!r}")
            return None
        return value

    def str_list(self, name: str, *, required: bool = False) -> list[str]:
        value = self.entry.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(name, "must be a list of strings")
            return []
        if required and not value:
            self.fail(name, "must not be empty")
        return value

    def refs(self, name: str, known: set[str], what: str, *, required: bool = False) -> list[str]:
        values = self.str_list(name, required=required)
        for value in values:
            if value not in known:
                self.fail(name, f"unknown {what} {value!r}")
        return [value for value in values if value in known]

    def ref(self, name: str, known: set[str], what: str, *, required: bool = True) -> str | None:
        value = self.str(name, required=required)
        if not value:
            return None
        if value not in known:
            self.fail(name, f"unknown {what} {value!r}")
            return None
        return value

    def choice(self, name: str, choices: list[str]) -> str:
        """A required field that must be one of ``choices``."""
        value = self.str(name)
        if value and value not in choices:
            self.fail(name, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    def basis(self, name: str, *, required: bool) -> str:
        """Where a statement comes from (``source`` or ``catalog``): required beside a statement the file makes, so
        that every addition of the catalog's own says so; the catalog's when left out (it never claims the source)."""
        value = self.str(name, required=required, default=Basis.CATALOG)
        if value not in Basis.values:
            self.fail(name, f"must be one of {', '.join(Basis.values)}, not {value!r}")
            return Basis.CATALOG
        return value

    def safeguard(self) -> str:
        value = self.str("safeguard", required=False)
        if value == "dpf":
            self.fail("safeguard", "the EU-US Data Privacy Framework is named by 'dpf_certified = true' on a sub-processor")
            return ""
        if value not in Safeguard.values:
            allowed = ", ".join(v for v in Safeguard.values if v)
            self.fail("safeguard", f"must be one of {allowed} (or left out: none stated), not {value!r}")
            return ""
        return value

    def check_unknown_fields(self, allowed: set[str]) -> None:
        for name in sorted(set(self.entry) - allowed):
            self.fail(name, "is not a known field")


def _section(path: Path, data: dict[str, Any], name: str, errors: list[str]) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        errors.append(f"{path.name}: '{name}' must be an array of tables ([[{name}]])")
        return []
    return value


def parse_catalog(path: Path) -> CatalogSpec:
    """Read and validate the whole file. Raises :class:`CatalogError` listing every problem found.

    In order: its size (at most :data:`MAX_BYTES`, checked before reading it), UTF-8 and TOML (an error gives the
    line and column), then every entry, field by field, against the JSON Schema (:data:`SCHEMA_PATH`) and the
    checks a schema cannot make: references to regions, products, categories and sub-processors that exist,
    routes and log rules that agree with the hosting table, one entry per key."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read ({exc.strerror})") from exc
    return parse_catalog_bytes(raw, path)


def parse_catalog_bytes(raw: bytes, path: Path) -> CatalogSpec:
    """:func:`parse_catalog` of a file's bytes (``path`` names it in errors)."""
    if len(raw) > MAX_BYTES:
        raise CatalogError(f"{path.name}: larger than {MAX_BYTES // (1024 * 1024)} MB; not read (a catalog is about 20 kB)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{_located(path, raw, exc.start)}: not UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"{path.name}: line {at[1]}, column {at[2]}" if at else path.name
        reason = message[: at.start()].strip() if at else message
        raise CatalogError(f"{where}: not valid TOML ({reason})") from exc

    errors: list[str] = []
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        errors.append(f"{path.name}: field 'version': is required")
        version = ""

    def readers(section: str, allowed: set[str]) -> list[_Reader]:
        result = [_Reader(path, section, i, entry, errors) for i, entry in enumerate(_section(path, data, section, errors))]
        for reader in result:
            reader.check_unknown_fields(allowed)
        return result

    def unique(rows: list[Row], section: str) -> list[Row]:
        seen: set[str] = set()
        for row in rows:
            if row.label in seen:
                errors.append(f"{path.name}: {section}: {row.label!r} appears twice")
            seen.add(row.label)
        return rows

    effective_from = data.get("effective_from")
    if effective_from is not None and (isinstance(effective_from, datetime) or not isinstance(effective_from, date)):
        errors.append(f"{path.name}: field 'effective_from': must be a date (2026-12-01), not {effective_from!r}")
        effective_from = None

    regions = unique(
        [
            Row(
                label=code,
                key={"code": code},
                fields={
                    "name": r.str("name"),
                    "jurisdiction": r.str("jurisdiction"),
                    "country": r.str("country", required=False),
                    "safeguard": r.safeguard(),
                    "safeguard_note": r.str("safeguard_note", required=False),
                    "safeguard_reference": r.str("safeguard_reference", required=False),
                    "position": i,
                },
            )
            for i, r in enumerate(readers("regions", {"code", "name", "jurisdiction", "country", "safeguard", "safeguard_note", "safeguard_reference"}))
            if (code := r.str("code"))
        ],
        "regions",
    )
    region_codes = {row.label for row in regions}

    products = unique(
        [
            Row(
                label=slug,
                key={"slug": slug},
                fields={
                    "name": r.str("name"),
                    "default_region": r.ref("default_region", region_codes, "region", required=False),
                    "default_region_note": r.str("default_region_note", required=False),
                    "default_region_basis": r.basis("default_region_basis", required="default_region" in r.entry),
                    "position": i,
                },
            )
            for i, r in enumerate(readers("products", {"slug", "name", "default_region", "default_region_note", "default_region_basis"}))
            if (slug := r.str("slug"))
        ],
        "products",
    )
    product_slugs = {row.label for row in products}
    default_region = {row.label: row.fields["default_region"] for row in products}

    categories = []
    category_fields = {"slug", "name", "definition", "definition_in_source", "purposes", "purposes_basis", "personal", "personal_basis"}
    for i, r in enumerate(readers("categories", category_fields)):
        slug = r.str("slug")
        in_source = r.bool("definition_in_source", True)
        definition = r.str("definition", required=in_source)
        fields = {
            "name": r.str("name"),
            "definition": definition,
            "definition_in_source": in_source,
            "purposes": r.str_list("purposes", required=True),
            "purposes_basis": r.basis("purposes_basis", required=True),
            "is_personal": r.bool("personal", True),
            "personal_basis": r.basis("personal_basis", required="personal" in r.entry),
            "position": i,
        }
        if slug:
            categories.append(Row(label=slug, key={"slug": slug}, fields=fields))
    unique(categories, "categories")
    category_slugs = {row.label for row in categories}

    hosting: list[Row] = []
    for i, r in enumerate(readers("hosting", {"product", "categories", "regions", "regions_basis", "fallback", "documented", "note"})):
        product = r.ref("product", product_slugs, "product")
        documented = r.bool("documented", True)
        offered = r.refs("regions", region_codes, "region", required=documented)
        if not documented and r.entry.get("regions"):
            r.fail("regions", "must be left out when documented = false (the source states no region)")
        fallback = r.ref("fallback", region_codes, "region", required=False) if "fallback" in r.entry else None
        if fallback and fallback not in offered:
            r.fail("fallback", f"{fallback!r} is not one of the offered regions")
        # An account whose home region the row does not offer is placed by a stated rule: the only region
        # offered, the row's own fallback, or the product's default region; never silently the first listed.
        if documented and offered and not fallback:
            if len(offered) == 1 or set(offered) == region_codes:
                fallback = offered[0]
            elif product and default_region.get(product) in offered:
                fallback = default_region[product]
            elif product:
                r.fail(
                    "fallback",
                    f"is required: the row offers {', '.join(offered)} and product {product!r} names no default_region among them",
                )
        for category in r.refs("categories", category_slugs, "category", required=True):
            if product:
                hosting.append(
                    Row(
                        label=f"{product}/{category}",
                        key={"product": product, "category": category},
                        fields={
                            "documented": documented,
                            "fallback_region": fallback,
                            "regions_basis": r.str("regions_basis", required=False),
                            "note": r.str("note", required=False),
                            "position": i,
                        },
                        m2m={"regions": offered},
                    )
                )
    unique(hosting, "hosting")

    offers = {(row.key["product"], row.key["category"]): row for row in hosting}
    hosted = {product for product, _category in offers}

    def hosted_products(r: _Reader) -> list[str]:
        """The ``products`` of an entry, each of which must have a row in the hosting table."""
        products = r.refs("products", product_slugs, "product")
        for product in products:
            if product not in hosted:
                r.fail("products", f"product {product!r} has no row in the hosting table")
        return products

    routes: list[Row] = []
    for r in readers("routes", {"products", "category", "generated_in", "held_minutes", "routed_to", "note"}):
        category = r.ref("category", category_slugs, "category")
        generated_in = r.ref("generated_in", region_codes, "region")
        routed_to = r.ref("routed_to", region_codes, "region")
        minutes = r.int("held_minutes")
        if generated_in and generated_in == routed_to:
            r.fail("routed_to", "must differ from generated_in")
        for product in r.refs("products", product_slugs, "product", required=True):
            offer = offers.get((product, category))
            if category and offer is None:
                r.fail("products", f"{product!r} has no hosting row for {category!r}: the route would apply to nothing")
            elif offer is not None and generated_in and generated_in not in offer.m2m["regions"]:
                offered = ", ".join(offer.m2m["regions"]) or "no region"
                r.fail(
                    "generated_in",
                    f"{generated_in!r} is not a region the hosting row of {product!r} · {category!r} offers ({offered}): "
                    "a route starts where the data is hosted",
                )
            if category and generated_in and routed_to:
                routes.append(
                    Row(
                        label=f"{product}/{category}/{generated_in}>{routed_to}",
                        key={"product": product, "category": category, "generated_in": generated_in, "routed_to": routed_to},
                        fields={"held_minutes": minutes, "note": r.str("note", required=False)},
                    )
                )
    unique(routes, "routes")

    retention = []
    copies: dict[tuple[str, str, str, str], str] = {}  # (kind, product, storage region, kept in): the rule's slug
    for i, r in enumerate(readers("retention", {"slug", "name", "kind", "products", "storage_regions", "kept_in", "days", "note"})):
        slug = r.str("slug")
        kind = r.choice("kind", RetentionRule.Kind.values)
        fields = {
            "name": r.str("name"),
            "kind": kind,
            "kept_in": r.ref("kept_in", region_codes, "region", required=False),
            "days": r.int("days", required=False),
            "note": r.str("note", required=False),
            "position": i,
        }
        m2m = {"products": hosted_products(r), "storage_regions": r.refs("storage_regions", region_codes, "region")}
        # One rule per product, storage region and place of the copies: two would give two periods for one copy.
        places = [
            (kind, product, storage, fields["kept_in"] or storage)
            for product in m2m["products"] or sorted(hosted)
            for storage in m2m["storage_regions"] or sorted(region_codes)
        ]
        taken = next((place for place in places if place in copies), None)
        if taken:
            _kind, product, storage, kept = taken
            r.fail(
                "storage_regions" if m2m["storage_regions"] else "products",
                f"{kind}s of {product!r} stored in {storage} and kept in {kept} are already ruled by {copies[taken]!r}: "
                "one rule per product and region",
            )
        copies.update((place, slug) for place in places if place not in copies)
        if slug:
            retention.append(Row(label=slug, key={"slug": slug}, fields=fields, m2m=m2m))
    unique(retention, "retention")

    integrations = []
    integration_fields = {"slug", "name", "kind", "products", "categories", "processing_regions", "source_says", "safeguard", "safeguard_note", "safeguard_reference", "note"}
    for i, r in enumerate(readers("integrations", integration_fields)):
        slug = r.str("slug")
        kind = r.choice("kind", Integration.Kind.values)
        fields = {
            "name": r.str("name"),
            "kind": kind,
            "source_says": r.str("source_says", required=False),
            "safeguard": r.safeguard(),
            "safeguard_note": r.str("safeguard_note", required=False),
            "safeguard_reference": r.str("safeguard_reference", required=False),
            "note": r.str("note", required=False),
            "position": i,
        }
        m2m = {
            "products": hosted_products(r),
            "categories": r.refs("categories", category_slugs, "category", required=True),
            "processing_regions": r.refs("processing_regions", region_codes, "region"),
        }
        if slug:
            integrations.append(Row(label=slug, key={"slug": slug}, fields=fields, m2m=m2m))
    unique(integrations, "integrations")

    sub_processors = []
    for i, r in enumerate(
        readers(
            "sub_processors",
            {"slug", "name", "purpose", "products", "categories", "regions", "in_storage_region", "dpf_certified", "safeguard", "safeguard_note", "safeguard_reference", "note"},
        )
    ):
        slug = r.str("slug")
        fields = {
            "name": r.str("name"),
            "purpose": r.str("purpose"),
            "in_storage_region": r.bool("in_storage_region", False),
            "dpf_certified": r.bool("dpf_certified", False),
            "safeguard": r.safeguard(),
            "safeguard_note": r.str("safeguard_note", required=False),
            "safeguard_reference": r.str("safeguard_reference", required=False),
            "note": r.str("note", required=False),
            "position": i,
        }
        m2m = {
            "products": r.refs("products", product_slugs, "product"),
            "categories": r.refs("categories", category_slugs, "category"),
            "regions": r.refs("regions", region_codes, "region"),
        }
        if slug:
            sub_processors.append(Row(label=slug, key={"slug": slug}, fields=fields, m2m=m2m))
    unique(sub_processors, "sub_processors")
    sub_processor_slugs = {row.label for row in sub_processors}

    platforms = []
    for i, r in enumerate(readers("platforms", {"slug", "name", "kind", "products", "categories", "sub_processors", "regions", "note"})):
        slug = r.str("slug")
        kind = r.choice("kind", ProcessingPlatform.Kind.values)
        fields = {"name": r.str("name"), "kind": kind, "note": r.str("note", required=False), "position": i}
        m2m = {
            "products": r.refs("products", product_slugs, "product"),
            "categories": r.refs("categories", category_slugs, "category", required=True),
            "sub_processors": r.refs("sub_processors", sub_processor_slugs, "sub-processor"),
            "regions": r.refs("regions", region_codes, "region"),
        }
        if slug:
            platforms.append(Row(label=slug, key={"slug": slug}, fields=fields, m2m=m2m))
    unique(platforms, "platforms")

    processor: list[Row] = []
    raw_processor = data.get("processor")
    if raw_processor is not None:
        r = _Reader(path, "processor", 0, raw_processor, errors)
        r.where = f"{path.name}: [processor]"
        texts = ("address", "email", "dpo_name", "dpo_email", "representative", "customer_data", "hosted_data", "purpose", "data_location_option")
        r.check_unknown_fields({"name", *texts, "security_measures", "documents"})
        processor.append(
            Row(
                label="processor",
                key={},
                fields={
                    "name": r.str("name"),
                    **{name: r.str(name, required=False) for name in texts},
                    "security_measures": r.str_list("security_measures"),
                    "documents": r.str_list("documents"),
                },
            )
        )

    known_sections = {"version", "source", "effective_from", "processor", "regions", "products", "categories", "hosting", "routes", "retention", "integrations", "sub_processors", "platforms"}
    for section in sorted(set(data) - known_sections):
        errors.append(f"{path.name}: '{section}' is not a known section")
    # The schema checks shape and types as an editor does; where a check above already named the place, its
    # message (in the catalog's words) stands alone.
    for where, message in _schema_errors(path, data):
        if not any(error.startswith(f"{where}:") for error in errors):
            errors.append(f"{where}: {message}")
    if errors:
        raise CatalogError("\n".join(errors))
    return CatalogSpec(
        path=path,
        version=version,
        sha256=hashlib.sha256(raw).hexdigest(),
        text=text,
        regions=regions,
        products=products,
        categories=categories,
        hosting=hosting,
        routes=routes,
        retention=retention,
        integrations=integrations,
        sub_processors=sub_processors,
        platforms=platforms,
        processor=processor,
        effective_from=effective_from,
    )


class _Rollback(Exception):
    pass


# (kind, model, spec attribute, {key or field name: model referenced by slug/code})
_KINDS: list[tuple[str, type[models.Model], str, dict[str, type[models.Model]]]] = [
    ("region", Region, "regions", {}),
    ("product", Product, "products", {"default_region": Region}),
    ("category", DataCategory, "categories", {}),
    ("hosting", HostingOffer, "hosting", {"product": Product, "category": DataCategory, "fallback_region": Region, "regions": Region}),
    ("route", TransientRoute, "routes", {"product": Product, "category": DataCategory, "generated_in": Region, "routed_to": Region}),
    ("retention", RetentionRule, "retention", {"products": Product, "storage_regions": Region, "kept_in": Region}),
    ("integration", Integration, "integrations", {"products": Product, "categories": DataCategory, "processing_regions": Region}),
    (
        "sub-processor",
        SubProcessor,
        "sub_processors",
        {"products": Product, "categories": DataCategory, "regions": Region},
    ),
    (
        "platform",
        ProcessingPlatform,
        "platforms",
        {"products": Product, "categories": DataCategory, "sub_processors": SubProcessor, "regions": Region},
    ),
    ("processor", Processor, "processor", {}),
]


def catalog_load(*, spec: CatalogSpec, dry_run: bool = False) -> CatalogChanges:
    """Make the database match ``spec``: create, update and delete rows; record the load when it changed anything.

    With ``dry_run`` the same work is done and then rolled back, so the changes reported are exact.
    A row still used elsewhere (a region an account is homed in, say) is not deleted: the load fails
    with a :class:`CatalogError` naming it, and nothing is written.

    A file whose ``effective_from`` is after today (in the product's time zone) is scheduled, not applied: its
    changes and impact are worked out the same way and rolled back, the load is recorded with its text, and the
    notices it owes are recorded now, dated from that day, so that accounts have their time to object;
    :func:`catalog_apply_scheduled` applies it on the day. A version label already loaded with other content is
    refused, as is any load while a scheduled one waits (it would be overwritten when that one applies).
    """
    _check_version(spec)
    scheduled = list(CatalogLoad.objects.scheduled())
    pending = next((load for load in scheduled if (load.version, load.sha256) != (spec.version, spec.sha256)), None)
    if pending is not None:
        raise CatalogError(
            f"{spec.path.name}: catalog {pending.version} is scheduled to apply on {pending.effective_from:%Y-%m-%d}; "
            "load this one after it has, or withdraw it first (load_catalog --withdraw "
            f"{pending.version})"
        )
    changes = CatalogChanges(version=spec.version)
    if spec.effective_from is not None and spec.effective_from > timezone.localdate():
        changes.scheduled_for = spec.effective_from
    if scheduled:
        return changes  # this very file is scheduled already (any other was refused above): nothing to record again
    try:
        with transaction.atomic():
            with transaction.atomic():
                before = footprints()
                _sync_all(spec, changes)
                if changes.changed:
                    changes.impact = impact(before, footprints())
                if changes.scheduled_for:
                    transaction.set_rollback(True)  # the database takes it on the day; until then, what is in force
            if changes.changed:
                load = CatalogLoad.objects.create(
                    version=spec.version,
                    source=spec.path.name,
                    sha256=spec.sha256,
                    content=spec.text,
                    status=CatalogLoad.Status.SCHEDULED if changes.scheduled_for else CatalogLoad.Status.APPLIED,
                    applied_at=None if changes.scheduled_for else timezone.now(),
                    changes={**changes.counts, **{f"{kind}.reordered": n for kind, n in changes.reordered.items()}},
                    impact=_impact_record(changes.impact),
                    effective_from=spec.effective_from,
                )
                changes.notices = change_notices_record(load=load, impact=changes.impact)
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return changes


def _impact_record(impact: list[AccountImpact]) -> list[dict[str, Any]]:
    return [{"account": a.account, "account_id": a.account_id, "changes": a.changes, "notifiable": a.notifiable} for a in impact]


def _check_version(spec: CatalogSpec) -> None:
    """A version label stands for one content: refuse ``spec`` when its label was loaded with another."""
    other = CatalogLoad.objects.filter(version=spec.version).exclude(sha256=spec.sha256).order_by("loaded_at").first()
    if other is not None:
        raise CatalogError(
            f"{spec.path.name}: version {spec.version!r} was loaded on {timezone.localtime(other.loaded_at):%Y-%m-%d %H:%M} "
            f"with other content (sha256 {other.sha256[:12]}…; this file's is {spec.sha256[:12]}…): "
            "a version label stands for one content, give this file a version of its own"
        )


def catalog_apply_scheduled(*, today: date | None = None) -> list[CatalogChanges]:
    """Apply every scheduled load whose ``effective_from`` has come, in date order, each in its own transaction;
    returns what each changed.

    Each is claimed first (a conditional update of its status), so two schedulers never apply one twice. Its
    stored text is what was checked and announced; the impact is worked out again now, and an account that the
    change now reaches without a notice (one created since it was scheduled) gets one, dated today. A load that
    fails (a region now in use, say) is left scheduled, and the error raised for the scheduler to report."""
    today = today or timezone.localdate()
    applied = []
    for load in CatalogLoad.objects.scheduled().filter(effective_from__lte=today):
        with transaction.atomic():
            claimed = CatalogLoad.objects.filter(pk=load.pk, status=CatalogLoad.Status.SCHEDULED).update(
                status=CatalogLoad.Status.APPLIED, applied_at=timezone.now()
            )
            if not claimed:
                continue  # applied meanwhile by another run
            load.refresh_from_db()
            spec = parse_catalog_bytes(load.content.encode(), Path(load.source))
            changes = CatalogChanges(version=spec.version)
            before = footprints()
            _sync_all(spec, changes)
            changes.impact = impact(before, footprints())
            told = set(load.notices.values_list("account_id", flat=True))
            changes.notices = change_notices_record(
                load=load, impact=[item for item in changes.impact if item.account_id not in told], effective_from=today
            )
            write_history([load], history_type="~", reason=f"applied on its effective date {load.effective_from:%Y-%m-%d}")
            applied.append(changes)
    return applied


def catalog_withdraw(*, version: str) -> CatalogLoad:
    """Withdraw the scheduled load of ``version`` before it applies (it never will). Raises :class:`CatalogError`
    when no load of that version is scheduled."""
    load = CatalogLoad.objects.scheduled().filter(version=version).first()
    # Conditional on still being scheduled: one the schedule applied meanwhile is not withdrawn.
    if load is None or not CatalogLoad.objects.filter(pk=load.pk, status=CatalogLoad.Status.SCHEDULED).update(
        status=CatalogLoad.Status.WITHDRAWN
    ):
        raise CatalogError(f"No catalog {version!r} is scheduled: nothing to withdraw.")
    load.refresh_from_db()
    write_history([load], history_type="~", reason="withdrawn before its effective date")
    return load


def _sync_all(spec: CatalogSpec, changes: CatalogChanges) -> None:
    resolved: dict[type[models.Model], dict[str, models.Model]] = {}
    kept: dict[str, set[int]] = {}
    for kind, model, attribute, references in _KINDS:
        by_key = {}
        for row in getattr(spec, attribute):
            obj = _sync_row(kind, model, row, references, resolved, changes)
            by_key[row.label] = obj
        # Regions, products and categories are referenced by code/slug, which is their label.
        resolved[model] = by_key
        kept[kind] = {obj.pk for obj in by_key.values()}
    # Deletions run in reverse order, so offers go before the categories they point to.
    for kind, model, _attribute, _references in reversed(_KINDS):
        for obj in model.objects.exclude(pk__in=kept[kind]):
            label = str(obj)
            try:
                obj.delete()
            except ProtectedError as exc:
                users = sorted({str(item) for item in exc.protected_objects})[:5]
                raise CatalogError(
                    f"{spec.path.name}: {kind} {label!r} is no longer in the file but is still used by: {', '.join(users)}"
                ) from exc
            changes.add("deleted", kind, label)


def _sync_row(
    kind: str,
    model: type[models.Model],
    row: Row,
    references: dict[str, type[models.Model]],
    resolved: dict[type[models.Model], dict[str, models.Model]],
    changes: CatalogChanges,
) -> models.Model:
    def resolve(name: str, value: Any) -> Any:
        target = references.get(name)
        if target is None or value is None:
            return value
        return resolved[target][value]

    key = {name: resolve(name, value) for name, value in row.key.items()}
    wanted = {name: resolve(name, value) for name, value in row.fields.items()}
    obj = model.objects.filter(**key).first()
    created = obj is None
    changed_fields = []
    reason = f"catalog {changes.version}"
    if created:
        obj = model(**key, **wanted)
        obj._change_reason = reason
        obj.save()
    else:
        changed_fields = [name for name, value in wanted.items() if getattr(obj, name) != value]
        if changed_fields:
            for name in changed_fields:
                setattr(obj, name, wanted[name])
            obj._change_reason = reason
            obj.save()
    for name, values in row.m2m.items():
        target = references[name]
        wanted_pks = {resolved[target][value].pk for value in values}
        manager = getattr(obj, name)
        if created or set(manager.values_list("pk", flat=True)) != wanted_pks:
            obj._change_reason = reason
            manager.set(wanted_pks)
            if not created:
                changed_fields.append(name)
    if created:
        changes.add("created", kind, row.label)
    elif changed_fields == ["position"]:
        changes.reordered[kind] += 1
    elif changed_fields:
        changes.add("updated", kind, row.label, ", ".join(f for f in changed_fields if f != "position"))
    return obj
