from __future__ import annotations

import csv
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.csv_safety import safe_cell
from residency.documents import FILE_FORMATS, report_file, write_file
from residency.engine import ResidencyReport, account_residency_report
from residency.models import Account
from residency.snapshot import parse_as_of


def hops(items: list, unit: str) -> str:
    """``EEA 365 days; US (period not stated)``."""
    return "; ".join(
        f"{hop.region or 'unknown region'} {getattr(hop, unit)} {unit}" if getattr(hop, unit) else f"{hop.region} (period not stated)"
        for hop in items
    )


class Command(BaseCommand):
    help = (
        "Prints an account's residency report: for every subscribed product and data category, where it is "
        "stored and the rule that decided it, where it passes through, where backups and logs are kept and "
        "for how long, and every transfer outside the home region's jurisdiction with its reason. "
        "ACCOUNT is an account id or its exact name. Also as an HTML document, a PDF or a workbook "
        "(--format html, pdf, xlsx); PDF and XLSX are written to --output PATH."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("account", help="Account id or name.")
        parser.add_argument("--format", choices=["text", "json", "csv", *FILE_FORMATS], default="text")
        parser.add_argument("--output", help="Write the file here (required for pdf and xlsx).")
        parser.add_argument(
            "--as-of", dest="as_of", help="A past date (2026-03-01: the end of that day) or date and time (ISO 8601)."
        )

    def handle(self, *args: Any, account: str, format: str, output: str | None, as_of: str | None, **options: Any) -> None:
        found = Account.objects.filter(pk=int(account)).first() if account.isdigit() else None
        found = found or Account.objects.filter(name=account).first()
        if found is None:
            raise CommandError(f"account: no account with id or name {account!r}.")
        try:
            report = account_residency_report(account=found, as_of=parse_as_of(as_of, field_name="--as-of"))
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"--as-of: {' '.join(errors)}" for errors in exc.message_dict.values())
            ) from exc
        if format in FILE_FORMATS:
            try:
                write_file(report_file(found, report, format), format, output=output, stdout=self.stdout)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            return
        {"text": self.write_text, "json": self.write_json, "csv": self.write_csv}[format](report)

    def write_json(self, report: ResidencyReport) -> None:
        self.stdout.write(json.dumps(report.as_dict(), indent=2))

    def write_csv(self, report: ResidencyReport) -> None:
        writer = csv.writer(self.stdout)
        writer.writerow(["product", "data_category", "stored_in", "transient", "backups", "logs", "transfer", "review", "reasons"])
        for entry in report.entries:
            writer.writerow(
                safe_cell(cell)
                for cell in [
                    entry.product,
                    entry.data_category,
                    entry.stored_in or "",
                    hops(entry.transient, "minutes"),
                    hops(entry.backups, "days"),
                    hops(entry.logs, "days"),
                    "yes" if entry.transfer else "no",
                    "yes" if entry.review else "no",
                    " | ".join(entry.reasons),
                ]
            )

    def write_text(self, report: ResidencyReport) -> None:
        out = self.stdout.write
        when = f"as of {report.as_of}" if report.as_of else "now"
        out(
            f"Residency of {report.account} — home region {report.home_region} ({report.jurisdiction}), "
            f"catalog {report.catalog_version or 'not loaded'}"
            + (f" (sha256 {report.catalog_sha256})" if report.catalog_sha256 else "")
            + f", {when}"
        )
        current = None
        for entry in report.entries:
            if entry.product != current:
                current = entry.product
                out(f"\n{entry.product_name}")
            marker = "!" if entry.transfer else ("?" if entry.review else " ")
            out(f" {marker} {entry.data_category_name:<34} stored in {entry.stored_in or 'not stated'}")
            if entry.transient:
                out(f"     passes through: {hops(entry.transient, 'minutes')}")
            out(f"     backups: {hops(entry.backups, 'days') or '-'}   logs: {hops(entry.logs, 'days') or '-'}")
        out(f"\nTransfers outside {report.jurisdiction} ({len(report.transfers)}):")
        for transfer in report.transfers:
            out(f"  {transfer.product}/{transfer.data_category} → {transfer.region or 'unknown region'}: {transfer.reason}")
        if report.platforms:
            out(f"\nProcessing locations outside the hosting table ({len(report.platforms)}):")
            for platform in report.platforms:
                out(f"  {'?' if platform.review else ' '} {platform.reason}")
        if report.reviews:
            out(f"\nTo review ({len(report.reviews)}):")
            for review in report.reviews:
                out(f"  {review}")
        for note in report.notes:
            out(f"\nNote: {note}")
