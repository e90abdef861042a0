"""The record of processing and the residency report as the workbooks auditors and supervisory authorities file
(XLSX): the record with one sheet per account (one sheet, or every account's in one workbook), the residency
report with a sheet per part. Same content as the HTML, JSON and CSV forms; what nobody has filled says so.

Every text is written as text: a value that starts with ``=`` stays a value, never a formula (an account name
is the customer's input). Characters a workbook cannot hold (control characters) are dropped. openpyxl is
imported on use: only these downloads need it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from residency.engine import ResidencyReport
from residency.records import ProcessingRecord

#: What a sheet's name may not hold, and its longest length (Excel's rules).
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_LENGTH = 31
_MISSING = "MISSING"
_BASIS = {"catalog": "the catalog's own", "source": "the source"}


def _workbook() -> Any:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    return book


def _bytes(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_name(title: str, taken: set[str]) -> str:
    """``title`` as a sheet name: without the characters sheets refuse, at most 31 characters, unique in ``taken``."""
    base = _NOT_IN_SHEET_NAMES.sub(" ", title).strip() or "Sheet"
    name, number = base[:_SHEET_NAME_LENGTH], 1
    while name.lower() in taken:
        number += 1
        suffix = f" ({number})"
        name = base[: _SHEET_NAME_LENGTH - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def _rows(sheet: Any, rows: Iterable[Sequence[Any]], *, bold: bool = False) -> None:
    """Append ``rows`` to ``sheet``, every text as text (never a formula), without characters a workbook refuses."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    for values in rows:
        cells = [ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value for value in values]
        sheet.append(cells)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
            if bold:
                cell.font = Font(bold=True)


def _section(sheet: Any, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    _rows(sheet, [[], [title]], bold=True)
    _rows(sheet, [header], bold=True)
    _rows(sheet, rows)


def _record_sheet(sheet: Any, record: ProcessingRecord) -> None:
    _rows(sheet, [[f"Record of processing (GDPR Art. 30(2)): {record.account}"]], bold=True)
    _rows(
        sheet,
        [
            ["Home region", f"{record.home_region} ({record.jurisdiction})"],
            ["Regime", record.regime, record.regime_note],
            ["Catalog", record.catalog_version or "not loaded", record.catalog_sha256],
            ["As of", record.as_of or "now", f"generated {record.generated_at[:19]}"],
        ],
    )
    _section(
        sheet,
        "(a) Processor and controller",
        ["", "Name", "Contact", "Email", "Address", "DPO", "Representative in the EU"],
        [
            [
                party.role,
                party.name or _MISSING,
                party.contact_name or ("–" if party.role == "processor" else _MISSING),
                party.email or _MISSING,
                party.address or ("–" if party.role == "controller" else _MISSING),
                " ".join(filter(None, [party.dpo_name, party.dpo_email])) or _MISSING,
                party.representative or ("none stated" if party.role == "processor" else "–"),
            ]
            for party in (record.processor, record.controller)
        ],
    )
    _section(
        sheet,
        "(b) Categories of processing carried out for the controller",
        ["Product", "Data category", "Personal data", "Purposes", "Stored in", "Purposes and personal flag from"],
        [
            ["Customer data", record.customer_data or _MISSING],
            ["Hosted data", record.hosted_data or _MISSING],
            ["Purpose", record.purpose or _MISSING],
            *([["Data location", record.data_location_option]] if record.data_location_option else []),
            *[
                [
                    a.product_name,
                    a.data_category_name,
                    "yes" if a.personal_data else "no",
                    "; ".join(a.purposes),
                    a.stored_in or "not stated (review)",
                    f"purposes: {_BASIS[a.purposes_basis]}; personal flag: {_BASIS[a.personal_basis]}",
                ]
                for a in record.processing
            ],
        ],
    )
    _section(
        sheet,
        f"(c) {record.transfers_title}",
        ["What", "Region", "Country", "Safeguard", "Documented at", "Review", "Why it is listed"],
        [
            [
                t.what,
                t.region or "not stated",
                *t.cells(),
                "yes" if t.review else "no",
                t.reason,
            ]
            for t in record.transfers
        ],
    )
    _section(
        sheet,
        "Sub-processors",
        ["Sub-processor", "Purpose", "Regions"],
        [
            [sub["name"], sub["purpose"], "the storage region" if sub["in_storage_region"] else ", ".join(sub["regions"]) or "not stated"]
            for sub in record.sub_processors
        ]
        + ([["The source's list", "; ".join(record.documents)]] if record.documents else []),
    )
    _section(
        sheet,
        "Processing locations outside the hosting table",
        ["Location", "What happens there"],
        [[location["name"], location["reason"]] for location in record.processing_locations],
    )
    _section(
        sheet,
        "(d) Technical and organisational security measures",
        ["Measure"],
        [[measure] for measure in record.security_measures] or [[f"{_MISSING}: the catalog states none."]],
    )
    if record.missing:
        _section(sheet, "Missing", ["Field"], [[name] for name in record.missing])
    sheet.column_dimensions["A"].width = 34
    for column in "BCDEFG":
        sheet.column_dimensions[column].width = 28


def records_workbook(records: Sequence[ProcessingRecord]) -> bytes:
    """The records as one workbook, a sheet per account (named by its id and name), in the order given."""
    book, taken = _workbook(), set()
    for record in records:
        _record_sheet(book.create_sheet(_sheet_name(f"{record.account_id} {record.account}", taken)), record)
    if not records:
        _rows(book.create_sheet("Records"), [["No account."]])
    return _bytes(book)


def report_workbook(report: ResidencyReport, names: dict[tuple[str, str], str] | None = None) -> bytes:
    """The residency report as a workbook: where each product × category is stored, the transfers, the
    sub-processors, the processing locations and what to review. ``names`` gives a transfer's product and
    category by name where the report carries slugs."""
    names = names or {}
    book = _workbook()
    summary = book.create_sheet("Report")
    _rows(summary, [[f"Residency report: {report.account}"]], bold=True)
    _rows(
        summary,
        [
            ["Home region", f"{report.home_region} ({report.jurisdiction})"],
            ["Catalog", report.catalog_version or "not loaded", report.catalog_sha256],
            ["As of", report.as_of or "now"],
            *[["Note", note] for note in report.notes],
        ],
    )
    _section(
        summary,
        "Where the data is",
        ["Product", "Data category", "Stored in", "Passes through", "Backups", "Logs", "Integrations", "Transfer", "Review", "Rule", "Purposes"],
        [
            [
                e.product_name,
                e.data_category_name,
                e.stored_in or "not stated (review)",
                "; ".join(f"{hop.region} for {hop.minutes} min" for hop in e.transient),
                "; ".join(f"{hop.region or 'not stated'}" + (f", {hop.days} days" if hop.days else "") for hop in e.backups),
                "; ".join(f"{hop.region or 'not stated'}" + (f", {hop.days} days" if hop.days else "") for hop in e.logs),
                ", ".join(e.integrations),
                "yes" if e.transfer else "no",
                "yes" if e.review else "no",
                e.rule,
                "; ".join(e.purposes) + (f" ({_BASIS[e.purposes_basis]})" if e.purposes else ""),
            ]
            for e in report.entries
        ],
    )
    transfers = book.create_sheet("Transfers")
    _rows(transfers, [["What", "From", "To", "Basis", "Through", "Why"]], bold=True)
    _rows(
        transfers,
        [
            [names.get((t.product, t.data_category), f"{t.product} · {t.data_category}"), t.origin or "", t.region or "not stated", t.via, t.via_slug, t.reason]
            for t in report.transfers
        ],
    )
    subs = book.create_sheet("Sub-processors")
    _rows(subs, [["Sub-processor", "Purpose", "Regions"]], bold=True)
    _rows(
        subs,
        [
            [sub.name, sub.purpose, "the storage region" if sub.in_storage_region else ", ".join(sub.regions) or "not stated"]
            for sub in report.sub_processors
        ],
    )
    locations = book.create_sheet("Processing locations")
    _rows(locations, [["Location", "Categories", "Regions", "What happens there"]], bold=True)
    _rows(locations, [[p.name, ", ".join(p.categories), ", ".join(p.regions) or "not stated", p.reason] for p in report.platforms])
    review = book.create_sheet("To review")
    _rows(review, [["To review"]], bold=True)
    _rows(review, [[item] for item in report.reviews])
    for sheet in book.worksheets:
        for column in "ABCDEFGHIJ":
            sheet.column_dimensions[column].width = 26
    return _bytes(book)
