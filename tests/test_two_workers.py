"""Two purge processes at once on the same 20,000 due recordings (a database of their own, SQLite or
PostgreSQL as the suite runs): every recording is deleted exactly once, with one audit-log row, one
provider-deletion row, counted once in the chained audit entries; the chain and the seals verify."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import ROOT, own_database

RECORDINGS = 20_000
SEED = f"""
from datetime import timedelta
from django.utils import timezone
from dsar.models import Person
from recordings.models import Call, PhoneLine, Recording
from residency.models import Account, Region

account = Account.objects.create(name="Two workers", home_region=Region.objects.get(code="EEA"))
person = Person.objects.create(account=account, name="Caller", phone="+46705550001")
line = PhoneLine.objects.create(account=account, number="+46100000001", name="Support", auto_delete_days=1)
old = timezone.now() - timedelta(days=3)
call = Call.objects.create(account=account, line=line, end_user=person, direction="inbound", started=old)
Recording.objects.bulk_create(
    (Recording(account=account, line=line, call=call, provider_sid=f"REtwo{{i:027d}}", created_at=old) for i in range({RECORDINGS})),
    batch_size=2000,
)
"""
CHECK = """
from collections import Counter
from recordings.models import ProviderDeletion, Recording, RecordingDeletion
from core.audit import verify_chain
from core.models import AuditEntry
from core.sealing import verify_seals

entries = AuditEntry.objects.filter(action="recording_deleted")
audited = sum(entry.data["recordings"] for entry in entries)
logged = Counter(RecordingDeletion.objects.values_list("id", flat=True))
queued = Counter(ProviderDeletion.objects.values_list("recording_id", flat=True))
print(Recording.objects.count(), len(logged), max(logged.values()), len(queued), max(queued.values()),
      audited, verify_chain().problem or "intact", len(verify_seals().problems))
"""


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield from own_database(tmp_path)


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True, timeout=600,
        capture_output=True, text=True,
    )


def test_two_purges_at_once_delete_each_recording_exactly_once(environment: dict[str, str]) -> None:
    manage(environment, "shell", "-v", "0", "-c", SEED)

    workers = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "purge_recordings", "--verbosity", "0", "--batch-size", size],
            env=environment, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for size in ("500", "700")  # different batch sizes, so their ranges overlap and cross
    ]
    outputs = [worker.communicate(timeout=600) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0], outputs
    deleted = [int(out.split("deleted ")[1].split(" ")[0]) for out, _ in outputs]
    assert sum(deleted) == RECORDINGS
    figures = manage(environment, "shell", "-v", "0", "-c", CHECK).stdout.split()
    assert figures == ["0", str(RECORDINGS), "1", str(RECORDINGS), "1", str(RECORDINGS), "intact", "0"]
