"""`load_catalog` says which accounts a catalog change moves, and how, before anything is applied."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from residency.catalog.impact import footprints
from residency.catalog.loader import catalog_load, parse_catalog
from residency.models import HostingOffer, Region
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
CATALOG = Path(settings.RESIDENCY_CATALOG_PATH)
FRESHTEAM_US_ONLY = '''product = "freshteam"
categories = ["employee", "candidate", "report", "social"]
regions = ["US"]'''


def variant(tmp_path: Path, old: str, new: str) -> Path:
    text = CATALOG.read_text()
    assert old in text
    path = tmp_path / "catalog.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_dry_run_moving_one_category_lists_exactly_the_accounts_that_hold_it(tmp_path: Path) -> None:
    eea = Region.objects.get(code="EEA")
    holders = [AccountFactory(name=f"Holder {n}", home_region=eea, products=["freshteam"]) for n in range(2)]
    AccountFactory(name="Helpdesk only", home_region=eea, products=["freshdesk"])
    moved = variant(tmp_path, FRESHTEAM_US_ONLY, FRESHTEAM_US_ONLY.replace('regions = ["US"]', 'regions = ["EEA"]'))

    changes = catalog_load(spec=parse_catalog(moved), dry_run=True)

    assert [affected.account for affected in changes.impact] == [account.name for account in holders]
    lines = changes.impact[0].changes
    assert "Freshteam · Employee data: moves from US to EEA" in lines
    assert "transfer ends: Freshteam · Employee data to US" in lines
    offer = HostingOffer.objects.get(product__slug="freshteam", category__slug="employee")
    assert offer.regions.get().code == "US"  # nothing applied


def test_a_new_log_copy_is_said_for_the_accounts_it_reaches_and_the_command_prints_it(tmp_path: Path) -> None:
    AccountFactory(name="Acme US", home_region=Region.objects.get(code="US"), products=["freshsales"])
    AccountFactory(name="Nordic", home_region=Region.objects.get(code="EEA"), products=["freshsales"])
    wider = variant(
        tmp_path,
        'products = ["freshdesk", "freshservice"]\nstorage_regions = ["US", "IND"]',
        'products = ["freshdesk", "freshservice", "freshsales"]\nstorage_regions = ["US", "IND"]',
    )
    out = StringIO()

    call_command("load_catalog", str(wider), "--dry-run", stdout=out)

    text = out.getvalue()
    assert "1 account(s) whose residency report would change:" in text
    assert "  Acme US" in text and "Nordic" not in text
    assert "log copy added in EEA, 30 days" in text


def test_an_unchanged_catalog_moves_no_account() -> None:
    AccountFactory(products=["freshdesk"])

    changes = catalog_load(spec=parse_catalog(CATALOG), dry_run=True)

    assert not changes.changed and changes.impact == []


def test_an_applied_change_keeps_its_impact_with_the_load_for_the_console(tmp_path: Path) -> None:
    from django.test import Client

    from residency.models import CatalogLoad
    from tests.factories import UserFactory

    AccountFactory(name="Holder", home_region=Region.objects.get(code="EEA"), products=["freshteam"])
    moved = variant(tmp_path, FRESHTEAM_US_ONLY, FRESHTEAM_US_ONLY.replace('regions = ["US"]', 'regions = ["EEA"]'))

    call_command("load_catalog", str(moved), stdout=StringIO())

    load = CatalogLoad.objects.order_by("-pk").first()
    assert [affected["account"] for affected in load.impact] == ["Holder"]
    assert "Freshteam · Employee data: moves from US to EEA" in load.impact[0]["changes"]
    assert not any("log copy" in line for line in load.impact[0]["changes"])  # they moved with the data
    client = Client()
    client.force_login(UserFactory())
    page = client.get(f"/admin/residency/catalogload/{load.pk}/change/").content.decode()
    assert "<strong>Holder</strong>" in page and "moves from US to EEA" in page


def test_reading_every_accounts_footprint_takes_the_same_queries_for_2_and_40_accounts() -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            footprints()
        return len(captured)

    for n in range(2):
        AccountFactory(name=f"Few {n}", products=["freshdesk", "freshteam"], integrations=["marketplace-app"])
    few = queries()
    for n in range(38):
        AccountFactory(name=f"Many {n}", products=["freshservice"])
    assert queries() == few
