"""The record of processing (GDPR Art. 30(2)) per account: built from the catalog, never inventing a field."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from core.roles import AUDITOR
from residency.catalog.loader import catalog_load, parse_catalog
from residency.demo import load_demo
from residency.engine import account_residency_report
from residency.records import DPF, account_processing_record
from tests.factories import AccountFactory, UserFactory, api_key_for, region
from tests.residency.catalogs import catalog_file

pytestmark = pytest.mark.django_db
CATALOG = Path(settings.RESIDENCY_CATALOG_PATH)


def catalog_with(tmp_path: Path, *edits: tuple[str, str]) -> None:
    """Load a copy of the real catalog with ``edits`` applied (each old text must be there)."""
    catalog_load(spec=parse_catalog(catalog_file(tmp_path, *edits)))


SSO = 'slug = "aws-sso"\nname = "Amazon Web Services (single sign-on)"\n'
US_REGION = 'code = "US"\nname = "United States"\njurisdiction = "United States"\ncountry = "United States"\n'


def test_every_demo_accounts_record_lists_every_flagged_transfer_with_a_country_and_a_safeguard_or_a_review_flag() -> None:
    accounts = load_demo()

    for account in accounts:
        report = account_residency_report(account=account)
        record = account_processing_record(account=account)

        flagged = [(t.product, t.data_category, t.region, t.reason) for t in report.transfers]
        listed = [(t.product, t.data_category, t.region, t.reason) for t in record.transfers]
        assert listed == flagged, account.name
        for transfer in record.transfers:
            assert transfer.third_country == (record.regime == "GDPR")
            if transfer.third_country:  # Chapter V: a country, a safeguard and where it is documented, or review
                complete = transfer.country and transfer.safeguard and transfer.safeguard_reference
                assert transfer.review == (not complete), (account.name, transfer)
            else:  # another law: a place outside the jurisdiction, reviewed only when the source names none
                assert transfer.review == (transfer.region is None), (account.name, transfer)


def test_the_shipped_catalog_states_no_safeguard_so_every_transfer_is_flagged_and_named_missing() -> None:
    account = AccountFactory(home_region=region("EEA"), products=["freshteam"])

    record = account_processing_record(account=account)

    employee = next(t for t in record.transfers if t.data_category == "employee")
    assert (employee.region, employee.country, employee.safeguard, employee.review) == ("US", "United States", None, True)
    index = record.transfers.index(employee)
    assert f"transfers[{index}].safeguard" in record.missing
    assert f"transfers[{index}].country" not in record.missing


def test_a_region_safeguard_covers_the_vendors_own_storage_there_once_its_documentation_is_named(tmp_path: Path) -> None:
    scc = US_REGION + 'safeguard = "scc"\nsafeguard_note = "Intra-group SCCs, module 3."\n'
    catalog_with(tmp_path, (US_REGION, scc))
    account = AccountFactory(home_region=region("EEA"), products=["freshteam"])

    undocumented = account_processing_record(account=account)
    catalog_with(tmp_path, (US_REGION, scc + 'safeguard_reference = "https://legal.example/dpa#scc-module-3"\n'))
    documented = account_processing_record(account=account)

    assert {(t.safeguard, t.safeguard_reference, t.review) for t in undocumented.transfers} == {("Standard contractual clauses", "", True)}
    assert {name.rsplit(".", 1)[1] for name in undocumented.missing if name.startswith("transfers[")} == {"safeguard_reference"}
    assert "the safeguard's documentation of 4 of 4 transfers" in undocumented.missing_summary
    assert {(t.safeguard, t.safeguard_note, t.safeguard_reference, t.review) for t in documented.transfers} == {
        ("Standard contractual clauses", "Intra-group SCCs, module 3.", "https://legal.example/dpa#scc-module-3", False)
    }
    assert not any(name.startswith("transfers[") for name in documented.missing)


def test_the_data_privacy_framework_is_named_only_for_a_certified_sub_processor_from_the_eea_to_the_us(tmp_path: Path) -> None:
    eea = AccountFactory(name="Nordic", home_region=region("EEA"), products=["freshdesk-contact-center"])
    india = AccountFactory(name="Chennai", home_region=region("IND"), products=["freshdesk-contact-center"])

    def sso_safeguards(account: object) -> set[str | None]:
        record = account_processing_record(account=account)
        return {t.safeguard for t in record.transfers if t.via == "sub_processor"}

    catalog_with(tmp_path, (SSO, SSO + 'regions = ["US"]\n'))
    assert sso_safeguards(eea) == {None}  # not listed as certified: no Framework
    catalog_with(tmp_path, (SSO, SSO + 'regions = ["US"]\ndpf_certified = true\n'))

    assert sso_safeguards(eea) == {DPF}
    # From India the Framework is not a safeguard at all; the sub-processor states none of its own.
    assert sso_safeguards(india) == {None}
    # The vendor's own storage in the US is not the sub-processor's certification.
    assert {t.safeguard for t in account_processing_record(account=eea).transfers if t.via != "sub_processor"} == {None}


def test_a_platform_that_names_a_region_is_covered_by_that_regions_safeguard(tmp_path: Path) -> None:
    catalog_with(
        tmp_path,
        (US_REGION, US_REGION + 'safeguard = "scc"\nsafeguard_reference = "DPA-2026-SCC"\n'),
        ('sub_processors = ["aws-sso", "gcp-sso"]\n', 'sub_processors = ["aws-sso", "gcp-sso"]\nregions = ["US"]\n'),
    )
    account = AccountFactory(home_region=region("EEA"), products=["freshdesk-messaging"])

    (sso,) = [t for t in account_processing_record(account=account).transfers if t.via == "platform"]

    assert (sso.region, sso.country, sso.safeguard, sso.review) == ("US", "United States", "Standard contractual clauses", False)


def test_a_field_nobody_filled_is_missing_and_a_filled_one_is_not() -> None:
    account = AccountFactory(privacy_contact_name="Ingrid Berg", privacy_contact_email="privacy@nordlys.example")

    record = account_processing_record(account=account)

    assert record.processor.name == "Freshworks"
    assert record.controller.email == "privacy@nordlys.example"
    assert {"processor.email", "processor.address", "processor.dpo_name", "controller.dpo_email"} <= set(record.missing)
    assert not {"processor.name", "controller.contact_name", "controller.email", "security_measures"} & set(record.missing)
    assert len(record.security_measures) == 5  # each the source states (see below)


def test_categories_of_processing_are_the_accounts_products_and_categories_with_their_purposes() -> None:
    account = AccountFactory(home_region=region("EEA"), products=["freshservice"])

    record = account_processing_record(account=account)

    assert {a.product for a in record.processing} == {"freshservice"}
    assets = next(a for a in record.processing if a.data_category == "assets")
    assert (assets.personal_data, assets.purposes, assets.stored_in) == (False, ["IT asset management"], "EEA")


def test_the_command_prints_the_record_as_text_json_csv_and_html() -> None:
    account = AccountFactory(name="Fjord Help", home_region=region("EEA"), products=["freshteam"])

    def run(*args: str) -> str:
        out = StringIO()
        call_command("processing_record", *args, stdout=out)
        return out.getvalue()

    text = run("Fjord Help")
    assert "(c) Transfers to third countries (4)" in text and "processor.email" in text
    assert json.loads(run(str(account.pk), "--format", "json"))["controller"]["name"] == "Fjord Help"
    rows = list(csv.DictReader(StringIO(run("Fjord Help", "--format", "csv"))))
    assert len(rows) == 4 and {row["country"] for row in rows} == {"United States"} and {row["review"] for row in rows} == {"yes"}
    html = run("Fjord Help", "--format", "html")
    assert html.startswith("<!doctype html>") and "Transfers to third countries (4)" in html


def test_the_all_accounts_csv_has_each_accounts_transfers_and_a_row_for_an_account_without() -> None:
    AccountFactory(name="Abroad", home_region=region("EEA"), products=["freshteam"])
    AccountFactory(name="At home", home_region=region("AU"), products=["freshservice"])
    out = StringIO()

    call_command("processing_record", "--all", "--format", "csv", stdout=out)

    rows = list(csv.DictReader(StringIO(out.getvalue())))
    [at_home] = [row for row in rows if row["account"] == "At home"]
    assert (at_home["transfer"], at_home["safeguard_reference"], at_home["review"]) == ("none", "", "no")
    assert at_home["missing"].startswith("processor.")  # in its own column, not shifted into another
    assert len([row for row in rows if row["account"] == "Abroad"]) == 4
    assert {row["sub_processors"] for row in rows} >= {
        "Amazon Web Services (the storage region); Amazon Web Services (single sign-on) (regions not stated); "
        "Google Cloud Platform (single sign-on) (regions not stated)"
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Nobody"], "account: no account with id or name 'Nobody'"),
        ([], "account: name an account"),
        (["--all"], "--format: --all writes one CSV"),
        (["X", "--all", "--format", "csv"], "account: give an account or --all, not both"),
        (["X", "--as-of", "yesterday"], "--as-of: 'yesterday' is not a date"),
    ],
)
def test_the_command_refuses_bad_input_naming_the_option(args: list[str], message: str) -> None:
    AccountFactory(name="X")
    with pytest.raises(CommandError, match=message):
        call_command("processing_record", *args, stdout=StringIO())


def test_the_api_gives_a_key_its_own_accounts_record_and_no_other() -> None:
    own = AccountFactory(home_region=region("EEA"), products=["freshteam"])
    other = AccountFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(own, scopes=['residency:read'])}")

    response = client.get(f"/api/v1/accounts/{own.pk}/processing-record/")

    assert response.status_code == 200
    body = response.json()
    assert body["account"] == {"id": own.pk, "name": own.name}
    assert len(body["transfers"]) == 4 and all(t["country"] == "United States" for t in body["transfers"])
    assert "processor.email" in body["missing"]
    assert client.get(f"/api/v1/accounts/{other.pk}/processing-record/").status_code == 404


def test_a_key_without_the_residency_scope_cannot_read_the_record() -> None:
    account = AccountFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(account, scopes=['requests:create'])}")

    assert client.get(f"/api/v1/accounts/{account.pk}/processing-record/").status_code == 403


def test_an_auditor_reads_the_record_in_the_console_and_downloads_it_and_the_all_accounts_csv() -> None:
    account = AccountFactory(name="Fjord Help", home_region=region("EEA"), products=["freshteam"])
    auditor = UserFactory(username="auditor", is_superuser=False)
    auditor.groups.add(Group.objects.get(name=AUDITOR))
    client = Client()
    client.force_login(auditor)
    url = f"/admin/residency/account/{account.pk}/processing-record/"

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "(c) Transfers to third countries (4)" in html and "the safeguard of 4 of 4 transfers" in html
    download = client.get(url, {"format": "json"})
    assert download["Content-Disposition"].startswith("attachment;")
    assert json.loads(download.content)["account"] == "Fjord Help"
    assert client.get(url, {"format": "csv", "as_of": "soon"}).status_code == 400  # never a silent "now"
    every = client.get("/admin/residency/account/processing-records.csv")
    assert every.status_code == 200 and b"Fjord Help" in every.content


def test_staff_without_a_role_get_403_on_the_record_page() -> None:
    account = AccountFactory()
    client = Client()
    client.force_login(UserFactory(username="nobody", is_superuser=False))

    assert client.get(f"/admin/residency/account/{account.pk}/processing-record/").status_code == 403
    assert client.get("/admin/residency/account/processing-records.csv").status_code == 403


# --- read under the law that governs the controller --------------------------------------------------


def test_a_controller_outside_the_eea_gets_places_outside_its_jurisdiction_not_gdpr_third_countries() -> None:
    chennai = AccountFactory(name="Chennai", home_region=region("IND"), products=["freshdesk"])
    record = account_processing_record(account=chennai)
    out = StringIO()
    call_command("processing_record", str(chennai.pk), stdout=out)

    eea_copies = [t for t in record.transfers if t.region == "EEA"]
    assert record.regime == "the law of its home jurisdiction, India"
    assert "not as transfers to third countries under GDPR Chapter V" in record.regime_note
    assert all(t.safeguard_note == "" for t in eea_copies)  # no safeguard is required: none stated is no finding
    assert eea_copies and all(not t.third_country and not t.review and t.country is None for t in eea_copies)
    assert not any(name.startswith("transfers[") for name in record.missing)  # no country or safeguard "missing"
    assert "(c) Places outside India" in out.getvalue() and "country MISSING" not in out.getvalue()
    assert "→ EEA (a region of several countries)" in out.getvalue()


def test_an_eea_controllers_places_outside_the_eea_are_transfers_to_third_countries() -> None:
    record = account_processing_record(account=AccountFactory(home_region=region("EEA"), products=["freshteam"]))

    assert record.regime == "GDPR" and record.transfers_title == "Transfers to third countries"
    assert all(t.third_country and t.review for t in record.transfers)  # the shipped catalog states no safeguard


def test_section_d_lists_every_security_measure_the_source_states_and_b_its_words_on_data_and_purpose() -> None:
    record = account_processing_record(account=AccountFactory(home_region=region("EEA"), products=["freshdesk"]))

    measures = " ".join(record.security_measures)
    for stated in ("qualified under global IT standards", "robust backup plan", "recommended global security standards",
                   "kept inside the product's AWS environment", "Freshdesk Migration Platform inside AWS"):
        assert stated in measures
    assert len(record.security_measures) == 5 and "security_measures" not in record.missing
    assert record.customer_data.startswith("All electronic data, messages or other material sent to Freshworks")
    assert "to provide the services in Freshworks' product range" in record.purpose
    assert "data-location option is purchased" in record.data_location_option
    assert "Freshworks list of sub-processors" in record.documents


def test_every_format_of_the_record_names_the_sub_processors_and_the_regime() -> None:
    account = AccountFactory(home_region=region("EEA"), products=["freshdesk"])
    names = {sub["name"] for sub in account_processing_record(account=account).sub_processors}
    outputs = {}
    for fmt in ("text", "json", "html"):
        out = StringIO()
        call_command("processing_record", str(account.pk), "--format", fmt, stdout=out)
        outputs[fmt] = out.getvalue()

    assert names >= {"Amazon Web Services", "Amazon Web Services (single sign-on)"}
    for fmt, text in outputs.items():
        assert all(name in text for name in names), fmt
    assert json.loads(outputs["json"])["regime"] == "GDPR"
    assert "Regime: GDPR." in outputs["text"] and "Regime: GDPR.</strong>" in outputs["html"]


# --- the catalog's own additions, labelled ------------------------------------------------------------


def test_every_purpose_and_personal_flag_the_catalog_adds_is_labelled_its_own_in_every_format(tmp_path: Path) -> None:
    account = AccountFactory(home_region=region("EEA"), products=["freshservice"])
    record = account_processing_record(account=account)
    outputs = {}
    for fmt in ("text", "html", "json"):
        out = StringIO()
        call_command("processing_record", str(account.pk), "--format", fmt, stdout=out)
        outputs[fmt] = out.getvalue()
    call_command("processing_record", str(account.pk), "--format", "xlsx", "--output", str(tmp_path / "r.xlsx"), stdout=StringIO())
    from openpyxl import load_workbook

    workbook = " ".join(str(cell) for row in load_workbook(tmp_path / "r.xlsx").active.iter_rows(values_only=True) for cell in row if cell)

    assert {(a.purposes_basis, a.personal_basis) for a in record.processing} == {("catalog", "catalog")}
    assert outputs["text"].count("[the catalog's own]") == len(record.processing)
    assert outputs["html"].count("catalog's own</span>") == 2 * len(record.processing)  # purposes and personal flag
    assert {a["purposes_basis"] for a in json.loads(outputs["json"])["processing"]} == {"catalog"}
    assert "purposes: the catalog's own; personal flag: the catalog's own" in workbook


def test_a_purpose_the_source_states_is_not_labelled_as_the_catalogs(tmp_path: Path) -> None:
    ticket = 'purposes = ["Providing the help desk and service desk", "Resolving the requester\'s issue"]\npurposes_basis = "catalog"'
    catalog_with(tmp_path, (ticket, ticket.replace('"catalog"', '"source"')))
    account = AccountFactory(home_region=region("EEA"), products=["freshdesk"])

    record = account_processing_record(account=account)
    report = account_residency_report(account=account)

    assert {a.data_category for a in record.processing if a.purposes_basis == "source"} == {"ticket"}
    assert [e.purposes_basis for e in report.entries if e.data_category == "ticket"] == ["source"]
