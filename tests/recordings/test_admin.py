"""The console pages of telephony records: they render, and their actions go through the services."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recordings.models import LegalHold, Ticket
from tests.recordings.factories import (
    AnalyticsRowFactory,
    LegalHoldFactory,
    MonitoringEntryFactory,
    RecordingFactory,
    TextMessageFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(UserFactory(username="hana"))
    return client


@pytest.mark.parametrize(
    "model",
    ["phoneline", "ticket", "call", "recording", "monitoringentry", "textmessage", "analyticsrow", "legalhold",
     "recordingdeletion", "providerdeletion", "historyexport"],
)
def test_every_page_lists_its_rows(console: Client, model: str) -> None:
    recording = RecordingFactory(ticket=TicketFactory())
    MonitoringEntryFactory(call=recording.call)
    TextMessageFactory()
    AnalyticsRowFactory(call=recording.call)
    LegalHoldFactory(account=recording.account)

    response = console.get(reverse(f"admin:recordings_{model}_changelist"))

    assert response.status_code == 200


def test_a_recordings_ticket_page_shows_its_recordings(console: Client) -> None:
    ticket = TicketFactory()
    recording = RecordingFactory(call__line__account=ticket.account, call__ticket=ticket)

    page = console.get(reverse("admin:recordings_ticket_change", args=[ticket.pk])).content.decode()

    assert recording.provider_sid in page


def test_the_ticket_delete_action_soft_deletes_and_restore_undoes_it(console: Client) -> None:
    ticket = TicketFactory()
    url = reverse("admin:recordings_ticket_changelist")

    console.post(url, {"action": "soft_delete", "_selected_action": [ticket.pk], "post": "yes", "reason": "Duplicate"})
    deleted = Ticket.objects.get(pk=ticket.pk)
    console.post(url, {"action": "restore", "_selected_action": [ticket.pk]})

    assert deleted.deleted_by_name == "hana"
    assert Ticket.objects.get(pk=ticket.pk).deleted_at is None


def test_placing_a_hold_in_the_console_records_who_placed_it(console: Client) -> None:
    ticket = TicketFactory()

    response = console.post(
        reverse("admin:recordings_legalhold_add"),
        {"account": ticket.account.pk, "scope": "ticket", "ticket": ticket.pk, "reason": "Subpoena"},
    )

    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.ticket, hold.placed_by_name, hold.history.first().history_origin) == (ticket, "hana", "admin")


def test_a_hold_on_another_accounts_ticket_is_refused_on_the_form(console: Client) -> None:
    ticket = TicketFactory()
    other_account = TicketFactory().account

    response = console.post(
        reverse("admin:recordings_legalhold_add"),
        {"account": other_account.pk, "scope": "ticket", "ticket": ticket.pk, "reason": "Subpoena"},
    )

    assert response.status_code == 200
    assert "Choose a ticket of this account" in response.content.decode()
    assert not LegalHold.objects.exists()


def test_the_release_action_releases_and_names_who(console: Client) -> None:
    hold = LegalHoldFactory()

    console.post(
        reverse("admin:recordings_legalhold_changelist"),
        {"action": "release", "_selected_action": [hold.pk], "post": "yes", "reason": "Case closed"},
    )

    hold.refresh_from_db()
    assert hold.released_at is not None
    assert hold.released_by_name == "hana"


def test_an_export_requested_in_the_console_is_queued_for_the_current_month(console: Client, time_machine: Any) -> None:
    from datetime import date, datetime
    from datetime import timezone as dt_timezone

    from recordings.models import HistoryExport
    from tests.recordings.factories import AccountFactory

    time_machine.move_to(datetime(2026, 2, 10, tzinfo=dt_timezone.utc), tick=False)
    account = AccountFactory()

    response = console.post(reverse("admin:recordings_historyexport_add"), {"account": account.pk, "kind": "call_history"})

    assert response.status_code == 302
    export = HistoryExport.objects.get()
    assert (export.start, export.end, export.email, export.requested_by_name) == (
        date(2026, 2, 1), date(2026, 2, 28), "hana@example.com", "hana",
    )


def test_a_monitoring_export_below_professional_is_refused_on_the_form_saying_so(console: Client) -> None:
    from recordings.models import HistoryExport
    from residency.models import Account
    from tests.recordings.factories import AccountFactory

    account = AccountFactory(plan=Account.Plan.TEAM)

    response = console.post(reverse("admin:recordings_historyexport_add"), {"account": account.pk, "kind": "monitoring_history"})

    assert response.status_code == 200
    assert "Professional and Enterprise plans only" in response.content.decode()
    assert not HistoryExport.objects.exists()


def test_a_finished_export_shows_its_download_link(console: Client, export_dir: Any) -> None:
    from recordings import services
    from tests.recordings.factories import AccountFactory

    export = services.history_export_request(account=AccountFactory(), kind="call_history", recipient="hana@example.com")
    services.history_export_run(export_id=export.pk)

    page = console.get(reverse("admin:recordings_historyexport_change", args=[export.pk])).content.decode()

    assert "/api/v1/exports/download/" in page


def test_recordings_come_only_from_the_telephony_product(console: Client) -> None:
    for model in ("recording", "call"):
        changelist = console.get(reverse(f"admin:recordings_{model}_changelist")).content.decode()

        assert reverse(f"admin:recordings_{model}_add") not in changelist
        assert console.get(reverse(f"admin:recordings_{model}_add")).status_code == 403


def test_the_recordings_list_shows_each_ones_auto_delete_date_and_hold_without_a_query_per_row(
    console: Client, time_machine: Any
) -> None:
    time_machine.move_to(datetime(2026, 11, 10, 12, 0, tzinfo=dt_timezone.utc), tick=False)
    kept = RecordingFactory(call__line__auto_delete_days=None)
    held = RecordingFactory(call__line__auto_delete_days=30)
    hold = LegalHoldFactory(account=held.account)
    url = reverse("admin:recordings_recording_changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = console.get(url).content.decode()
        assert "never (the line keeps recordings)" in page
        assert "Dec. 10, 2026, noon" in page
        assert f"hold #{hold.pk}</a>" in page
        return len(captured)

    few = queries()
    for _ in range(5):
        RecordingFactory(call__line=held.line)
        RecordingFactory(call__line=kept.line)

    assert queries() == few


def test_a_recordings_page_shows_its_holds_and_auto_delete_date(console: Client, time_machine: Any) -> None:
    time_machine.move_to(datetime(2026, 11, 10, 12, 0, tzinfo=dt_timezone.utc), tick=False)
    recording = RecordingFactory(call__line__auto_delete_days=7)
    hold = LegalHoldFactory(account=recording.account, scope="person", person=recording.call.end_user, reason="Claim 4")

    page = console.get(reverse("admin:recordings_recording_change", args=[recording.pk])).content.decode()

    assert "Nov. 17, 2026, noon" in page
    assert f"hold #{hold.pk}</a> on person {recording.call.end_user_id} (Claim 4)" in page


def test_a_recordings_history_pages_render(console: Client) -> None:
    recording = RecordingFactory()
    version = recording.history.get()

    listing = console.get(reverse("admin:recordings_recording_history", args=[recording.pk]))
    shown = console.get(reverse("admin:recordings_recording_simple_history", args=[recording.pk, version.pk]))

    assert (listing.status_code, shown.status_code) == (200, 200)
