"""Who may touch what the adversarial erasure added: resolving its hits, an account's place (country and time
zone), and what the wrong person gets."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from core.roles import AUDITOR, SUPPORT_ADMIN
from dsar import services
from dsar.models import Request
from recordings.models import LegalHold
from residency.models import Account
from tests.dsar.factories import make_request, staff
from tests.factories import UserFactory, api_key_for
from tests.recordings.factories import PersonFactory

pytestmark = pytest.mark.django_db


def key(account: Account, *scopes: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(account, scopes=list(scopes))}")
    return client


def person_with_a_hit(settings: Any) -> tuple[Request, LegalHold]:
    settings.DSAR_ERASURE_FINALIZATION = "manual"
    person = PersonFactory(name="Ulla Berg", email="ulla@example.net")
    hold = LegalHold.objects.create(account=person.account, scope="account", reason="Complaint by Ulla Berg", released_at=person.created_at)
    request = make_request(person)
    services.request_execute(request=request, actor=staff())
    request.refresh_from_db()
    assert request.status == Request.Status.WAITING
    return request, hold


def user_in(group: str, name: str) -> Client:
    user = UserFactory(username=name, is_superuser=False)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def test_a_key_that_may_only_read_requests_cannot_resolve_a_hit_and_nothing_changes(settings: Any) -> None:
    request, hold = person_with_a_hit(settings)
    url = f"/api/v1/dsar/requests/{request.pk}/scan-hits/"

    listed = key(request.account, "requests:read").get(url)
    refused = key(request.account, "requests:read").post(url, {"table": "recordings_legalhold", "column": "reason", "action": "redact"}, format="json")

    assert listed.status_code == 200 and refused.status_code == 403
    hold.refresh_from_db()
    assert hold.reason == "Complaint by Ulla Berg"


def test_another_accounts_key_does_not_see_the_request_or_its_hits(settings: Any) -> None:
    request, hold = person_with_a_hit(settings)
    stranger = PersonFactory().account

    response = key(stranger, "requests:read", "requests:execute").post(
        f"/api/v1/dsar/requests/{request.pk}/scan-hits/", {"table": "recordings_legalhold", "column": "reason", "action": "redact"}, format="json"
    )

    assert response.status_code == 404
    hold.refresh_from_db()
    assert hold.reason == "Complaint by Ulla Berg"


@pytest.mark.parametrize("group", [AUDITOR, SUPPORT_ADMIN])
def test_only_who_may_change_an_account_sets_its_time_zone_and_country(group: str) -> None:
    account = PersonFactory().account
    client = user_in(group, f"user-{group.split()[0].lower()}")
    page = client.get(f"/admin/residency/account/{account.pk}/change/")

    changed = client.post(
        f"/admin/residency/account/{account.pk}/change/",
        {"name": account.name, "home_region": account.home_region_id, "plan": account.plan, "country": "SE", "time_zone": "Europe/Stockholm"},
    )

    account.refresh_from_db()
    assert page.status_code == 200  # both roles read accounts
    assert changed.status_code == 403 and (account.country, account.time_zone) == ("", "")


def test_no_key_creates_an_account_with_a_time_zone_whatever_its_scopes() -> None:
    account = PersonFactory().account

    response = key(account, "residency:read", "requests:execute").post(
        "/api/v1/accounts/", {"name": "Sneaky", "home_region": "EEA", "time_zone": "Europe/Stockholm"}, format="json"
    )

    assert response.status_code == 403 and not Account.objects.filter(name="Sneaky").exists()
