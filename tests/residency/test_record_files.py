"""The record of processing and the residency report in the formats auditors file: XLSX and PDF beside HTML, JSON
and CSV, from the console, the API and the commands; every account's records as one workbook."""

from __future__ import annotations

import re
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from core.roles import AUDITOR
from residency.engine import account_residency_report
from residency.records import account_processing_record
from tests.factories import AccountFactory, api_key_for, region, role_console

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages))


def sheet_text(sheet: object) -> str:
    return " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)


@pytest.fixture
def accounts() -> dict:
    return {
        "nordic": AccountFactory(name="Nordic Calls", home_region=region("EEA"), products=["freshdesk", "freshteam"]),
        "chennai": AccountFactory(name="Chennai Desk", home_region=region("IND"), products=["freshdesk"]),
    }


def test_every_accounts_record_is_one_workbook_with_a_sheet_each_that_openpyxl_reads_back(tmp_path: Path, accounts: dict) -> None:
    path = tmp_path / "records.xlsx"

    call_command("processing_record", "--all", "--format", "xlsx", "--output", str(path), stdout=StringIO())

    book = load_workbook(path)
    assert book.sheetnames == [f"{account.pk} {account.name}" for account in sorted(accounts.values(), key=lambda a: a.name)]
    for account in accounts.values():
        record = account_processing_record(account=account)
        text = sheet_text(book[f"{account.pk} {account.name}"])
        assert f"Regime {record.regime}" in text
        assert f"(c) {record.transfers_title}" in text
        for transfer in record.transfers:
            assert transfer.what in text and transfer.reason in text
        for sub in record.sub_processors:
            assert sub["name"] in text
        assert all(measure in text for measure in record.security_measures)


def test_the_pdfs_text_contains_every_transfer_of_the_record_and_of_the_report(accounts: dict) -> None:
    account = accounts["nordic"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(account, scopes=['residency:read'])}")

    record_pdf = api.get(f"/api/v1/accounts/{account.pk}/processing-record/", {"format": "pdf"})
    report_pdf = api.get(f"/api/v1/accounts/{account.pk}/residency/", HTTP_ACCEPT="application/pdf")

    assert record_pdf.status_code == report_pdf.status_code == 200
    assert record_pdf["Content-Type"] == report_pdf["Content-Type"] == "application/pdf"
    assert record_pdf["Content-Disposition"].startswith(f'attachment; filename="processing-record-{account.pk}-')
    record_text, report_text = pdf_text(record_pdf.content), pdf_text(report_pdf.content)
    record = account_processing_record(account=account)
    assert record.transfers
    for transfer in record.transfers:
        assert transfer.what in record_text, transfer.what
    for transfer in account_residency_report(account=account).transfers:
        assert transfer.reason in report_text, transfer.reason


def test_the_api_gives_the_workbooks_to_the_keys_own_account_only_and_errors_as_json(accounts: dict) -> None:
    nordic, chennai = accounts["nordic"], accounts["chennai"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(nordic, scopes=['residency:read'])}")
    unscoped = APIClient()
    unscoped.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(nordic, scopes=['requests:create'])}")

    own = api.get(f"/api/v1/accounts/{nordic.pk}/residency/", {"format": "xlsx"})
    other = api.get(f"/api/v1/accounts/{chennai.pk}/processing-record/", {"format": "xlsx"})
    refused = unscoped.get(f"/api/v1/accounts/{nordic.pk}/processing-record/", {"format": "pdf"})
    bad_date = api.get(f"/api/v1/accounts/{nordic.pk}/processing-record/", {"format": "xlsx", "as_of": "someday"})

    assert own.status_code == 200 and own["Content-Type"] == XLSX and "no-store" in own["Cache-Control"]
    book = load_workbook(BytesIO(own.content))
    assert book.sheetnames == ["Report", "Transfers", "Sub-processors", "Processing locations", "To review"]
    assert "Freshteam · Employee data" in sheet_text(book["Transfers"])
    assert (other.status_code, other["Content-Type"]) == (404, "application/json")
    assert (refused.status_code, refused["Content-Type"]) == (403, "application/json")
    assert bad_date.status_code == 400 and bad_date.json()["errors"][0]["attr"] == "as_of"


def test_an_auditor_downloads_each_format_from_the_console_and_every_accounts_workbook(accounts: dict) -> None:
    console = role_console(AUDITOR)
    account = accounts["chennai"]

    files = {
        fmt: console.get(f"/admin/residency/account/{account.pk}/processing-record/", {"format": fmt})
        for fmt in ("xlsx", "pdf", "html", "json", "csv")
    }
    report = console.get(f"/admin/residency/account/{account.pk}/residency/", {"format": "xlsx"})
    every = console.get("/admin/residency/account/processing-records.xlsx")

    assert {fmt: response.status_code for fmt, response in files.items()} == dict.fromkeys(files, 200)
    assert files["xlsx"]["Content-Type"] == report["Content-Type"] == every["Content-Type"] == XLSX
    assert "Places outside India" in sheet_text(load_workbook(BytesIO(files["xlsx"].content)).active)
    assert len(load_workbook(BytesIO(every.content)).sheetnames) == 2
    assert role_console(None).get("/admin/residency/account/processing-records.xlsx").status_code == 403


def test_a_formula_in_an_account_name_stays_text_in_the_workbook(tmp_path: Path) -> None:
    account = AccountFactory(name='=HYPERLINK("http://evil.example","x")', home_region=region("EEA"), products=["freshdesk"])
    path = tmp_path / "record.xlsx"

    call_command("processing_record", str(account.pk), "--format", "xlsx", "--output", str(path), stdout=StringIO())

    title = load_workbook(path).active["A1"]
    assert title.data_type == "s" and title.value == f"Record of processing (GDPR Art. 30(2)): {account.name}"
    assert load_workbook(path).active.title == f'{account.pk} =HYPERLINK("http   evil.example","x")'[:31]  # no ":" or "/"


@pytest.mark.parametrize("command", ["processing_record", "residency_report"])
def test_a_pdf_or_workbook_without_a_path_is_refused_naming_output(command: str) -> None:
    account = AccountFactory(home_region=region("EEA"), products=["freshdesk"])

    with pytest.raises(CommandError, match=r"--output: the PDF file needs a path"):
        call_command(command, str(account.pk), "--format", "pdf", stdout=StringIO())
