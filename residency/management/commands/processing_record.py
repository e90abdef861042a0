from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from residency.documents import FILE_FORMATS, records_file, write_file
from residency.models import Account
from residency.records import account_processing_record, all_processing_records, write_csv, write_text
from residency.snapshot import parse_as_of


class Command(BaseCommand):
    help = (
        "Prints the processor's record of processing (GDPR Art. 30(2)) for an account, from the catalog and the "
        "account: the processor's and the controller's names, contacts and DPOs; the categories of processing "
        "(products × data categories, with purposes); every transfer outside the home jurisdiction with its "
        "country and the safeguard the catalog states (or a review flag); the security measures. Fields nobody "
        "has filled are printed as missing. ACCOUNT is an account id or its exact name; --all writes every account "
        "as one CSV, or one workbook with a sheet per account (--format xlsx). PDF and XLSX are written to --output "
        "PATH. --as-of DATE produces the record as it stood at the end of that day, from history, "
        "with the catalog version then in force."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("account", nargs="?", help="Account id or name.")
        parser.add_argument("--all", action="store_true", help="Every account: one CSV (--format csv) or workbook (--format xlsx).")
        parser.add_argument("--format", choices=["text", "json", "csv", *FILE_FORMATS], default="text")
        parser.add_argument("--output", help="Write the file here (required for pdf and xlsx).")
        parser.add_argument("--as-of", dest="as_of", help="A past date (2026-03-01) or date and time (ISO 8601).")

    def handle(
        self, *args: Any, account: str | None, all: bool, format: str, output: str | None, as_of: str | None, **options: Any
    ) -> None:
        try:
            moment = parse_as_of(as_of, field_name="--as-of")
        except ValidationError as exc:
            raise CommandError("; ".join(f"{name}: {' '.join(errors)}" for name, errors in exc.message_dict.items())) from exc
        if all:
            if account:
                raise CommandError("account: give an account or --all, not both.")
            if format not in ("csv", "xlsx"):
                raise CommandError("--format: --all writes one CSV or one workbook for every account; use --format csv or xlsx.")
            records = self._run(lambda: all_processing_records(as_of=moment))
            if format == "xlsx":
                self._write(records_file(records, format), format, output)
            else:
                write_csv(records, self.stdout)
            return
        if not account:
            raise CommandError("account: name an account (id or exact name), or give --all.")
        found = Account.objects.filter(pk=int(account)).first() if account.isdigit() else None
        found = found or Account.objects.filter(name=account).first()
        if found is None:
            raise CommandError(f"account: no account with id or name {account!r}.")
        record = self._run(lambda: account_processing_record(account=found, as_of=moment))
        if format == "json":
            self.stdout.write(json.dumps(record.as_dict(), indent=2, ensure_ascii=False))
        elif format == "csv":
            write_csv([record], self.stdout)
        elif format in FILE_FORMATS:
            self._write(records_file([record], format), format, output)
        else:
            write_text(record, self.stdout)

    def _write(self, content: bytes, fmt: str, output: str | None) -> None:
        try:
            write_file(content, fmt, output=output, stdout=self.stdout)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    @staticmethod
    def _run(build: Any) -> Any:
        try:
            return build()
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{'--as-of' if name == 'as_of' else name}: {' '.join(errors)}" for name, errors in exc.message_dict.items())
            ) from exc
