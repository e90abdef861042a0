"""API keys: scopes chosen at creation (the least by default), expiry, and request rates per key and user."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from core.models import ApiKey
from core.roles import default_scopes, scopes
from core.services import api_key_create
from dsar.models import Request
from tests.factories import AccountFactory, PersonFactory, UserFactory, api_key_for
from tests.recordings.factories import CallFactory, RecordingFactory, TicketFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=dt_timezone.utc)


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def key_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def refusal(response: Any) -> str:
    return response.json()["errors"][0]["detail"]


def test_a_new_key_gets_the_least_scopes_intake_and_reading() -> None:
    key, _ = api_key_create(account=AccountFactory(), name="intake form")

    assert sorted(key.scopes) == sorted(default_scopes())
    assert "requests:execute" not in key.scopes and "recordings:delete" not in key.scopes


def test_an_unknown_scope_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as error:
        api_key_create(account=AccountFactory(), name="x", scopes=["requests:everything"])

    assert "scopes" in error.value.message_dict


def test_an_intake_key_opens_requests_and_reads_them() -> None:
    person = PersonFactory()
    client = key_client(api_key_create(account=person.account, name="intake form")[1])

    created = client.post("/api/v1/dsar/requests/", {"type": "erasure", "jurisdiction": "gdpr", "email": person.email})
    listed = client.get("/api/v1/dsar/requests/")

    assert created.status_code == 201
    assert [row["id"] for row in listed.json()["results"]] == [created.json()["id"]]


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("post", "/api/v1/dsar/requests/{request}/execute/", "requests:execute"),
        ("get", "/api/v1/dsar/requests/{request}/erasure-preview/", "requests:execute"),
        ("post", "/api/v1/dsar/requests/{request}/extend/", "requests:manage"),
        ("post", "/api/v1/dsar/requests/{request}/reject/", "requests:manage"),
        ("get", "/api/v1/dsar/requests/{request}/report/", "requests:report"),
        ("delete", "/api/v1/recordings/{recording}/", "recordings:delete"),
        ("get", "/api/v1/recordings/{recording}/", "recordings:read"),
        ("delete", "/api/v1/tickets/{ticket}/", "tickets:delete"),
        ("post", "/api/v1/tickets/{ticket}/restore/", "tickets:delete"),
        ("post", "/api/v1/exports/", "exports:create"),
    ],
)
def test_an_intake_key_cannot_erase_delete_or_export_and_is_told_the_missing_scope(
    method: str, path: str, scope: str
) -> None:
    ticket = TicketFactory()
    recording = RecordingFactory(call=CallFactory(line__account=ticket.account, ticket=ticket))
    client = key_client(api_key_create(account=ticket.account, name="intake form")[1])
    request_id = client.post(
        "/api/v1/dsar/requests/", {"type": "erasure", "jurisdiction": "gdpr", "email": ticket.requester.email}
    ).json()["id"]

    response = getattr(client, method)(path.format(request=request_id, recording=recording.pk, ticket=ticket.pk))

    assert response.status_code == 403
    assert refusal(response) == f"The API key lacks the scope {scope}."
    ticket.refresh_from_db()
    assert ticket.deleted_at is None
    assert Request.objects.get(pk=request_id).executed_at is None
    assert recording.__class__.objects.filter(pk=recording.pk).exists()


def test_a_key_with_the_scope_may_do_it() -> None:
    ticket = TicketFactory()
    client = key_client(api_key_create(account=ticket.account, name="support", scopes=["tickets:delete"])[1])

    response = client.delete(f"/api/v1/tickets/{ticket.pk}/")

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.deleted_at is not None
    assert ticket.history.first().history_username.startswith("api-key ")


def test_no_key_can_create_accounts_or_verify_identity_manually_whatever_its_scopes() -> None:
    person = PersonFactory()
    client = key_client(api_key_for(person.account))
    request_id = client.post(
        "/api/v1/dsar/requests/", {"type": "access", "jurisdiction": "gdpr", "email": person.email}
    ).json()["id"]

    account = client.post("/api/v1/accounts/", {"name": "Sneaky AB", "home_region": "EEA"})
    manual = client.post(f"/api/v1/dsar/requests/{request_id}/verify/", {"method": "manual", "note": "trust me"})

    assert account.status_code == 403 and manual.status_code == 403
    assert Request.objects.get(pk=request_id).verified_at is None


def test_an_expired_key_is_refused_and_says_so(time_machine: Any) -> None:
    account = AccountFactory()
    _, raw = api_key_create(account=account, name="temporary", expires_at=NOW + timedelta(days=1))
    client = key_client(raw)
    assert client.get(f"/api/v1/accounts/{account.pk}/").status_code == 200

    time_machine.move_to(NOW + timedelta(days=1, seconds=1), tick=False)
    response = client.get(f"/api/v1/accounts/{account.pk}/")

    assert response.status_code == 401
    assert "expired" in refusal(response)
    assert ApiKey.objects.active().count() == 0


def test_a_key_created_already_expired_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as error:
        api_key_create(account=AccountFactory(), name="x", expires_at=NOW - timedelta(seconds=1))

    assert "expires_at" in error.value.message_dict


def test_a_key_past_its_rate_gets_429_with_retry_after(settings: Any) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "api_key": "3/minute"}
    account = AccountFactory()
    client = key_client(api_key_for(account))
    other = key_client(api_key_for(account, name="another integration"))

    statuses = [client.get(f"/api/v1/accounts/{account.pk}/").status_code for _ in range(4)]
    refused = client.get(f"/api/v1/accounts/{account.pk}/")

    assert statuses == [200, 200, 200, 429]
    assert int(refused["Retry-After"]) > 0
    assert other.get(f"/api/v1/accounts/{account.pk}/").status_code == 200  # counted per key


def test_a_logged_in_user_past_their_rate_gets_429(settings: Any) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "2/minute"}
    client = APIClient()
    client.force_authenticate(UserFactory())

    statuses = [client.get("/api/v1/regions/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_intake_is_limited_per_key_on_its_own_rate(settings: Any) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "intake": "2/hour"}
    account = AccountFactory()
    client = key_client(api_key_for(account))

    statuses = [
        client.post(
            "/api/v1/dsar/requests/", {"type": "access", "jurisdiction": "gdpr", "email": f"p{n}@example.org"}
        ).status_code
        for n in range(3)
    ]

    assert statuses == [201, 201, 429]
    assert Request.objects.count() == 2
    assert client.get("/api/v1/dsar/requests/").status_code == 200  # reading is not intake


def test_every_scope_is_described() -> None:
    assert all(description.strip() for description in scopes().values())
    assert set(default_scopes()) <= set(scopes())
