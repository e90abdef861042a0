"""The task queue is a setting: with TASKS_BACKEND=rq the same tasks go through Redis and RQ's worker.

A real Redis (``scripts/with-redis.sh``, run by ``make test``), a database of the test's own, and the
worker as a separate process: a call-history export and a provider-deletion batch are queued through
Django's Tasks API and done by ``rqworker``, as in a deployment that outgrew the database queue.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import ROOT, own_database

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not REDIS_URL and not os.environ.get("CI"), reason="needs a Redis server: run through scripts/with-redis.sh"
)

QUEUE = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from dsar.models import Person
from recordings.history_exports import history_export_request
from recordings.models import Call, PhoneLine, Recording
from recordings.provider_outbox import process_provider_deletions
from recordings.purge import recordings_purge
from residency.models import Account, Region

account = Account.objects.create(name="Queued", home_region=Region.objects.get(code="EEA"))
person = Person.objects.create(account=account, name="Caller", phone="+46705550001")
line = PhoneLine.objects.create(account=account, number="+46100000001", name="Support", auto_delete_days=1)
now = timezone.now()
calls = Call.objects.bulk_create(
    Call(account=account, line=line, end_user=person, direction="inbound", started=now - timedelta(minutes=i))
    for i in range(1, 41)
)
Recording.objects.bulk_create(
    Recording(account=account, line=line, call=calls[0], provider_sid=f"REq{i:031d}", created_at=now - timedelta(days=3))
    for i in range(12)
)
print("purged", recordings_purge(now=now).recordings_deleted)
dpo = get_user_model().objects.create_user("dpo", "dpo@example.com", is_staff=True, is_superuser=True)
export = history_export_request(account=account, kind="call_history", recipient=dpo.email)
result = process_provider_deletions.enqueue(limit=100)
print("queued", export.pk, result.backend)
"""
CHECK = """
from recordings.models import HistoryExport, ProviderDeletion
from recordings.history_exports import export_path
export = HistoryExport.objects.get()
print(export.status, export.row_count, export_path(export), sorted({deletion.state for deletion in ProviderDeletion.objects.all()}))
"""


@pytest.fixture
def environment(tmp_path: Path, provider_stub) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert REDIS_URL, "CI runs this test: start it through scripts/with-redis.sh (make test does)"
    yield from own_database(
        tmp_path,
        TASKS_BACKEND="rq",
        REDIS_URL=REDIS_URL.rsplit("/", 1)[0] + f"/{os.getpid() % 16}",  # a Redis database per test worker
        RECORDINGS_EXPORT_DIR=str(tmp_path / "exports"),
        TELEPHONY_PROVIDER_BACKEND="twilio",
        TELEPHONY_PROVIDER_BASE_URL=provider_stub.url,
        TELEPHONY_PROVIDER_ACCOUNT_SID="AC0123456789abcdef0123456789abcdef",
        TELEPHONY_PROVIDER_AUTH_TOKEN="stub-token",
    )


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, timeout=300,
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_export_and_a_provider_deletion_batch_run_through_redis_and_rqworker(environment, provider_stub) -> None:  # type: ignore[no-untyped-def]
    queued = manage(environment, "shell", "-v", "0", "-c", QUEUE).split()
    assert queued[:2] == ["purged", "12"]
    # Queued in Redis, not run yet: the export waits and the provider has not been called.
    assert manage(environment, "shell", "-v", "0", "-c", CHECK).split()[:2] == ["queued", "0"]
    assert provider_stub.requests == []

    manage(environment, "rqworker", "--burst", "--job-class", "django_tasks_rq.Job", "default")

    status, rows, path, states = manage(environment, "shell", "-v", "0", "-c", CHECK).strip().split(maxsplit=3)
    assert (status, rows, states) == ("done", "40", "['done']")
    with open(path, newline="") as file:
        assert len(list(csv.reader(file))) == 1 + 40
    assert len(provider_stub.requests) == 12
    assert all("/Recordings/REq" in request["path"] for request in provider_stub.requests)
