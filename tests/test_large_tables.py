"""The console's large tables: one page costs the same queries at any page size (no query per row), the
count is bounded (never a COUNT of the whole table), and past the cap the page says so."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.admin import CappedCountPaginator
from core.models import AuditEntry
from dsar.models import Person
from recordings.models import (
    AnalyticsRow,
    Call,
    MonitoringEntry,
    Recording,
    RecordingDeletion,
    TextMessage,
    Ticket,
)
from tests.factories import UserFactory
from tests.recordings.factories import (
    AnalyticsRowFactory,
    MonitoringEntryFactory,
    PhoneLineFactory,
    RecordingFactory,
    TextMessageFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db
LARGE = [Call, Recording, MonitoringEntry, TextMessage, AnalyticsRow, Ticket, RecordingDeletion, AuditEntry]


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(UserFactory(username="dpo"))
    return client


def fill(rows: int) -> None:
    from recordings import services

    line = PhoneLineFactory()
    account = line.account
    for index in range(rows):
        person = Person.objects.create(account=account, name=f"Caller {index}", phone=f"+4670555{index:04d}")
        ticket = TicketFactory(account=account, requester=person)
        recording = RecordingFactory(call__line=line, call__end_user=person, call__ticket=ticket, ticket=ticket)
        MonitoringEntryFactory(call=recording.call)
        TextMessageFactory(line=line, person=person)
        AnalyticsRowFactory(call=recording.call)
    for recording in Recording.objects.all()[: rows // 2]:
        services.recording_delete(recording_id=recording.pk)


def queries_for(console: Client, model: type, per_page: int, monkeypatch: Any) -> list[str]:
    model_admin = admin.site._registry[model]
    monkeypatch.setattr(model_admin, "list_per_page", per_page)
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    with CaptureQueriesContext(connection) as queries:
        response = console.get(url)
    assert response.status_code == 200, url
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("model", LARGE, ids=lambda model: model.__name__)
def test_a_page_costs_the_same_queries_at_any_size_and_never_counts_the_whole_table(
    console: Client, model: type, monkeypatch: Any
) -> None:
    fill(12)

    small = queries_for(console, model, 3, monkeypatch)
    large = queries_for(console, model, 10, monkeypatch)

    assert len(small) == len(large)
    table = model._meta.db_table
    counts = [sql for sql in large if "COUNT(" in sql.upper() and f'"{table}"' in sql]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts


def test_past_the_cap_the_page_says_more_than(console: Client, monkeypatch: Any) -> None:
    monkeypatch.setattr(CappedCountPaginator, "CAP", 5)
    line = PhoneLineFactory()
    for _ in range(7):
        TextMessageFactory(line=line)

    page = console.get("/admin/recordings/textmessage/").content.decode()

    assert "more than 5 text history" in page
