from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recordings import services
from recordings.models import HistoryExport
from residency.models import Account


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date in YYYY-MM-DD form.") from exc


class Command(BaseCommand):
    help = (
        "Exports an account's call history or monitoring history as CSV for a date range (default: the current "
        "month; at most a year). Monitoring history is for Professional and Enterprise plans only. The file is "
        "written by the background worker and a signed download link, valid 7 days, is emailed to --recipient: "
        "the address of an active staff login allowed to read that history and to download exports (no other "
        "address is accepted); --now writes it in this process instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account", help="The account's name or id.")
        parser.add_argument("--kind", required=True, choices=HistoryExport.Kind.values)
        parser.add_argument("--start", type=_date, help="First day, YYYY-MM-DD (default: first of this month).")
        parser.add_argument("--end", type=_date, help="Last day, inclusive (default: end of this month).")
        parser.add_argument(
            "--recipient",
            default="",
            help="Where the download link is sent: an active staff login's address, allowed to read the history.",
        )
        parser.add_argument("--now", action="store_true", help="Write the file now instead of in the background.")

    def handle(self, *args: Any, account: str, kind: str, start: date | None, end: date | None, recipient: str, now: bool, **options: Any) -> None:
        found = Account.objects.filter(name=account).first() or (
            Account.objects.filter(pk=int(account)).first() if account.isdigit() and len(account) < 19 else None
        )
        if found is None:
            raise CommandError(f"account: no account named {account!r}.")
        try:
            export = services.history_export_request(account=found, kind=kind, start=start, end=end, recipient=recipient)
        except ValidationError as exc:
            raise CommandError("; ".join(f"--{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        if now:
            export = services.history_export_run(export_id=export.pk)
            self.stdout.write(f"Export {export.pk}: {export.row_count} rows written; link emailed to {export.email}.")
        else:
            self.stdout.write(f"Export {export.pk} queued ({export.start} to {export.end}); the link goes to {export.email}.")
