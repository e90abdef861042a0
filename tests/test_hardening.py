"""What every response carries (CSP, framing), who reads the API docs, and how odd requests are answered."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import AccountFactory, UserFactory, api_key_for

pytestmark = pytest.mark.django_db


def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


def test_console_pages_carry_a_content_security_policy_without_inline_scripts() -> None:
    response = staff_client().get("/admin/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_the_api_docs_work_under_the_policy_with_their_script_served_as_a_file() -> None:
    client = staff_client()

    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")

    assert page.status_code == 200 and "Content-Security-Policy" in page
    assert "<script>" not in page.content.decode()
    assert 'src="/api/docs/?script="' in page.content.decode()
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_docs_are_for_staff_only(path: str) -> None:
    anonymous = Client().get(path)
    with_key = APIClient()
    with_key.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(AccountFactory())}")

    assert anonymous.status_code == 401
    assert with_key.get(path).status_code == 401
    assert staff_client().get(path).status_code == 200


def test_the_docs_can_be_made_public_by_setting(settings: Any) -> None:
    settings.API_DOCS_PUBLIC = True

    assert Client().get("/api/schema/").status_code == 200


def test_an_oversized_body_answers_413_in_the_api_error_shape(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = APIClient()
    client.force_authenticate(UserFactory())

    response = client.post("/api/v1/accounts/", {"name": "x" * 2000, "home_region": "EEA"}, format="json")

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "request_too_large"


def test_a_path_no_route_matches_answers_a_json_404_under_the_api() -> None:
    client = APIClient()
    client.force_authenticate(UserFactory())

    response = client.get("/api/v1/recordings/abc/")

    assert response.status_code == 404
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}],
    }
