from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from residency.models import Account
from residency.records import account_processing_record, all_processing_records, render_html, write_csv, write_text
from residency.snapshot import parse_as_of


class Command(BaseCommand):
    help = (
        "Prints the processor's record of processing (GDPR Art. 30(2)) for an account, from the catalog and the "
        "account: the processor's and the controller's names, contacts and DPOs; the categories of processing "
        "(products × data categories, with purposes); every transfer outside the home jurisdiction with its "
        "country and the safeguard the catalog states (or a review flag); the security measures. Fields nobody "
        "has filled are printed as missing. ACCOUNT is an account id or its exact name; --all writes one CSV for "
        "every account. --as-of DATE produces the record as it stood at the end of that day, from history, "
        "with the catalog version then in force."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("account", nargs="?", help="Account id or name.")
        parser.add_argument("--all", action="store_true", help="Every account, as one CSV (--format csv).")
        parser.add_argument("--format", choices=["text", "json", "csv", "html"], default="text")
        parser.add_argument("--as-of", dest="as_of", help="A past date (2026-03-01) or date and time (ISO 8601).")

    def handle(self, *args: Any, account: str | None, all: bool, format: str, as_of: str | None, **options: Any) -> None:
        try:
            moment = parse_as_of(as_of, field_name="--as-of")
        except ValidationError as exc:
            raise CommandError("; ".join(f"{name}: {' '.join(errors)}" for name, errors in exc.message_dict.items())) from exc
        if all:
            if account:
                raise CommandError("account: give an account or --all, not both.")
            if format != "csv":
                raise CommandError("--format: --all writes one CSV for every account; use --format csv.")
            write_csv(self._run(lambda: all_processing_records(as_of=moment)), self.stdout)
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
        elif format == "html":
            self.stdout.write(render_html(record))
        else:
            write_text(record, self.stdout)

    @staticmethod
    def _run(build: Any) -> Any:
        try:
            return build()
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{'--as-of' if name == 'as_of' else name}: {' '.join(errors)}" for name, errors in exc.message_dict.items())
            ) from exc
