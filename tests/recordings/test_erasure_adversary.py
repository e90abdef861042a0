"""Erasure tried as an auditor would: identifiers written the way tickets and call logs write them, the same
name in another account, near misses, a kill before the audit redaction, holds on someone else, a barging
supervisor, and mail to an erased address."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from core.audit import Action, Record, audit_append, verify_chain
from core.models import AuditEntry
from dsar import erasure as erasure_module
from dsar import services
from dsar.erasure import erasures_resume
from dsar.models import Person, Request, RequestEvent
from dsar.scan import scanned_models
from dsar.scope import in_account, log_entries_of_account
from dsar.workflow import add_event
from recordings import holds
from recordings.history_exports import history_export_run
from recordings.models import Call, HistoryExport, MonitoringEntry, Recording, Ticket
from residency.models import Account
from tests.dsar.factories import CaptureOnCommit, make_request, staff
from tests.recordings.factories import (
    CallFactory,
    MonitoringEntryFactory,
    PersonFactory,
    PhoneLineFactory,
    RecordingFactory,
    TextMessageFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

VARIANTS = ["(020) 7946 0018", "020-7946-0018", "02079460018", "+44 (0)20 7946 0018"]


def zoe(account: Account | None = None) -> Person:
    """Zoë Łukasz, whose account is in the United Kingdom (national numbers are read as British)."""
    person = PersonFactory(name="Zoë Łukasz", email="zoe@example.com", phone="+442079460018", **({"account": account} if account else {}))
    Account.objects.filter(pk=person.account_id).update(country="GB")
    person.account.refresh_from_db()
    return person


def colleague(person: Person, **fields: Any) -> Person:
    return PersonFactory(account=person.account, kind=Person.Kind.AGENT, **fields)


def test_every_written_form_of_her_identifiers_is_erased_and_the_scan_is_clean(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    person = zoe()
    other = colleague(person, name="Agent Smith", email="smith@example.com", phone="+442079460099")
    tickets = [
        TicketFactory(account=person.account, requester=other, subject=f"Callback {variant}", description="Zoe Lukasz called.")
        for variant in VARIANTS
    ]
    call = CallFactory(line=PhoneLineFactory(account=person.account), end_user=None, from_number="00442079460018")
    text = TextMessageFactory(line=call.line, person=None, from_number="+442079460099", body="Write to zoe+orders@example.com")
    request = make_request(person)

    with django_capture_on_commit_callbacks(execute=True):
        services.request_execute(request=request, actor=staff())

    request.refresh_from_db()
    assert [(hit["table"], hit["column"], hit["identifier"], hit["count"]) for hit in request.scan["hits"] if not hit["declared"]] == []
    assert request.status == Request.Status.COMPLETED
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.subject == "Callback [redacted]" and ticket.description == "[redacted] called."
    call.refresh_from_db()
    text.refresh_from_db()
    assert call.from_number == "" and text.body == "Write to [redacted]"
    written = [*Ticket.history.values_list("subject", "description"), *Call.history.values_list("from_number", "to_number")]
    assert not any(variant in str(written) for variant in [*VARIANTS, "00442079460018", "Zoe Lukasz"])
    assert [message.to for message in mail.outbox if "erased" in message.subject] == [["zoe@example.com"]]


def rows_of(account: Account) -> dict[str, list[Any]]:
    """Every row of every table that belongs to ``account``, as values, in primary-key order."""
    rows: dict[str, list[Any]] = {}
    for model in scanned_models():
        if model is LogEntry:
            entries = log_entries_of_account(LogEntry.objects.all(), account.pk)
            rows["django_admin_log"] = sorted((entry.pk, entry.object_repr, entry.change_message) for entry in entries)
            continue
        queryset = in_account(model._base_manager.all(), account.pk)
        if queryset.query.where:  # tables that belong to no account are not the account's rows
            rows[model._meta.db_table] = list(queryset.order_by("pk").values())
    return rows


def test_erasing_her_in_one_account_leaves_every_row_of_another_account_identical(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    person = zoe()
    namesake = zoe()  # the same name, email and phone in another customer's account
    assert namesake.account_id != person.account_id
    for someone in (person, namesake):
        TicketFactory(account=someone.account, requester=someone, subject="Zoë Łukasz, 020 7946 0018")
        CallFactory(line=PhoneLineFactory(account=someone.account), end_user=someone, from_number="00442079460018")
        audit_append(
            Record(action=Action.IDENTITY_VERIFIED, object_type="test", object_id=someone.pk, account_id=someone.account_id,
                   data={"note": "Zoë Łukasz showed her passport"})
        )
        LogEntry.objects.log_actions(
            user_id=staff(f"clerk{someone.pk}").pk, queryset=[someone], action_flag=CHANGE,
            change_message="Zoë Łukasz changed", single_object=True,
        )
    theirs = make_request(namesake)
    add_event(theirs, RequestEvent.Kind.RECEIVED, "Zoë Łukasz phoned in")
    before = rows_of(namesake.account)

    with django_capture_on_commit_callbacks(execute=True):
        services.request_execute(request=make_request(person), actor=staff())

    assert rows_of(namesake.account) == before
    assert before["residency_auditentry"] and before["django_admin_log"] and before["dsar_requestevent"]
    assert verify_chain().intact


def test_near_misses_are_other_people_and_no_hit() -> None:
    bob = PersonFactory(name="Bob Marsh", email="bob@example.com", phone="+46701234567")
    jim = colleague(bob, name="Jim Bob", email="jimbob@example.com")
    texts = [
        "Forwarded from jimbob@example.com",
        "Bob Marshall approved the refund",
        "Copy bob@example.com.au please",
        "Order 467012345678 shipped",
    ]
    tickets = [TicketFactory(account=bob.account, requester=jim, subject="Refund", description=text) for text in texts]
    request = make_request(bob)

    services.request_execute(request=request, actor=staff())

    request.refresh_from_db()
    assert request.scan["undeclared"] == 0 and request.scan["declared"] == 0
    assert request.status == Request.Status.COMPLETED
    assert [Ticket.objects.get(pk=ticket.pk).description for ticket in tickets] == texts


def test_a_kill_before_the_audit_redaction_is_finished_by_the_rerun_and_the_chain_verifies(monkeypatch: Any) -> None:
    person = zoe()
    audit_append(
        Record(action=Action.IDENTITY_VERIFIED, object_type="support.note", object_id=1, account_id=person.account_id,
               data={"note": "Called 020 7946 0018, Zoe Lukasz confirmed", "method": "phone"})
    )
    request = make_request(person)
    real = erasure_module.redact_audit_entries

    def killed(**kwargs: Any) -> int:
        raise SystemExit("killed")

    monkeypatch.setattr(erasure_module, "redact_audit_entries", killed)
    with pytest.raises(SystemExit):
        services.request_execute(request=request, actor=staff())
    request.refresh_from_db()
    assert request.executed_at is None and request.erasure_progress.count() == 9
    monkeypatch.setattr(erasure_module, "redact_audit_entries", real)

    services.request_execute(request=request, actor=staff())

    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED
    entry = AuditEntry.objects.get(object_type="support.note")
    assert entry.data == {"note": None, "method": "phone"}
    assert verify_chain().intact


def test_what_someone_elses_hold_keeps_is_named_kept_linked_and_erased_when_released(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    person = zoe()
    agent = colleague(person, name="Agent Held")
    line = PhoneLineFactory(account=person.account)
    held_ticket = TicketFactory(account=person.account, requester=colleague(person), subject="Dispute")
    on_ticket = RecordingFactory(call=CallFactory(line=line, end_user=person, ticket=held_ticket))
    with_agent = RecordingFactory(call=CallFactory(line=line, end_user=person, agent=agent))
    free = RecordingFactory(call=CallFactory(line=line, end_user=person))
    ticket_hold = holds.legal_hold_place(account=person.account, scope="ticket", ticket=held_ticket, reason="Dispute 12")
    agent_hold = holds.legal_hold_place(account=person.account, scope="person", person=agent, reason="HR case 3")
    request = make_request(person)

    preview = services.request_erasure_preview(request=request, actor=staff())
    with django_capture_on_commit_callbacks(execute=True):
        services.request_execute(request=request, actor=staff())

    kept = [item["description"] for source in preview.sources for item in source.retained if "hold" in item["description"]]
    assert any(f"hold #{ticket_hold.pk}" in text for text in kept) and any(f"hold #{agent_hold.pk}" in text for text in kept)
    assert not Recording.objects.filter(pk=free.pk).exists()
    assert set(Recording.objects.values_list("pk", flat=True)) == {on_ticket.pk, with_agent.pk}
    assert Call.objects.get(pk=on_ticket.call_id).from_number == "+442079460018"  # still findable
    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED and request.subject is not None
    named = [item for item in request.certificate["retained"] if item.get("hold")]
    assert {item["hold"] for item in named} == {ticket_hold.pk, agent_hold.pk}
    told = [message.body for message in mail.outbox if "erased" in message.subject]
    # Each hold's keep is said with its category, and that it goes when the hold ends (no internal hold number).
    assert told[0].count("kept under a legal hold") == 2 and "erased when the hold ends" in told[0]

    erasures_resume()  # nothing released yet: nothing happens
    assert Recording.objects.count() == 2
    holds.legal_hold_release(hold_id=ticket_hold.pk)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("resume_erasures", verbosity=0)

    assert set(Recording.objects.values_list("pk", flat=True)) == {with_agent.pk}
    request.refresh_from_db()
    assert [addendum["holds"] for addendum in request.certificate["addenda"]] == [[ticket_hold.pk]]
    assert request.held[0]["hold"] == agent_hold.pk and request.subject is not None

    holds.legal_hold_release(hold_id=agent_hold.pk)
    with django_capture_on_commit_callbacks(execute=True):
        erasures_resume()

    request.refresh_from_db()
    assert not Recording.objects.exists() and request.held == [] and request.subject is None
    assert Call.objects.filter(from_number="+442079460018").count() == 0
    assert len(request.certificate["addenda"]) == 2 and request.status == Request.Status.COMPLETED
    assert request.events.filter(message__startswith=f"Legal hold #{agent_hold.pk} released").exists()
    officer = Client()
    officer.force_login(staff("officer"))
    page = officer.get(f"/admin/dsar/request/{request.pk}/change/").content.decode()
    assert "Addenda: erased when a legal hold ended" in page and f"#{agent_hold.pk}" in page
    assert len([message for message in mail.outbox if "rest of your personal data" in message.subject]) == 2
    assert verify_chain().intact


def test_a_barging_supervisor_is_on_the_call_and_the_erasure_resumes_once_it_ends() -> None:
    person = zoe()
    live = CallFactory(line=PhoneLineFactory(account=person.account), ended=None, from_number="+442079460099")
    barging = MonitoringEntryFactory(call=live, supervisor=person, mode=MonitoringEntry.Mode.BARGE, ended=None)
    request = make_request(person)

    outcome = services.request_execute(request=request, actor=staff())
    erasures_resume()
    erasures_resume()

    request.refresh_from_db()
    assert outcome.blocked and "on a call" in outcome.blocked[0]
    assert request.status == Request.Status.WAITING
    assert request.events.filter(kind=RequestEvent.Kind.BLOCKED).count() == 1  # said once, not at every run

    now = timezone.now()
    Call.objects.filter(pk=live.pk).update(ended=now)
    MonitoringEntry.objects.filter(pk=barging.pk).update(ended=now)
    summary = erasures_resume()

    request.refresh_from_db()
    assert summary.resumed == [request.pk]
    assert request.status == Request.Status.COMPLETED
    assert request.events.filter(message__contains="it resumes by itself").exists()


def test_an_export_queued_for_her_address_is_cancelled_and_never_mailed() -> None:
    person = zoe()
    export = HistoryExport.objects.create(
        account=person.account, kind=HistoryExport.Kind.CALL_HISTORY, start=timezone.localdate() - timedelta(days=3),
        end=timezone.localdate(), email="Zoe+Exports@example.com",
    )
    request = make_request(person)

    services.request_execute(request=request, actor=staff())
    history_export_run(export_id=export.pk)

    export.refresh_from_db()
    assert export.status == HistoryExport.Status.CANCELLED and export.email == "[redacted]"
    assert not [message for message in mail.outbox if "ready to download" in message.subject]
    assert request.events.filter(message__contains="not yet mailed to the person's address were cancelled").exists()


def test_a_person_with_no_email_gets_a_note_that_they_could_not_be_told() -> None:
    person = PersonFactory(name="Per Telefon", email="", phone="+46705550199")
    request = make_request(person)

    services.request_execute(request=request, actor=staff())

    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED
    assert request.events.filter(message__contains="could not be told").exists()
    assert not [message for message in mail.outbox if "erased" in message.subject]


def test_the_preview_counts_only_what_names_her_not_what_the_database_lets_through() -> None:
    person = zoe()
    other = colleague(person)
    TicketFactory(account=person.account, requester=other, subject="Refund", description="Ask zoe+orders@example.com")
    TicketFactory(account=person.account, requester=other, subject="Refund", description="Ask jimzoe@example.com")
    TextMessageFactory(line=PhoneLineFactory(account=person.account), person=None, from_number="+442079460099", body="cc xzoe@example.com")

    preview = services.erasure_preview(subject=services.request_subject(make_request(person)))

    assert preview.totals.get("ticket") == 1 and "text-history" not in preview.totals


def test_a_kill_while_a_released_hold_is_erased_leaves_it_whole_for_the_next_run(monkeypatch: Any) -> None:
    person = zoe()
    agent = colleague(person, name="Agent Held")
    held = RecordingFactory(call=CallFactory(line=PhoneLineFactory(account=person.account), end_user=person, agent=agent))
    hold = holds.legal_hold_place(account=person.account, scope="person", person=agent, reason="HR case 4")
    request = make_request(person)
    services.request_execute(request=request, actor=staff())
    holds.legal_hold_release(hold_id=hold.pk)
    real = erasure_module.redact_audit_entries

    def killed(**kwargs: Any) -> int:
        raise SystemExit("killed")

    monkeypatch.setattr(erasure_module, "redact_audit_entries", killed)
    with pytest.raises(SystemExit):
        erasures_resume()
    request.refresh_from_db()
    assert Recording.objects.filter(pk=held.pk).exists() and request.held[0]["hold"] == hold.pk
    monkeypatch.setattr(erasure_module, "redact_audit_entries", real)

    erasures_resume()
    erasures_resume()

    request.refresh_from_db()
    assert not Recording.objects.filter(pk=held.pk).exists()
    assert [addendum["counts"]["call-recording"] for addendum in request.certificate["addenda"]] == [1]
    assert request.events.filter(message__startswith=f"Legal hold #{hold.pk} released").count() == 1
    assert verify_chain().intact
