from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from residency.catalog.loader import CatalogError, catalog_apply_scheduled
from residency.models import CatalogLoad


class Command(BaseCommand):
    help = (
        "Applies the catalogs scheduled by load_catalog whose effective_from has come (today or before, in the "
        "product's time zone), in date order: the database takes the file as it was checked and announced; an "
        "account the change now reaches without a notice gets one, dated today. Runs from the schedule; running it "
        "twice, or from two schedulers at once, applies each catalog once. Exits non-zero when one cannot apply "
        "(it stays scheduled, and the error says why)."
    )

    def handle(self, *args: Any, verbosity: int, **options: Any) -> None:
        try:
            applied = catalog_apply_scheduled()
        except CatalogError as exc:
            raise CommandError(f"A scheduled catalog could not apply; it stays scheduled.\n{exc}") from exc
        if verbosity:
            for changes in applied:
                self.stdout.write(
                    f"Applied catalog {changes.version}: {len(changes.lines)} changes, "
                    f"{len(changes.impact)} account(s) moved, {len(changes.notices)} new notice(s)."
                )
            waiting = CatalogLoad.objects.scheduled().first()
            if not applied:
                self.stdout.write("No scheduled catalog is due.")
            if waiting is not None:
                self.stdout.write(f"Next: catalog {waiting.version} on {waiting.effective_from:%Y-%m-%d}.")
