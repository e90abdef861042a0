"""The residency report and the record of processing as the files people keep and file: HTML, PDF (WeasyPrint)
and XLSX, built in one place for the console, the API and the commands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from django.template.loader import render_to_string

from core.documents import html_to_pdf
from residency.engine import ResidencyReport
from residency.models import Account, DataCategory, Product
from residency.records import ProcessingRecord, render_html
from residency.spreadsheets import records_workbook, report_workbook

#: The formats that are files (the API and the commands also give JSON, CSV and text), with their media types.
FILE_FORMATS = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def report_context(account: Account, report: ResidencyReport) -> dict[str, Any]:
    """What the residency report's templates show beside the report: its transfers by name (the report carries
    slugs), and how many categories they concern."""
    products = dict(Product.objects.values_list("slug", "name"))
    categories = dict(DataCategory.objects.values_list("slug", "name"))
    platforms = {use.slug: use.name for use in report.platforms}
    named = [
        (t, products.get(t.product, platforms.get(t.product, t.product)), categories.get(t.data_category, t.data_category))
        for t in report.transfers
    ]
    return {
        "original": account,
        "report": report,
        "transfer_count": sum(1 for entry in report.entries if entry.transfer),
        "transfers": [(product, category, t.region, t.reason) for t, product, category in named],
        "transfer_names": {(t.product, t.data_category): f"{product} · {category}" for t, product, category in named},
    }


def report_file(account: Account, report: ResidencyReport, fmt: str) -> bytes:
    """The residency report of ``account`` as an HTML document, a PDF or a workbook."""
    context = report_context(account, report)
    if fmt == "xlsx":
        return report_workbook(report, context["transfer_names"])
    html = render_to_string("residency/residency_report.html", context)
    return _document(html, fmt)


def records_file(records: Sequence[ProcessingRecord], fmt: str) -> bytes:
    """Records of processing as a workbook (a sheet per account), or one record as an HTML document or a PDF."""
    if fmt == "xlsx":
        return records_workbook(records)
    if len(records) != 1:
        raise ValueError(f"format: {fmt} holds one record; every account's go in one workbook (xlsx) or CSV.")
    return _document(render_html(records[0]), fmt)


def _document(html: str, fmt: str) -> bytes:
    if fmt == "pdf":
        return html_to_pdf(html)
    if fmt == "html":
        return html.encode()
    raise ValueError(f"format: {fmt!r} is not one of {', '.join(FILE_FORMATS)}.")


def write_file(content: bytes, fmt: str, *, output: str | None, stdout: TextIO) -> None:
    """A command's file: to ``output`` when given, else HTML to ``stdout``. Raises ValueError naming ``--output``
    for a PDF or a workbook without one (a terminal is no place for them), or a path that cannot be written."""
    if output is None:
        if fmt != "html":
            raise ValueError(f"--output: the {fmt.upper()} file needs a path to be written to (--output record.{fmt}).")
        stdout.write(content.decode())
        return
    try:
        Path(output).write_bytes(content)
    except OSError as exc:
        raise ValueError(f"--output: {output} cannot be written ({exc.strerror}).") from exc
