"""The telephony guide's erasure rules, as the `recordings` data source runs them for dsar."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from core.audit import Action
from core.models import AuditEntry
from dsar import services
from dsar.sources import DataSource, ErasureStep, Subject, registered_sources
from recordings import holds
from recordings.models import (
    AnalyticsRow,
    Call,
    LegalHold,
    MonitoringEntry,
    ProviderDeletion,
    Recording,
    RecordingDeletion,
    TextMessage,
    Ticket,
)
from recordings.sources import RecordingsSource
from tests.dsar.factories import make_request, staff
from tests.recordings.factories import (
    AnalyticsRowFactory,
    CallFactory,
    LegalHoldFactory,
    MonitoringEntryFactory,
    PersonFactory,
    PhoneLineFactory,
    RecordingFactory,
    TextMessageFactory,
    TicketFactory,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=dt_timezone.utc)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def world() -> dict[str, Any]:
    line = PhoneLineFactory(auto_delete_days=None)
    account = line.account
    person = PersonFactory(account=account, name="Jane Roe", email="jane@example.org", phone="+46701111111")
    other = PersonFactory(account=account, name="Other Caller", phone="+46702222222")
    ticket = TicketFactory(
        account=account, requester=person, subject="Jane Roe called from +46701111111",
        description="Reach Jane at jane@example.org or +46701111111.",
    )
    call_on_ticket = CallFactory(line=line, end_user=person, ticket=ticket)
    ticket_recording = RecordingFactory(call=call_on_ticket)
    plain_call = CallFactory(line=line, end_user=person)
    call_recording = RecordingFactory(call=plain_call)
    voicemail = RecordingFactory(call=CallFactory(line=line, end_user=None, from_number=person.phone), kind="voicemail")
    ivr_call = CallFactory(line=line, end_user=person, ivr_external=True)
    transfer_call = CallFactory(line=line, end_user=person, transferred_external=True)
    others_call = CallFactory(line=line, end_user=other)
    return {
        "account": account,
        "person": person,
        "subject": Subject(person_id=person.pk, account_id=account.pk, name=person.name, email=person.email, phone=person.phone),
        "ticket": ticket,
        "ticket_recording": ticket_recording,
        "call_recording": call_recording,
        "voicemail": voicemail,
        "others_recording": RecordingFactory(call=others_call),
        "monitoring": MonitoringEntryFactory(call=plain_call),
        "text": TextMessageFactory(line=line, person=person),
        "plain_analytics": AnalyticsRowFactory(call=plain_call),
        "ivr_analytics": AnalyticsRowFactory(call=ivr_call),
        "transfer_analytics": AnalyticsRowFactory(call=transfer_call),
        "others_analytics": AnalyticsRowFactory(call=others_call),
        "others_call": others_call,
    }


def test_the_source_is_registered_under_its_key() -> None:
    sources = {source.key: source for source in registered_sources()}

    assert isinstance(sources["recordings"], RecordingsSource)
    assert isinstance(sources["recordings"], DataSource)


def test_it_locates_the_persons_records(world: dict[str, Any]) -> None:
    counts = RecordingsSource().locate(world["subject"])

    assert counts["call-recording"] == 3
    assert counts["ticket"] == 1
    assert counts["text-history"] == 1
    assert counts["call-analytics"] == 3


def test_step_one_redacts_their_tickets_and_deletes_the_recordings_on_them(world: dict[str, Any]) -> None:
    counts = RecordingsSource().erase(world["subject"], ErasureStep.TICKETS)

    ticket = Ticket.objects.get(pk=world["ticket"].pk)
    assert ticket.subject == "[redacted] called from [redacted]"
    assert ticket.description == "Reach [redacted] at [redacted] or [redacted]."
    assert not Recording.objects.filter(pk=world["ticket_recording"].pk).exists()
    assert Recording.objects.filter(pk=world["call_recording"].pk).exists()
    assert counts == {"ticket": 1, "call-recording": 1}
    entry = RecordingDeletion.objects.get()
    assert entry.deletion_reason == "erasure"
    assert entry.ticket_id == world["ticket"].pk


def test_step_two_removes_their_number_recordings_and_analytics_but_keeps_external_call_numbers(world: dict[str, Any]) -> None:
    source = RecordingsSource()
    source.erase(world["subject"], ErasureStep.TICKETS)

    source.erase(world["subject"], ErasureStep.RECORDS)

    phone, pid = world["person"].phone, world["person"].pk
    assert not Call.objects.filter(from_number=phone).exists()
    assert not Call.objects.filter(end_user_id=pid).exists()
    assert not MonitoringEntry.objects.filter(caller_number=phone).exists()
    assert not TextMessage.objects.filter(from_number=phone).exists()
    assert TextMessage.objects.get(pk=world["text"].pk).body == ""
    assert set(Recording.objects.values_list("pk", flat=True)) == {world["others_recording"].pk}
    assert ProviderDeletion.objects.count() == 3
    assert not AnalyticsRow.objects.filter(pk=world["plain_analytics"].pk).exists()
    kept = AnalyticsRow.objects.filter(pk__in=[world["ivr_analytics"].pk, world["transfer_analytics"].pk])
    assert [(row.phone_number, row.person_id) for row in kept] == [(phone, None), (phone, None)]
    others = AnalyticsRow.objects.get(pk=world["others_analytics"].pk)
    assert others.person_id is not None and others.phone_number == "+46702222222"
    assert Call.objects.get(pk=world["others_call"].pk).end_user_id is not None


def test_it_declares_the_kept_numbers(world: dict[str, Any]) -> None:
    source = RecordingsSource()
    source.erase(world["subject"], ErasureStep.RECORDS)

    retained = source.retained(world["subject"])

    assert retained[0].count == 2
    assert "recordings_analyticsrow.phone_number" in retained[0].locations


def test_step_three_scrubs_the_history_tables(world: dict[str, Any]) -> None:
    source = RecordingsSource()
    subject = world["subject"]
    for step in ErasureStep:
        source.erase(subject, step)
    world["person"].delete()  # dsar's own source, at the end of step 2

    needles = [subject.phone, subject.email, subject.name]
    for model in (Ticket, Call, MonitoringEntry, TextMessage):
        history = model.history.model.objects.all()
        for row in history:
            text = " ".join(str(getattr(row, f.attname)) for f in model.history.model._meta.concrete_fields)
            assert not any(needle in text for needle in needles), (model.__name__, row.history_id)
        assert not history.filter(**{next(f for f in ("requester_id", "end_user_id", "supervisor_id", "person_id") if hasattr(model.history.model, f)): subject.person_id}).exists()
    analytics_history = AnalyticsRow.history.model.objects.filter(phone_number=subject.phone)
    assert {row.id for row in analytics_history} <= {world["ivr_analytics"].pk, world["transfer_analytics"].pk}
    assert not AnalyticsRow.history.model.objects.filter(person_id=subject.person_id).exists()


def test_every_step_run_again_changes_nothing_more(world: dict[str, Any]) -> None:
    source = RecordingsSource()
    subject = world["subject"]
    for step in ErasureStep:
        source.erase(subject, step)

    again = {step: source.erase(subject, step) for step in ErasureStep}

    assert all(not any(counts.values()) for counts in again.values()), again
    assert ProviderDeletion.objects.count() == 3
    assert RecordingDeletion.objects.count() == 3


def test_a_call_in_progress_blocks_the_erasure_saying_so(world: dict[str, Any]) -> None:
    CallFactory(line__account=world["account"], end_user=world["person"], ended=None)

    blockers = RecordingsSource().blockers(world["subject"])

    assert len(blockers) == 1
    assert "on a call right now" in blockers[0]


def test_a_legal_hold_on_the_person_blocks_the_erasure_naming_it(world: dict[str, Any]) -> None:
    hold = LegalHoldFactory(account=world["account"], scope=LegalHold.Scope.PERSON, person=world["person"], reason="Court order")

    blockers = RecordingsSource().blockers(world["subject"])

    assert blockers == [f"Telephony records are under legal hold #{hold.pk} on person {world['person'].pk} (Court order), placed by dpo."]


def test_held_recordings_are_never_deleted_by_the_erasure(world: dict[str, Any]) -> None:
    LegalHoldFactory(account=world["account"], scope=LegalHold.Scope.TICKET, ticket=world["ticket"])

    RecordingsSource().erase(world["subject"], ErasureStep.TICKETS)

    assert Recording.objects.filter(pk=world["ticket_recording"].pk).exists()


def test_no_blockers_once_the_calls_have_ended(world: dict[str, Any]) -> None:
    assert RecordingsSource().blockers(world["subject"]) == []


def test_the_export_holds_the_persons_rows(world: dict[str, Any]) -> None:
    exported = {category: list(rows) for category, rows in RecordingsSource().export(world["subject"]).items()}

    assert len(exported["call-recording"]) == 3
    assert exported["text-history"][0]["body"] == "Hello, please call me back."


def test_a_full_erasure_leaves_the_audit_log_verifying_and_names_the_request_in_each_scrub(world: dict[str, Any]) -> None:
    person = world["person"]
    hold = holds.legal_hold_place(account=world["account"], scope="person", person=person, reason="Dispute 12")
    holds.legal_hold_release(hold_id=hold.pk)
    line = PhoneLineFactory(account=world["account"], name="Jane Roe direct")
    line.name = "Support direct"  # its history still names her
    line.save()
    request = make_request(person)

    services.request_execute(request=request, actor=staff())

    request.refresh_from_db()
    assert request.status == "completed", request.status_reason
    scrubbed = AuditEntry.objects.filter(action=Action.ROWS_SCRUBBED)
    tables = {entry.data["table"] for entry in scrubbed}
    assert {"recordings_historicallegalhold", "recordings_historicalphoneline", "dsar_historicalperson"} <= tables
    assert {entry.data["request"] for entry in scrubbed} == {request.pk}
    assert not LegalHold.history.filter(person_id=person.pk).exists()
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    assert "Sealed tables intact" in out.getvalue()


def test_an_erasures_deletions_and_changes_are_attributed_to_the_officer_who_ran_it_naming_the_request(
    world: dict[str, Any],
) -> None:
    request = make_request(world["person"])
    officer = staff("olga")

    services.request_execute(request=request, actor=officer)

    deletions = RecordingDeletion.objects.all()
    assert deletions.count() == 3
    assert {(row.history_username, row.history_user_id) for row in deletions} == {("olga", officer.pk)}
    assert all(row.deletion_detail.startswith(f"Erasure request #{request.pk} ") for row in deletions)
    ticket_change = Ticket.history.filter(id=world["ticket"].pk, history_type="~").latest("history_date")
    assert (ticket_change.history_username, ticket_change.history_user_id) == ("olga", officer.pk)
    assert f"erasure request #{request.pk}" in ticket_change.history_change_reason
    chained = AuditEntry.objects.filter(action=Action.RECORDING_DELETED)
    assert set(chained.values_list("actor", flat=True)) == {"olga"}


def test_the_deletion_log_links_each_erasures_deletion_to_its_request(world: dict[str, Any]) -> None:
    request = make_request(world["person"])
    officer = staff("olga")
    services.request_execute(request=request, actor=officer)
    client = Client()
    client.force_login(officer)

    page = client.get("/admin/recordings/recordingdeletion/").content.decode()

    assert page.count(f'<a href="/admin/dsar/request/{request.pk}/change/">request #{request.pk}</a>') == 3
