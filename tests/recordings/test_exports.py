"""Exports of call and monitoring history: API, background task, CSV, emailed signed link, command."""

from __future__ import annotations

import csv
import io
import re
import tracemalloc
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django_tasks_db.models import DBTaskResult

from core.roles import scopes
from core.services import api_key_create
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
    UserFactory,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=dt_timezone.utc)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(time_machine: Any, export_dir: Any) -> Any:
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def ops() -> Any:
    """The staff login the links go to (a superuser: it may read every history and download exports)."""
    return UserFactory(username="ops", email="ops@example.com")


def key_client(account: Account) -> Client:
    _, raw = api_key_create(account=account, name="suite", scopes=list(scopes()), created_by=UserFactory(username="ops"))
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post(client: Client, **data: Any) -> Any:
    return client.post("/api/v1/exports/", data, content_type="application/json")


def test_it_queues_an_export_of_the_current_month_by_default() -> None:
    account = AccountFactory(plan=Account.Plan.TEAM)

    response = post(key_client(account), kind="call_history")

    assert response.status_code == 202
    body = response.json()
    assert (body["start"], body["end"], body["status"]) == ("2026-11-01", "2026-11-30", "queued")
    export = HistoryExport.objects.get(pk=body["id"])
    assert export.account == account
    assert DBTaskResult.objects.filter(task_path="recordings.history_exports.run_history_export").count() == 1


def test_the_status_can_be_read_back() -> None:
    account = AccountFactory()
    client = key_client(account)
    export_id = post(client, kind="call_history").json()["id"]

    response = client.get(f"/api/v1/exports/{export_id}/")

    assert response.status_code == 200
    assert response.json()["status"] == "queued"


def test_another_accounts_export_is_not_found() -> None:
    export_id = post(key_client(AccountFactory()), kind="call_history").json()["id"]

    assert key_client(AccountFactory()).get(f"/api/v1/exports/{export_id}/").status_code == 404


def test_monitoring_history_is_refused_below_professional_saying_so() -> None:
    account = AccountFactory(plan=Account.Plan.GROWTH)

    response = post(key_client(account), kind="monitoring_history")

    assert response.status_code == 403
    assert "Professional and Enterprise plans" in response.json()["errors"][0]["detail"]
    assert not HistoryExport.objects.exists()


@pytest.mark.parametrize("plan", [Account.Plan.PROFESSIONAL, Account.Plan.ENTERPRISE])
def test_monitoring_history_is_allowed_on_professional_and_above(plan: str) -> None:
    response = post(key_client(AccountFactory(plan=plan)), kind="monitoring_history")

    assert response.status_code == 202


def test_a_start_after_the_end_is_a_400_naming_start() -> None:
    response = post(key_client(AccountFactory()), kind="call_history", start="2026-11-10", end="2026-11-01")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "start"


def test_a_range_over_a_year_is_a_400_naming_end() -> None:
    response = post(key_client(AccountFactory()), kind="call_history", start="2025-01-01", end="2026-01-02")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "end"


def test_exactly_one_year_is_accepted() -> None:
    response = post(key_client(AccountFactory()), kind="call_history", start="2025-01-01", end="2026-01-01")

    assert response.status_code == 202


def test_a_key_without_an_owner_must_name_the_recipient() -> None:
    account = AccountFactory()
    _, raw = api_key_create(account=account, name="no owner", scopes=list(scopes()))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = post(client, kind="call_history")
    named = post(client, kind="call_history", recipient="ops@example.com")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "recipient"
    assert "owner has no email address" in response.json()["errors"][0]["detail"]
    assert named.status_code == 202
    assert HistoryExport.objects.get().email == "ops@example.com"


def test_the_old_email_field_is_refused_rather_than_ignored() -> None:
    response = post(key_client(AccountFactory()), kind="call_history", email="ops@example.com")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "email"
    assert not HistoryExport.objects.exists()


def test_staff_name_the_account_and_get_the_link_at_their_address() -> None:
    staff = UserFactory(username="grace", email="grace@example.com")
    client = Client()
    client.force_login(staff)
    account = AccountFactory()

    missing = post(client, kind="call_history")
    response = post(client, kind="call_history", account=account.pk)

    assert missing.status_code == 400 and missing.json()["errors"][0]["attr"] == "account"
    assert response.status_code == 202
    export = HistoryExport.objects.get()
    assert (export.email, export.requested_by_name) == ("grace@example.com", "grace")


def make_calls(account: Account) -> None:
    line = PhoneLineFactory(account=account, name="=cmd|' /C calc'!A0")
    agent = PersonFactory(account=account, name="@Agent Smith", kind="agent")
    CallFactory(line=line, agent=agent, started=datetime(2026, 11, 3, 9, tzinfo=dt_timezone.utc))
    CallFactory(line=line, from_number="-1+1", started=datetime(2026, 11, 30, 23, 59, tzinfo=dt_timezone.utc))
    CallFactory(line=line, started=datetime(2026, 12, 1, 0, 0, tzinfo=dt_timezone.utc))  # outside the month
    CallFactory(line=PhoneLineFactory(), started=datetime(2026, 11, 5, tzinfo=dt_timezone.utc))  # another account


def run_queued_export(export_id: int) -> HistoryExport:
    run_history_export.call(export_id=export_id)
    return HistoryExport.objects.get(pk=export_id)


def download(url: str) -> Any:
    path = url.removeprefix("http://127.0.0.1:8000")
    return Client().get(path)


def test_the_task_writes_the_csv_and_emails_a_signed_link_that_downloads_it(settings: Any) -> None:
    settings.SITE_URL = "http://127.0.0.1:8000"
    account = AccountFactory()
    make_calls(account)
    export = services.history_export_request(account=account, kind="call_history", recipient="ops@example.com")

    export = run_queued_export(export.pk)

    assert export.status == "done"
    assert export.row_count == 2
    message = mail.outbox[0]
    assert message.to == ["ops@example.com"]
    assert "7 days" in message.body
    url = re.search(r"http://\S+", message.body).group(0)
    response = download(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["call_id", "line", "line_number"]
    assert len(rows) == 3


def test_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    account = AccountFactory()
    make_calls(account)
    export = services.history_export_request(account=account, kind="call_history", recipient="ops@example.com")
    export = run_queued_export(export.pk)

    rows = list(csv.DictReader(services.export_path(export).open()))

    assert rows[0]["line"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["agent"] == "'@Agent Smith"
    assert rows[1]["from_number"] == "'-1+1"
    # An E.164 number is data, not a formula: it stays readable.
    assert rows[0]["from_number"].startswith("+") and rows[0]["from_number"][1:].isdigit()


def test_the_link_expires_after_seven_days(frozen: Any) -> None:
    account = AccountFactory()
    export = run_queued_export(services.history_export_request(account=account, kind="call_history", recipient="ops@example.com").pk)
    url = services.export_download_url(export)

    frozen.move_to(NOW + timedelta(days=7, minutes=-1), tick=False)
    assert download(url).status_code == 200
    frozen.move_to(NOW + timedelta(days=7, minutes=1), tick=False)
    assert download(url).status_code == 404


def test_a_tampered_link_is_refused() -> None:
    export = run_queued_export(services.history_export_request(account=AccountFactory(), kind="call_history", recipient="ops@example.com").pk)
    url = services.export_download_url(export)

    assert download(url[:-3] + "abc/").status_code == 404


def test_the_monitoring_history_export_lists_supervisions() -> None:
    account = AccountFactory(plan=Account.Plan.ENTERPRISE)
    call = CallFactory(line=PhoneLineFactory(account=account), started=datetime(2026, 11, 2, tzinfo=dt_timezone.utc))
    MonitoringEntryFactory(call=call, mode="whisper")

    export = run_queued_export(services.history_export_request(account=account, kind="monitoring_history", recipient="ops@example.com").pk)

    rows = list(csv.DictReader(services.export_path(export).open()))
    assert [row["mode"] for row in rows] == ["whisper"]
    assert rows[0]["call_id"] == str(call.pk)


def test_running_the_task_twice_writes_and_emails_once() -> None:
    export = services.history_export_request(account=AccountFactory(), kind="call_history", recipient="ops@example.com")

    run_queued_export(export.pk)
    run_queued_export(export.pk)

    assert len(mail.outbox) == 1


def test_the_csv_is_streamed_with_flat_memory() -> None:
    account = AccountFactory()
    line = PhoneLineFactory(account=account)
    person = PersonFactory(account=account)
    started = datetime(2026, 11, 2, tzinfo=dt_timezone.utc)
    from recordings.models import Call

    Call.objects.bulk_create(
        [
            Call(account=account, line=line, end_user=person, direction="inbound", from_number=person.phone, to_number=line.number,
                 started=started + timedelta(seconds=i), ended=started + timedelta(seconds=i + 60), duration_seconds=60)
            for i in range(3000)
        ]
    )
    export = HistoryExport.objects.create(account=account, kind="call_history", start=date(2026, 11, 1), end=date(2026, 11, 30), email="a@example.com")

    tracemalloc.start()
    rows = 0
    for _ in services.history_export_rows(export, chunk_size=200):
        rows += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert rows == 3001
    # 3000 model instances held at once would take several MB; a 200-row chunk stays well under this.
    assert peak < 2_500_000


def test_the_command_exports_and_reports_the_rows() -> None:
    account = AccountFactory(name="Nordic Telco")
    make_calls(account)
    out = StringIO()

    call_command("export_history", "Nordic Telco", "--kind", "call_history", "--start", "2026-11-01", "--end", "2026-11-30", "--recipient", "ops@example.com", "--now", stdout=out)

    assert "2 rows written" in out.getvalue()
    assert len(mail.outbox) == 1


def test_the_command_names_the_bad_option() -> None:
    AccountFactory(name="Nordic Telco", plan=Account.Plan.TEAM)

    with pytest.raises(CommandError, match="--start"):
        call_command("export_history", "Nordic Telco", "--kind", "call_history", "--start", "2026-11-10", "--end", "2026-11-01", "--recipient", "ops@example.com")
    with pytest.raises(CommandError, match="Professional"):
        call_command("export_history", "Nordic Telco", "--kind", "monitoring_history", "--recipient", "ops@example.com")
    with pytest.raises(CommandError, match="account"):
        call_command("export_history", "Nobody", "--kind", "call_history", "--recipient", "ops@example.com")


def test_the_command_needs_a_staff_login_as_recipient(settings: Any) -> None:
    settings.PRIVACY_TEAM_EMAILS = ["dpo@example.com"]
    AccountFactory(name="Nordic Telco")

    with pytest.raises(CommandError, match="--recipient: Give the recipient"):
        call_command("export_history", "Nordic Telco", "--kind", "call_history", "--now", stdout=StringIO())
    with pytest.raises(CommandError, match="--recipient: dpo@example.com is not the address of an active staff login"):
        call_command("export_history", "Nordic Telco", "--kind", "call_history", "--recipient", "dpo@example.com", stdout=StringIO())
    call_command("export_history", "Nordic Telco", "--kind", "call_history", "--recipient", "OPS@example.com", "--now", stdout=StringIO())

    assert [message.to for message in mail.outbox] == [["ops@example.com"]]  # as the login spells it
    assert HistoryExport.objects.get().start == date(2026, 11, 1)


def test_the_purge_removes_export_files_once_their_link_has_expired(frozen: Any) -> None:
    export = run_queued_export(services.history_export_request(account=AccountFactory(), kind="call_history", recipient="ops@example.com").pk)
    path = services.export_path(export)
    assert path.is_file()

    frozen.move_to(NOW + timedelta(days=6), tick=False)
    call_command("purge_recordings", stdout=StringIO(), stderr=StringIO())
    assert path.is_file()

    frozen.move_to(NOW + timedelta(days=7, minutes=1), tick=False)
    out = StringIO()
    call_command("purge_recordings", stdout=out, stderr=StringIO())

    assert not path.exists()
    assert HistoryExport.objects.get().status == "expired"
    assert "expired export files removed: 1" in out.getvalue()
