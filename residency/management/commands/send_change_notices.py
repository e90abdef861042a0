from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from residency.models import ChangeNotice
from residency.notices import change_notices_send


class Command(BaseCommand):
    help = (
        "Emails the notices of new sub-processors and transfers (GDPR Art. 28(2)) that have a privacy contact "
        "and were not sent yet: a load sends them once it commits; this retries those whose email failed. "
        "A notice is emailed at most once. Exits non-zero when some still could not be sent."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Say how many would be sent, send nothing.")

    def handle(self, *args: Any, dry_run: bool, verbosity: int, **options: Any) -> None:
        pending = list(ChangeNotice.objects.filter(emailed_at__isnull=True).exclude(sent_to="").values_list("pk", flat=True))
        if dry_run:
            if verbosity:
                self.stdout.write(f"Dry run: {len(pending)} notice(s) would be emailed.")
            return
        sent = change_notices_send(ids=pending)
        if verbosity:
            self.stdout.write(f"{sent} of {len(pending)} notice(s) emailed.")
        if sent < len(pending):
            raise SystemExit(1)
