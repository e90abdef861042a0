"""Deletion at the telephony provider: the real HTTP client against a stub of the API on 127.0.0.1."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from recordings import services
from recordings.models import ProviderDeletion
from recordings.provider import LocalProvider, TwilioProvider
from recordings.tasks import process_provider_deletions
from tests.recordings.conftest import ProviderStub
from tests.recordings.factories import RecordingFactory, UserFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=dt_timezone.utc)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> Any:
    time_machine.move_to(NOW, tick=False)
    return time_machine


def deleted_recording() -> str:
    recording = RecordingFactory()
    services.recording_delete(recording_id=recording.pk, user=UserFactory())
    return recording.provider_sid


def work(*args: str) -> str:
    out = StringIO()
    call_command("process_provider_deletions", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_sends_a_twilio_shaped_delete_with_basic_auth(provider_stub: ProviderStub) -> None:
    sid = deleted_recording()

    output = work()

    request = provider_stub.requests[0]
    assert request["path"] == f"/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/{sid}.json"
    expected = base64.b64encode(b"AC0123456789abcdef0123456789abcdef:stub-token").decode()
    assert request["authorization"] == f"Basic {expected}"
    deletion = ProviderDeletion.objects.get()
    assert deletion.done_at == NOW
    assert (deletion.attempts, deletion.last_status) == (1, 204)
    assert "deleted at the provider: 1" in output


def test_a_404_counts_as_done(provider_stub: ProviderStub) -> None:
    provider_stub.script = [404]
    deleted_recording()

    work()

    deletion = ProviderDeletion.objects.get()
    assert deletion.done_at is not None
    assert deletion.last_status == 404


def test_an_outage_is_retried_with_backoff_until_the_provider_recovers(provider_stub: ProviderStub, frozen: Any) -> None:
    provider_stub.script = [503, 500, 429]
    deleted_recording()

    with pytest.raises(CommandError, match="will be retried"):
        work()
    deletion = ProviderDeletion.objects.get()
    assert (deletion.attempts, deletion.last_status, deletion.done_at) == (1, 503, None)
    assert "HTTP 503" in deletion.last_error
    assert deletion.next_attempt_at == NOW + timedelta(seconds=30)

    # Not due yet: nothing is sent before the backoff has passed.
    assert "deleted at the provider: 0; failed, to retry: 0" in work()
    assert len(provider_stub.requests) == 1

    frozen.move_to(NOW + timedelta(seconds=31), tick=False)
    with pytest.raises(CommandError):
        work()
    deletion.refresh_from_db()
    assert (deletion.attempts, deletion.last_status) == (2, 500)
    assert deletion.next_attempt_at == NOW + timedelta(seconds=31 + 60)

    frozen.move_to(NOW + timedelta(seconds=92), tick=False)
    with pytest.raises(CommandError):
        work()
    deletion.refresh_from_db()
    assert (deletion.attempts, deletion.last_status) == (3, 429)

    frozen.move_to(NOW + timedelta(hours=1), tick=False)
    work()
    deletion.refresh_from_db()
    assert deletion.done_at == NOW + timedelta(hours=1)
    assert deletion.attempts == 4
    assert deletion.last_error == ""
    assert len(provider_stub.requests) == 4


def test_a_429_retry_after_is_honoured(provider_stub: ProviderStub) -> None:
    provider_stub.script = [429]
    provider_stub.retry_after = "600"
    deleted_recording()

    with pytest.raises(CommandError):
        work()

    assert ProviderDeletion.objects.get().next_attempt_at == NOW + timedelta(seconds=600)


def test_a_timeout_is_retried(provider_stub: ProviderStub, frozen: Any) -> None:
    provider_stub.script = ["sleep"]
    deleted_recording()

    with pytest.raises(CommandError):
        work()
    deletion = ProviderDeletion.objects.get()
    assert deletion.done_at is None
    assert "network error" in deletion.last_error

    frozen.move_to(NOW + timedelta(minutes=5), tick=False)
    work()
    deletion.refresh_from_db()
    assert deletion.done_at is not None


def test_a_provider_that_is_unreachable_loses_nothing(settings: Any) -> None:
    settings.TELEPHONY_PROVIDER_BACKEND = "twilio"
    settings.TELEPHONY_PROVIDER_BASE_URL = "http://127.0.0.1:9"  # discard port: connection refused
    settings.TELEPHONY_PROVIDER_ACCOUNT_SID = "AC1"
    settings.TELEPHONY_PROVIDER_AUTH_TOKEN = "t"
    deleted_recording()

    with pytest.raises(CommandError):
        work()

    deletion = ProviderDeletion.objects.get()
    assert deletion.done_at is None and deletion.attempts == 1
    assert "network error" in deletion.last_error


def test_the_task_sends_them_too(provider_stub: ProviderStub) -> None:
    deleted_recording()

    assert process_provider_deletions.call() == {"done": 1, "failed": 0, "skipped": 0}
    deletion = ProviderDeletion.objects.get()
    assert deletion.history.first().history_origin == "task"


def test_a_deletion_another_worker_leased_is_not_sent_twice(provider_stub: ProviderStub) -> None:
    deleted_recording()
    deletion = ProviderDeletion.objects.get()
    # Another worker has just leased it (pushed its next attempt into the future).
    ProviderDeletion.objects.filter(pk=deletion.pk).update(next_attempt_at=NOW + timedelta(minutes=1))

    result = services.provider_deletions_process(now=NOW)

    assert result.done == 0
    assert provider_stub.requests == []


def test_attempts_and_last_error_are_visible_in_the_admin(provider_stub: ProviderStub) -> None:
    provider_stub.script = [502]
    sid = deleted_recording()
    services.provider_deletions_process(now=NOW)
    client = Client()
    client.force_login(UserFactory(username="ops"))

    page = client.get(reverse("admin:recordings_providerdeletion_changelist"), {"state": "retrying"}).content.decode()

    assert sid in page
    assert "HTTP 502" in page
    assert "retrying" in page


def test_the_admin_can_make_a_failed_deletion_due_now(provider_stub: ProviderStub) -> None:
    provider_stub.script = [500]
    deleted_recording()
    services.provider_deletions_process(now=NOW)
    deletion = ProviderDeletion.objects.get()
    client = Client()
    client.force_login(UserFactory(username="ops"))

    client.post(reverse("admin:recordings_providerdeletion_changelist"), {"action": "retry_now", "_selected_action": [deletion.pk]})

    assert ProviderDeletion.objects.due(NOW).get() == deletion


def test_the_local_provider_sends_nothing_and_reports_done() -> None:
    assert LocalProvider().delete_recording("RE1").done


def test_the_client_quotes_identifiers_in_the_path() -> None:
    provider = TwilioProvider(base_url="https://api.example/", account_sid="AC/1", auth_token="x", timeout=1)

    assert provider.url_for("RE 1") == "https://api.example/2010-04-01/Accounts/AC%2F1/Recordings/RE%201.json"


def test_every_outbox_row_is_admin_registered() -> None:
    assert ProviderDeletion in site._registry
