"""The processor's record of processing for one controller (GDPR Art. 30(2)), built from the catalog.

The vendor processes each customer account's data as its processor, so for every account the record holds:
(a) the processor's and the controller's names and contacts, and their DPOs;
(b) the categories of processing carried out for the account: its products × data categories, with purposes;
(c) the transfers to third countries: every place the residency report flags, with its country and the
    safeguard the catalog states for it, and where that safeguard is documented;
(d) a general description of the security measures: each one the source states.
What a transfer to a third country is depends on the law that governs the controller (:data:`GDPR_JURISDICTIONS`):
for a controller under the GDPR, every place outside the EEA, which needs a country and a safeguard (Chapter V);
for any other, the record says which law governs it and lists the places outside its home jurisdiction as
such (the EEA is a place, not a missing country), without holding them to the GDPR's safeguards.
A field the catalog or the account cannot fill is listed in ``missing`` and shown as missing, never
invented. A transfer without what its regime needs is flagged for review.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TextIO

from django.template.loader import render_to_string
from django.utils import timezone

from core.csv_safety import safe_cell
from residency.engine import Transfer, residency_report
from residency.models import Safeguard
from residency.snapshot import (
    AccountInfo,
    Catalog,
    account_snapshot,
    account_snapshots,
    catalog_snapshot,
)

DPF = "EU-US Data Privacy Framework"
#: How every format marks a statement the catalog adds to its sources.
CATALOG_LABEL = " [the catalog's own]"
NONE_STATED = "None stated: to review"
#: The home jurisdictions whose controllers the GDPR governs: for them, a place outside is a transfer to a third
#: country (Chapter V). A UK account would be held to the UK GDPR the same way; the catalog has no UK region.
GDPR_JURISDICTIONS = frozenset({"EEA"})


@dataclass
class Party:
    """A processor or controller, with its contacts; an empty string is a field nobody has filled."""

    role: str
    name: str
    contact_name: str = ""
    email: str = ""
    address: str = ""
    dpo_name: str = ""
    dpo_email: str = ""
    representative: str = ""


@dataclass
class ProcessingActivity:
    product: str
    product_name: str
    data_category: str
    data_category_name: str
    personal_data: bool
    purposes: list[str]
    stored_in: str | None
    #: Where the purposes and the personal-data flag come from: ``catalog`` (its own addition) or ``source``.
    purposes_basis: str = "catalog"
    personal_basis: str = "catalog"


@dataclass
class RecordTransfer:
    product: str
    data_category: str
    what: str
    region: str | None
    country: str | None
    safeguard: str | None
    safeguard_note: str
    via: str
    reason: str
    review: bool
    #: Where the safeguard is documented (a URL or a document's id); empty: not stated.
    safeguard_reference: str = ""
    #: A transfer to a third country under GDPR Chapter V; else a place outside a non-GDPR controller's jurisdiction.
    third_country: bool = True

    def cells(self) -> tuple[str, str, str]:
        """Country, safeguard and its documentation as a table shows them: what Chapter V needs and nobody stated is
        ``MISSING``; outside the GDPR, a region of several countries is said so, and no safeguard is required."""
        return (
            self.country or ("MISSING" if self.third_country else "a region of several countries"),
            self.safeguard or (NONE_STATED if self.third_country else "not required (not under the GDPR)"),
            self.safeguard_reference or ("MISSING" if self.third_country and self.safeguard else ""),
        )


@dataclass
class ProcessingRecord:
    account_id: int
    account: str
    home_region: str
    jurisdiction: str
    catalog_version: str
    catalog_sha256: str
    catalog_loaded_at: str | None
    as_of: str | None
    generated_at: str
    #: The law that governs the controller, and how the record reads transfers under it.
    regime: str
    regime_note: str
    processor: Party
    controller: Party
    #: The source's own words: what is processed, what is hosted, why, and where data can be stored.
    customer_data: str
    hosted_data: str
    purpose: str
    data_location_option: str
    #: The documents the source points to (its terms, privacy notice, list of sub-processors).
    documents: list[str]
    processing: list[ProcessingActivity]
    transfers: list[RecordTransfer]
    processing_locations: list[dict[str, Any]]
    sub_processors: list[dict[str, Any]]
    security_measures: list[str]
    reviews: list[str]
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def transfers_title(self) -> str:
        """Section (c)'s title under the controller's regime."""
        return "Transfers to third countries" if self.regime == "GDPR" else f"Places outside {self.jurisdiction}"

    @property
    def missing_summary(self) -> list[str]:
        """``missing`` for people: the parties' fields by name, the transfers' gaps counted."""
        summary = [name for name in self.missing if not name.startswith("transfers[")]
        for field_name, what in (("safeguard", "safeguard"), ("safeguard_reference", "safeguard's documentation"), ("country", "country"), ("region", "region")):
            count = sum(1 for name in self.missing if name.startswith("transfers[") and name.endswith(f"].{field_name}"))
            if count:
                summary.append(f"the {what} of {count} of {len(self.transfers)} transfers")
        return summary


def _safeguard(transfer: Transfer, jurisdiction: str, catalog: Catalog) -> tuple[str | None, str, str]:
    """The safeguard the catalog states for ``transfer``, its note and where it is documented; (None, why, "")
    when it states none.

    A sub-processor's transfer from the EEA to the US names the Data Privacy Framework only when the
    catalog lists the sub-processor as certified (documented where the sub-processor's safeguard is); otherwise
    its own safeguard. An integration's is its own. Storage, transit, backups, logs and platforms are the
    vendor's own, covered by what the destination region states.
    """
    region = catalog.regions.get(transfer.region) if transfer.region else None
    if transfer.via == "sub_processor":
        sub = next((sub for sub in catalog.sub_processors if sub.slug == transfer.via_slug), None)
        if sub is None:
            return None, "The sub-processor is no longer in the catalog.", ""
        if sub.dpf_certified and jurisdiction == "EEA" and region is not None and region.jurisdiction == "United States":
            return DPF, f"{sub.name} is listed as certified under the Framework.", sub.safeguard_reference
        if sub.safeguard:
            return Safeguard(sub.safeguard).label, sub.safeguard_note, sub.safeguard_reference
        return None, f"The catalog states no safeguard for {sub.name}.", ""
    if transfer.via == "integration":
        integration = next((i for i in catalog.integrations.values() if i.slug == transfer.via_slug), None)
        if integration is not None and integration.safeguard:
            return Safeguard(integration.safeguard).label, integration.safeguard_note, integration.safeguard_reference
        return None, "The catalog states no safeguard for this integration.", ""
    if region is not None and region.safeguard:
        return Safeguard(region.safeguard).label, region.safeguard_note, region.safeguard_reference
    return None, f"The catalog states no safeguard for transfers to {transfer.region or 'this place'}.", ""


def _regime(jurisdiction: str) -> tuple[str, str]:
    """The law a controller of ``jurisdiction`` follows, and how its record reads the places its data reaches."""
    if jurisdiction in GDPR_JURISDICTIONS:
        return "GDPR", "Every place outside the EEA is a transfer to a third country (GDPR Chapter V): it needs a country and a safeguard."
    return (
        f"the law of its home jurisdiction, {jurisdiction}",
        f"The controller is governed by the law of its home jurisdiction, {jurisdiction}, not the GDPR. This record follows the form of GDPR "
        f"Art. 30(2); section (c) lists the places outside {jurisdiction} the data reaches, as such, not as transfers "
        "to third countries under GDPR Chapter V, and holds them to no GDPR safeguard.",
    )


def processing_record(*, account: AccountInfo, catalog: Catalog) -> ProcessingRecord:
    """The record of processing for ``account`` at the catalog's moment. Reads no database."""
    report = residency_report(account=account, catalog=catalog)
    names = {(entry.product, entry.data_category): f"{entry.product_name} · {entry.data_category_name}" for entry in report.entries}
    platform_names = {use.slug: use.name for use in report.platforms}
    category_names = {category.slug: category.name for category in catalog.categories.values()}
    personal = {category.slug: category.is_personal for category in catalog.categories.values()}
    personal_basis = {category.slug: category.personal_basis for category in catalog.categories.values()}

    regime, regime_note = _regime(report.jurisdiction)
    gdpr = report.jurisdiction in GDPR_JURISDICTIONS
    transfers = []
    for transfer in report.transfers:
        safeguard, note, reference = _safeguard(transfer, report.jurisdiction, catalog)
        if not gdpr and safeguard is None:
            note = ""  # none is required: that the catalog states none is no finding
        region = catalog.regions.get(transfer.region) if transfer.region else None
        country = region.country if region and region.country else None
        what = names.get(
            (transfer.product, transfer.data_category),
            f"{platform_names.get(transfer.product, transfer.product)} · {category_names.get(transfer.data_category, transfer.data_category)}",
        )
        transfers.append(
            RecordTransfer(
                product=transfer.product,
                data_category=transfer.data_category,
                what=what,
                region=transfer.region,
                country=country,
                safeguard=safeguard,
                safeguard_note=note,
                safeguard_reference=reference,
                via=transfer.via,
                reason=transfer.reason,
                # Under the GDPR a third-country transfer needs its country and a documented safeguard; elsewhere a
                # place outside the jurisdiction is reviewed only when the source names none.
                review=(safeguard is None or country is None or not reference) if gdpr else transfer.region is None,
                third_country=gdpr,
            )
        )

    processor = catalog.processor
    record = ProcessingRecord(
        account_id=report.account_id,
        account=report.account,
        home_region=report.home_region,
        jurisdiction=report.jurisdiction,
        catalog_version=catalog.version,
        catalog_sha256=catalog.sha256,
        catalog_loaded_at=report.catalog_loaded_at,
        as_of=report.as_of,
        generated_at=timezone.now().isoformat(),
        regime=regime,
        regime_note=regime_note,
        processor=Party(
            role="processor",
            name=processor.name,
            email=processor.email,
            address=processor.address,
            dpo_name=processor.dpo_name,
            dpo_email=processor.dpo_email,
            representative=processor.representative,
        ),
        controller=Party(
            role="controller",
            name=account.name,
            contact_name=account.privacy_contact_name,
            email=account.privacy_contact_email,
            dpo_name=account.dpo_name,
            dpo_email=account.dpo_email,
        ),
        customer_data=processor.customer_data,
        hosted_data=processor.hosted_data,
        purpose=processor.purpose,
        data_location_option=processor.data_location_option,
        documents=list(processor.documents),
        processing=[
            ProcessingActivity(
                product=entry.product,
                product_name=entry.product_name,
                data_category=entry.data_category,
                data_category_name=entry.data_category_name,
                personal_data=personal.get(entry.data_category, True),
                purposes=entry.purposes,
                stored_in=entry.stored_in,
                purposes_basis=entry.purposes_basis,
                personal_basis=personal_basis.get(entry.data_category, "catalog"),
            )
            for entry in report.entries
        ],
        transfers=transfers,
        processing_locations=[asdict(use) for use in report.platforms],
        sub_processors=[asdict(use) for use in report.sub_processors],
        security_measures=list(processor.security_measures),
        reviews=list(report.reviews),
    )
    record.missing = _missing(record)
    return record


def _missing(record: ProcessingRecord) -> list[str]:
    """The fields of Art. 30(2) the record cannot fill, named as they appear in it."""
    missing = []
    for party, fields in (
        (record.processor, ("name", "email", "address", "dpo_name", "dpo_email")),
        (record.controller, ("contact_name", "email", "dpo_name", "dpo_email")),
    ):
        missing += [f"{party.role}.{name}" for name in fields if not getattr(party, name)]
    for index, transfer in enumerate(record.transfers):
        if not transfer.third_country:
            if transfer.region is None:
                missing.append(f"transfers[{index}].region")
            continue
        if transfer.country is None:
            missing.append(f"transfers[{index}].country")
        if transfer.safeguard is None:
            missing.append(f"transfers[{index}].safeguard")
        elif not transfer.safeguard_reference:
            missing.append(f"transfers[{index}].safeguard_reference")
    if not record.security_measures:
        missing.append("security_measures")
    return missing


def account_processing_record(*, account: Any, as_of: datetime | None = None) -> ProcessingRecord:
    """The record for one account (a model or its id), now or as of a past moment."""
    catalog = catalog_snapshot(as_of)
    return processing_record(account=account_snapshot(account, catalog), catalog=catalog)


def all_processing_records(*, as_of: datetime | None = None) -> list[ProcessingRecord]:
    """Every account's record, from one read of the catalog."""
    catalog = catalog_snapshot(as_of)
    return [processing_record(account=account, catalog=catalog) for account in account_snapshots(catalog)]


#: One row per transfer (or per account without transfers) in the all-accounts CSV.
CSV_HEADER = [
    "account_id",
    "account",
    "home_region",
    "regime",
    "catalog_version",
    "catalog_sha256",
    "as_of",
    "controller_contact",
    "controller_email",
    "controller_dpo",
    "categories_of_processing",
    "sub_processors",
    "transfer",
    "region",
    "country",
    "safeguard",
    "safeguard_reference",
    "review",
    "reason",
    "missing",
]


def sub_processor_where(sub: dict[str, Any]) -> str:
    """Where a sub-processor of the record processes the data, in words."""
    return "the storage region" if sub["in_storage_region"] else ", ".join(sub["regions"]) or "regions not stated"


def csv_rows(records: list[ProcessingRecord]) -> list[list[Any]]:
    """Rows for :data:`CSV_HEADER`: each account's transfers, or one row saying it has none."""
    rows = []
    for record in records:
        categories = "; ".join(
            f"{activity.product_name} · {activity.data_category_name}" for activity in record.processing
        )
        common = [
            record.account_id,
            record.account,
            record.home_region,
            record.regime,
            record.catalog_version,
            record.catalog_sha256,
            record.as_of or "",
            record.controller.contact_name or "MISSING",
            record.controller.email or "MISSING",
            record.controller.dpo_name or record.controller.dpo_email or "MISSING",
            categories,
            "; ".join(f"{sub['name']} ({sub_processor_where(sub)})" for sub in record.sub_processors),
        ]
        missing = "; ".join(record.missing)
        if not record.transfers:
            rows.append([*common, "none", "", "", "", "", "no", "", missing])
        for transfer in record.transfers:
            rows.append(
                [
                    *common,
                    transfer.what,
                    transfer.region or "not stated",
                    *transfer.cells(),
                    "yes" if transfer.review else "no",
                    transfer.reason,
                    missing,
                ]
            )
    return rows


def write_csv(records: list[ProcessingRecord], out: TextIO) -> None:
    """The records as one CSV (see :data:`CSV_HEADER`), every cell safe to open in a spreadsheet."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in csv_rows(records):
        writer.writerow([safe_cell(cell) for cell in row])


def render_html(record: ProcessingRecord) -> str:
    """The record as a standalone HTML document, the same tables as the console page."""
    return render_to_string("residency/processing_record.html", {"record": record})


def write_text(record: ProcessingRecord, out: TextIO) -> None:
    """The record for a terminal: every section of Art. 30(2), missing fields named as missing."""

    def value(text: str) -> str:
        return text or "MISSING"

    when = f"as of {record.as_of}" if record.as_of else "as of now"
    lines = [
        f"Record of processing (GDPR Art. 30(2)) — {record.account}, home region {record.home_region} ({record.jurisdiction})",
        f"Catalog {record.catalog_version or 'not loaded'}"
        + (f" (sha256 {record.catalog_sha256})" if record.catalog_sha256 else "")
        + f", {when}",
        f"Regime: {record.regime}. {record.regime_note}",
        "",
        "(a) Processor and controller",
        f"  Processor:  {value(record.processor.name)}; contact {value(record.processor.email)}; address {value(record.processor.address)}",
        f"              DPO {value(' '.join(filter(None, [record.processor.dpo_name, record.processor.dpo_email])))};"
        f" representative {record.processor.representative or 'none stated'}",
        f"  Controller: {record.controller.name}; contact {value(record.controller.contact_name)} <{value(record.controller.email)}>",
        f"              DPO {value(' '.join(filter(None, [record.controller.dpo_name, record.controller.dpo_email])))}",
        "",
        f"(b) Categories of processing ({len(record.processing)})",
        f"  Customer data: {value(record.customer_data)}",
        f"  Purpose: {value(record.purpose)}",
        *[
            f"  {a.product_name} · {a.data_category_name}: {'; '.join(a.purposes)}{CATALOG_LABEL if a.purposes_basis == 'catalog' else ''}"
            f" (stored in {a.stored_in or 'not stated: review'})"
            for a in record.processing
        ],
        "",
        f"(c) {record.transfers_title} ({len(record.transfers)})",
        *[
            f"  {'?' if t.review else ' '} {t.what} → {t.region or 'not stated'}"
            + (f" ({t.country or 'country MISSING'}): {t.safeguard or NONE_STATED}" if t.third_country else f" ({t.country or 'a region of several countries'})")
            + (f" [documented: {t.safeguard_reference}]" if t.safeguard_reference else " [documentation MISSING]" if t.third_country and t.safeguard else "")
            + f". {t.reason}"
            for t in record.transfers
        ],
        *[f"  Processing location: {p['name']}: {p['reason']}" for p in record.processing_locations],
        "",
        f"Sub-processors ({len(record.sub_processors)})",
        *[
            f"  {sub['name']}: {sub['purpose']} ({sub_processor_where(sub)})"
            for sub in record.sub_processors
        ],
        *([f"  The source's list: {', '.join(record.documents)}"] if record.documents else []),
        "",
        "(d) Security measures",
        *([f"  - {measure}" for measure in record.security_measures] or ["  MISSING: the catalog states none."]),
    ]
    if record.missing:
        lines += ["", f"Missing ({len(record.missing)}): {', '.join(record.missing)}"]
    out.write("\n".join(lines) + "\n")
