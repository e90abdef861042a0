"""What every response carries (CSP, framing, no-store), who reads the API docs, and how odd requests are answered."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from dsar import services as dsar_services
from tests.factories import AccountFactory, PersonFactory, UserFactory, api_key_for

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


def no_store(response: Any) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_the_access_report_through_the_api_is_kept_by_no_cache() -> None:
    account = AccountFactory()
    staff = UserFactory()
    request = dsar_services.request_create(account=account, person=PersonFactory(account=account), type="access", jurisdiction="gdpr")
    dsar_services.request_verify_manually(request=request, note="Checked in the help desk.", actor=staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(account)}")

    response = client.get(f"/api/v1/dsar/requests/{request.pk}/report/")

    assert response.status_code == 200 and response.json()["request"] == request.pk
    assert no_store(response) and "private" in response["Cache-Control"]


def test_api_errors_and_refusals_are_kept_by_no_cache_either(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = APIClient()
    client.force_authenticate(UserFactory())

    too_large = client.post("/api/v1/accounts/", {"name": "x" * 2000}, format="json")
    unknown = client.get("/api/v1/nowhere/")
    anonymous = APIClient().get("/api/v1/accounts/")

    assert [too_large.status_code, unknown.status_code, anonymous.status_code] == [413, 404, 401]
    assert no_store(too_large) and no_store(unknown) and no_store(anonymous)


def test_every_console_page_is_kept_by_no_cache() -> None:
    """Each model's list and add page (people, requests, calls…), the home page and the login page."""
    client = staff_client()
    pages = ["/admin/", "/admin/login/"] + [
        url
        for model, model_admin in admin.site._registry.items()
        for url in (
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"),
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add"),
        )
    ]

    answers = {page: client.get(page) for page in pages}

    assert {page: answer.status_code for page, answer in answers.items() if answer.status_code not in (200, 302, 403)} == {}
    assert [page for page, answer in answers.items() if not no_store(answer)] == []
