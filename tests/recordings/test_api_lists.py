"""Lists an integration pages through: account-scoped, newest first, filtered, cursor-paginated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from recordings.models import Call
from tests.factories import UserFactory, api_key_for
from tests.recordings.factories import (
    CallFactory,
    MonitoringEntryFactory,
    PhoneLineFactory,
    RecordingFactory,
    TextMessageFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def client_for(account: Any, scopes: list[str] | None = None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(account, scopes=scopes)}")
    return client


def every_page(client: APIClient, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while url:
        body = client.get(url).json()
        rows += body["results"]
        url = body["next"]
    return rows


@pytest.fixture
def calls() -> tuple[Any, list[Call]]:
    line = PhoneLineFactory()
    other_line = PhoneLineFactory(account=line.account)
    made = [
        CallFactory(line=line if index % 2 else other_line, started=NOW - timedelta(hours=index))
        for index in range(25)
    ]
    CallFactory()  # another account's
    return line, made


def test_paging_through_the_calls_gives_each_once_newest_first_and_only_the_accounts(calls: Any) -> None:
    line, made = calls

    rows = every_page(client_for(line.account), "/api/v1/calls/?page_size=7")

    assert [row["id"] for row in rows] == [call.pk for call in sorted(made, key=lambda c: c.started, reverse=True)]


def test_calls_are_filtered_by_time_line_and_person(calls: Any) -> None:
    line, made = calls
    client = client_for(line.account)
    since = (NOW - timedelta(hours=10, minutes=30)).isoformat()
    until = (NOW - timedelta(hours=2, minutes=30)).isoformat()

    in_window = every_page(client, f"/api/v1/calls/?since={since}&until={until}".replace("+", "%2B"))
    on_line = every_page(client, f"/api/v1/calls/?line={line.pk}")
    of_person = every_page(client, f"/api/v1/calls/?person={made[3].end_user_id}")

    assert [row["id"] for row in in_window] == [call.pk for call in made[3:11]]
    assert {row["line"] for row in on_line} == {line.pk} and len(on_line) == 12
    assert [row["id"] for row in of_person] == [made[3].pk]


@pytest.mark.parametrize(("query", "field"), [("since=yesterday", "since"), ("line=x", "line"), ("page_size=0", None)])
def test_bad_filters_name_the_field(calls: Any, query: str, field: str | None) -> None:
    line, _ = calls

    response = client_for(line.account).get(f"/api/v1/calls/?{query}")

    if field is None:
        assert response.status_code == 200  # a page size out of range falls back to the default
    else:
        assert response.status_code == 400 and field in str(response.json())


def test_a_page_costs_the_same_queries_whatever_its_size(calls: Any) -> None:
    line, _ = calls
    client = client_for(line.account)

    def queries(size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get(f"/api/v1/calls/?page_size={size}").json()["results"]) == size
        return len(captured.captured_queries)

    assert queries(3) == queries(20)
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/calls/?page_size=20")
    assert not any("COUNT(" in query["sql"].upper() or "OFFSET" in query["sql"].upper() for query in captured.captured_queries)


def test_each_list_answers_within_its_account_and_scope() -> None:
    line = PhoneLineFactory()
    account = line.account
    ticket = TicketFactory(account=account)
    recording = RecordingFactory(call=CallFactory(line=line, ticket=ticket), ticket=ticket)
    MonitoringEntryFactory(call=recording.call)
    TextMessageFactory(line=line)
    RecordingFactory()  # elsewhere
    everything = client_for(account)
    reader = client_for(account, scopes=["recordings:read"])

    counts = {path: len(every_page(everything, f"/api/v1/{path}/")) for path in ("calls", "recordings", "tickets", "monitoring", "texts")}

    assert counts == {"calls": 1, "recordings": 1, "tickets": 1, "monitoring": 1, "texts": 1}
    assert reader.get("/api/v1/recordings/").status_code == 200
    assert reader.get("/api/v1/calls/").status_code == 403 and "history:read" in reader.get("/api/v1/calls/").json()["errors"][0]["detail"]


def test_staff_see_every_account_or_one() -> None:
    first, second = CallFactory(), CallFactory()
    staff = APIClient()
    staff.force_login(UserFactory(username="dpo"))

    assert {row["id"] for row in every_page(staff, "/api/v1/calls/")} >= {first.pk, second.pk}
    assert [row["id"] for row in every_page(staff, f"/api/v1/calls/?account={first.account_id}")] == [first.pk]
    assert staff.get("/api/v1/calls/?account=x").status_code == 400


def test_list_rows_are_what_drfs_fields_would_write(settings: Any) -> None:
    from recordings.api.lists import CallListOutput

    settings.TIME_ZONE = "Europe/Stockholm"
    call = CallFactory(started=NOW.replace(microsecond=123), ended=None)

    class Plain(CallListOutput):
        to_representation = CallListOutput.__mro__[2].to_representation  # DRF's own

    row = Call.objects.values(*CallListOutput.columns()).get(pk=call.pk)
    assert CallListOutput(row).data == Plain(call).data
