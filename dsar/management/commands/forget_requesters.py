from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from core.history import Origin, history_context
from dsar.retention import requesters_forget


class Command(BaseCommand):
    help = (
        "Remove requester identity data from requests closed more than DSAR_IDENTITY_RETENTION_DAYS days ago "
        "(default 730): what each was received with (name, email, phone), staff notes (verification notes, "
        "extension and rejection reasons, in the timeline, history and audit chain), and the people intake "
        "created for them when nothing else refers to them. The request, its dates, certificate and counts stay. "
        "With --dry-run, only counts what would go."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be removed; change nothing.")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        with history_context(origin=Origin.COMMAND, actor="forget_requesters"):
            outcome = requesters_forget(now=timezone.now(), dry_run=dry_run)
        verb = "would lose" if dry_run else "lost"
        if options["verbosity"] < 1:  # quiet for cron and run_schedules
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{outcome.requests} request(s) closed over {settings.DSAR_IDENTITY_RETENTION_DAYS} days ago {verb} "
                f"their identity data; {outcome.notes} staff note(s); {outcome.people} intake-created person(s) "
                + ("would be removed." if dry_run else "removed.")
            )
        )
