"""A hold freezes what it holds: a held ticket is not edited where it matters, reassigned or deleted by any path
(the console's change form and actions, the API, the commands, the purge), and is editable again once released."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from core.roles import SUPPORT_ADMIN
from dsar import services as dsar_services
from recordings import holds, services
from recordings.models import LegalHold, Ticket
from tests.dsar.factories import CaptureOnCommit, make_request
from tests.factories import api_key_for
from tests.recordings.factories import (
    AccountFactory,
    CallFactory,
    LegalHoldFactory,
    PersonFactory,
    RecordingFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=dt_timezone.utc)
TICKETS = "/admin/recordings/ticket/"
SCOPES = ["ticket", "person", "account"]
#: The edits a support admin may try: rewriting what was said, reassigning to another account, blanking the requester.
EDITS = {
    "subject": lambda ticket: {"subject": "Nothing to see here"},
    "account": lambda ticket: {"account": AccountFactory().pk},
    "requester": lambda ticket: {"requester": ""},
}


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def support_admin() -> Client:
    user = UserFactory(username="sam", is_superuser=False)
    user.groups.add(Group.objects.get(name=SUPPORT_ADMIN))
    client = Client()
    client.force_login(user)
    return client


def hold_on(ticket: Ticket, scope: str) -> LegalHold:
    """A hold on the ticket itself, on its requester, or on its whole account."""
    target = {"ticket": {"ticket": ticket}, "person": {"person": ticket.requester}, "account": {}}[scope]
    return holds.legal_hold_place(account=ticket.account, scope=scope, reason="Dispute 12", **target)


def form_data(ticket: Ticket, **changes: Any) -> dict[str, Any]:
    """What the ticket's change form posts (its fields and its recordings' inline), with ``changes``."""
    data = {
        "account": ticket.account_id,
        "requester": ticket.requester_id or "",
        "subject": ticket.subject,
        "description": ticket.description,
        "status": ticket.status,
        "created_at_0": ticket.created_at.strftime("%Y-%m-%d"),
        "created_at_1": ticket.created_at.strftime("%H:%M:%S"),
        "initial-created_at_0": ticket.created_at.strftime("%Y-%m-%d"),
        "initial-created_at_1": ticket.created_at.strftime("%H:%M:%S"),
        "recordings-TOTAL_FORMS": "0",
        "recordings-INITIAL_FORMS": "0",
        "recordings-MIN_NUM_FORMS": "0",
        "recordings-MAX_NUM_FORMS": "1000",
    }
    return {**data, **changes}


def unchanged(ticket: Ticket) -> bool:
    current = Ticket.objects.get(pk=ticket.pk)
    fields = ("account_id", "requester_id", "subject", "description", "deleted_at")
    return all(getattr(current, name) == getattr(ticket, name) for name in fields)


def a_ticket() -> Ticket:
    return TicketFactory(created_at=NOW - timedelta(days=3))


# --- the console's change form ----------------------------------------------------------------------


def test_a_held_tickets_page_shows_its_held_fields_read_only_with_the_hold_and_what_to_do() -> None:
    ticket = a_ticket()
    hold = hold_on(ticket, "ticket")

    page = support_admin().get(f"{TICKETS}{ticket.pk}/change/").content.decode()

    assert f"Under legal hold #{hold.pk} on ticket #{ticket.pk} (Dispute 12)" in page
    assert "release the hold first" in page
    for name in ("account", "requester", "subject", "description"):
        assert f'name="{name}"' not in page, name
    assert 'name="status"' in page  # working the ticket goes on


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("edit", list(EDITS))
def test_a_support_admins_edit_of_a_held_ticket_posted_anyway_is_refused_naming_the_hold(scope: str, edit: str) -> None:
    ticket = a_ticket()
    hold = hold_on(ticket, scope)

    response = support_admin().post(f"{TICKETS}{ticket.pk}/change/", form_data(ticket, **EDITS[edit](ticket)))

    assert response.status_code == 200  # the form again, with the refusal
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert f"{edit} cannot be changed" in errors and f"legal hold #{hold.pk}" in errors
    assert "release the hold first" in errors
    assert unchanged(ticket)


def test_a_page_opened_before_the_hold_cannot_save_a_change_to_what_it_holds() -> None:
    ticket = a_ticket()
    console = support_admin()
    assert 'name="subject"' in console.get(f"{TICKETS}{ticket.pk}/change/").content.decode()
    hold_on(ticket, "person")

    response = console.post(f"{TICKETS}{ticket.pk}/change/", form_data(ticket, subject="Rewritten", requester=""))

    assert response.status_code == 200
    assert "requester, subject cannot be changed" in " ".join(response.context["adminform"].form.non_field_errors())
    assert unchanged(ticket)


def test_a_held_tickets_status_still_changes_and_its_history_names_who() -> None:
    ticket = a_ticket()
    hold_on(ticket, "account")

    response = support_admin().post(f"{TICKETS}{ticket.pk}/change/", form_data(ticket, status=Ticket.Status.CLOSED))

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED and unchanged(ticket)
    latest = ticket.history.first()
    assert (latest.history_username, latest.history_origin, latest.status) == ("sam", "admin", "closed")


@pytest.mark.parametrize("edit", list(EDITS))
def test_once_the_hold_is_released_the_same_edit_is_saved(edit: str) -> None:
    ticket = a_ticket()
    hold = hold_on(ticket, "person")
    console = support_admin()
    console.post(f"{TICKETS}{ticket.pk}/change/", form_data(ticket, **EDITS[edit](ticket)))
    assert unchanged(ticket)

    holds.legal_hold_release(hold_id=hold.pk)
    page = console.get(f"{TICKETS}{ticket.pk}/change/").content.decode()
    response = console.post(f"{TICKETS}{ticket.pk}/change/", form_data(ticket, **EDITS[edit](ticket)))

    assert "Under legal hold" not in page and f'name="{edit}"' in page
    assert response.status_code == 302
    assert not unchanged(ticket)


# --- the console's actions -------------------------------------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
def test_a_support_admins_soft_delete_action_on_a_held_ticket_is_refused_naming_the_hold(scope: str) -> None:
    ticket, free = a_ticket(), a_ticket()
    hold = hold_on(ticket, scope) if scope != "account" else LegalHoldFactory(account=ticket.account, reason="Dispute 12")

    response = support_admin().post(
        TICKETS, {"action": "soft_delete", "_selected_action": [ticket.pk, free.pk], "post": "yes", "reason": "Spam"}, follow=True
    )

    said = [str(message) for message in response.context["messages"]]
    assert any(f"Ticket #{ticket.pk} cannot be deleted. Under legal hold #{hold.pk}" in text for text in said)
    assert any(text.startswith("1 ticket(s) deleted") for text in said)
    assert unchanged(ticket)
    assert Ticket.objects.get(pk=free.pk).deleted_at == NOW


def test_no_console_action_on_tickets_deletes_for_good() -> None:
    ticket = a_ticket()
    hold_on(ticket, "ticket")
    console = support_admin()

    offered = set(console.get(TICKETS).context["action_form"].fields["action"].choices)
    deleted = console.post(f"{TICKETS}{ticket.pk}/delete/", {"post": "yes"})

    assert {name for name, _ in offered} == {"", "soft_delete", "restore"}
    assert deleted.status_code == 403 and unchanged(ticket)


# --- the API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
def test_deleting_a_held_ticket_through_the_api_is_a_403_naming_the_hold(scope: str) -> None:
    ticket = a_ticket()
    hold = hold_on(ticket, scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(ticket.account, scopes=['tickets:read', 'tickets:delete'])}")

    response = client.delete(f"/api/v1/tickets/{ticket.pk}/")

    assert response.status_code == 403
    assert f"legal hold #{hold.pk}" in response.json()["errors"][0]["detail"]
    assert unchanged(ticket)


@pytest.mark.parametrize("method", ["patch", "put"])
def test_the_api_offers_no_way_to_edit_or_reassign_a_ticket(method: str) -> None:
    ticket = a_ticket()
    hold_on(ticket, "ticket")
    client = APIClient()
    client.force_login(UserFactory(username="root"))

    response = getattr(client, method)(
        f"/api/v1/tickets/{ticket.pk}/", {"subject": "Rewritten", "account": AccountFactory().pk, "requester": None}, format="json"
    )

    assert response.status_code == 405
    assert unchanged(ticket)


# --- the services every path calls, and the database under them ---------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
def test_the_ticket_service_refuses_a_reassignment_of_a_held_ticket_naming_the_fields_and_the_hold(scope: str) -> None:
    ticket = a_ticket()
    hold = hold_on(ticket, scope)

    with pytest.raises(services.TicketHeld) as refused:
        services.ticket_update(ticket_id=ticket.pk, changes={"account": AccountFactory(), "requester": None, "status": "closed"})

    assert refused.value.hold == hold and refused.value.fields == ("account", "requester")
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN and unchanged(ticket)


def test_a_hold_placed_after_the_check_still_stops_the_soft_deletion_and_the_edit(monkeypatch: Any) -> None:
    ticket = a_ticket()
    hold_on(ticket, "person")
    # As if the hold were placed between the check and the write: only the write's own condition is left.
    monkeypatch.setattr("recordings.tickets.hold_check_delete", lambda record: None)
    monkeypatch.setattr("recordings.tickets.hold_check_change", lambda record, fields: None)

    with pytest.raises(services.TicketHeld, match="put under a legal hold meanwhile"):
        services.ticket_soft_delete(ticket_id=ticket.pk)
    with pytest.raises(services.TicketHeld, match="put under a legal hold meanwhile"):
        services.ticket_update(ticket_id=ticket.pk, changes={"requester": None})

    assert unchanged(ticket)


def test_reassigning_a_held_ticket_and_then_deleting_it_cannot_get_it_purged(time_machine: Any) -> None:
    """The way a held ticket used to be lost: moved out from under its hold, then soft-deleted and purged."""
    ticket = a_ticket()
    hold_on(ticket, "person")
    console = support_admin()

    console.post(f"{TICKETS}{ticket.pk}/change/", form_data(ticket, requester=""))
    console.post(TICKETS, {"action": "soft_delete", "_selected_action": [ticket.pk], "post": "yes", "reason": "Spam"})
    time_machine.move_to(NOW + timedelta(days=8), tick=False)
    call_command("purge_recordings", verbosity=0)

    assert unchanged(ticket)


# --- the commands ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
def test_the_purge_never_deletes_a_held_ticket_soft_deleted_before_the_hold_was_placed(scope: str, time_machine: Any) -> None:
    ticket = a_ticket()
    recording = RecordingFactory(call=CallFactory(line__account=ticket.account, ticket=ticket))
    services.ticket_soft_delete(ticket_id=ticket.pk)
    hold = hold_on(ticket, scope)
    time_machine.move_to(NOW + timedelta(days=30), tick=False)

    call_command("purge_recordings", verbosity=0)
    deleted_for_good = services.tickets_purge_batch(ids=[ticket.pk], now=NOW + timedelta(days=30))

    assert deleted_for_good == 0
    assert Ticket.objects.get(pk=ticket.pk).deleted_at == NOW
    assert recording.__class__.objects.filter(pk=recording.pk).exists()

    holds.legal_hold_release(hold_id=hold.pk)
    call_command("purge_recordings", verbosity=0)
    assert not Ticket.objects.filter(pk=ticket.pk).exists()


@pytest.mark.parametrize("scope", ["ticket", "person"])
def test_an_erasure_run_by_command_leaves_a_ticket_held_by_someone_elses_hold_as_it_is(
    scope: str, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    erased = PersonFactory(name="Zoe Lukasz", email="zoe@example.com")
    ticket = TicketFactory(
        account=erased.account,
        requester=PersonFactory(account=erased.account),
        subject="Zoe Lukasz called about a refund",
        description="Write to zoe@example.com",
    )
    hold_on(ticket, scope)
    request = make_request(erased)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("dsar_execute", str(request.pk), verbosity=0)

    request.refresh_from_db()
    assert request.executed_at is not None
    assert unchanged(ticket)


def test_redacting_a_scan_hit_in_place_leaves_the_ticket_a_hold_keeps_as_it_is(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    erased = PersonFactory(name="Zoe Lukasz", email="zoe@example.com")
    held = TicketFactory(account=erased.account, requester=PersonFactory(account=erased.account), subject="From zoe@example.com")
    hold_on(held, "ticket")
    request = make_request(erased)
    with django_capture_on_commit_callbacks(execute=True):
        dsar_services.request_execute(request=request, actor=UserFactory(username="dpo"))
    later = TicketFactory(account=erased.account, requester=None, subject="Also from zoe@example.com")
    request.refresh_from_db()
    scan = dsar_services.request_verify_erasure(request=request)
    assert [(hit.table, hit.column, hit.declared) for hit in scan.hits if hit.table == "recordings_ticket"] == [
        ("recordings_ticket", "subject", True),
        ("recordings_ticket", "subject", False),
    ]

    dsar_services.erasure_hit_redact(request=request, table="recordings_ticket", column="subject")

    assert Ticket.objects.get(pk=later.pk).subject == "Also from [redacted]"
    assert unchanged(held)


def test_an_erasure_keeps_a_call_with_a_held_agent_as_it_is_and_erases_it_when_the_hold_ends(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    erased = PersonFactory(phone="+46701112233")
    agent = PersonFactory(account=erased.account, kind="agent")
    call = CallFactory(line__account=erased.account, end_user=erased, agent=agent, from_number="+46701112233")
    hold = holds.legal_hold_place(account=erased.account, scope="person", person=agent, reason="HR case 3")
    request = make_request(erased)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("dsar_execute", str(request.pk), verbosity=0)

    call.refresh_from_db()
    request.refresh_from_db()
    assert (call.from_number, call.agent_id) == ("+46701112233", agent.pk)
    assert [item["ids"]["calls"] for item in request.held] == [[call.pk]]
    assert request.scan["undeclared"] == 0

    holds.legal_hold_release(hold_id=hold.pk)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("resume_erasures", verbosity=0)

    call.refresh_from_db()
    assert call.from_number == "" and call.agent_id == agent.pk
