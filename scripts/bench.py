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
os.environ.setdefault("DEBUG", "true")

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


def main() -> int:
    call_command("migrate", verbosity=0)
    call_command("load_catalog", verbosity=0)
    for function in BENCHES:
        function()
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
