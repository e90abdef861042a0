"""An erasure's queries do not grow with the person's rows: the same at 2,000 and at 20,000 calls, recordings
and analytics rows (set-based updates, history and deletions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dsar import services
from recordings.models import AnalyticsRow, Call, MonitoringEntry, Recording, TextMessage
from tests.dsar.factories import make_request, staff
from tests.recordings.factories import PersonFactory, PhoneLineFactory

pytestmark = pytest.mark.django_db
# The verification scan reads each table once (about 75), and each phone column once; each sealed write (a timeline
# line, a request's history row, a scrub of sealed rows: about 30) adds five, to read it back, chain its seal and
# record it in the ledger: constants, not rates.
MAX_QUERIES = 600


def person_with(rows: int):  # type: ignore[no-untyped-def]
    person = PersonFactory(name="Vera Volume", email="vera@example.net", phone="+46705550900")
    line = PhoneLineFactory(account=person.account)
    started = timezone.now() - timedelta(days=3)
    calls = Call.objects.bulk_create(
        Call(account=person.account, line=line, end_user=person, direction="inbound", from_number=person.phone,
             to_number=line.number, started=started, ended=started + timedelta(minutes=1), duration_seconds=60,
             transferred_external=index % 50 == 0)
        for index in range(rows)
    )
    Recording.objects.bulk_create(
        Recording(account=person.account, line=line, call=call, provider_sid=f"REscale{call.pk:020d}", created_at=started)
        for call in calls
    )
    AnalyticsRow.objects.bulk_create(
        AnalyticsRow(account=person.account, call=call, person=person, phone_number=person.phone, started=started,
                     transferred_external=call.transferred_external)
        for call in calls
    )
    MonitoringEntry.objects.bulk_create(
        MonitoringEntry(account=person.account, call=call, caller_number=person.phone, mode="listen", started=started)
        for call in calls[::10]
    )
    TextMessage.objects.bulk_create(
        TextMessage(account=person.account, line=line, person=person, from_number=person.phone, to_number=line.number,
                    body="Call me back", sent_at=started)
        for _ in range(rows // 10)
    )
    return person


def erasure_queries(rows: int) -> int:
    person = person_with(rows)
    request = make_request(person)
    with CaptureQueriesContext(connection) as queries:
        services.request_execute(request=request, actor=staff())
    request.refresh_from_db()
    assert request.scan["undeclared"] == 0 and request.status == "completed"
    assert not Call.objects.filter(end_user=person.pk).exists() and not Recording.objects.filter(account=person.account).exists()
    kept = AnalyticsRow.objects.filter(account=person.account)
    assert kept.count() == len(range(0, rows, 50)) and not kept.filter(person__isnull=False).exists()
    return len(queries.captured_queries)


def test_an_erasure_makes_the_same_queries_for_2000_and_20000_rows() -> None:
    erasure_queries(20)  # first use: the audit chain's head row is created
    small = erasure_queries(2_000)

    large = erasure_queries(20_000)

    assert small == large <= MAX_QUERIES
