from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from rest_framework.response import Response
from rest_framework.test import APIClient

from dsar.models import Person, Request, RequestEvent, VerificationCode
from residency.models import Account, CatalogLoad
from tests.dsar.factories import (
    CaptureOnCommit,
    FakeSource,
    PersonFactory,
    UseSources,
    make_request,
)
from tests.factories import AccountFactory, UserFactory, api_key_for

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db
URL = "/api/v1/dsar/requests/"


@pytest.fixture
def staff_client() -> APIClient:
    client = APIClient()
    client.force_login(UserFactory(username="dpo"))
    return client


def key_client(account: Account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(account)}")
    return client


def error_attrs(response: Response) -> set[str]:
    return {error["attr"] for error in response.json()["errors"]}


@time_machine.travel(dt.datetime(2026, 2, 2, 12, tzinfo=UTC), tick=False)
def test_an_integration_opens_a_request_for_its_account(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    account = AccountFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = key_client(account).post(
            URL,
            {
                "type": "erasure",
                "jurisdiction": "gdpr",
                "email": "new.person@example.org",
                "name": "New Person",
                "received_at": "2026-01-31T10:00:00Z",
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "status", "due_at", "due_note"}
    # One month is Saturday 28 February; GDPR moves it to the next working day, and says why.
    assert body["status"] == "verifying" and body["due_at"] == "2026-03-02"
    assert body["due_note"] == "due Mon 2 Mar 2026: 28 Feb–1 Mar 2026 are a weekend"
    request = Request.objects.get(pk=body["id"])
    assert request.account == account and request.person.email == "new.person@example.org"
    assert mail.outbox[-1].to == ["new.person@example.org"]
    assert request.history.first().history_origin == "api"


def test_intake_matches_an_existing_person_by_phone(staff_client: APIClient) -> None:
    person = PersonFactory(phone="+46705550444", email="")
    response = staff_client.post(
        URL,
        {"type": "access", "jurisdiction": "uk-gdpr", "phone": "+46705550444", "account": person.account_id},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Request.objects.get(pk=response.json()["id"]).person == person
    assert response.json()["status"] == "received"  # no email on record: staff verify manually
    assert Person.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "deletion"}, "type"),
        ({"jurisdiction": "mars"}, "jurisdiction"),
        ({"received_at": "31/01/2026"}, "received_at"),
        ({"received_at": "2999-01-01T00:00:00Z"}, "received_at"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "", "phone": ""}, "email"),
        ({"email": "", "phone": "0705550444"}, "phone"),
    ],
)
def test_bad_intake_answers_400_naming_the_field_and_writes_nothing(payload: dict, field: str) -> None:
    account = AccountFactory()
    body = {"type": "access", "jurisdiction": "gdpr", "email": "someone@example.org", **payload}
    response = key_client(account).post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in error_attrs(response)
    assert not Request.objects.exists() and not Person.objects.exists()


def test_staff_must_name_the_account_and_a_key_cannot_name_another(staff_client: APIClient) -> None:
    response = staff_client.post(
        URL, {"type": "access", "jurisdiction": "gdpr", "email": "a@example.org"}, format="json"
    )
    assert response.status_code == 400 and error_attrs(response) == {"account"}
    other = AccountFactory()
    response = key_client(AccountFactory()).post(
        URL, {"type": "access", "jurisdiction": "gdpr", "email": "a@example.org", "account": other.pk}, format="json"
    )
    assert response.status_code == 400 and error_attrs(response) == {"account"}


def test_a_key_sees_only_its_own_accounts_requests() -> None:
    mine = make_request()
    theirs = make_request()
    client = key_client(mine.account)
    assert [row["id"] for row in client.get(URL).json()["results"]] == [mine.pk]
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.post(f"{URL}{theirs.pk}/execute/").status_code == 404
    assert client.get(f"{URL}{theirs.pk}/report/").status_code == 404


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False)
def test_the_list_filters_overdue_and_due_soon_and_the_detail_has_timeline_and_days_left(
    staff_client: APIClient,
) -> None:
    overdue = make_request(received_at=dt.datetime(2026, 2, 1, 9, tzinfo=UTC), type="access")
    soon = make_request(received_at=dt.datetime(2026, 2, 12, 9, tzinfo=UTC), jurisdiction="uk-gdpr")
    assert [row["id"] for row in staff_client.get(URL, {"overdue": "true"}).json()["results"]] == [overdue.pk]
    assert [row["id"] for row in staff_client.get(URL, {"due_within": 7}).json()["results"]] == [soon.pk]
    assert [row["id"] for row in staff_client.get(URL, {"jurisdiction": "uk-gdpr"}).json()["results"]] == [soon.pk]
    assert [row["id"] for row in staff_client.get(URL, {"type": "access"}).json()["results"]] == [overdue.pk]
    detail = staff_client.get(f"{URL}{overdue.pk}/").json()
    # Due Sunday 1 March, moved to Monday 2 March (GDPR: the next working day).
    assert detail["days_left"] == -8 and detail["overdue"] is True
    assert detail["due_at"] == "2026-03-02" and detail["due_note"] == "due Mon 2 Mar 2026: 1 Mar 2026 is a Sunday"
    assert [event["kind"] for event in detail["timeline"]] == ["received", "code_sent", "verified"]


def test_the_person_verifies_with_their_code_and_a_wrong_code_stays_counted(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    account = AccountFactory()
    client = key_client(account)
    with django_capture_on_commit_callbacks(execute=True):
        request_id = client.post(
            URL, {"type": "access", "jurisdiction": "gdpr", "email": "p@example.org"}, format="json"
        ).json()["id"]
    code = re.search(r"Your code is (\d{6})", mail.outbox[-1].body).group(1)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(f"{URL}{request_id}/verify/", {"code": wrong}, format="json")
    assert response.status_code == 400 and error_attrs(response) == {"code"}
    assert VerificationCode.objects.get(request_id=request_id).attempts == 1
    response = client.post(f"{URL}{request_id}/verify/", {"code": code}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress" and response.json()["verification_method"] == "code"


def test_manual_verification_is_for_staff_only(staff_client: APIClient) -> None:
    request = make_request(verified=False)
    response = key_client(request.account).post(
        f"{URL}{request.pk}/verify/", {"method": "manual", "note": "Trust me."}, format="json"
    )
    assert response.status_code == 403
    response = staff_client.post(f"{URL}{request.pk}/verify/", {"method": "manual", "note": ""}, format="json")
    assert response.status_code == 400 and error_attrs(response) == {"note"}
    response = staff_client.post(
        f"{URL}{request.pk}/verify/", {"method": "manual", "note": "ID checked on a call."}, format="json"
    )
    assert response.status_code == 200 and response.json()["verification_method"] == "manual"


@time_machine.travel(dt.datetime(2026, 2, 10, 9, tzinfo=UTC), tick=False)
def test_extend_through_the_api(staff_client: APIClient) -> None:
    request = make_request(received_at=dt.datetime(2026, 1, 31, 9, tzinfo=UTC))
    response = staff_client.post(f"{URL}{request.pk}/extend/", {"reason": ""}, format="json")
    assert response.status_code == 400 and error_attrs(response) == {"reason"}
    response = staff_client.post(f"{URL}{request.pk}/extend/", {"reason": "Many products involved."}, format="json")
    assert response.status_code == 200 and response.json()["due_at"] == "2026-04-30"


def test_preview_then_execute_an_erasure(staff_client: APIClient, use_sources: UseSources) -> None:
    use_sources(FakeSource("recordings"))
    request = make_request()
    preview = staff_client.post(f"{URL}{request.pk}/erasure-preview/").json()
    assert preview["totals"] == {"ticket": 2, "call-data": 3, "requester": 1}
    response = staff_client.post(f"{URL}{request.pk}/execute/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["steps_run"] == 9 and body["scan"]["undeclared"] == 0
    assert staff_client.post(f"{URL}{request.pk}/execute/").json()["steps_run"] == 0


def test_a_blocked_erasure_answers_409_and_the_request_waits(staff_client: APIClient, use_sources: UseSources) -> None:
    use_sources(FakeSource("recordings", blockers=["The person is on an active call."]))
    request = make_request()
    response = staff_client.post(f"{URL}{request.pk}/execute/")
    assert response.status_code == 409
    assert response.json()["blockers"] == ["The person is on an active call."]
    request.refresh_from_db()
    assert request.status == "waiting"


def test_execute_before_verification_is_refused(staff_client: APIClient) -> None:
    request = make_request(verified=False)
    response = staff_client.post(f"{URL}{request.pk}/execute/")
    assert response.status_code == 400 and error_attrs(response) == {"status"}


def test_the_report_is_served_as_json(staff_client: APIClient) -> None:
    request = make_request(type="access")
    body = staff_client.get(f"{URL}{request.pk}/report/").json()
    assert body["request"] == request.pk
    assert body["categories"][0]["slug"] == "requester"


def test_the_access_report_names_its_catalog_version_and_can_be_produced_as_of_a_past_date(staff_client: APIClient) -> None:
    request = make_request(type="access")
    version = CatalogLoad.objects.latest().version

    body = staff_client.get(f"{URL}{request.pk}/report/").json()
    assert (body["catalog_version"], body["as_of"]) == (version, None)
    today = dt.date.today().isoformat()
    past = staff_client.get(f"{URL}{request.pk}/report/", {"as_of": today}).json()
    assert past["as_of"].startswith(today) and past["catalog_version"] == version
    bad = staff_client.get(f"{URL}{request.pk}/report/", {"as_of": "2001-01-01"})
    assert bad.status_code == 400 and error_attrs(bad) == {"as_of"}

    assert staff_client.post(f"{URL}{request.pk}/execute/").status_code in (200, 202)
    event = RequestEvent.objects.filter(request=request, kind=RequestEvent.Kind.REPORT).get()
    assert f"residency from catalog {version}" in event.message


def test_listing_requests_runs_the_same_queries_for_many_requests(staff_client: APIClient) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_request()
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(URL).status_code == 200
    for _ in range(5):
        make_request()
    with CaptureQueriesContext(connection) as many:
        assert len(staff_client.get(URL).json()["results"]) == 6
    assert len(many) == len(few)


def test_paging_through_requests_gives_each_once_soonest_deadline_first_without_counting(
    staff_client: APIClient,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    made = [
        make_request(received_at=dt.datetime(2026, 1, 1 + index % 9, tzinfo=UTC), verified=False) for index in range(23)
    ]
    rows, url = [], f"{URL}?page_size=5"
    with CaptureQueriesContext(connection) as queries:
        while url:
            body = staff_client.get(url).json()
            assert "count" not in body
            rows += body["results"]
            url = body["next"]

    expected = sorted(made, key=lambda request: (request.due_at, request.pk))
    assert [row["id"] for row in rows] == [request.pk for request in expected]
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


def test_the_schema_documents_the_dsar_endpoints(staff_client: APIClient) -> None:
    paths = staff_client.get("/api/schema/", {"format": "json"}).json()["paths"]
    for path in ("/requests/", "/requests/{id}/verify/", "/requests/{id}/execute/", "/requests/{id}/report/"):
        assert any(key.endswith(f"/dsar{path}") for key in paths), path


# --- rejecting ---


def test_a_key_rejects_its_accounts_request_with_a_denial_reason_and_the_person_is_told(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    request = make_request(type="access")
    with django_capture_on_commit_callbacks(execute=True):
        response = key_client(request.account).post(
            f"{URL}{request.pk}/reject/",
            {"denial_reason": "insuf_verification", "reason": "The code was never entered."},
            format="json",
        )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "rejected" and response.json()["denial_reason"] == "insuf_verification"
    request.refresh_from_db()
    assert (request.denial_reason, request.status_reason) == ("insuf_verification", "The code was never entered.")
    assert "We could not confirm that you are the person" in mail.outbox[-1].body
    assert request.history.first().history_origin == "api"


@pytest.mark.parametrize(
    "body",
    [{"reason": "Unfounded."}, {"reason": "Unfounded.", "denial_reason": "bored"}, {"reason": "x", "denial_reason": ""}],
)
def test_a_rejection_without_a_known_denial_reason_is_refused_naming_the_field(
    staff_client: APIClient, body: dict[str, str]
) -> None:
    request = make_request(type="access")
    response = staff_client.post(f"{URL}{request.pk}/reject/", body, format="json")
    assert response.status_code == 400 and error_attrs(response) == {"denial_reason"}
    request.refresh_from_db()
    assert request.status != Request.Status.REJECTED


def test_a_rejection_without_words_is_refused_naming_reason(staff_client: APIClient) -> None:
    request = make_request(type="access")
    response = staff_client.post(f"{URL}{request.pk}/reject/", {"denial_reason": "other", "reason": " "}, format="json")
    assert response.status_code == 400 and error_attrs(response) == {"reason"}


def test_another_accounts_key_cannot_reject(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    request = make_request(type="access")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = key_client(AccountFactory()).post(
            f"{URL}{request.pk}/reject/", {"denial_reason": "no_match", "reason": "Not ours."}, format="json"
        )
    assert response.status_code == 404
    request.refresh_from_db()
    assert request.status != Request.Status.REJECTED and not mail.outbox


def test_a_closed_request_is_not_rejected_again(staff_client: APIClient) -> None:
    request = make_request(type="access")
    body = {"denial_reason": "no_match", "reason": "Not ours."}
    assert staff_client.post(f"{URL}{request.pk}/reject/", body, format="json").status_code == 200
    again = staff_client.post(f"{URL}{request.pk}/reject/", {**body, "denial_reason": "other"}, format="json")
    assert again.status_code == 400 and error_attrs(again) == {"status"}
    request.refresh_from_db()
    assert request.denial_reason == "no_match"


def test_an_integration_files_a_test_request_and_reads_the_flag(staff_client: APIClient) -> None:
    account = AccountFactory()
    body = {"type": "access", "jurisdiction": "gdpr", "email": "try@example.org"}
    test = key_client(account).post(URL, {**body, "is_test": True}, format="json")
    real = key_client(account).post(URL, body, format="json")
    assert test.status_code == real.status_code == 201
    assert Request.objects.get(pk=test.json()["id"]).is_test is True
    assert Request.objects.get(pk=real.json()["id"]).is_test is False
    shown = {row["id"]: row["is_test"] for row in key_client(account).get(URL).json()["results"]}
    assert shown == {test.json()["id"]: True, real.json()["id"]: False}
    refused = key_client(account).post(URL, {**body, "is_test": "maybe"}, format="json")
    assert refused.status_code == 400 and error_attrs(refused) == {"is_test"}
