"""Signed checkpoints outside the database: what they catch that the chain alone cannot."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.management import call_command
from django.core.management.base import CommandError

from core.checkpoints import Checkpoint
from core.models import AuditChainHead, AuditEntry
from tests.audit_log import chain_of, owner_login, refused, tamper, verify
from tests.dsar.factories import make_request

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=dt_timezone.utc)


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> Any:
    time_machine.move_to(NOW, tick=False)
    return time_machine




def checkpoint() -> str:
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    return out.getvalue()






def cut_to(seq: int) -> None:
    """Remove the entries after ``seq`` and move the head back to it: the chain still links up."""
    kept = AuditEntry.objects.get(seq=seq)
    tamper("DELETE FROM residency_auditentry WHERE seq > %s", seq)
    tamper("UPDATE residency_auditchainhead SET seq = %s, hash = %s", seq, kept.hash)


def test_a_checkpoint_is_written_once_signed_and_verifies(audit_witness: Path) -> None:
    chain_of(3)

    assert "Checkpoint of entry 3 written" in checkpoint()

    [path] = audit_witness.glob("checkpoint-*.json")
    content = json.loads(path.read_text())
    public = StringIO()
    call_command("audit_checkpoint", "--public-key", stdout=public)
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public.getvalue().strip()))
    key.verify(
        base64.b64decode(content["signature"]),
        Checkpoint(seq=3, hash=content["hash"], at=datetime.fromisoformat(content["at"])).message(),
    )
    assert content["hash"] == AuditEntry.objects.get(seq=3).hash
    assert not path.stat().st_mode & 0o222  # read-only: the witness never rewrites a checkpoint
    assert "Audit chain intact: 3 entries verified" in verify()


def test_a_checkpoint_is_written_when_nothing_happened(audit_witness: Path, frozen: Any) -> None:
    checkpoint()
    frozen.shift(timedelta(minutes=15))
    checkpoint()

    assert [json.loads(p.read_text())["seq"] for p in sorted(audit_witness.glob("checkpoint-*.json"))] == [0, 0]
    assert "0 entries verified" in verify()


@owner_login
def test_the_last_entry_removed_and_the_head_moved_back_is_reported() -> None:
    chain_of(5)
    checkpoint()

    cut_to(4)

    problem = refused()
    assert "the log is shorter than checkpoint" in problem and "it ends at entry 4" in problem and "saw 5" in problem


@owner_login
def test_a_cut_chain_and_a_rewritten_row_are_reported_together() -> None:
    event = make_request().events.first()
    checkpoint()
    last = AuditEntry.objects.order_by("seq").last().seq

    tamper("UPDATE dsar_requestevent SET message = %s WHERE id = %s", "nothing happened", event.pk)
    cut_to(last - 1)

    problem = refused()
    assert f"dsar_requestevent row {event.pk} no longer matches its seal" in problem
    assert "the log is shorter than checkpoint-" in problem and f"it ends at entry {last - 1}" in problem


@owner_login
def test_every_entry_and_the_head_removed_is_reported() -> None:
    chain_of(5)
    checkpoint()

    tamper("DELETE FROM residency_auditentry")
    tamper("DELETE FROM residency_auditchainhead")

    assert "the log is shorter than checkpoint" in refused()


@owner_login
def test_a_chain_rewritten_from_a_point_with_valid_entries_is_another_head(frozen: Any) -> None:
    chain_of(5)
    checkpoint()
    cut_to(3)
    frozen.shift(timedelta(minutes=1))
    chain_of(2)  # appended by the product: the chain itself verifies, only the checkpoint knows better

    assert "is not the one checkpoint" in refused()


@owner_login
def test_the_checkpoint_command_refuses_to_anchor_a_cut_chain() -> None:
    chain_of(5)
    checkpoint()
    cut_to(2)

    with pytest.raises(CommandError, match="not checkpointed: the log is shorter"):
        checkpoint()


def test_no_checkpoint_for_entries_older_than_the_schedule_is_reported(frozen: Any, settings: Any) -> None:
    chain_of(2)
    frozen.shift(timedelta(seconds=2 * settings.AUDIT_CHECKPOINT_INTERVAL + 60))

    assert "no checkpoint in" in refused()


def test_a_gap_longer_than_the_schedule_is_reported(frozen: Any, settings: Any) -> None:
    chain_of(2)
    checkpoint()
    frozen.shift(timedelta(seconds=3 * settings.AUDIT_CHECKPOINT_INTERVAL))

    assert "none since, longer than the schedule allows" in refused()

    checkpoint()  # the schedule runs again: the hole in the record stays reported
    assert "no checkpoint between 2026-11-20 09:30 and 2026-11-20 10:15" in refused()


def test_a_checkpoint_signed_with_another_key_is_reported(audit_witness: Path) -> None:
    chain_of(2)
    forged = Checkpoint(seq=2, hash=AuditEntry.objects.get(seq=2).hash, at=NOW)
    signature = base64.b64encode(Ed25519PrivateKey.generate().sign(forged.message())).decode()
    body = {"seq": 2, "hash": forged.hash, "at": NOW.isoformat(), "signature": signature}
    (audit_witness / "checkpoint-20261120T093000000000Z-000000000002.json").write_text(json.dumps(body))

    assert "is not signed by the audit key" in refused()


def test_the_head_row_alone_moved_back_is_reported_by_the_chain() -> None:
    chain_of(3)
    checkpoint()

    tamper("UPDATE residency_auditchainhead SET seq = 2")

    assert "were removed (or the head was changed)" in refused()
    assert AuditChainHead.objects.get().seq == 2
