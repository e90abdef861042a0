"""The cells of the history exports, exactly as the background task writes them to the file: times in UTC ISO
8601 whatever the time zone, spreadsheet formulas neutralised, phone numbers readable, empty cells empty."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest

from recordings import services
from recordings.models import HistoryExport
from recordings.tasks import run_history_export
from residency.models import Account
from tests.recordings.factories import (
    AccountFactory,
    CallFactory,
    MonitoringEntryFactory,
    PersonFactory,
    PhoneLineFactory,
    TicketFactory,
    UserFactory,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=dt_timezone.utc)
CALL_HEADER = (
    "call_id,line,line_number,direction,from_number,to_number,started,ended,duration_seconds,ticket_id,end_user,"
    "agent,ivr_external,transferred_external\r\n"
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(time_machine: Any, export_dir: Any) -> Any:
    time_machine.move_to(NOW, tick=False)
    UserFactory(username="ops", email="ops@example.com")
    return time_machine


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=dt_timezone.utc)


def exported_text(account: Account, kind: str = "call_history", **dates: Any) -> str:
    """The export's file as the background task writes it, byte for byte."""
    export = services.history_export_request(account=account, kind=kind, recipient="ops@example.com", **dates)
    run_history_export.call(export_id=export.pk)
    export = HistoryExport.objects.get(pk=export.pk)
    assert export.status == HistoryExport.Status.DONE
    return services.export_path(export).read_bytes().decode("utf-8")


def test_times_are_utc_iso_8601_across_daylight_saving_changes_whatever_the_time_zone(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Stockholm"
    account = AccountFactory()
    line = PhoneLineFactory(account=account)
    calls = [
        # Just before and at the spring jump (01:59:59 CET, then 03:00 CEST), to the microsecond.
        (utc(2026, 3, 29, 0, 59, 59, 999999), utc(2026, 3, 29, 1, 0, 0)),
        # The autumn hour that happens twice: 02:30 CEST, then 02:30 CET.
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30, 0, 120000)),
        # 00:30 on the first local day, still February in UTC; a live call has no end.
        (utc(2026, 2, 28, 23, 30), None),
    ]
    for started, ended in calls:
        CallFactory(line=line, started=started, ended=ended)
    CallFactory(line=line, started=utc(2026, 2, 28, 22, 59, 59))  # 23:59:59 local, the day before the range
    CallFactory(line=line, started=utc(2026, 10, 31, 23, 0))  # midnight local, the day after the range

    text = exported_text(account, start=date(2026, 3, 1), end=date(2026, 10, 31))

    times = [row.split(",")[6:8] for row in text.splitlines()[1:]]
    assert times == [
        ["2026-02-28T23:30:00+00:00", ""],
        ["2026-03-29T00:59:59.999999+00:00", "2026-03-29T01:00:00+00:00"],
        ["2026-10-25T00:30:00+00:00", "2026-10-25T01:30:00.120000+00:00"],
    ]


def test_the_call_history_file_is_exactly_the_cells_safe_for_spreadsheets() -> None:
    account = AccountFactory()
    line = PhoneLineFactory(account=account, name="=SUM(A1:A9)", number="+46100000001")
    night = PhoneLineFactory(account=account, name='Ops, "night"', number="+46100000002")
    ticket = TicketFactory(account=account)
    first = CallFactory(
        line=line, ticket=ticket, end_user=PersonFactory(account=account, name="-Dag"),
        agent=PersonFactory(account=account, name=" @Agent"), from_number="+46701234567",
        started=utc(2026, 11, 3, 9), ended=utc(2026, 11, 3, 9, 1, 1), duration_seconds=61, ivr_external=True,
    )
    second = CallFactory(
        line=line, end_user=None, agent=None, from_number="+0701234567", to_number="",
        started=utc(2026, 11, 4, 10, 0, 0, 500000), ended=None, duration_seconds=0, transferred_external=True,
    )
    third = CallFactory(
        line=night, direction="outbound", end_user=PersonFactory(account=account, name="\tTab"),
        agent=PersonFactory(account=account, name="\u2003=HYPERLINK(1)"), from_number="+1 (555) 0100",
        to_number="tel:+4610", started=utc(2026, 11, 5, 8, 0, 0, 1), ended=utc(2026, 11, 5, 8, 0, 30),
        duration_seconds=30,
    )
    fourth = CallFactory(
        line=night, end_user=PersonFactory(account=account, name=""), agent=PersonFactory(account=account, name=" plain"),
        from_number="-1+1", to_number="+46100000002", started=utc(2026, 11, 6, 7), ended=utc(2026, 11, 6, 7, 0, 5),
        duration_seconds=5,
    )

    text = exported_text(account)

    assert text == (
        CALL_HEADER
        + f"{first.pk},'=SUM(A1:A9),+46100000001,inbound,+46701234567,+46100000001,2026-11-03T09:00:00+00:00,"
        f"2026-11-03T09:01:01+00:00,61,{ticket.pk},'-Dag,' @Agent,yes,no\r\n"
        + f"{second.pk},'=SUM(A1:A9),+46100000001,inbound,'+0701234567,,2026-11-04T10:00:00.500000+00:00,,0,,,,no,yes\r\n"
        + f'{third.pk},"Ops, ""night""",+46100000002,outbound,\'+1 (555) 0100,tel:+4610,2026-11-05T08:00:00.000001+00:00,'
        "2026-11-05T08:00:30+00:00,30,,'\tTab,'\u2003=HYPERLINK(1),no,no\r\n"
        + f'{fourth.pk},"Ops, ""night""",+46100000002,inbound,\'-1+1,+46100000002,2026-11-06T07:00:00+00:00,'
        "2026-11-06T07:00:05+00:00,5,,, plain,no,no\r\n"
    )


def test_an_export_with_no_calls_is_its_header_alone() -> None:
    assert exported_text(AccountFactory()) == CALL_HEADER


def test_the_monitoring_history_file_is_exactly_the_cells_safe_for_spreadsheets() -> None:
    account = AccountFactory(plan=Account.Plan.ENTERPRISE)
    line = PhoneLineFactory(account=account, name="+Sales")
    call = CallFactory(line=line, started=utc(2026, 11, 2, 8), from_number="+46701234567")
    heard = MonitoringEntryFactory(
        call=call, supervisor=PersonFactory(account=account, name="@boss"), caller_number="+46701234567",
        started=utc(2026, 11, 2, 8, 0, 10), ended=utc(2026, 11, 2, 8, 1, 10, 250000),
    )
    barged = MonitoringEntryFactory(
        call=call, supervisor=None, caller_number="=1+1", mode="barge", started=utc(2026, 11, 2, 8, 0, 20), ended=None,
    )

    text = exported_text(account, kind="monitoring_history")

    assert text == (
        "entry_id,call_id,line,supervisor,mode,caller_number,started,ended\r\n"
        f"{heard.pk},{call.pk},'+Sales,'@boss,listen,+46701234567,2026-11-02T08:00:10+00:00,2026-11-02T08:01:10.250000+00:00\r\n"
        f"{barged.pk},{call.pk},'+Sales,,barge,'=1+1,2026-11-02T08:00:20+00:00,\r\n"
    )


def test_chunks_of_many_rows_keep_every_row_in_order() -> None:
    account = AccountFactory()
    line = PhoneLineFactory(account=account, name="@line")
    started = utc(2026, 11, 2)
    calls = [CallFactory(line=line, end_user=None, from_number="=x" if i % 3 else "+46701234567",
                         started=started + timedelta(minutes=i)) for i in range(7)]
    export = HistoryExport.objects.create(
        account=account, kind="call_history", start=date(2026, 11, 1), end=date(2026, 11, 30),
        email="ops@example.com",
    )

    rows = list(services.history_export_rows(export, chunk_size=3))

    assert [str(row[0]) for row in rows[1:]] == [str(call.pk) for call in calls]
    assert [row[4] for row in rows[1:]] == ["+46701234567" if i % 3 == 0 else "'=x" for i in range(7)]
    assert {row[1] for row in rows[1:]} == {"'@line"}


@pytest.mark.parametrize(
    "started",
    [
        utc(2026, 1, 31, 23, 59, 59),
        utc(2026, 6, 1, 0, 0, 0, 1),
        utc(2026, 6, 1, 0, 0, 0, 10),
        utc(2026, 6, 1, 12, 30, 0, 999000),
        utc(2024, 2, 29, 1, 2, 3, 456789),
        utc(999, 12, 31, 23, 0),
        datetime(2026, 3, 29, 3, 30, tzinfo=dt_timezone(timedelta(hours=2))),
    ],
)
def test_the_database_writes_a_time_as_python_would_in_utc(started: datetime) -> None:
    from core.csv_safety import IsoDateTime, safe_cell
    from recordings.models import Call

    call = CallFactory(started=started, ended=None)

    cell = Call.objects.filter(pk=call.pk).values_list(IsoDateTime("started"), flat=True).get()

    assert cell == safe_cell(started.astimezone(dt_timezone.utc))
