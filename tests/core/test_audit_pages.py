"""The audit chain's console page: newest first, readable, and "Verify now" for those allowed; history pages and
audit lists in the team's words (When, Who, From)."""

from __future__ import annotations

import re
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from core.audit import Action, Record, audit_append_many
from core.models import AuditEntry
from core.roles import AUDITOR
from recordings import services as recording_services
from tests.audit_log import chain_of, owner_login, tamper
from tests.factories import AccountFactory, UserFactory
from tests.recordings.factories import CallFactory, RecordingFactory, TicketFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=dt_timezone.utc)
CHAIN = "/admin/core/auditentry/"


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def console(username: str = "dpo", role: str | None = None) -> Client:
    user = UserFactory(username=username, is_superuser=role is None)
    if role:
        user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_chain_lists_the_newest_entry_first_with_when_who_and_from_in_words() -> None:
    entries = chain_of(3)

    html = console().get(CHAIN).content.decode()

    seqs = [int(seq) for seq in re.findall(r'<th class="field-seq"><a [^>]*>(\d+)</a>', html)]
    assert seqs == sorted((entry.seq for entry in entries), reverse=True)
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', html)
    assert headers[:5] == ["seq", "when", "action", "who", "from_where"]
    assert "Command or schedule" in html and "From</summary>" in html and "When</summary>" in html
    assert "By origin" not in html


def test_an_entry_reads_as_a_definition_list_with_its_hashes_shortened() -> None:
    account = AccountFactory()
    (entry,) = audit_append_many(
        [
            Record(
                action=Action.RECORDING_DELETED, object_type="recordings.recording", object_id="2 recordings",
                account_id=account.pk, actor="carol",
                data={"summary": "Deleted by hand", "columns": ["id", "provider_sid"], "recordings": [[7, "RE7"], [8, "RE8"]]},
            )
        ]
    )

    html = console().get(f"{CHAIN}{entry.pk}/change/").content.decode()

    assert "<dt>Summary</dt><dd>Deleted by hand</dd>" in html
    assert "<th>provider_sid</th>" in html and "<td>RE8</td>" in html
    assert f'<code title="{entry.hash}">{entry.hash[:12]}…</code>' in html
    assert f">{entry.hash}<" not in html and '"columns"' not in html


def test_verify_now_runs_the_verification_on_post_and_says_the_chain_is_intact_with_its_counts() -> None:
    chain_of(4)
    client = console(role=AUDITOR)

    assert "Verify now" in client.get(CHAIN).content.decode()
    response = client.post(f"{CHAIN}verify/", follow=True)

    assert any(message.startswith("Audit chain intact: 4 entries verified") for message in messages_of(response))
    assert client.get(f"{CHAIN}verify/").status_code == 405  # nothing runs on GET


@owner_login
def test_verify_now_names_each_problem_it_finds() -> None:
    entries = chain_of(3)
    tamper("UPDATE residency_auditentry SET data = %s WHERE seq = %s", '{"n": 99}', entries[1].seq)

    response = console().post(f"{CHAIN}verify/", follow=True)

    found = messages_of(response)
    assert any(f"entry {entries[1].seq} was changed: field 'n' no longer matches its digest" in text for text in found)
    assert not any(text.startswith("Audit chain intact") for text in found)


def test_someone_who_may_read_the_chain_but_not_verify_it_sees_no_button_and_is_refused() -> None:
    chain_of(1)
    reader = UserFactory(username="reader", is_superuser=False)
    reader.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    client = Client()
    client.force_login(reader)

    page = client.get(CHAIN)

    assert page.status_code == 200 and "Verify now" not in page.content.decode()
    assert client.post(f"{CHAIN}verify/").status_code == 403


def test_history_pages_and_the_deletions_log_say_when_who_and_from() -> None:
    ticket = TicketFactory()
    recording = RecordingFactory(call=CallFactory(line__account=ticket.account, ticket=ticket))
    client = console("carol")
    recording_services.ticket_update(ticket_id=ticket.pk, changes={"status": "closed"}, user=None)
    client.post(f"/admin/recordings/recording/{recording.pk}/delete-permanently/", {"post": "yes", "reason": "Duplicate"})

    history = client.get(f"/admin/recordings/ticket/{ticket.pk}/history/").content.decode()
    log = client.get("/admin/recordings/recordingdeletion/").content.decode()

    assert [column for column in re.findall(r'<th scope="col">(\w+)</th>', history)][:3] == ["When", "Who", "From"]
    assert "<td>Command or schedule</td>" in history
    assert re.findall(r'column-(\w+)', log)[:3] == ["when", "who", "from_where"]
    assert "<td class=\"field-from_where\">Console</td>" in log
    assert "From</summary>" in log and "When</summary>" in log
    for words in ("history date", "history origin", "by history"):
        assert words not in log.lower()


def test_the_home_pages_recent_actions_include_the_chains_operations_in_words_but_not_its_seals() -> None:
    ticket = TicketFactory()
    recording = RecordingFactory(call=CallFactory(line__account=ticket.account, ticket=ticket))
    client = console("carol")
    client.post(f"/admin/recordings/recording/{recording.pk}/delete-permanently/", {"post": "yes", "reason": "Duplicate"})
    assert AuditEntry.objects.filter(action=Action.ROWS_SEALED).exists()

    html = client.get("/admin/").content.decode()

    assert f"Recording deleted: recording #{recording.pk}</a>" in html
    assert "carol · Console ·" in html
    assert "Audit rows sealed" not in html
