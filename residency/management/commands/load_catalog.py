from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from residency.catalog.loader import CatalogError, catalog_load, catalog_withdraw, parse_catalog


class Command(BaseCommand):
    help = (
        "Loads the residency catalog file (regions, products, data categories, the hosting table, transient "
        "routes, backup and log retention, integrations, sub-processors) and makes the database match it: "
        "rows are created, updated or deleted; a second load changes nothing. The whole file is validated "
        "first and loaded in one transaction: any error names the file, entry and field, and writes nothing. "
        "Without PATH, reads RESIDENCY_CATALOG_PATH. Also says which accounts' residency reports the change "
        "moves, and how (a category moving region, a new transfer or sub-processor, a log copy added or shortened). "
        "Applying a change that gives an account a new sub-processor or transfer records a notice for it, with the "
        "objection window of CHANGE_NOTICE_OBJECTION_DAYS, emailed to the account's privacy contact. A file whose "
        "effective_from is still ahead is scheduled: checked, its impact and notices recorded now, and applied on that "
        "date by apply_scheduled_catalogs (reports show the catalog in force until then); --withdraw VERSION cancels "
        "it before then. A version label stands for one content: another file under a loaded label is refused."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", nargs="?", help="Catalog file (TOML). Default: the repository's catalog.")
        parser.add_argument("--dry-run", action="store_true", help="Print what would change and write nothing.")
        parser.add_argument("--withdraw", metavar="VERSION", help="Withdraw the scheduled catalog VERSION before it applies.")

    def handle(self, *args: Any, path: str | None, dry_run: bool, withdraw: str | None, verbosity: int, **options: Any) -> None:
        if withdraw:
            try:
                load = catalog_withdraw(version=withdraw)
            except CatalogError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Catalog {load.version}, scheduled for {load.effective_from:%Y-%m-%d}, withdrawn: it will not apply.")
            return
        catalog_path = Path(path) if path else Path(settings.RESIDENCY_CATALOG_PATH)
        try:
            spec = parse_catalog(catalog_path)
            changes = catalog_load(spec=spec, dry_run=dry_run)
        except CatalogError as exc:
            raise CommandError(f"Catalog not loaded; nothing was changed.\n{exc}") from exc

        if verbosity >= 2 or (dry_run and verbosity >= 1):
            for line in changes.lines:
                self.stdout.write(f"  {line}")
        if verbosity == 0:
            return
        on = f"{changes.scheduled_for:%Y-%m-%d}" if changes.scheduled_for else ""
        if not changes.changed:
            if on:
                self.stdout.write(f"Catalog {spec.version} is already scheduled to apply on {on}.")
            else:
                self.stdout.write(f"Catalog {spec.version} ({catalog_path.name}) is already loaded: nothing changed.")
            return
        summary = ", ".join(f"{count} {name}" for name, count in sorted(changes.counts.items()))
        counted = f"{len(changes.lines)} changes" + (f" ({summary})." if summary else ".")
        if on:
            head = f"{'Dry run: would schedule' if dry_run else 'Scheduled'} catalog {spec.version} to apply on {on}: {counted}"
            head += " Until then every report shows the catalog in force."
        else:
            head = f"{'Dry run: would apply' if dry_run else 'Applied'} catalog {spec.version}: {counted}"
        self.stdout.write(self.style.SUCCESS(head))
        if changes.reordered:
            moved = ", ".join(f"{count} {kind}" for kind, count in sorted(changes.reordered.items()))
            self.stdout.write(f"Entries only moved within the file, not changes: {moved}.")
        verb = f"will change on {on}" if on else "would change" if dry_run else "changed"
        if not changes.impact:
            self.stdout.write(f"No account's residency report {verb}.")
            return
        self.stdout.write(f"{len(changes.impact)} account(s) whose residency report {verb}:")
        for affected in changes.impact:
            self.stdout.write(f"  {affected.account}")
            for line in affected.changes:
                self.stdout.write(f"    {line}")
        owed = [affected.account for affected in changes.impact if affected.notifiable]
        if dry_run and owed:
            self.stdout.write(f"Applying it records a notice (Art. 28(2)) for {len(owed)} account(s): {', '.join(owed)}.")
        elif changes.notices:
            names = {affected.account_id: affected.account for affected in changes.impact}
            unsent = [names[notice.account_id] for notice in changes.notices if not notice.sent_to]
            self.stdout.write(
                f"{len(changes.notices)} notice(s) of new sub-processors or transfers recorded (Art. 28(2)); "
                f"emailed to each account's privacy contact"
                + (f", except {', '.join(unsent)} (no privacy contact)." if unsent else ".")
            )
            notice = changes.notices[0]
            if notice.applies_before_objection_ends:
                self.stdout.write(
                    self.style.WARNING(
                        f"The change applies on {notice.effective_from:%Y-%m-%d}, before the accounts' time to object "
                        f"ends ({notice.objection_until:%Y-%m-%d}): give the catalog an effective_from after it."
                    )
                )
