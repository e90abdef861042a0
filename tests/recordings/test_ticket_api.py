"""Deleting a ticket through the API: the third deletion path, soft first, then the purge."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from recordings.models import RecordingDeletion, Ticket
from tests.factories import api_key_for
from tests.recordings.factories import AccountFactory, CallFactory, RecordingFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=dt_timezone.utc)


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def key_client(account: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(account)}")
    return client


def ticket_with_recordings(count: int = 2) -> Ticket:
    ticket = TicketFactory()
    call = CallFactory(line__account=ticket.account, ticket=ticket)
    for _ in range(count):
        RecordingFactory(call=call)
    return ticket


def test_deleting_a_ticket_through_the_api_soft_deletes_it_and_the_purge_keeps_it_for_7_days() -> None:
    ticket = ticket_with_recordings(2)
    staff = APIClient()
    staff.force_login(UserFactory(username="carol"))

    response = staff.delete(f"/api/v1/tickets/{ticket.pk}/")

    assert response.status_code == 200
    assert response.json()["deleted_by_name"] == "carol"
    assert Ticket.objects.filter(pk=ticket.pk, deleted_at=NOW).exists()
    call_command("purge_recordings", verbosity=0)
    assert Ticket.objects.get(pk=ticket.pk).recordings.count() == 2  # still restorable, nothing purged yet


def test_a_soft_deleted_ticket_is_purged_after_7_days_each_recording_audited_with_the_ticket(time_machine: Any) -> None:
    ticket = ticket_with_recordings(2)
    staff = APIClient()
    staff.force_login(UserFactory(username="carol"))
    staff.delete(f"/api/v1/tickets/{ticket.pk}/")

    time_machine.move_to(NOW + timedelta(days=7, minutes=1), tick=False)
    call_command("purge_recordings", verbosity=0)

    assert not Ticket.objects.filter(pk=ticket.pk).exists()
    entries = RecordingDeletion.objects.filter(deletion_reason="ticket_deleted")
    assert entries.count() == 2
    assert {(entry.history_username, f"#{ticket.pk}" in entry.deletion_detail) for entry in entries} == {("carol", True)}


def test_a_ticket_is_restored_before_the_purge_and_then_kept() -> None:
    ticket = ticket_with_recordings(1)
    client = key_client(ticket.account)
    client.delete(f"/api/v1/tickets/{ticket.pk}/")

    response = client.post(f"/api/v1/tickets/{ticket.pk}/restore/")

    assert response.status_code == 200 and response.json()["deleted_at"] is None
    assert Ticket.objects.get(pk=ticket.pk).deleted_at is None


def test_an_api_key_cannot_delete_another_accounts_ticket() -> None:
    ticket = ticket_with_recordings(1)

    response = key_client(AccountFactory()).delete(f"/api/v1/tickets/{ticket.pk}/")

    assert response.status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).deleted_at is None
