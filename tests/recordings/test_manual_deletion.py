"""Deleting one recording by hand: the admin action with its confirmation page, and DELETE /api/v1/recordings/{id}/."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from core.roles import scopes
from core.services import api_key_create
from recordings.models import LegalHold, ProviderDeletion, Recording, RecordingDeletion
from tests.recordings.factories import (
    CallFactory,
    LegalHoldFactory,
    RecordingFactory,
    TicketFactory,
    UserFactory,
)

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=dt_timezone.utc)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def recording() -> Recording:
    ticket = TicketFactory()
    return RecordingFactory(call=CallFactory(line__account=ticket.account, ticket=ticket))


def admin_client(username: str = "carol") -> tuple[Client, Any]:
    user = UserFactory(username=username)
    client = Client()
    client.force_login(user)
    return client, user


def run_action(client: Client, recording: Recording, **extra: str) -> Any:
    return client.post(
        reverse("admin:recordings_recording_changelist"),
        {"action": "delete_permanently", ACTION_CHECKBOX_NAME: [recording.pk], **extra},
        follow=True,
    )


def test_the_admin_action_asks_for_confirmation_before_deleting(recording: Recording) -> None:
    client, _ = admin_client()

    response = run_action(client, recording)

    assert response.status_code == 200
    assert b"permanent and cannot be undone" in response.content
    assert recording.provider_sid.encode() in response.content
    assert Recording.objects.filter(pk=recording.pk).exists()


def test_confirming_deletes_it_with_an_audit_entry_naming_the_admin_and_the_ticket(recording: Recording) -> None:
    client, user = admin_client("carol")

    response = run_action(client, recording, post="yes", reason="Recorded by mistake")

    assert not Recording.objects.filter(pk=recording.pk).exists()
    assert b"deleted permanently" in response.content
    entry = RecordingDeletion.objects.get()
    assert (entry.id, entry.ticket_id, entry.history_username, entry.history_user_id) == (
        recording.pk, recording.ticket_id, "carol", user.pk,
    )
    assert entry.deletion_reason == "manual"
    assert entry.history_origin == "admin"
    assert entry.history_date == NOW
    assert ProviderDeletion.objects.get().provider_sid == recording.provider_sid


def test_nothing_is_written_to_the_tickets_own_event_log(recording: Recording) -> None:
    client, _ = admin_client()
    ticket = recording.ticket
    before = list(ticket.history.values_list("history_id", flat=True))

    run_action(client, recording, post="yes", reason="Recorded by mistake")

    assert list(ticket.history.values_list("history_id", flat=True)) == before


def test_the_admin_action_refuses_a_held_recording_naming_the_hold(recording: Recording) -> None:
    client, _ = admin_client()
    hold = LegalHoldFactory(account=recording.account, scope=LegalHold.Scope.TICKET, ticket=recording.ticket, reason="Subpoena 42")

    confirmation = run_action(client, recording)
    response = run_action(client, recording, post="yes", reason="Recorded by mistake")

    assert b"Held" in confirmation.content
    assert Recording.objects.filter(pk=recording.pk).exists()
    assert f"legal hold #{hold.pk} on ticket #{recording.ticket_id} (Subpoena 42)".encode() in response.content
    assert not RecordingDeletion.objects.exists()


def test_djangos_own_delete_is_not_offered(recording: Recording) -> None:
    client, _ = admin_client()

    response = client.get(reverse("admin:recordings_recording_delete", args=[recording.pk]))

    assert response.status_code == 403


def test_the_audit_entry_survives_the_deletion_of_the_admins_login(recording: Recording) -> None:
    client, user = admin_client("dave")
    run_action(client, recording, post="yes", reason="Recorded by mistake")

    user.delete()

    entry = RecordingDeletion.objects.get()
    assert entry.history_username == "dave"
    assert entry.history_user_id is None


def api(raw_key: str | None = None, user: Any = None) -> Client:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}") if raw_key else Client()
    if user:
        client.force_login(user)
    return client


def test_the_api_deletes_a_recording_of_the_keys_account(recording: Recording) -> None:
    key, raw = api_key_create(account=recording.account, name="support suite", scopes=list(scopes()))

    response = api(raw).delete(f"/api/v1/recordings/{recording.pk}/")

    assert response.status_code == 204
    assert not Recording.objects.filter(pk=recording.pk).exists()
    entry = RecordingDeletion.objects.get()
    assert entry.history_origin == "api"
    assert entry.history_username == key.label
    assert entry.ticket_id == recording.ticket_id
    assert entry.deletion_detail == f"Deleted through the API by {key.label} (ticket #{recording.ticket_id})"


def test_a_key_of_another_account_gets_404(recording: Recording) -> None:
    other = TicketFactory().account
    _, raw = api_key_create(account=other, name="other", scopes=list(scopes()))

    response = api(raw).delete(f"/api/v1/recordings/{recording.pk}/")

    assert response.status_code == 404
    assert Recording.objects.filter(pk=recording.pk).exists()


def test_the_api_refuses_a_held_recording_with_403_naming_the_hold(recording: Recording) -> None:
    hold = LegalHoldFactory(account=recording.account, reason="Regulator inquiry")
    _, raw = api_key_create(account=recording.account, name="suite", scopes=list(scopes()))

    response = api(raw).delete(f"/api/v1/recordings/{recording.pk}/")

    assert response.status_code == 403
    detail = response.json()["errors"][0]["detail"]
    assert f"legal hold #{hold.pk}" in detail and "Regulator inquiry" in detail
    assert Recording.objects.filter(pk=recording.pk).exists()


def test_deleting_twice_gives_404_the_second_time(recording: Recording) -> None:
    staff = UserFactory(username="erin")

    first = api(user=staff).delete(f"/api/v1/recordings/{recording.pk}/")
    second = api(user=staff).delete(f"/api/v1/recordings/{recording.pk}/")

    assert (first.status_code, second.status_code) == (204, 404)
    assert RecordingDeletion.objects.get().history_username == "erin"
    assert ProviderDeletion.objects.count() == 1


def test_anonymous_callers_are_refused(recording: Recording) -> None:
    assert api().delete(f"/api/v1/recordings/{recording.pk}/").status_code in (401, 403)


def test_a_recording_is_deleted_from_its_tickets_page_after_confirmation(recording: Recording) -> None:
    client, _ = admin_client("ivy")
    ticket_page = client.get(reverse("admin:recordings_ticket_change", args=[recording.ticket_id])).content.decode()
    url = reverse("admin:recordings_recording_delete_permanently", args=[recording.pk])
    assert url in ticket_page

    confirmation = client.get(url)
    response = client.post(url, {"post": "yes", "reason": "Recorded by mistake"})

    assert b"cannot be undone" in confirmation.content
    assert Recording.objects.filter(pk=recording.pk).exists() is False
    assert response["Location"] == reverse("admin:recordings_ticket_change", args=[recording.ticket_id])
    entry = RecordingDeletion.objects.get()
    assert (entry.history_username, entry.ticket_id) == ("ivy", recording.ticket_id)


def test_the_ticket_page_link_refuses_a_held_recording(recording: Recording) -> None:
    client, _ = admin_client()
    hold = LegalHoldFactory(account=recording.account, scope=LegalHold.Scope.PERSON, person=recording.call.end_user)

    response = client.post(reverse("admin:recordings_recording_delete_permanently", args=[recording.pk]), {"post": "yes", "reason": "Recorded by mistake"}, follow=True)

    assert f"legal hold #{hold.pk} on person" in response.content.decode()
    assert Recording.objects.filter(pk=recording.pk).exists()


def test_the_audit_log_says_the_recording_was_deleted_from_the_recordings_list_and_by_whom(recording: Recording) -> None:
    client, _ = admin_client("carol")

    run_action(client, recording, post="yes", reason="Asked by the customer")

    assert RecordingDeletion.objects.get().deletion_detail == (
        f"Deleted from the recordings list by carol (ticket #{recording.ticket_id}): Asked by the customer"
    )


def test_the_audit_log_says_a_recording_was_deleted_from_its_tickets_page(recording: Recording) -> None:
    client, _ = admin_client("carol")

    client.post(
        f"/admin/recordings/recording/{recording.pk}/delete-permanently/", {"post": "yes", "reason": "Duplicate"}
    )

    assert RecordingDeletion.objects.get().deletion_detail == (
        f"Deleted from ticket #{recording.ticket_id}'s page by carol (ticket #{recording.ticket_id}): Duplicate"
    )
