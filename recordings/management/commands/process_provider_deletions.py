from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from recordings import services
from recordings.models import ProviderDeletion


class Command(BaseCommand):
    help = (
        "Sends the queued deletions of recordings to the telephony provider. A 204 or 404 answer counts as "
        "done; 429, 5xx, timeouts and network errors are retried later with exponential backoff (30 s doubling "
        "up to an hour, or the provider's Retry-After). Attempts and the last error are shown in the admin. "
        "Exits non-zero when some deletion failed this run (it stays queued)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="At most this many deletions per run (default 500).")

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        if limit < 1:
            raise CommandError("--limit: must be at least 1.")
        with tqdm(unit="deletion", disable=options["verbosity"] < 1, file=self.stderr) as bar:
            result = services.provider_deletions_process(limit=limit, on_item=bar.update)
        pending = ProviderDeletion.objects.pending().count()
        if options["verbosity"] >= 1:  # quiet for cron and run_schedules; failures still exit non-zero below
            self.stdout.write(f"Provider deletions: {result.summary()}; still pending: {pending}.")
        if result.failed:
            raise CommandError(f"{result.failed} deletion(s) failed and will be retried; last error: {result.errors[-1]}")
