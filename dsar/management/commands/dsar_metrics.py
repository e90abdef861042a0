from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dsar.metrics import FIRST_YEAR, check_year, request_metrics, write_csv, write_text
from residency.models import Account


class Command(BaseCommand):
    help = (
        "Prints the yearly data subject request metrics (CCPA regulations §7102; the same figures serve any DPO's "
        "annual report): the requests received in --year (the day of receipt in each account's time zone), by law "
        "and by type in CCPA's words (know/access, delete, correct, opt-out/objection, portability): received, "
        "complied with in whole or in part, denied (in total and by denial reason), withdrawn, still open, and the "
        "median and mean days from receipt to the answer (completed or denied). Test requests are left out. "
        f"--year from {FIRST_YEAR} to this year; --account ID for one account (default: every account); "
        "--format text (a table per law, the default) or csv; --output PATH writes the file there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", required=True, help=f"The calendar year, from {FIRST_YEAR} to this year.")
        parser.add_argument("--account", help="One account's requests, by its id (default: every account).")
        parser.add_argument("--format", choices=["text", "csv"], default="text")
        parser.add_argument("--output", help="Write to this file instead of printing.")

    def handle(
        self, *args: Any, year: str, account: str | None, format: str, output: str | None, **options: Any
    ) -> None:
        try:
            asked_year = check_year(year, field_name="--year")
        except ValidationError as exc:
            raise CommandError(f"--year: {' '.join(exc.message_dict['--year'])}") from exc
        found = None
        if account is not None:
            found = Account.objects.filter(pk=int(account)).first() if account.strip().isdigit() else None
            if found is None:
                raise CommandError(f"--account: no account with id {account!r}.")
        metrics = request_metrics(year=asked_year, account=found)
        text = io.StringIO()
        (write_csv if format == "csv" else write_text)(metrics, text)
        if not output:
            self.stdout.write(text.getvalue(), ending="")
            return
        try:
            Path(output).write_text(text.getvalue(), encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--output: cannot write {output}: {exc.strerror}.") from exc
        received = sum(law.total.received for law in metrics.laws)
        self.stdout.write(f"Wrote the {asked_year} metrics ({received} requests, {len(metrics.laws)} laws) to {output}.")
