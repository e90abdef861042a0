"""`run_schedules`: the periodic jobs as a process of their own, each job in a child process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.processes import ROOT, own_database

SEED = """
from datetime import timedelta
from django.utils import timezone
from recordings.models import Call, PhoneLine, Recording
from residency.models import Account, Region

account = Account.objects.create(name="Scheduled", home_region=Region.objects.get(code="EEA"))
line = PhoneLine.objects.create(account=account, number="+46100000001", name="Support", auto_delete_days=1)
old = timezone.now() - timedelta(days=3)
call = Call.objects.create(account=account, line=line, direction="inbound", started=old)
Recording.objects.create(account=account, line=line, call=call, provider_sid="RE" + "1" * 32, created_at=old)
Recording.objects.create(account=account, line=line, call=call, provider_sid="RE" + "2" * 32, created_at=timezone.now())
"""
CHECK = """
from recordings.models import ProviderDeletion, Recording
print(Recording.objects.count(), [deletion.state for deletion in ProviderDeletion.objects.all()])
"""


def test_one_round_purges_and_sends_the_provider_deletion_in_separate_processes(tmp_path: Path) -> None:
    for env in own_database(tmp_path):
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "shell", "-v", "0", "-c", SEED], env=env, cwd=ROOT, check=True, timeout=120)

        done = subprocess.run([*manage, "run_schedules", "--once", "-v", "2"], env=env, cwd=ROOT, timeout=300,
                              capture_output=True, text=True)

        assert done.returncode == 0, done.stderr
        assert "purge_recordings --verbosity 0: exit 0" in done.stdout
        assert "forget_requesters --verbosity 0: exit 0" in done.stdout
        checked = subprocess.run([*manage, "shell", "-v", "0", "-c", CHECK], env=env, cwd=ROOT, check=True,
                                 timeout=120, capture_output=True, text=True)
        assert checked.stdout.strip() == "1 ['done']"


def test_a_failing_job_is_named_and_the_others_still_run(settings: Any, capsys: Any) -> None:
    settings.SCHEDULES = [(60, ["check", "--tag", "no-such-tag"]), (60, ["check", "--verbosity", "0"])]

    with pytest.raises(CommandError, match=r"1 job\(s\) failed: check --tag no-such-tag\."):
        call_command("run_schedules", once=True, verbosity=2)

    assert "check --verbosity 0: exit 0" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("schedules", "message"),
    [
        ([(0, ["purge_recordings"])], r"SCHEDULES\[0\]: the interval 0 is not a number of seconds ≥ 1\."),
        ([(60, ["check"]), (60, ["purge_everything"])], r"SCHEDULES\[1\]: \['purge_everything'\] does not name"),
    ],
)
def test_a_malformed_schedule_stops_it_before_anything_runs(settings: Any, schedules: Any, message: str) -> None:
    settings.SCHEDULES = schedules

    with pytest.raises(CommandError, match=message):
        call_command("run_schedules", once=True)
