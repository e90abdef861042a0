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
from tests.residency.catalogs import catalog_file

pytestmark = pytest.mark.django_db
CATALOG = Path(settings.RESIDENCY_CATALOG_PATH)
FRESHTEAM_US_ONLY = '''product = "freshteam"
categories = ["employee", "candidate", "report", "social"]
regions = ["US"]'''


def variant(tmp_path: Path, old: str, new: str) -> Path:
    return catalog_file(tmp_path, (old, new))


def test_a_dry_run_moving_one_category_lists_exactly_the_accounts_that_hold_it(tmp_path: Path) -> None:
    eea = Region.objects.get(code="EEA")
    holders = [AccountFactory(name=f"Holder {n}", home_region=eea, products=["freshteam"]) for n in range(2)]
    AccountFactory(name="Helpdesk only", home_region=eea, products=["freshdesk"])
    moved = variant(tmp_path, FRESHTEAM_US_ONLY, FRESHTEAM_US_ONLY.replace('regions = ["US"]', 'regions = ["EEA"]'))

    changes = catalog_load(spec=parse_catalog(moved), dry_run=True)

    assert [affected.account for affected in changes.impact] == [account.name for account in holders]
    lines = changes.impact[0].changes
    assert "Freshteam · Employee data: moves from US to EEA" in lines
    assert "transfer ends: Freshteam · Employee data from EEA to US (storage)" in lines
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


# --- every new destination is a new transfer, and owes a notice -------------------------------------
# Each case changes one kind of catalog entry; the account it reaches must get exactly the notices listed.

ROUTE_PRODUCTS = 'products = ["freshdesk", "freshsales", "freshdesk-contact-center"]\ncategory = "call-recording"'
MARKETPLACE_CATEGORIES = 'products = ["freshdesk", "freshservice"]\ncategories = ["ticket", "requester", "app-integration"]'
SSO_SUB_PROCESSOR = 'slug = "aws-sso"\nname = "Amazon Web Services (single sign-on)"'
LOGS_US_IND = 'storage_regions = ["US", "IND"]'
FRESHDESK_TICKETS = 'product = "freshdesk"\ncategories = ["ticket", "requester", "social", "app-integration", "knowledge-base", "forum", "report"]\nregions = ["US", "EEA", "IND", "AU"]'


@pytest.mark.parametrize(
    ("home", "products", "integrations", "old", "new", "expected"),
    [
        pytest.param(
            "EEA", ["freshdesk"], [], ROUTE_PRODUCTS, ROUTE_PRODUCTS.replace('"freshdesk", ', ""),
            ["new transfer: Freshdesk · Call recording from EEA to US (storage): Stored in US: not offered in the home region EEA."],
            id="a route no longer taken: the transit becomes storage",
        ),
        pytest.param(
            "EEA", ["freshdesk"], [], FRESHDESK_TICKETS,
            FRESHDESK_TICKETS.replace('"ticket", ', "") + '\n\n[[hosting]]\nproduct = "freshdesk"\ncategories = ["ticket"]\nregions = ["US"]',
            ["new transfer: Freshdesk · Ticket data from EEA to US (storage): Stored in US: not offered in the home region EEA."],
            id="storage moved out of the home region",
        ),
        pytest.param(
            "AU", ["freshdesk"], [], LOGS_US_IND, 'storage_regions = ["US", "IND", "AU"]',
            [
                f"new transfer: Freshdesk · {name} from AU to EEA (log copy): Logs kept in EEA for 30 days "
                "(Freshdesk and Freshservice logs of the US and India data centres, 30 days in the EEA)."
                for name in ["App integration data", "Forum data", "Knowledge base content", "Report data",
                             "Requester and contact data", "Social content", "Ticket data"]  # by category slug
            ],
            id="a log rule that reaches a new storage region",
        ),
        pytest.param(
            "EEA", ["freshdesk"], ["marketplace-app"], MARKETPLACE_CATEGORIES,
            MARKETPLACE_CATEGORIES.replace('"app-integration"]', '"app-integration", "knowledge-base"]'),
            ["new transfer: Freshdesk · Knowledge base content from EEA to a region not stated (integration marketplace-app): "
             "Integration 'Marketplace app' (marketplace app) is enabled. The source says: \u201cAPI requests made by "
             "integrations may be processed outside the EEA.\u201d Flagged as processing outside the EEA."],
            id="an integration that takes one more category",
        ),
        pytest.param(
            "EEA", ["freshdesk-messaging"], [], SSO_SUB_PROCESSOR, SSO_SUB_PROCESSOR + '\nregions = ["US"]',
            ["new transfer: Freshdesk Messaging · Agent and user data from EEA to US (sub-processor aws-sso): Sub-processor "
             "Amazon Web Services (single sign-on) processes this data in US (Single sign-on: user authentication and profile data)."],
            id="a sub-processor in a new region",
        ),
    ],
)
def test_each_kind_of_entry_moved_owes_exactly_the_notices_of_its_new_transfers(
    tmp_path: Path, home: str, products: list[str], integrations: list[str], old: str, new: str, expected: list[str]
) -> None:
    account = AccountFactory(name="Reached", home_region=Region.objects.get(code=home), products=products, integrations=integrations)
    AccountFactory(name="Elsewhere", home_region=Region.objects.get(code="US"), products=["freshteam"])

    changes = catalog_load(spec=parse_catalog(variant(tmp_path, old, new)), dry_run=True)

    assert [(affected.account_id, affected.notifiable) for affected in changes.impact] == [(account.pk, expected)]


def test_a_move_and_its_revert_each_say_exactly_what_happened_to_every_log_copy(tmp_path: Path) -> None:
    account = AccountFactory(name="Acme", home_region=Region.objects.get(code="IND"), products=["freshdesk"])
    to_us = variant(tmp_path, FRESHDESK_TICKETS, FRESHDESK_TICKETS.replace('"IND", ', "") + '\nfallback = "US"')

    moved = catalog_load(spec=parse_catalog(to_us))
    reverted = catalog_load(spec=parse_catalog(CATALOG))

    [there] = [affected.changes for affected in moved.impact if affected.account_id == account.pk]
    [back] = [affected.changes for affected in reverted.impact if affected.account_id == account.pk]
    assert [line for line in there if line.startswith("Freshdesk · Ticket data")] == ["Freshdesk · Ticket data: moves from IND to US"]
    assert [line for line in back if line.startswith("Freshdesk · Ticket data")] == ["Freshdesk · Ticket data: moves from US to IND"]
    # Both regions keep a 30-day copy in the EEA: the same transfer before and after, neither new nor ended.
    assert not any("log copy" in line for line in there + back)


def test_moving_into_the_region_that_held_a_log_copy_says_the_copy_lengthened_not_removed(tmp_path: Path) -> None:
    account = AccountFactory(name="Acme", home_region=Region.objects.get(code="AU"), products=["freshdesk"])
    only_us = FRESHDESK_TICKETS.replace('"EEA", "IND", "AU"', '"EEA"')  # AU no longer offered: the first region, US
    catalog_load(spec=parse_catalog(variant(tmp_path, FRESHDESK_TICKETS, only_us.replace('["US", "EEA"]', '["US"]'))))
    into_eea = variant(tmp_path, FRESHDESK_TICKETS, only_us.replace('["US", "EEA"]', '["EEA"]'))

    changes = catalog_load(spec=parse_catalog(into_eea))

    [lines] = [affected.changes for affected in changes.impact if affected.account_id == account.pk]
    ticket = [line for line in lines if line.startswith("Freshdesk · Ticket data")]
    assert ticket == [
        "Freshdesk · Ticket data: moves from US to EEA",
        "Freshdesk · Ticket data: log copy in EEA lengthened from 30 days to 365 days",
        "Freshdesk · Ticket data: log copy in US removed",
    ]
