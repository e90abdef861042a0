from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dsar import services
from dsar.models import Request
from dsar.sources import ErasureStep, registered_sources


class Command(BaseCommand):
    help = (
        "Execute a verified data subject request. An erasure runs every data source's steps in order "
        "(1 tickets, 2 every other store, the person last, 3 history tables); each finished step is stored, so "
        "an interrupted run resumes where it stopped and a finished one changes nothing. A source that "
        "reports a blocker (the person is on a call) stops it before anything is erased and the request "
        "waits. Ends with the verification scan. With --dry-run, shows the erasure preview and changes nothing. "
        "Exits non-zero when the request cannot be executed, is blocked, or the scan finds leftovers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("request_id", type=int, metavar="REQUEST_ID")
        parser.add_argument("--dry-run", action="store_true", help="Show what would be erased; change nothing.")

    def handle(self, *args: Any, request_id: int, dry_run: bool, **options: Any) -> None:
        request = Request.objects.select_related("person", "account", "jurisdiction").filter(pk=request_id).first()
        if request is None:
            raise CommandError(f"REQUEST_ID: no request {request_id}.")
        try:
            if dry_run:
                self._preview(request)
                return
            total = len(ErasureStep) * len(registered_sources()) if request.type == Request.Type.ERASURE else 0
            done = [0]

            def progress(step: int, source: str, counts: dict[str, int]) -> None:
                done[0] += 1
                detail = ", ".join(f"{c} {n}" for c, n in sorted(counts.items())) or "nothing"
                self.stdout.write(f"[{done[0]}/{total}] step {step} · {source}: {detail}")

            outcome = services.request_execute(request=request, progress=progress)
        except ValidationError as exc:
            raise CommandError(f"Request {request_id}: {' '.join(exc.messages)}") from exc
        except Exception as exc:  # a source failed mid-way: the finished steps are stored
            raise CommandError(
                f"Request {request_id} stopped by an error ({exc}); the finished steps are kept: run the command "
                "again to resume."
            ) from exc
        request.refresh_from_db()
        if outcome is None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Request {request_id} ({request.get_type_display()}) executed; status {request.get_status_display()}."
                )
            )
            return
        if outcome.blocked:
            raise CommandError(f"Request {request_id} refused, now waiting: {'; '.join(outcome.blocked)}")
        scan = outcome.scan
        summary = (
            f"Request {request_id}: {outcome.erased} record(s) erased in {len(outcome.ran)} step(s), "
            f"{outcome.skipped} already done; scan: {scan.undeclared if scan else '?'} undeclared hit(s), "
            f"{scan.declared if scan else '?'} declared."
        )
        if scan is not None and scan.undeclared:
            for hit in scan.hits:
                if not hit.declared:
                    self.stderr.write(f"  leftover: {hit.table}.{hit.column} ({hit.identifier}): {hit.count} row(s)")
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))

    def _preview(self, request: Request) -> None:
        if request.type != Request.Type.ERASURE:
            self.stdout.write(
                f"Dry run: request {request.pk} is {request.get_type_display().lower()}; executing it would "
                + ("record the objection." if request.type == Request.Type.OBJECTION else "produce its data.")
            )
            return
        subject = services.request_subject(request)
        if subject is None:
            raise CommandError(f"Request {request.pk}: no person and no stored subject.")
        preview = services.erasure_preview(subject=subject)
        for source in preview.sources:
            counts = ", ".join(f"{c} {n}" for c, n in sorted(source.counts.items())) or "nothing"
            self.stdout.write(f"{source.label} [{source.key}]: would erase {counts}")
            for kept in source.retained:
                self.stdout.write(f"  keeps {kept['data_category']}: {kept['description']} ({kept['reason']})")
            for blocker in source.blockers:
                self.stdout.write(self.style.WARNING(f"  blocked: {blocker}"))
        totals = sum(preview.totals.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Dry run: {totals} record(s) would be erased; {len(preview.blockers)} blocker(s); nothing changed."
            )
        )
