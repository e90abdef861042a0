"""Every destructive step on telephony records in the console lands on a confirmation page first: the first request
shows what will happen and changes nothing, only the confirmed POST with a reason does it, and a confirmation
without its reason (or its acknowledgement) is refused naming the field."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from core.models import AuditEntry
from recordings.models import LegalHold, PhoneLine, Recording, RecordingDeletion, Ticket
from tests.dsar.factories import make_request
from tests.recordings.factories import (
    LegalHoldFactory,
    PhoneLineFactory,
    RecordingFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=dt_timezone.utc)
RECORDINGS = "/admin/recordings/recording/"
TICKETS = "/admin/recordings/ticket/"
HOLDS = "/admin/recordings/legalhold/"


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(UserFactory(username="hana"))
    return client


def state() -> tuple[Any, ...]:
    """Everything a destructive step could change, to compare before and after."""
    return (
        sorted(Recording.objects.values_list("pk", flat=True)),
        RecordingDeletion.objects.count(),
        sorted(Ticket.objects.values_list("pk", "deleted_at")),
        sorted(LegalHold.objects.values_list("pk", "released_at")),
        sorted(PhoneLine.objects.values_list("pk", "auto_delete_days")),
        AuditEntry.objects.count(),
    )


def old_recording(days: int = 60, **kwargs: Any) -> Recording:
    return RecordingFactory(created_at=NOW - timedelta(days=days), **kwargs)


def text(response: Any) -> str:
    return response.content.decode()


# --- deleting recordings ---------------------------------------------------------------------------


def delete_action(client: Client, recordings: list[Recording], **extra: Any) -> Any:
    return client.post(
        RECORDINGS, {"action": "delete_permanently", ACTION_CHECKBOX_NAME: [r.pk for r in recordings], **extra}, follow=True
    )


def test_the_recording_delete_action_first_shows_what_goes_and_changes_nothing(console: Client) -> None:
    recordings = [RecordingFactory(), RecordingFactory()]
    before = state()

    page = delete_action(console, recordings)

    assert state() == before
    assert "Delete 2 recordings permanently" in text(page)
    assert "cannot be undone" in text(page)
    assert all(recording.provider_sid in text(page) for recording in recordings)


def test_the_confirmed_recording_delete_action_deletes_and_keeps_the_reason(console: Client) -> None:
    recording = RecordingFactory()

    delete_action(console, [recording], post="yes", reason="Recorded without consent")

    assert not Recording.objects.filter(pk=recording.pk).exists()
    assert RecordingDeletion.objects.get().deletion_detail.endswith(": Recorded without consent")


def test_a_recording_delete_without_a_reason_is_refused_naming_the_field(console: Client) -> None:
    recording = RecordingFactory()
    before = state()

    page = delete_action(console, [recording], post="yes", reason="  ")

    assert state() == before
    assert "Reason: say why" in text(page)


def test_deleting_a_recording_of_a_person_with_an_open_request_shows_it_and_needs_the_acknowledgement(console: Client) -> None:
    recording = RecordingFactory()
    request = make_request(recording.call.end_user, type="access")
    before = state()

    shown = delete_action(console, [recording])
    refused = delete_action(console, [recording], post="yes", reason="Recorded by mistake")

    assert f"open access request #{request.pk}" in text(shown)
    assert state() == before
    assert "Acknowledgement: tick the box" in text(refused)
    delete_action(console, [recording], post="yes", reason="Recorded by mistake", acknowledge="on")
    assert not Recording.objects.filter(pk=recording.pk).exists()


def test_a_closed_request_asks_for_no_acknowledgement(console: Client) -> None:
    recording = RecordingFactory()
    request = make_request(recording.call.end_user, type="access")
    request.status = request.Status.COMPLETED
    request.save()

    delete_action(console, [recording], post="yes", reason="Recorded by mistake")

    assert not Recording.objects.filter(pk=recording.pk).exists()


def test_the_delete_button_of_a_recording_shows_the_page_on_get_and_deletes_only_when_confirmed(console: Client) -> None:
    recording = RecordingFactory(ticket=None)
    url = reverse("admin:recordings_recording_delete_permanently", args=[recording.pk])
    before = state()

    shown = console.get(url)
    unconfirmed = console.post(url, {"reason": "Recorded by mistake"})
    refused = console.post(url, {"post": "yes"})

    assert "Delete 1 recording permanently" in text(shown)
    assert unconfirmed.status_code == 200 and "Reason: say why" in text(refused)
    assert state() == before
    console.post(url, {"post": "yes", "reason": "Recorded by mistake"})
    assert not Recording.objects.filter(pk=recording.pk).exists()


# --- deleting tickets ------------------------------------------------------------------------------


def test_the_ticket_delete_action_first_says_when_the_purge_takes_them_and_changes_nothing(console: Client) -> None:
    ticket = TicketFactory()
    RecordingFactory(call__line__account=ticket.account, call__ticket=ticket)
    before = state()

    page = console.post(TICKETS, {"action": "soft_delete", ACTION_CHECKBOX_NAME: [ticket.pk]})

    assert state() == before
    assert "Delete 1 ticket: restorable for 7 days" in text(page)
    assert "for good on Nov. 17, 2026 with 1 recording" in text(page)


def test_the_confirmed_ticket_delete_keeps_the_reason_in_its_history(console: Client) -> None:
    ticket = TicketFactory()

    console.post(TICKETS, {"action": "soft_delete", ACTION_CHECKBOX_NAME: [ticket.pk], "post": "yes", "reason": "Spam call"})

    assert Ticket.objects.get(pk=ticket.pk).deleted_at == NOW
    assert ticket.history.latest().history_change_reason == "Spam call"


def test_a_ticket_delete_without_a_reason_is_refused_naming_the_field(console: Client) -> None:
    ticket = TicketFactory()
    before = state()

    page = console.post(TICKETS, {"action": "soft_delete", ACTION_CHECKBOX_NAME: [ticket.pk], "post": "yes"})

    assert state() == before
    assert "Reason: say why" in text(page)


# --- releasing holds -------------------------------------------------------------------------------


def held_account() -> tuple[LegalHold, Recording, Ticket]:
    """An account hold over a recording past its line's 30 days and a ticket soft-deleted 10 days ago."""
    recording = old_recording(60, call__line__auto_delete_days=30)
    ticket = TicketFactory(account=recording.account, deleted_at=NOW - timedelta(days=10), deleted_by_name="sam")
    hold = LegalHoldFactory(account=recording.account)
    return hold, recording, ticket


def test_the_release_action_first_shows_what_the_purge_will_then_delete_and_changes_nothing(console: Client) -> None:
    hold, recording, _ = held_account()
    before = state()

    page = console.post(HOLDS, {"action": "release", ACTION_CHECKBOX_NAME: [hold.pk]})

    assert state() == before
    assert "The purge will then delete 1 held recording" in text(page)
    assert "It will delete 1 ticket soft-deleted 7 or more days ago" in text(page)
    assert "by Nov. 10, 2026, 1 p.m. at the latest" in text(page)


def test_the_confirmed_release_keeps_its_reason_in_the_history_and_the_audit_chain(console: Client) -> None:
    hold, _, _ = held_account()

    console.post(HOLDS, {"action": "release", ACTION_CHECKBOX_NAME: [hold.pk], "post": "yes", "reason": "Case settled"})

    hold.refresh_from_db()
    assert hold.released_at == NOW
    assert hold.history.latest().history_change_reason == "Case settled"
    assert AuditEntry.objects.filter(action="hold_released").get().data["reason"] == "Case settled"


def test_a_release_without_a_reason_is_refused_naming_the_field(console: Client) -> None:
    hold, _, _ = held_account()
    before = state()

    page = console.post(HOLDS, {"action": "release", ACTION_CHECKBOX_NAME: [hold.pk], "post": "yes", "reason": ""})

    assert state() == before
    assert "Reason: say why" in text(page)


def test_a_holds_release_button_shows_the_page_on_get_and_releases_only_when_confirmed(console: Client) -> None:
    hold, _, _ = held_account()
    url = reverse("admin:recordings_legalhold_release", args=[hold.pk])
    before = state()

    hold_page = console.get(reverse("admin:recordings_legalhold_change", args=[hold.pk]))
    shown = console.get(url)
    refused = console.post(url, {"post": "yes"})

    assert url in text(hold_page)
    assert "Release 1 legal hold" in text(shown)
    assert "Reason: say why" in text(refused)
    assert state() == before
    assert console.post(url, {"post": "yes", "reason": "Case settled"})["Location"] == reverse(
        "admin:recordings_legalhold_change", args=[hold.pk]
    )
    assert LegalHold.objects.get(pk=hold.pk).released_at == NOW


# --- changing a line's auto-delete window ---------------------------------------------------------


def line_form(line: PhoneLine, **changes: Any) -> dict[str, Any]:
    data = {
        "account": line.account_id,
        "number": line.number,
        "name": line.name,
        "auto_delete_days": "" if line.auto_delete_days is None else line.auto_delete_days,
        "created_at_0": line.created_at.strftime("%Y-%m-%d"),
        "created_at_1": line.created_at.strftime("%H:%M:%S"),
        "initial-created_at_0": line.created_at.strftime("%Y-%m-%d"),
        "initial-created_at_1": line.created_at.strftime("%H:%M:%S"),
        "_save": "Save",
    }
    return {**data, **changes}


def test_shortening_a_lines_window_first_shows_what_the_purge_will_delete_and_changes_nothing(console: Client) -> None:
    line = PhoneLineFactory(auto_delete_days=None, created_at=NOW - timedelta(days=400))
    old_recording(365, call__line=line)
    old_recording(40, call__line=line)
    RecordingFactory(call__line=line)
    url = reverse("admin:recordings_phoneline_change", args=[line.pk])
    before = state()

    page = console.post(url, line_form(line, auto_delete_days=30))

    assert state() == before
    assert "from never to 30 days" in text(page)
    assert "The purge will delete 2 recordings of this line because of this change" in text(page)
    assert "the oldest created Nov. 10, 2025" in text(page)


def test_the_confirmed_window_change_is_saved_with_its_reason(console: Client) -> None:
    line = PhoneLineFactory(auto_delete_days=None, created_at=NOW - timedelta(days=400))
    url = reverse("admin:recordings_phoneline_change", args=[line.pk])

    response = console.post(url, line_form(line, auto_delete_days=30, post="yes", reason="Customer policy"))

    assert response.status_code == 302
    line.refresh_from_db()
    assert line.auto_delete_days == 30
    assert line.history.latest().history_change_reason == "Customer policy"


def test_a_window_change_without_a_reason_is_refused_naming_the_field(console: Client) -> None:
    line = PhoneLineFactory(auto_delete_days=None, created_at=NOW - timedelta(days=400))
    before = state()

    page = console.post(
        reverse("admin:recordings_phoneline_change", args=[line.pk]), line_form(line, auto_delete_days=30, post="yes")
    )

    assert state() == before
    assert "Reason: say why" in text(page)


def test_renaming_a_line_needs_no_confirmation(console: Client) -> None:
    line = PhoneLineFactory(created_at=NOW - timedelta(days=400))

    response = console.post(reverse("admin:recordings_phoneline_change", args=[line.pk]), line_form(line, name="Sales"))

    assert response.status_code == 302
    assert PhoneLine.objects.get(pk=line.pk).name == "Sales"
