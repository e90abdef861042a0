"""The audit log of deleted recordings in the admin: who, when, recording, ticket, why; filters; CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from recordings import services
from recordings.models import RecordingDeletion
from tests.audit_log import owner_login, refused, tamper, verify
from tests.recordings.factories import (
    CallFactory,
    PhoneLineFactory,
    RecordingFactory,
    TicketFactory,
    UserFactory,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=dt_timezone.utc)

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(time_machine: Any) -> dict[str, Any]:
    """One manual deletion by 'frank', one auto-deletion, one deletion with a ticket."""
    time_machine.move_to(NOW, tick=False)
    frank = UserFactory(username="frank")
    line = PhoneLineFactory(auto_delete_days=7, name="Helpdesk")
    ticket = TicketFactory(account=line.account, subject="=HYPERLINK(\"http://evil\")")
    manual = RecordingFactory(call=CallFactory(line=line, ticket=ticket))
    services.recording_delete(recording_id=manual.pk, user=frank)
    auto = RecordingFactory(call=CallFactory(line=line), created_at=NOW - timedelta(days=8))
    purged_ticket = TicketFactory(account=line.account)
    with_ticket = RecordingFactory(call=CallFactory(line=PhoneLineFactory(account=line.account, auto_delete_days=None), ticket=purged_ticket))
    services.ticket_soft_delete(ticket_id=purged_ticket.pk, user=frank, now=NOW - timedelta(days=7))
    services.recordings_purge(now=NOW)
    return {"frank": frank, "manual": manual, "auto": auto, "with_ticket": with_ticket, "ticket": ticket, "purged_ticket": purged_ticket}


def console(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_lists_who_when_which_recording_ticket_and_why(log: dict[str, Any]) -> None:
    response = console(log["frank"]).get(reverse("admin:recordings_recordingdeletion_changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    assert log["manual"].provider_sid in page
    assert f"#{log['ticket'].pk}" in page
    assert "auto-delete of line Helpdesk" in page
    assert "Deleted by hand" in page
    assert "Ticket deleted" in page


def test_the_page_filters_by_reason(log: dict[str, Any]) -> None:
    response = console(log["frank"]).get(
        reverse("admin:recordings_recordingdeletion_changelist"), {"deletion_reason__exact": "auto_delete"}
    )

    page = response.content.decode()
    assert log["auto"].provider_sid in page
    assert log["manual"].provider_sid not in page


def test_the_page_finds_the_entries_of_a_ticket(log: dict[str, Any]) -> None:
    response = console(log["frank"]).get(
        reverse("admin:recordings_recordingdeletion_changelist"), {"q": str(log["purged_ticket"].pk)}
    )

    assert log["with_ticket"].provider_sid in response.content.decode()


def test_the_csv_export_follows_the_filters(log: dict[str, Any]) -> None:
    response = console(log["frank"]).get(
        reverse("admin:recordings_recordingdeletion_export"), {"deletion_reason__exact": "ticket_deleted"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["recording_id"] == str(log["with_ticket"].pk)
    assert rows[0]["ticket_id"] == str(log["purged_ticket"].pk)
    assert rows[0]["who"] == "frank"
    assert rows[0]["reason"] == "ticket_deleted"


def test_the_csv_export_action_exports_the_selected_entries(log: dict[str, Any]) -> None:
    from recordings.models import RecordingDeletion

    entry = RecordingDeletion.objects.get(id=log["manual"].pk)
    response = console(log["frank"]).post(
        reverse("admin:recordings_recordingdeletion_changelist"),
        {"action": "export_csv", "_selected_action": [entry.pk]},
    )

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["provider_sid"] for row in rows] == [log["manual"].provider_sid]
    assert rows[0]["deleted_at"] == entry.history_date.isoformat()
    assert rows[0]["account"] == entry.account.name and rows[0]["recording_id"] == str(entry.id)
    assert "no-store" in response["Cache-Control"]


def test_the_log_still_names_an_admin_whose_login_was_deleted(log: dict[str, Any]) -> None:
    log["frank"].delete()
    viewer = UserFactory(username="auditor")

    response = console(viewer).get(reverse("admin:recordings_recordingdeletion_export"))

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(row["who"] for row in rows) == sorted(["frank", "frank", "auto-delete of line Helpdesk"])


def test_the_log_cannot_be_edited_or_deleted(log: dict[str, Any]) -> None:
    from recordings.models import RecordingDeletion

    entry = RecordingDeletion.objects.first()
    client = console(log["frank"])

    assert client.post(reverse("admin:recordings_recordingdeletion_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert RecordingDeletion.objects.filter(pk=entry.pk).exists()


def test_the_page_finds_the_entries_of_an_admin_by_name(log: dict[str, Any]) -> None:
    response = console(log["frank"]).get(reverse("admin:recordings_recordingdeletion_changelist"), {"q": "frank"})

    page = response.content.decode()
    assert response.status_code == 200
    assert log["manual"].provider_sid in page
    assert log["auto"].provider_sid not in page




def test_the_log_verifies_intact_after_manual_deletion_purge_and_a_deleted_login(log: dict[str, Any]) -> None:
    log["frank"].delete()

    assert "Sealed tables intact" in verify()


@owner_login
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("history_change_reason", "Auto-delete of line Helpdesk"),
        ("deletion_reason", "auto_delete"),
        ("history_username", "auto-delete of line Helpdesk"),
    ],
)
def test_a_deletion_rewritten_in_the_database_is_reported(log: dict[str, Any], column: str, value: str) -> None:
    deletion = RecordingDeletion.objects.get(id=log["manual"].pk)

    tamper(f"UPDATE recordings_historicalrecording SET {column} = %s WHERE history_id = %s", value, deletion.pk)

    assert f"recordings_historicalrecording row {deletion.pk} no longer matches its seal" in refused()
