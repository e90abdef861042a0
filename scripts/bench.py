"""Benchmarks: `make bench`. Prints medians and ratios against a baseline measured in the same run.

Runs against a fresh SQLite database in a temporary folder (or DATABASE_URL when BENCH_DATABASE_URL
is set), so it never touches the development data. The machine is shared: read the medians and the
ratios, not single times.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="privacy-bench-"))
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{TMP / 'bench.sqlite3'}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# DEBUG off: with it on, Django keeps every query in memory, which would distort the memory figures.
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
os.environ.setdefault("TELEPHONY_PROVIDER_BACKEND", "local")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

BENCHES: list[Callable[[], None]] = []


def bench(function: Callable[[], None]) -> Callable[[], None]:
    BENCHES.append(function)
    return function


def measure(function: Callable[[], object], repeat: int = 15) -> tuple[float, int]:
    """Median seconds over ``repeat`` runs, and the queries one run makes."""
    with CaptureQueriesContext(connection) as queries:
        function()
    count = len(queries.captured_queries)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    reset_queries()
    return statistics.median(times), count


def row(name: str, seconds: float, queries: int, baseline: float | None = None) -> None:
    ratio = f"{seconds / baseline:6.2f}×" if baseline else "  base "
    print(f"  {name:<58} {seconds * 1000:9.2f} ms  {queries:5d} queries  {ratio}")


@bench
def residency_report() -> None:
    """The report's query count is fixed: 7 products cost the same queries as 1, and time grows with entries only."""
    from residency.engine import account_residency_report
    from residency.models import Integration, Product, Region
    from residency.services import account_create

    eea = Region.objects.get(code="EEA")
    one = account_create(name="bench one", home_region=eea, products=Product.objects.filter(slug="freshdesk"))
    every = account_create(
        name="bench all", home_region=eea, products=Product.objects.all(), integrations=Integration.objects.all()
    )
    print("Residency report (baseline: an account with one product)")
    base, base_queries = measure(lambda: account_residency_report(account=one))
    row(f"1 product, {len(account_residency_report(account=one).entries)} entries", base, base_queries)
    seconds, queries = measure(lambda: account_residency_report(account=every))
    row(f"7 products + 4 integrations, {len(account_residency_report(account=every).entries)} entries", seconds, queries, base)


class _Rollback(Exception):
    pass


def timed_in_rollback(setup: Callable[[], object], action: Callable[[object], object], repeat: int = 5) -> tuple[float, int]:
    """Median seconds of ``action(setup())`` over ``repeat`` runs, each rolled back; queries of the action."""
    from django.db import transaction

    times, counts = [], []
    for _ in range(repeat):
        try:
            with transaction.atomic():
                prepared = setup()
                with CaptureQueriesContext(connection) as queries:
                    start = time.perf_counter()
                    action(prepared)
                    times.append(time.perf_counter() - start)
                counts.append(len(queries.captured_queries))
                raise _Rollback
        except _Rollback:
            pass
    return statistics.median(times), max(counts)


@bench
def recording_purge() -> None:
    """The purge deletes in batches: its cost per recording stays flat as the backlog grows, and it is far
    cheaper per recording than deleting one at a time (the manual path, used here as the baseline)."""
    from datetime import timedelta

    from django.utils import timezone

    from dsar.models import Person
    from recordings.models import Call, PhoneLine, Recording
    from recordings.services import recording_delete, recordings_purge
    from residency.models import Account

    account = Account.objects.get(name="bench all")
    person = Person.objects.create(account=account, name="Bench Caller", phone="+46700000001")
    line = PhoneLine.objects.create(account=account, number="+46100000001", name="bench", auto_delete_days=30)
    now = timezone.now()
    call = Call.objects.create(
        account=account, line=line, end_user=person, direction="inbound", from_number=person.phone,
        to_number=line.number, started=now - timedelta(days=40), ended=now - timedelta(days=40, seconds=-60),
        duration_seconds=60,
    )

    def recordings(count: int) -> Callable[[], list[int]]:
        def setup() -> list[int]:
            old = now - timedelta(days=31)
            created = Recording.objects.bulk_create(
                Recording(account=account, line=line, call=call, kind="call", provider_sid=f"REbench{i:026d}",
                          duration_seconds=60, created_at=old)
                for i in range(count)
            )
            return [recording.pk for recording in created]

        return setup

    print("Recording deletion (baseline: deleting 100 recordings one at a time, per recording)")
    one_by_one, one_queries = timed_in_rollback(recordings(100), lambda ids: [recording_delete(recording_id=pk) for pk in ids], 3)
    base = one_by_one / 100
    row("manual path, 100 recordings, per recording", base, one_queries // 100)
    for count in (1000, 4000):
        seconds, queries = timed_in_rollback(recordings(count), lambda _ids: recordings_purge(now=now, batch_size=500), 3)
        row(f"purge, {count} recordings in batches of 500, per recording", seconds / count, queries, base)
    print("  (queries: per recording for the manual path; for the whole purge run otherwise)")


@bench
def history_export_memory() -> None:
    """The call-history CSV is streamed in chunks: peak memory stays flat when the export grows tenfold."""
    import tracemalloc
    from datetime import timedelta

    from django.utils import timezone

    from dsar.models import Person
    from recordings.models import Call, HistoryExport, PhoneLine
    from recordings.services import history_export_rows
    from residency.models import Account

    account = Account.objects.get(name="bench all")
    line = PhoneLine.objects.create(account=account, number="+46100000002", name="bench export")
    person = Person.objects.create(account=account, name="Export Caller", phone="+46700000002")
    today = timezone.localdate()
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    def peak_for(count: int) -> tuple[float, int]:
        from django.db import transaction

        result: tuple[float, int] = (0.0, 0)
        try:
            with transaction.atomic():  # rolled back: each size starts from an empty history
                Call.objects.bulk_create(
                    Call(account=account, line=line, end_user=person, direction="inbound", from_number=person.phone,
                         to_number=line.number, started=start + timedelta(seconds=i), ended=start + timedelta(seconds=i + 60),
                         duration_seconds=60)
                    for i in range(count)
                )
                export = HistoryExport.objects.create(
                    account=account, kind="call_history", start=today.replace(day=1), end=today, email="bench@example.com"
                )
                tracemalloc.start()
                rows = sum(1 for _ in history_export_rows(export))
                result = (tracemalloc.get_traced_memory()[1], rows)
                tracemalloc.stop()
                raise _Rollback
        except _Rollback:
            return result

    print("Call-history export, peak Python memory while writing rows (baseline: 4,000 calls, two chunks of 2,000)")
    base, rows = peak_for(4000)
    print(f"  {rows - 1:>6} rows  peak {base / 1e6:6.2f} MB    base")
    for count in (20000, 40000):
        peak, rows = peak_for(count)
        print(f"  {rows - 1:>6} rows  peak {peak / 1e6:6.2f} MB  {peak / base:6.2f}×  ({count // 4000}× the rows)")


def main() -> int:
    call_command("migrate", verbosity=0)
    call_command("load_catalog", verbosity=0)
    for function in BENCHES:
        started = time.perf_counter()
        function()
        print(f"  ({time.perf_counter() - started:.0f} s)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
