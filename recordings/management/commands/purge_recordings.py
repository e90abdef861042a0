from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from recordings import services


class Command(BaseCommand):
    help = (
        "Deletes call recordings and voicemails older than their phone line's auto-delete window, and tickets "
        "soft-deleted 7 or more days ago together with all their recordings. Each deleted recording gets its "
        "own audit entry (naming the window, or the ticket and who deleted it) and is queued for deletion at "
        "the telephony provider. Anything under a legal hold (account, ticket or person) is skipped and "
        "counted. Works in batches, each committed on its own: safe to interrupt and to run again. Also removes "
        "the files of history exports whose 7-day download link has expired."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; change nothing.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Rows per batch (default: as many as take about a second, measured as the purge runs).",
        )

    def handle(self, *args: Any, dry_run: bool, batch_size: int | None, **options: Any) -> None:
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size: must be at least 1.")
        now = timezone.now()
        quiet = dry_run or options["verbosity"] < 1
        # The bar's total is a count of every due row: only worth it when the bar is shown.
        total = 0 if quiet else services.purge_workload(now=now)
        with tqdm(total=total, unit="row", disable=quiet, file=self.stderr) as bar:
            result = services.recordings_purge(now=now, batch_size=batch_size, dry_run=dry_run, on_batch=bar.update)
        expired = 0 if dry_run else services.history_exports_expire(now=now)
        self.stdout.write(
            ("Dry run: " if dry_run else "Purge: ") + result.summary() + f"; expired export files removed: {expired}."
        )
