from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command, execute_from_command_line

from dsar import services
from dsar.models import ErasureProgress, Person, Request
from residency.models import Account
from tests.dsar.factories import FakeSource, PersonFactory, UseSources, make_request

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def run_overdue(*args: str) -> str:
    """Runs a dsar_due that finds a request overdue: it exits with status 3 after printing and emailing."""
    out = StringIO()
    with pytest.raises(CommandError, match=r"request\(s\) overdue") as failed:
        call_command(*args, stdout=out, stderr=StringIO())
    assert failed.value.returncode == 3
    return out.getvalue()


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False)
def test_dsar_due_lists_overdue_and_due_soon_requests_and_emails_the_digest() -> None:
    overdue = make_request(received_at=dt.datetime(2026, 2, 1, 9, tzinfo=UTC))
    soon = make_request(received_at=dt.datetime(2026, 2, 12, 9, tzinfo=UTC))
    later = make_request(received_at=dt.datetime(2026, 3, 5, 9, tzinfo=UTC))
    mail.outbox.clear()
    output = run_overdue("dsar_due", "--within", "7", "--email")
    # Due Sunday 1 March, moved to Monday 2 March (GDPR: the next working day).
    assert f"#{overdue.pk} " in output and "due 2026-03-02 (8 day(s) overdue)" in output
    assert f"#{soon.pk} " in output and "2 day(s) left" in output
    assert f"#{later.pk} " not in output
    assert "1 overdue, 1 due within 7 days." in output
    assert mail.outbox[0].to == ["dpo@example.com", "analyst@example.com"]
    assert f"#{overdue.pk} " in mail.outbox[0].body


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False)
def test_dsar_due_is_silent_at_verbosity_0_for_the_schedules_and_still_emails() -> None:
    overdue = make_request(received_at=dt.datetime(2026, 2, 1, 9, tzinfo=UTC))
    mail.outbox.clear()
    output = run_overdue("dsar_due", "--email", "--verbosity", "0")
    assert output == ""
    assert f"#{overdue.pk} " in mail.outbox[0].body


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False)
def test_dsar_due_widens_with_within_and_sends_nothing_without_email() -> None:
    later = make_request(received_at=dt.datetime(2026, 3, 5, 9, tzinfo=UTC))
    mail.outbox.clear()
    output = run("dsar_due", "--within", "30")
    assert f"#{later.pk} " in output and "0 overdue, 1 due within 30 days." in output
    assert mail.outbox == []


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False)
def test_dsar_due_exits_non_zero_from_the_command_line_when_requests_are_overdue_so_cron_alerts() -> None:
    for day in range(1, 6):
        make_request(received_at=dt.datetime(2026, 1, day, 9, tzinfo=UTC))
    with pytest.raises(SystemExit) as exited:  # what cron runs: the command line, not call_command
        execute_from_command_line(["manage.py", "dsar_due", "--verbosity", "0"])
    assert exited.value.code == 3


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False)
def test_dsar_due_exits_zero_when_requests_are_due_soon_but_none_is_overdue() -> None:
    make_request(received_at=dt.datetime(2026, 2, 12, 9, tzinfo=UTC))
    output = run("dsar_due", "--within", "7")
    assert "0 overdue, 1 due within 7 days." in output


def test_dsar_due_refuses_a_negative_window() -> None:
    with pytest.raises(CommandError, match="--within"):
        run("dsar_due", "--within", "-1")


def test_dsar_execute_dry_run_shows_the_preview_and_changes_nothing(use_sources: UseSources) -> None:
    use_sources(FakeSource("recordings"))
    request = make_request()
    output = run("dsar_execute", str(request.pk), "--dry-run")
    assert "Fake recordings [recordings]: would erase call-data 3, ticket 2" in output
    assert "Dry run: 6 record(s) would be erased; 0 blocker(s); nothing changed." in output
    assert not ErasureProgress.objects.exists()
    assert Person.objects.filter(pk=request.person_id).exists()


def test_dsar_execute_erases_with_progress_and_a_summary(use_sources: UseSources) -> None:
    use_sources(FakeSource("recordings"))
    request = make_request()
    output = run("dsar_execute", str(request.pk))
    assert "[1/9] step 1 · recordings: ticket 2" in output
    assert "[9/9] step 3 · dsar.person" in output
    assert f"Request {request.pk}: 8 record(s) erased in 9 step(s), 0 already done; scan: 0 undeclared hit(s)" in output
    second = run("dsar_execute", str(request.pk))
    assert "0 record(s) erased in 0 step(s), 9 already done" in second
    request.refresh_from_db()
    assert request.history.first().history_origin == "command"


def test_dsar_execute_fails_when_blocked_and_the_request_waits(use_sources: UseSources) -> None:
    use_sources(FakeSource("recordings", blockers=["The person is on an active call."]))
    request = make_request()
    with pytest.raises(CommandError, match="active call"):
        run("dsar_execute", str(request.pk))
    request.refresh_from_db()
    assert request.status == Request.Status.WAITING


def test_dsar_execute_fails_for_an_unverified_or_unknown_request() -> None:
    request = make_request(verified=False)
    with pytest.raises(CommandError, match="not verified"):
        run("dsar_execute", str(request.pk))
    with pytest.raises(CommandError, match="REQUEST_ID"):
        run("dsar_execute", "999999")


def test_dsar_verify_erasure_exits_non_zero_on_a_leftover(settings: Any) -> None:
    settings.DSAR_ERASURE_FINALIZATION = "manual"  # kept open, so it can be scanned again
    person = PersonFactory(email="still.here@example.org")
    request = make_request(person)
    services.request_execute(request=request)
    assert "0 undeclared hit(s)" in run("dsar_verify_erasure", str(request.pk))
    Account.objects.filter(pk=person.account_id).update(name="Ask still.here@example.org")
    with pytest.raises(CommandError, match="1 undeclared hit"):
        run("dsar_verify_erasure", str(request.pk))
    request.refresh_from_db()
    assert request.scan["undeclared"] == 1


def test_dsar_verify_erasure_refuses_a_request_not_yet_executed() -> None:
    request = make_request()
    with pytest.raises(CommandError, match="executed erasure"):
        run("dsar_verify_erasure", str(request.pk))


def test_dsar_execute_stopped_by_an_error_resumes_when_run_again(use_sources: UseSources) -> None:
    use_sources(FakeSource("recordings", fail_on=3))
    request = make_request()
    with pytest.raises(CommandError, match="run the command again to resume"):
        run("dsar_execute", str(request.pk))
    assert ErasureProgress.objects.filter(request=request).count() == 6
    assert "erased in 3 step(s), 6 already done" in run("dsar_execute", str(request.pk))
