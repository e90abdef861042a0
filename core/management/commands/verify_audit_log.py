from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.models import AuditChainHead
from core.verification import audit_log_verify


class Command(BaseCommand):
    help = (
        "Verifies the audit chain of destructive operations (recording deletions, erasure steps, legal holds, "
        "identity checks, API keys) and the sealed audit tables (recording deletions, request timelines, the "
        "history of requests, people, holds and lines). Walks every entry in order, recomputes each field's "
        "digest and each entry's keyed hash from the one before, and reports the first entry changed, removed or "
        "inserted outside the product. Values an erasure redacted are checked against the chain's record of the "
        "redaction (request, time, reason) and counted by request. Then every row of every sealed table is "
        "checked against its seal, and the seals against the chain: each row changed, deleted or inserted outside "
        "the product is named with its table. Then holds the chain to every signed checkpoint in the witness "
        "directory: a log shorter than a checkpoint, another head, a checkpoint not signed by the audit key, no "
        "checkpoint, or a gap longer than the schedule is reported. Every problem found is reported together; exits with status 1 on any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000, help="Entries or rows read per query (default 2000).")

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size: must be at least 1.")
        head = AuditChainHead.objects.filter(pk=1).first()
        total = head.seq if head else 0
        quiet = options["verbosity"] < 2
        with tqdm(total=total, unit="entries", disable=quiet or not total) as entries, tqdm(
            unit="sealed rows", disable=quiet
        ) as rows:
            verdict = audit_log_verify(batch_size=batch_size, progress=entries.update, seal_progress=rows.update)
        if not verdict.intact:
            raise CommandError("\n".join(verdict.problems))
        self.stdout.write(self.style.SUCCESS(verdict.summary))
