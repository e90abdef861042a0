from __future__ import annotations

import re

import pytest
from django.test import Client

from core.models import ApiKey
from core.roles import default_scopes
from residency.models import Account
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


def test_the_hosting_matrix_shows_the_source_table_with_routes_and_notes(client: Client) -> None:
    response = client.get("/admin/residency/hostingoffer/matrix/")

    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 13  # the rows of the source's hosting table
    freshdesk_us_only = next(r for r in rows if r["product"].slug == "freshdesk" and r["regions"] == {"US"})
    assert [c.slug for c in freshdesk_us_only["categories"]] == ["call-recording", "chat-messages"]
    html = response.content.decode()
    assert "region not stated" in html
    assert "10 minutes" in html and "Freshdesk Contact Center" in html


def test_every_catalog_list_and_the_account_list_open_with_search_and_filters(client: Client) -> None:
    AccountFactory(name="Searchable Oy")
    for model in ["region", "product", "datacategory", "hostingoffer", "transientroute", "retentionrule", "integration", "subprocessor", "catalogload"]:
        assert client.get(f"/admin/residency/{model}/").status_code == 200, model
    assert client.get("/admin/core/apikey/").status_code == 200
    response = client.get("/admin/residency/account/", {"q": "Searchable", "home_region__id__exact": 2})
    assert response.status_code == 200
    assert "Searchable Oy" in response.content.decode()


def test_the_account_residency_page_highlights_transfers(client: Client) -> None:
    account = AccountFactory(products=["freshdesk", "freshteam"], integrations=["marketplace-app"])

    response = client.get(f"/admin/residency/account/{account.pk}/residency/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Transfers outside EEA" in html
    assert html.count('class="transfer"') == len(response.context["report"].transfers) + sum(
        1 for e in response.context["report"].entries if e.transfer
    )
    assert "Marketplace app" in html and "US for 10 min" in html


def test_a_new_api_key_is_shown_once_and_stored_hashed(client: Client) -> None:
    account = AccountFactory()

    response = client.post(
        "/admin/core/apikey/add/",
        {"account": account.pk, "name": "intake form", "scopes": ["requests:create", "requests:verify"]},
        follow=True,
    )

    shown = [m.message for m in response.context["messages"] if "<code>" in str(m.message)]
    assert len(shown) == 1
    raw = re.search(r"<code>(pok_\w+_[\w-]+)</code>", shown[0]).group(1)
    key = ApiKey.objects.get(account=account)
    assert key.matches(raw) and raw not in key.digest
    assert raw not in client.get(f"/admin/core/apikey/{key.pk}/change/").content.decode()
    assert key.scopes == ["requests:create", "requests:verify"]


def test_the_add_form_offers_the_least_scopes_by_default(client: Client) -> None:
    form = client.get("/admin/core/apikey/add/").context["adminform"].form

    assert sorted(form["scopes"].initial) == sorted(default_scopes())


def test_a_key_cannot_be_created_already_expired(client: Client) -> None:
    account = AccountFactory()

    response = client.post(
        "/admin/core/apikey/add/",
        {"account": account.pk, "name": "intake", "scopes": ["requests:read"], "expires_at": "2001-01-01 00:00"},
    )

    assert response.status_code == 200
    assert "expires_at" in response.context["adminform"].form.errors
    assert not ApiKey.objects.filter(account=account).exists()


def test_the_revoke_action_revokes_and_reports_each_key(client: Client) -> None:
    account = AccountFactory()
    client.post("/admin/core/apikey/add/", {"account": account.pk, "name": "one", "scopes": ["requests:read"]})
    key = ApiKey.objects.get(account=account)

    response = client.post("/admin/core/apikey/", {"action": "revoke", "_selected_action": [key.pk], "post": "yes"}, follow=True)
    again = client.post("/admin/core/apikey/", {"action": "revoke", "_selected_action": [key.pk], "post": "yes"}, follow=True)

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert any("Revoked" in str(m) for m in response.context["messages"])
    assert any("already revoked" in str(m) for m in again.context["messages"])


def test_history_pages_say_when_who_and_from_in_words(client: Client) -> None:
    account = AccountFactory()

    response = client.get(f"/admin/residency/account/{account.pk}/history/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<th scope="col">From</th>' in html and "<td>Command or schedule</td>" in html


def account_form(account: Account, **changes: str) -> dict:
    return {
        "name": account.name,
        "home_region": account.home_region_id,
        "plan": account.plan,
        "products": list(account.products.values_list("pk", flat=True)),
        "api_keys-TOTAL_FORMS": "0",
        "api_keys-INITIAL_FORMS": "0",
        **changes,
    }


def test_the_account_form_sets_where_the_controller_is(client: Client) -> None:
    account = AccountFactory()
    url = f"/admin/residency/account/{account.pk}/change/"
    form = client.get(url).context["adminform"]
    assert ("country", "time_zone") in [tuple(fieldset[1]["fields"]) for fieldset in form.fieldsets]

    response = client.post(url, account_form(account, country="SE", time_zone="Europe/Stockholm"))

    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.country, account.time_zone) == ("SE", "Europe/Stockholm")
    assert account.history.latest().time_zone == "Europe/Stockholm"


def test_the_account_form_names_a_bad_country_and_time_zone_and_saves_nothing(client: Client) -> None:
    account = AccountFactory(country="SE")

    response = client.post(
        f"/admin/residency/account/{account.pk}/change/", account_form(account, country="XX", time_zone="Mars/Base")
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "ISO 3166" in errors["country"][0] and "IANA" in errors["time_zone"][0]
    account.refresh_from_db()
    assert (account.country, account.time_zone) == ("SE", "")
