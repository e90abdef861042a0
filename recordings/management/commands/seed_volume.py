from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from recordings.volume import seed_volume

MAX_ROWS = 50_000_000


class Command(BaseCommand):
    help = (
        "Fill the database with a large, realistic telephony history for one account (created in the EEA if "
        "missing), through bulk inserts committed in batches: --people end users (and one agent per 50), "
        "--calls calls spread over the last year with their analytics, a monitoring row for one call in five, a "
        "text for one in four, a ticket per ten calls, and --recordings recordings on the calls (part of them "
        "past their line's auto-delete window). For benchmarks and for trying the console at scale; never on a "
        "production database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--calls", type=int, default=100_000, help="Calls (default 100,000).")
        parser.add_argument("--recordings", type=int, default=None, help="Recordings (default: as many as calls).")
        parser.add_argument("--people", type=int, default=None, help="End users (default: one per 20 calls).")
        parser.add_argument("--account", default="Volume Telco", help="The account's name (default 'Volume Telco').")
        parser.add_argument("--seed", type=int, default=1, help="Random seed, for reproducible data (default 1).")

    def handle(self, *args: Any, calls: int, recordings: int | None, people: int | None, account: str, seed: int, **options: Any) -> None:
        recordings = calls if recordings is None else recordings
        people = max(1, calls // 20) if people is None else people
        for name, value in (("--calls", calls), ("--recordings", recordings), ("--people", people)):
            if not 0 <= value <= MAX_ROWS:
                raise CommandError(f"{name}: give a number from 0 to {MAX_ROWS:,}.")
        if people < 1 and (calls or recordings):
            raise CommandError("--people: calls need at least one person.")
        if recordings and not calls:
            raise CommandError("--recordings: recordings need calls to belong to.")
        bars: dict[str, tqdm] = {}

        def progress(label: str, count: int) -> None:
            if label not in bars:
                for bar in bars.values():
                    bar.close()
                bars[label] = tqdm(desc=label, unit="row", file=self.stderr, disable=options["verbosity"] < 1)
            bars[label].update(count)

        seeded = seed_volume(account_name=account, calls=calls, recordings=recordings, people=people, seed=seed, progress=progress)
        for bar in bars.values():
            bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"{seeded.account.name}: {seeded.people:,} people, {seeded.tickets:,} tickets, {seeded.calls:,} calls, "
                f"{seeded.recordings:,} recordings, {seeded.monitoring:,} monitoring rows, {seeded.texts:,} texts, "
                f"{seeded.analytics:,} analytics rows added."
            )
        )
