from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dsar import services
from dsar.models import RequestEvent
from dsar.scan import scan_for_subject
from dsar.sources import Retention, Subject
from residency.models import Account
from tests.dsar.factories import FakeSource, PersonFactory, UseSources, make_request

pytestmark = pytest.mark.django_db


def test_the_scan_finds_a_planted_leftover_and_names_where_it_is(settings: Any) -> None:
    settings.DSAR_ERASURE_FINALIZATION = "manual"  # kept open, so it can be scanned again
    person = PersonFactory(email="leftover@example.org")
    request = make_request(person)
    services.request_execute(request=request)
    # Someone pasted the person's address into an account's name: no source knows that table.
    Account.objects.filter(pk=person.account_id).update(name="Escalations for leftover@example.org")
    result = services.request_verify_erasure(request=request)
    assert result.undeclared == 1
    hit = next(hit for hit in result.hits if not hit.declared)
    assert (hit.table, hit.column, hit.identifier, hit.count) == ("residency_account", "name", "email", 1)
    request.refresh_from_db()
    assert request.scan["undeclared"] == 1
    assert request.events.filter(kind=RequestEvent.Kind.SCANNED, message__contains="1 undeclared").exists()


def test_the_scan_finds_zero_after_a_real_erasure() -> None:
    person = PersonFactory(name="Bartholomew Nyqvist", email="bart@example.org", phone="+46705550777")
    person.phone = "+46705550778"
    person.save()  # a second history row
    request = make_request(person)
    outcome = services.request_execute(request=request)
    assert outcome.scan is not None
    assert outcome.scan.hits == []
    assert outcome.scan.tables > 20  # history tables and every app's tables are scanned


def test_hits_where_a_source_declared_a_retention_are_not_leftovers(use_sources: UseSources) -> None:
    kept = Retention(
        data_category="call-data",
        description="An IVR-routed number, unlinked.",
        reason="Kept unlinked, telephony guide.",
        locations=("residency_account.name",),
    )
    use_sources(FakeSource("recordings", retained=[kept]))
    person = PersonFactory(phone="+46705550999")
    request = make_request(person)
    Account.objects.filter(pk=person.account_id).update(name="Line +46705550999")
    outcome = services.request_execute(request=request)
    assert outcome.scan.undeclared == 0
    assert outcome.scan.declared == 1
    assert outcome.scan.hits[0].reason == "Kept unlinked, telephony guide."


def test_the_scan_also_searches_json_columns_and_history_tables() -> None:
    person = PersonFactory(name="Åsa Ödegaard", email="asa@example.org")
    result = scan_for_subject(
        Subject(person_id=person.pk, account_id=person.account_id, name=person.name, email=person.email)
    )
    tables = {(hit.table, hit.identifier) for hit in result.hits}
    assert ("dsar_person", "email") in tables
    assert ("dsar_historicalperson", "name") in tables


def test_the_scan_runs_the_same_number_of_queries_whatever_the_amount_of_data() -> None:
    person = PersonFactory(email="count@example.org")
    subject = Subject(person_id=person.pk, account_id=person.account_id, email=person.email)
    with CaptureQueriesContext(connection) as few:
        scan_for_subject(subject)
    PersonFactory.create_batch(25, account=person.account)
    with CaptureQueriesContext(connection) as many:
        scan_for_subject(subject)
    assert len(many) == len(few)


def test_the_same_address_in_another_accounts_records_is_not_a_leftover() -> None:
    person = PersonFactory(email="shared@example.org", name="Sven Shared")
    PersonFactory(email="shared@example.org", name="Sven Shared")  # a customer of another account too
    request = make_request(person)
    outcome = services.request_execute(request=request)
    assert outcome.scan.undeclared == 0
