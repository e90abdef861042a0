"""Reports as of a past date: from the history of the catalog and the account, naming the catalog then in force."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from residency.catalog.loader import catalog_load, parse_catalog
from residency.engine import account_residency_report
from residency.models import Product
from residency.records import account_processing_record
from residency.snapshot import parse_as_of
from tests.factories import AccountFactory, UserFactory, api_key_for, region
from tests.residency.catalogs import SHIPPED_VERSION

pytestmark = pytest.mark.django_db
CATALOG = Path(settings.RESIDENCY_CATALOG_PATH)
FRESHTEAM_US_ONLY = 'product = "freshteam"\ncategories = ["employee", "candidate", "report", "social"]\nregions = ["US"]'


def at(*moment: int) -> time_machine.travel:
    return time_machine.travel(dt.datetime(*moment, tzinfo=dt.UTC), tick=False)


def stored(report: object, product: str, category: str) -> str | None:
    return next(e.stored_in for e in report.entries if (e.product, e.data_category) == (product, category))


@pytest.fixture
def moved_in_february(tmp_path: Path) -> object:
    """An EEA account on Freshteam since January; on 1 February catalog 2027.02.1 offers Freshteam in the EEA."""
    with at(2027, 1, 10, 9, 0):
        account = AccountFactory(name="Fjord Help", home_region=region("EEA"), products=["freshteam"])
    text = CATALOG.read_text().replace(FRESHTEAM_US_ONLY, FRESHTEAM_US_ONLY.replace('["US"]', '["US", "EEA"]\nfallback = "US"'), 1)
    text = text.replace(f'version = "{SHIPPED_VERSION}"', 'version = "2027.02.1"', 1)
    path = tmp_path / "catalog.toml"
    path.write_text(text)
    with at(2027, 2, 1, 8, 0):
        catalog_load(spec=parse_catalog(path))
    with at(2027, 2, 20, 12, 0):
        yield account


def test_a_report_as_of_a_date_before_a_catalog_change_shows_the_old_placement_and_the_old_version(moved_in_february: object) -> None:
    before = account_residency_report(account=moved_in_february, as_of=parse_as_of("2027-01-31"))
    now = account_residency_report(account=moved_in_february)

    assert (stored(before, "freshteam", "employee"), before.catalog_version) == ("US", SHIPPED_VERSION)
    assert before.as_of.startswith("2027-01-31T23:59:59")
    assert any(t.data_category == "employee" for t in before.transfers)
    assert (stored(now, "freshteam", "employee"), now.catalog_version, now.as_of) == ("EEA", "2027.02.1", None)
    assert not now.transfers


def test_the_processing_record_as_of_a_past_date_lists_the_transfers_then(moved_in_february: object) -> None:
    record = account_processing_record(account=moved_in_february, as_of=parse_as_of("2027-01-15"))

    assert record.catalog_version == SHIPPED_VERSION
    assert {t.data_category for t in record.transfers} == {"employee", "candidate", "report", "social"}
    assert account_processing_record(account=moved_in_february).transfers == []


def test_an_accounts_own_changes_are_read_from_its_history() -> None:
    with at(2027, 3, 1, 10, 0):
        account = AccountFactory(home_region=region("EEA"), products=["freshdesk"])
    with at(2027, 3, 10, 10, 0):
        account.products.add(Product.objects.get(slug="freshteam"))
    with at(2027, 3, 20, 10, 0):
        early = account_residency_report(account=account, as_of=parse_as_of("2027-03-05"))
        late = account_residency_report(account=account)

    assert {e.product for e in early.entries} == {"freshdesk"}
    assert {e.product for e in late.entries} == {"freshdesk", "freshteam"}


def test_a_migration_shows_as_a_processing_location_only_while_the_account_was_migrating() -> None:
    with at(2027, 4, 1, 10, 0):
        account = AccountFactory(home_region=region("EEA"), products=["freshdesk"])
    with at(2027, 4, 5, 10, 0):
        account.migration_in_progress = True
        account.migration_started_on = parse_as_of("2027-04-05").date()
        account.save()
    with at(2027, 4, 30, 10, 0):
        account.migration_in_progress = False
        account.save()
    with at(2027, 5, 2, 10, 0):
        during = account_residency_report(account=account, as_of=parse_as_of("2027-04-20"))
        after = account_residency_report(account=account)

    assert "migration" in {platform.slug for platform in during.platforms}
    assert "migration" not in {platform.slug for platform in after.platforms}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1st of March", "is not a date"),
        ("2999-01-01", "in the future"),
        ("9999-12-31", "in the future"),
        ("0001-01-01T00:00:00+14:00", "is outside the dates this service keeps"),
    ],
)
def test_as_of_refuses_what_is_not_a_past_date_naming_the_field(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_as_of(value)
    assert message in raised.value.message_dict["as_of"][0]


def test_a_date_before_the_account_existed_is_refused_naming_as_of() -> None:
    with at(2027, 6, 1, 10, 0):
        account = AccountFactory()
    with at(2027, 6, 10, 10, 0), pytest.raises(ValidationError) as raised:
        account_residency_report(account=account, as_of=parse_as_of("2027-05-01"))
    assert "did not exist" in raised.value.message_dict["as_of"][0]


def test_the_api_command_and_console_answer_as_of(moved_in_february: object) -> None:
    account = moved_in_february
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(account, scopes=['residency:read'])}")

    body = api.get(f"/api/v1/accounts/{account.pk}/residency/", {"as_of": "2027-01-31"}).json()
    assert (body["catalog_version"], body["as_of"][:10]) == (SHIPPED_VERSION, "2027-01-31")
    assert api.get(f"/api/v1/accounts/{account.pk}/processing-record/", {"as_of": "2027-01-31"}).json()["catalog_version"] == SHIPPED_VERSION
    bad = api.get(f"/api/v1/accounts/{account.pk}/residency/", {"as_of": "soon"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "as_of"

    out = StringIO()
    call_command("residency_report", str(account.pk), "--as-of", "2027-01-31", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["catalog_version"] == SHIPPED_VERSION
    with pytest.raises(CommandError, match="--as-of: No catalog had been loaded"):
        call_command("residency_report", str(account.pk), "--as-of", "2001-01-01", stdout=StringIO())

    console = Client()
    console.force_login(UserFactory())
    page = console.get(f"/admin/residency/account/{account.pk}/residency/", {"as_of": "2027-01-31"}).content.decode()
    assert "As of 2027-01-31T23:59:59" in page and f"catalog {SHIPPED_VERSION}" in page
    wrong = console.get(f"/admin/residency/account/{account.pk}/residency/", {"as_of": "soon"}).content.decode()
    assert "as_of: &#x27;soon&#x27; is not a date" in wrong
