"""The residency report, the record of processing and the erasure certificate download as HTML and as PDF
(WeasyPrint), to whoever may read the page they come from; the console's pages print on A4 without the console."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from typing import Any

import pytest
import time_machine
from django.test import Client
from pypdf import PdfReader

from core.roles import AUDITOR, PRIVACY_OFFICER
from dsar.models import Request
from tests.dsar.factories import make_request
from tests.factories import AccountFactory, region, role_console

pytestmark = pytest.mark.django_db


def login(role: str | None) -> Client:
    return role_console(role)


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    reader = PdfReader(BytesIO(content))
    assert len(reader.pages) >= 1
    return " ".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("page", ["residency", "processing-record"])
def test_an_account_report_downloads_as_a_pdf_naming_the_account(page: str) -> None:
    account = AccountFactory(name="Fjord Help", home_region=region("EEA"), products=["freshdesk"])

    response = login(AUDITOR).get(f"/admin/residency/account/{account.pk}/{page}/", {"format": "pdf"})

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;") and '.pdf"' in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert "Fjord Help" in pdf_text(response.content)


@pytest.mark.parametrize("page", ["residency", "processing-record"])
def test_an_account_report_downloads_as_a_standalone_html_document(page: str) -> None:
    account = AccountFactory(name="Fjord Help", home_region=region("EEA"), products=["freshdesk"])

    response = login(AUDITOR).get(f"/admin/residency/account/{account.pk}/{page}/", {"format": "html"})

    html = response.content.decode()
    assert response["Content-Disposition"].startswith("attachment;") and '.html"' in response["Content-Disposition"]
    assert html.startswith("<!doctype html>") and "Fjord Help" in html
    assert "size: A4" in html and 'id="nav-sidebar"' not in html


@pytest.mark.parametrize("page", ["residency", "processing-record"])
@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_staff_without_a_role_cannot_download_an_account_report(page: str, fmt: str) -> None:
    account = AccountFactory()

    assert login(None).get(f"/admin/residency/account/{account.pk}/{page}/", {"format": fmt}).status_code == 403


def test_a_download_as_of_a_date_that_cannot_be_answered_is_refused_never_a_silent_now() -> None:
    account = AccountFactory()

    response = login(AUDITOR).get(f"/admin/residency/account/{account.pk}/residency/", {"format": "pdf", "as_of": "soon"})

    assert response.status_code == 400


@time_machine.travel(dt.datetime(2026, 12, 3, 9, tzinfo=dt.timezone.utc), tick=False)
def test_a_refused_as_of_date_shows_the_date_used_and_says_it_fell_back() -> None:
    account = AccountFactory()

    html = login(AUDITOR).get(f"/admin/residency/account/{account.pk}/residency/", {"as_of": "2001-01-01"}).content.decode()

    assert 'name="as_of" value="2026-12-03"' in html
    assert "Showing now (2026-12-03) instead of 2001-01-01." in html


def erased(settings: Any) -> Request:
    settings.DSAR_ERASURE_FINALIZATION = "manual"
    request = make_request(type=Request.Type.ERASURE)
    officer = login(PRIVACY_OFFICER)
    officer.post(f"/admin/dsar/request/{request.pk}/change/", {"_request_action": "execute", "post": "yes"})
    request.refresh_from_db()
    assert request.certificate
    return request


def test_an_erasure_certificate_downloads_as_pdf_and_html_from_the_request_page(settings: Any) -> None:
    request = erased(settings)
    auditor = login(AUDITOR)
    url = f"/admin/dsar/request/{request.pk}/certificate/"

    pdf = auditor.get(url, {"format": "pdf"})
    html = auditor.get(url, {"format": "html"})

    assert pdf["Content-Disposition"] == f'attachment; filename="request-{request.pk}-erasure-certificate.pdf"'
    text = pdf_text(pdf.content)
    assert f"request #{request.pk}" in text and request.account.name in text and "Erased, by data category" in text
    assert html["Content-Disposition"].endswith('.html"') and "Erased, by data category" in html.content.decode()
    assert f'{url}?format=pdf' in auditor.get(f"/admin/dsar/request/{request.pk}/change/").content.decode()


def test_staff_who_may_not_read_requests_cannot_download_a_certificate(settings: Any) -> None:
    request = erased(settings)

    assert login(None).get(f"/admin/dsar/request/{request.pk}/certificate/", {"format": "pdf"}).status_code == 403


def test_a_request_without_a_certificate_has_none_to_download() -> None:
    request = make_request(type=Request.Type.ERASURE)

    assert login(AUDITOR).get(f"/admin/dsar/request/{request.pk}/certificate/", {"format": "pdf"}).status_code == 404


def test_every_console_page_prints_without_the_console_around_it() -> None:
    account = AccountFactory()

    html = login(AUDITOR).get(f"/admin/residency/account/{account.pk}/residency/").content.decode()

    assert 'href="/static/core/print.css" media="print"' in html
