from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.audit import verify_chain
from core.checkpoints import verify_checkpoints
from core.models import AuditChainHead


class Command(BaseCommand):
    help = (
        "Verifies the audit chain of destructive operations (recording deletions, erasure steps, legal holds, "
        "identity checks, API keys). Walks every entry in order, recomputes each field's digest and each "
        "entry's keyed hash from the one before, and reports the first entry changed, removed or inserted "
        "outside the product. Then holds the chain to every signed checkpoint in the witness directory: a log "
        "shorter than a checkpoint, another head, a checkpoint not signed by the audit key, no checkpoint, or a "
        "gap longer than the schedule is reported. Exits with status 1 on any problem. Values an erasure "
        "redacted are checked against their kept digests' record in the chain and counted by request."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000, help="Entries read per query (default 2000).")

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size: must be at least 1.")
        head = AuditChainHead.objects.filter(pk=1).first()
        total = head.seq if head else 0
        bar = tqdm(total=total, unit="entries", disable=options["verbosity"] < 2 or not total)
        with bar:
            result = verify_chain(batch_size=batch_size, progress=bar.update)
        if not result.intact:
            raise CommandError(f"Audit chain broken after {result.verified} intact entries: {result.problem}.")
        problems = verify_checkpoints()
        if problems:
            raise CommandError("Audit chain not anchored: " + "; ".join(problems) + ".")
        redacted = sum(result.redacted_by_request.values())
        by_request = ", ".join(
            f"request {request}: {count}" for request, count in sorted(result.redacted_by_request.items())
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {result.verified} entries verified; {redacted} redacted by erasure"
                + (f" ({by_request})." if by_request else ".")
            )
        )
