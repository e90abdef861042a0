from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from core.models import ApiKey
from core.services import api_key_revoke
from residency.models import Account
from tests.factories import AccountFactory, UserFactory, api_key_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> APIClient:
    client = APIClient()
    client.force_login(UserFactory())
    return client


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def test_staff_create_an_account_with_codes_and_slugs(staff: APIClient) -> None:
    response = staff.post(
        "/api/v1/accounts/",
        {
            "name": "Fjord Help",
            "home_region": "EEA",
            "plan": "growth",
            "products": ["freshdesk", "freshteam"],
            "integrations": ["marketplace-app"],
            "country": "NO",
            "time_zone": "Europe/Oslo",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["home_region"] == "EEA" and sorted(body["products"]) == ["freshdesk", "freshteam"]
    assert (body["country"], body["time_zone"]) == ("NO", "Europe/Oslo")
    account = Account.objects.get(pk=body["id"])
    assert set(account.history.values_list("history_origin", "history_username")) == {("api", response.wsgi_request.user.username)}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "home_region": "MARS"}, "home_region"),
        ({"name": "X", "home_region": "EEA", "plan": "platinum"}, "plan"),
        ({"name": "X", "home_region": "EEA", "products": ["freshnothing"]}, "products"),
        ({"home_region": "EEA"}, "name"),
        ({"name": "X", "home_region": "EEA", "products": ["freshteam"], "integrations": ["marketplace-app"]}, "integrations"),
        ({"name": "X", "home_region": "EEA", "migration_in_progress": True}, "migration_started_on"),
        (
            {"name": "X", "home_region": "EEA", "migration_started_on": "2026-11-02", "migration_ends_on": "2026-11-01"},
            "migration_ends_on",
        ),
        ({"name": "X", "home_region": "EEA", "privacy_contact_email": "not an address"}, "privacy_contact_email"),
        ({"name": "X", "home_region": "EEA", "country": "XX"}, "country"),
        ({"name": "X", "home_region": "EEA", "country": "se"}, "country"),
        ({"name": "X", "home_region": "EEA", "time_zone": "Mars/Base"}, "time_zone"),
    ],
    ids=[
        "unknown-region", "unknown-plan", "unknown-product", "missing-name", "integration-for-another-product",
        "migration-without-start", "migration-ends-before-start", "bad-contact-email", "unknown-country",
        "lower-case-country", "unknown-time-zone",
    ],
)
def test_bad_input_answers_400_naming_the_field_and_creates_nothing(staff: APIClient, payload: dict, field: str) -> None:
    count = Account.objects.count()

    response = staff.post("/api/v1/accounts/", payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [error["attr"].split(".")[0] for error in body["errors"]] == [field]
    assert Account.objects.count() == count


def test_a_bad_country_or_time_zone_is_refused_saying_what_is_expected(staff: APIClient) -> None:
    response = staff.post(
        "/api/v1/accounts/", {"name": "X", "home_region": "EEA", "country": "XX", "time_zone": "Mars/Base"}, format="json"
    )

    assert response.status_code == 400
    errors = {error["attr"]: error["detail"] for error in response.json()["errors"]}
    assert "ISO 3166" in errors["country"] and "IANA" in errors["time_zone"]


def test_a_duplicate_account_name_is_refused_naming_the_field(staff: APIClient) -> None:
    AccountFactory(name="Fjord Help")

    response = staff.post("/api/v1/accounts/", {"name": "fjord help", "home_region": "EEA"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "name"


def test_the_residency_report_has_entries_and_transfers_in_the_documented_shape(staff: APIClient) -> None:
    account = AccountFactory(products=["freshdesk"], integrations=["marketplace-app"])

    response = staff.get(f"/api/v1/accounts/{account.pk}/residency/")

    assert response.status_code == 200
    body = response.json()
    assert body["account"] == {"id": account.pk, "name": account.name}
    assert body["home_region"] == "EEA"
    recordings = next(e for e in body["entries"] if e["data_category"] == "call-recording")
    assert recordings["stored_in"] == "EEA"
    assert recordings["transient"] == [{"region": "US", "minutes": 10}]
    assert recordings["logs"] == [{"region": "EEA", "days": 365}]
    assert recordings["backups"] == [{"region": "EEA", "days": None}]
    assert recordings["transfer"] is True and recordings["reasons"]
    assert {"product": "freshdesk", "data_category": "chat-messages", "region": "US"} in [
        {k: t[k] for k in ("product", "data_category", "region")} for t in body["transfers"]
    ]
    assert any("Marketplace app" in t["reason"] for t in body["transfers"])


def test_an_api_key_sees_its_own_account_and_nothing_of_another() -> None:
    mine, other = AccountFactory(), AccountFactory()
    client = key_client(api_key_for(mine))

    assert client.get(f"/api/v1/accounts/{mine.pk}/residency/").status_code == 200
    assert client.get(f"/api/v1/accounts/{other.pk}/residency/").status_code == 404
    assert client.get(f"/api/v1/accounts/{other.pk}/").status_code == 404
    assert [a["id"] for a in client.get("/api/v1/accounts/").json()["results"]] == [mine.pk]


def test_an_api_key_cannot_create_accounts() -> None:
    client = key_client(api_key_for(AccountFactory()))

    response = client.post("/api/v1/accounts/", {"name": "Mine now", "home_region": "EEA"}, format="json")

    assert response.status_code == 403
    assert not Account.objects.filter(name="Mine now").exists()


def test_a_revoked_or_wrong_key_is_refused() -> None:
    account = AccountFactory()
    raw = api_key_for(account)
    api_key_revoke(key=ApiKey.objects.get(account=account))

    assert key_client(raw).get("/api/v1/accounts/").status_code == 401
    assert key_client(raw[:-2] + "xx").get("/api/v1/accounts/").status_code == 401
    assert APIClient().get("/api/v1/accounts/").status_code == 401


def test_keys_are_stored_hashed_and_record_their_last_use_after_the_request(
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = AccountFactory()
    raw = api_key_for(account)
    key = ApiKey.objects.get(account=account)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        key_client(raw).get("/api/v1/regions/")
        key.refresh_from_db()
        assert key.last_used_at is None  # not inside the request's transaction

    key.refresh_from_db()
    assert raw not in {key.digest, key.prefix} and key.digest == ApiKey.digest_of(raw)
    assert len(callbacks) == 1 and key.last_used_at is not None


def test_a_busy_database_loses_the_last_use_not_the_request(
    django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    from django.db import OperationalError
    from django.db.models import QuerySet

    raw = api_key_for(AccountFactory())

    def locked(*args: Any, **kwargs: Any) -> int:
        raise OperationalError("database is locked")

    monkeypatch.setattr(QuerySet, "update", locked)
    with django_capture_on_commit_callbacks(execute=True):
        response = key_client(raw).get("/api/v1/regions/")

    assert response.status_code == 200


def test_catalog_endpoints_list_the_hosting_table_by_slug() -> None:
    client = key_client(api_key_for(AccountFactory()))

    offers = client.get("/api/v1/hosting-offers/", {"product__slug": "freshdesk", "category__slug": "chat-messages"}).json()
    assert offers == [
        {
            "product": "freshdesk",
            "data_category": "chat-messages",
            "regions": ["US"],
            "fallback_region": "US",
            "documented": True,
            "note": offers[0]["note"],
        }
    ]
    assert [r["code"] for r in client.get("/api/v1/regions/").json()] == ["US", "EEA", "IND", "AU"]
    assert len(client.get("/api/v1/data-categories/").json()) >= 10


def test_the_openapi_schema_and_docs_are_served(staff: APIClient) -> None:
    schema = staff.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/accounts/{id}/residency/" in schema.content
    assert staff.get("/api/docs/").status_code == 200
