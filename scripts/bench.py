"""Benchmarks: `make bench`. Prints medians and ratios against a baseline measured in the same run.

Runs against a fresh SQLite database in a temporary folder (or DATABASE_URL when BENCH_DATABASE_URL
is set), so it never touches the development data. The machine is shared: read the medians and the
ratios, not single times.
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="privacy-bench-"))
# The seeded databases take gigabytes at a million rows: removed when the run ends, however it ends.
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{TMP / 'bench.sqlite3'}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# DEBUG off: with it on, Django keeps every query in memory, which would distort the memory figures.
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
os.environ.setdefault("TELEPHONY_PROVIDER_BACKEND", "local")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
# Production refuses a mail backend that sends nothing, so start-up names a server (none listens there)...
os.environ.setdefault("EMAIL_URL", "smtp://127.0.0.1:1")
# A checkpoint key of its own (32 bytes, base64), as production must have one; the witness under the run's directory.
os.environ.setdefault("AUDIT_CHECKPOINT_KEY", "YmVuY2gtb25seS1jaGVja3BvaW50LWtleS0wMDAwMCE=")
os.environ["AUDIT_WITNESS_DIR"] = str(TMP / "witness")
os.environ["DSAR_EXPORT_ROOT"] = str(TMP / "dsar-exports")
os.environ["RECORDINGS_EXPORT_DIR"] = str(TMP / "exports")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# ...and the emails an erasure sends, which are not the benchmark's output, are dropped once it is up.
settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

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
        seconds, queries = timed_in_rollback(recordings(count), lambda _ids: recordings_purge(now=now), 3)
        row(f"purge, {count} recordings as the command runs it, per recording", seconds / count, queries, base)
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


# --- at scale: seeded databases, each run on a fresh copy ------------------------------------------

SIZES = {"small": (10_000, 100_000), "full": (100_000, 1_000_000)}[os.environ.get("BENCH_SIZE", "full")]
IS_POSTGRES = os.environ["DATABASE_URL"].startswith("postgres")


def _switch(name: str) -> None:
    """Point Django's connection at database ``name`` (a file on SQLite, a database on PostgreSQL)."""
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = name


def _pg_admin(sql: str) -> None:
    import psycopg

    params = connection.get_connection_params()
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(sql)


def seeded(label: str, fill: Callable[[], None]) -> str:
    """A database named after ``label``, migrated and filled once by ``fill``."""
    if IS_POSTGRES:
        _pg_admin(f'DROP DATABASE IF EXISTS "{label}"')
        _pg_admin(f'CREATE DATABASE "{label}"')
        name = label
    else:
        name = str(TMP / f"{label}.sqlite3")
    _switch(name)
    call_command("migrate", verbosity=0)
    call_command("load_catalog", verbosity=0)
    fill()
    if IS_POSTGRES:
        # Statistics, as autovacuum would have them by the time such a table is purged in production.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _switch(name)
    return name


def fresh_copy(name: str) -> None:
    """Make a copy of the seeded database ``name`` the current one, so every run starts from the same data."""
    if IS_POSTGRES:
        _switch("postgres")
        _pg_admin('DROP DATABASE IF EXISTS "bench_run"')
        _pg_admin(f'CREATE DATABASE "bench_run" TEMPLATE "{name}"')
        _switch("bench_run")
    else:
        import sqlite3

        _switch("")  # close before copying the database under the connection
        target = TMP / "run.sqlite3"
        for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
        # SQLite's backup API: a consistent copy whatever is still in the source's write-ahead log.
        with sqlite3.connect(name) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        _switch(str(target))


def run_measured(action: Callable[[], object]) -> tuple[float, int, float, object]:
    """Seconds, queries, peak RSS growth (MB) and result of ``action``, run in a forked child so that its
    memory peak is its own."""
    import multiprocessing
    import resource

    def child(pipe: Any) -> None:
        try:
            connection.close()
            start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                result = action()
                seconds = time.perf_counter() - started
            peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss) / 1024
            pipe.send((seconds, len(queries.captured_queries), peak, result))
        except BaseException as error:  # the parent must not wait for ever on a child that failed
            import traceback

            pipe.send(RuntimeError(f"{error!r}\n{traceback.format_exc()}"))

    connection.close()
    parent, child_end = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(target=child, args=(child_end,))
    process.start()
    outcome = parent.recv()
    process.join()
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def compare(label: str, name: str, rows: int, product: Callable[[], object], baseline: Callable[[], object], repeat: int = 3) -> float:
    """Median time of ``product`` and ``baseline`` over ``repeat`` fresh copies each, run in turns (baseline, product,
    baseline…) so that a change in the machine's load falls on both alike, and their ratio."""
    runs: dict[str, list[tuple[float, int, float, object]]] = {"baseline": [], "product": []}
    for _ in range(repeat):
        for which, action in (("baseline", baseline), ("product", product)):
            fresh_copy(name)
            runs[which].append(run_measured(action))
    results = {}
    for which, measured in runs.items():
        seconds = statistics.median(run[0] for run in measured)
        results[which] = seconds
        queries, peak, result = measured[-1][1], max(run[2] for run in measured), measured[-1][3]
        print(
            f"  {label + ' ' + which:<40} {rows:>9,} rows {seconds:8.2f} s {rows / seconds:>10,.0f} rows/s "
            f"{peak:7.1f} MB {queries:6d} queries  {result}"
        )
    print(f"  {label}: product / baseline = {results['product'] / results['baseline']:.2f}×")
    return results["product"]


_VOLUMES: dict[int, str] = {}


def volume(size: int) -> str:
    """A database seeded once per run with ``size`` calls and recordings (``seed_volume``), shared by benches."""
    from recordings.volume import seed_volume

    if size not in _VOLUMES:
        _VOLUMES[size] = seeded(
            f"volume_{size}",
            lambda: seed_volume(account_name="Volume Telco", calls=size, recordings=size, people=max(1, size // 20)),
        )
    return _VOLUMES[size]


@bench
def purge_at_scale() -> None:
    """The purge against the same deletion written by hand in SQL (history rows, provider rows, delete; then the
    due tickets), at two sizes: goal ≤ 2× the baseline, and time(large) ≤ 11 × time(small)."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from recordings.models import AUTO_DELETE_PRESETS, TICKET_PURGE_AFTER, Recording, Ticket

    now = timezone.now()
    history = Recording.history.model
    tracked = [field.column for field in history.tracked_fields]
    ticket_history = Ticket.history.model
    ticket_tracked = [field.column for field in ticket_history.tracked_fields]

    def raw_purge() -> str:
        quote = connection.ops.quote_name
        due = " OR ".join(["(l.auto_delete_days = %s AND r.created_at <= %s)"] * len(AUTO_DELETE_PRESETS))
        due_params: list[Any] = []
        for days in AUTO_DELETE_PRESETS:
            due_params += [days, now - timedelta(days=days)]
        where = f"FROM recordings_recording r JOIN recordings_phoneline l ON l.id = r.line_id LEFT JOIN recordings_ticket t ON t.id = r.ticket_id WHERE ({due} OR t.deleted_at <= %s)"
        due_params.append(now - TICKET_PURGE_AFTER)
        columns = ", ".join(quote(column) for column in tracked)
        selected = ", ".join(f"r.{quote(column)}" for column in tracked)
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {history._meta.db_table} ({columns}, history_date, history_type, history_origin, history_username, deletion_reason, deletion_detail, history_change_reason) "
                f"SELECT {selected}, %s, '-', 'command', 'purge', 'auto_delete', 'auto-delete', 'auto-delete' {where}",
                [now, *due_params],
            )
            cursor.execute(
                "INSERT INTO recordings_providerdeletion (account_id, provider_sid, recording_id, created_at, next_attempt_at, attempts, last_error) "
                f"SELECT r.account_id, r.provider_sid, r.id, %s, %s, 0, '' {where}",
                [now, now, *due_params],
            )
            cursor.execute(f"DELETE FROM recordings_recording WHERE id IN (SELECT r.id {where})", due_params)
            deleted = cursor.rowcount
            # The tickets soft-deleted 7 days ago or more, now without recordings: a history row each, their calls
            # unlinked (the call history stays), then deleted.
            ticket_columns = ", ".join(quote(column) for column in ticket_tracked)
            cursor.execute(
                f"INSERT INTO {ticket_history._meta.db_table} ({ticket_columns}, history_date, history_type, history_origin, history_username, history_change_reason) "
                f"SELECT {ticket_columns}, %s, '-', 'command', deleted_by_name, 'purged' FROM recordings_ticket WHERE deleted_at <= %s",
                [now, now - TICKET_PURGE_AFTER],
            )
            due_tickets = "SELECT id FROM recordings_ticket WHERE deleted_at <= %s"
            cursor.execute(f"UPDATE recordings_call SET ticket_id = NULL WHERE ticket_id IN ({due_tickets})", [now - TICKET_PURGE_AFTER])
            cursor.execute("DELETE FROM recordings_ticket WHERE deleted_at <= %s", [now - TICKET_PURGE_AFTER])
            return f"{deleted:,} deleted, {cursor.rowcount:,} tickets"

    def product_purge() -> str:
        # As cron and the schedule run it: the command with its defaults (batches sized by time).
        out = io.StringIO()
        call_command("purge_recordings", "--verbosity", "0", stdout=out, stderr=io.StringIO())
        return out.getvalue().split("(")[0].removeprefix("Purge: ").strip()

    print("Purge of expired recordings, `purge_recordings` with its defaults "
          "(baseline: the same rows deleted by hand in SQL: three statements, three more for the due tickets)")
    times = {}
    for size in SIZES:
        times[size] = compare(f"{size:,} recordings", volume(size), size, product_purge, raw_purge)
    small, large = SIZES
    print(f"  time({large:,}) / time({small:,}) = {times[large] / times[small]:.1f} (goal ≤ {1.1 * large / small:.0f})")


@bench
def history_export_at_scale() -> None:
    """The call-history CSV of a year of calls as users get it (the background task with its defaults writes
    the file and mails the link) against csv.writer over the database driver with the same columns and joins:
    goal ≤ 1.3× the baseline, peak memory ≤ 100 MB whatever the size."""
    import csv
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.urls import get_resolver
    from django.utils import timezone

    from recordings.history_exports import history_export_range
    from recordings.models import HistoryExport
    from recordings.tasks import run_history_export
    from residency.models import Account

    target = TMP / "export.csv"

    def product() -> str:
        account = Account.objects.get(name="Volume Telco")
        ops = get_user_model().objects.create(username="bench-ops", email="ops@example.com", is_staff=True, is_superuser=True)
        today = timezone.localdate()
        start, end = history_export_range(account=account, kind="call_history", start=today - timedelta(days=365), end=today)
        # As the API, the console and the command queue it; the queue's worker then runs the task.
        export = HistoryExport.objects.create(account=account, kind="call_history", start=start, end=end, email=ops.email)
        run_history_export.call(export_id=export.pk)
        return f"{HistoryExport.objects.get(pk=export.pk).row_count:,} rows written"

    def baseline() -> str:
        sql = (
            "SELECT c.id, l.name, l.number, c.direction, c.from_number, c.to_number, c.started, c.ended, "
            "c.duration_seconds, c.ticket_id, u.name, a.name, c.ivr_external, c.transferred_external "
            "FROM recordings_call c JOIN recordings_phoneline l ON l.id = c.line_id "
            "LEFT JOIN dsar_person u ON u.id = c.end_user_id LEFT JOIN dsar_person a ON a.id = c.agent_id "
            "JOIN residency_account acc ON acc.id = c.account_id WHERE acc.name = %s ORDER BY c.started, c.id"
        )
        with target.open("w", newline="") as handle, connection.cursor() as cursor:
            writer = csv.writer(handle)
            writer.writerow(["call"] * 14)
            cursor.execute(sql, ["Volume Telco"])
            rows = 0
            while chunk := cursor.fetchmany(5000):
                writer.writerows(chunk)
                rows += len(chunk)
        return f"{rows:,} rows written"

    print("Call-history CSV, the export task with its defaults "
          "(baseline: csv.writer over the database driver, same columns and joins)")
    # The task reverses its link's URL. A worker loads the URLs once, at its first task; loaded here, before the
    # runs are forked, so that each measures an export rather than that start-up import (about a second).
    get_resolver().url_patterns
    for size in SIZES:
        compare(f"{size:,} calls", volume(size), size, product, baseline)
    print("  (goal: product / baseline ≤ 1.3×, peak ≤ 100 MB)")


def one_person_with(rows: int) -> Callable[[], None]:
    """Filler of a database where one person (Vera Volume) has ``rows`` calls, recordings and analytics rows."""
    from datetime import timedelta

    from django.utils import timezone

    from dsar.models import Person
    from recordings.models import AnalyticsRow, Call, PhoneLine, Recording
    from residency.models import Account, Region

    def create() -> None:
        account = Account.objects.create(name="Erasure bench", home_region=Region.objects.get(code="EEA"))
        person = Person.objects.create(account=account, name="Vera Volume", email="vera@example.net", phone="+46705550900")
        line = PhoneLine.objects.create(account=account, number="+46100000900", name="Support", auto_delete_days=None)
        started = timezone.now() - timedelta(days=3)
        calls = Call.objects.bulk_create(
            Call(account=account, line=line, end_user=person, direction="inbound", from_number=person.phone,
                 to_number=line.number, started=started, ended=started + timedelta(minutes=1), duration_seconds=60)
            for _ in range(rows)
        )
        Recording.objects.bulk_create(
            Recording(account=account, line=line, call=call, provider_sid=f"REerase{call.pk:020d}", created_at=started)
            for call in calls
        )
        AnalyticsRow.objects.bulk_create(
            AnalyticsRow(account=account, call=call, person=person, phone_number=person.phone, started=started)
            for call in calls
        )

    return create


@bench
def erasure_at_scale() -> None:
    """An erasure of a person with 2,000 and with 20,000 calls, recordings and analytics rows: the same queries
    (asserted in the tests), and goal: time(20,000) ≤ 5 × time(2,000)."""


    from dsar.models import Person, Request
    from dsar.services import request_create, request_execute, request_verify_manually


    def erase() -> str:
        from django.contrib.auth import get_user_model

        person = Person.objects.get(email="vera@example.net")
        staff = get_user_model().objects.create(username="bench-dpo", is_staff=True, is_superuser=True)
        request = request_create(account=person.account, person=person, type="erasure", jurisdiction="gdpr", send_code=False)
        request_verify_manually(request=request, note="bench", actor=staff)
        request_execute(request=Request.objects.get(pk=request.pk), actor=staff)
        return Request.objects.get(pk=request.pk).status

    print("Erasure of one person (baseline: the same person with 2,000 rows of each kind)")
    times = {}
    for rows in (2_000, 20_000):
        name = seeded(f"erasure_{rows}", one_person_with(rows))
        runs = []
        for _ in range(3):
            fresh_copy(name)
            runs.append(run_measured(erase))
        times[rows] = statistics.median(run[0] for run in runs)
        print(f"  {rows:>6,} rows each  {times[rows]:7.2f} s  {runs[-1][1]:4d} queries  peak {max(r[2] for r in runs):6.1f} MB  {runs[-1][3]}")
    print(f"  time(20,000) / time(2,000) = {times[20_000] / times[2_000]:.1f} (goal ≤ 5)")


@bench
def archive_at_scale() -> None:
    """The portability archive of a person with many calls, recordings and analytics rows, against the same
    rows written from the database driver as JSON and CSV into a ZIP: goal ≤ 1.5× the baseline, peak memory
    ≤ 150 MB whatever the size."""
    import csv
    import io
    import json
    import zipfile

    from django.contrib.auth import get_user_model

    from dsar.exports import export_build, export_create
    from dsar.models import Person
    from dsar.services import request_create, request_verify_manually

    def product() -> str:
        person = Person.objects.get(email="vera@example.net")
        staff = get_user_model().objects.create(username="bench-dpo", is_staff=True, is_superuser=True)
        request = request_create(account=person.account, person=person, type="portability", jurisdiction="gdpr", send_code=False)
        request_verify_manually(request=request, note="bench", actor=staff)
        export = export_build(export_id=export_create(request=request, actor=staff).pk)
        return f"{sum(export.counts.values()):,} rows, {export.size / 1e6:.1f} MB archive"

    tables = {
        "call-data": "SELECT id, direction, from_number, to_number, started, ended, duration_seconds FROM recordings_call "
                     "WHERE end_user_id = %s OR agent_id = %s",
        "call-recording": "SELECT r.id, r.kind, r.provider_sid, r.duration_seconds, r.created_at, r.ticket_id "
                          "FROM recordings_recording r JOIN recordings_call c ON c.id = r.call_id "
                          "WHERE c.end_user_id = %s OR c.agent_id = %s",
        "call-analytics": "SELECT id, phone_number, started, wait_seconds, talk_seconds FROM recordings_analyticsrow "
                          "WHERE person_id = %s OR person_id = %s",
    }

    def baseline() -> str:
        person_id = Person.objects.get(email="vera@example.net").pk
        rows = 0
        with zipfile.ZipFile(TMP / "baseline.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open("data.json", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as data:
                for sql in tables.values():
                    with connection.cursor() as cursor:
                        cursor.execute(sql, [person_id, person_id])
                        names = [column[0] for column in cursor.description]
                        while chunk := cursor.fetchmany(2000):
                            for row in chunk:
                                data.write(json.dumps(dict(zip(names, row)), default=str) + ",\n")
                            rows += len(chunk)
            for category, sql in tables.items():
                with archive.open(f"{category}.csv", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as out:
                    writer = csv.writer(out)
                    with connection.cursor() as cursor:
                        cursor.execute(sql, [person_id, person_id])
                        writer.writerow([column[0] for column in cursor.description])
                        while chunk := cursor.fetchmany(2000):
                            writer.writerows(chunk)
        return f"{rows:,} rows"

    rows = SIZES[0]
    print("Portability archive of one person (baseline: the same rows from the driver as JSON and CSV in a ZIP)")
    compare(f"{rows:,} rows of each kind", seeded(f"archive_{rows}", one_person_with(rows)), 3 * rows, product, baseline)


@bench
def api_pages_at_scale() -> None:
    """The calls list of the API: a page deep in the table against the first page (cursor pagination): goal
    ≤ 2× the first page."""
    from rest_framework.pagination import Cursor, CursorPagination
    from rest_framework.test import APIClient

    from core.services import api_key_create
    from recordings.models import Call
    from residency.models import Account

    large = SIZES[-1]
    name = volume(large)

    def page(deep: bool) -> Callable[[], str]:
        def fetch() -> str:
            account = Account.objects.get(name="Volume Telco")
            _, raw = api_key_create(account=account, name="bench", scopes=["history:read"])
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
            url = "/api/v1/calls/?page_size=100"
            if deep:
                # The position of the call 99% down the list, as the cursor a client would hold there.
                started = Call.objects.order_by("-started", "-id").values_list("started", flat=True)[int(large * 0.99)]
                paginator = CursorPagination()
                paginator.base_url = "https://127.0.0.1/api/v1/calls/?page_size=100"
                url = paginator.encode_cursor(Cursor(offset=0, reverse=False, position=started.isoformat()))
            times = []
            for _ in range(7):
                started_at = time.perf_counter()
                response = client.get(url, HTTP_HOST="127.0.0.1", secure=True)
                times.append(time.perf_counter() - started_at)
                assert response.status_code == 200, response.content[:200]
            return f"{statistics.median(times) * 1000:.1f} ms median of 7"

        return fetch

    print(f"API list of calls, {large:,} rows (baseline: the first page)")
    for label, deep in (("first page", False), ("page 99% deep", True)):
        fresh_copy(name)
        print(f"  {label:<16} {run_measured(page(deep))[3]}")


@bench
def dashboard_at_scale() -> None:
    """The console's home page (the dashboard's figures and charts) on the largest database with no cache at all
    (cleared before every render), against the regions list of the same console: goal, a first render under
    300 ms."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client

    name = volume(SIZES[-1])
    renders = 7

    def page(path: str) -> Callable[[], float]:
        def fetch() -> float:
            user = get_user_model().objects.create(username=f"bench-{time.monotonic_ns()}", is_staff=True, is_superuser=True)
            client = Client()
            client.force_login(user)
            times = []
            for _ in range(renders):
                cache.clear()  # nothing kept from the render before: each one is a first render
                started = time.perf_counter()
                response = client.get(path, HTTP_HOST="127.0.0.1", secure=True)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.status_code
            return statistics.median(times)

        return fetch

    print(f"Console home page, {SIZES[-1]:,} calls and recordings, no cache (baseline: the regions list)")
    medians = {}
    for label, path in (("regions list", "/admin/residency/region/"), ("home page", "/admin/")):
        fresh_copy(name)
        medians[label] = run_measured(page(path))[3]
        print(f"  {label:<16} {medians[label] * 1000:6.0f} ms first render (median of {renders}, cache cleared before each)")
    print(
        f"  home page / regions list = {medians['home page'] / medians['regions list']:.1f}×; "
        f"goal: < 300 ms first render ({'met' if medians['home page'] < 0.3 else 'missed'})"
    )


@bench
def api_throughput() -> None:
    """Requests per second under gunicorn (2 workers × 4 threads) with 4 concurrent clients for 5 s: the calls
    list (a page of 100 of the large table) against a trivial endpoint (the regions) on the same server:
    goal ≥ 0.5× the trivial endpoint's rate."""
    import socket
    import subprocess
    import threading
    import urllib.request

    from core.services import api_key_create
    from residency.models import Account

    name = volume(SIZES[-1])
    fresh_copy(name)
    _, raw = api_key_create(account=Account.objects.get(name="Volume Telco"), name="bench", scopes=["history:read", "residency:read"])
    settings_dict = dict(connection.settings_dict)
    connection.close()
    if IS_POSTGRES:
        url = f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    else:
        url = f"sqlite:///{settings_dict['NAME']}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # As in production (DEBUG off), but plain HTTP on 127.0.0.1: no redirect to HTTPS.
    env = {**os.environ, "DATABASE_URL": url, "SECURE_SSL_REDIRECT": "false", "API_THROTTLE_KEY_RATE": "1000000/minute"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
         "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    headers = {"Authorization": f"Bearer {raw}"}

    def get(path: str) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status

    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get("/api/v1/regions/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

        def rate(path: str, clients: int = 4, seconds: float = 5.0) -> float:
            counts = [0] * clients
            errors = [0] * clients
            stop = time.monotonic() + seconds

            def client(index: int) -> None:
                while time.monotonic() < stop:
                    try:
                        counts[index] += get(path) == 200
                    except OSError:
                        errors[index] += 1

            threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if sum(errors):
                print(f"  {path}: {sum(errors)} failed requests")
            return sum(counts) / seconds

        print(f"API throughput under gunicorn, {SIZES[-1]:,} calls (baseline: a trivial endpoint, same server)")
        trivial = rate("/api/v1/regions/")
        calls = rate("/api/v1/calls/?page_size=100")
        print(f"  regions (trivial)        {trivial:8.1f} requests/s    base")
        print(f"  calls, page of 100       {calls:8.1f} requests/s  {calls / trivial:6.2f}× (goal ≥ 0.5×)")
    finally:
        server.terminate()
        server.wait(timeout=10)


@bench
def command_startup() -> None:
    """Seconds from starting ``manage.py <command> --help`` to its exit (median of 7 runs, subprocesses with the
    bench's environment, the commands taking turns so that the machine's load falls on all alike), and the CPU
    seconds they used (steadier on a busy machine), against Django's own start-up with only the contenttypes and
    auth apps: goal < 1 s on a calm machine. Where the time goes: ``python -X importtime manage.py ... --help``."""
    import resource
    import subprocess

    minimal = (
        "from django.conf import settings; "
        "settings.configure(INSTALLED_APPS=['django.contrib.contenttypes', 'django.contrib.auth']); "
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', '--version'])"
    )
    runs = {
        "django, contenttypes and auth only": ["-c", minimal],
        "manage.py --version": ["manage.py", "--version"],
        "manage.py help": ["manage.py", "help"],
        "manage.py purge_recordings --help": ["manage.py", "purge_recordings", "--help"],
        "manage.py dsar_due --help": ["manage.py", "dsar_due", "--help"],
        "manage.py export_history --help": ["manage.py", "export_history", "--help"],
    }
    walls: dict[str, list[float]] = {label: [] for label in runs}
    cpus: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(7):
        for label, arguments in runs.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, *arguments], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            walls[label].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[label].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)

    print("Command start-up, median of 7 (baseline: Django with contenttypes and auth only)")
    base_wall = base_cpu = 0.0
    for label in runs:
        wall, cpu = statistics.median(walls[label]), statistics.median(cpus[label])
        if not base_wall:
            base_wall, base_cpu = wall, cpu
            print(f"  {label:<36} {wall:5.2f} s  cpu {cpu:5.2f} s    base")
            continue
        goal = "within the goal (< 1 s)" if wall < 1 else "over the goal (< 1 s)"
        print(f"  {label:<36} {wall:5.2f} s  cpu {cpu:5.2f} s  {wall / base_wall:5.2f}× (cpu {cpu / base_cpu:5.2f}×)  {goal}")

def main() -> int:
    only = os.environ.get("BENCH_ONLY", "")
    if only:
        BENCHES[:] = [function for function in BENCHES if function.__name__ in only.split(",")]
    call_command("migrate", verbosity=0)
    call_command("load_catalog", verbosity=0)
    for function in BENCHES:
        started = time.perf_counter()
        function()
        print(f"  ({time.perf_counter() - started:.0f} s)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
