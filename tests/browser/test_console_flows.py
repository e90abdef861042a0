"""The console as the privacy team uses it, in a real browser: each flow from logging in to the outcome it
promises, with a screenshot, and axe-core's WCAG 2 A/AA checks on our pages."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, accessibility_problems, log_in

pytestmark = pytest.mark.browser


def shot(page: Any, site: Site, name: str) -> None:
    page.screenshot(path=str(site.shots / f"{name}.png"))


def test_logging_in_shows_the_dashboard_and_a_figure_leads_to_its_list(page: Any, site: Site) -> None:
    log_in(page, site, "officer")

    overdue = page.locator("li.figure", has_text="Overdue")
    assert int(overdue.locator(".value").inner_text().rstrip("+")) > 0
    expect(page.get_by_role("img", name="Requests received (by type) and closed per month")).to_be_visible()
    assert accessibility_problems(page) == []
    shot(page, site, "dashboard")

    overdue.get_by_role("link").click()
    page.wait_for_url(re.compile(r"deadline=overdue"))
    assert page.locator("#result_list tbody tr").count() > 0
    expect(page.locator("#result_list").get_by_text("overdue").first).to_be_visible()


def test_the_hosting_matrix_reads_like_the_sources_table(page: Any, site: Site) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/")
    page.get_by_role("link", name="Hosting matrix: products × categories × regions").click()
    page.wait_for_url(re.compile(r"/hostingoffer/matrix/"))

    expect(page.get_by_role("heading", name="Hosting matrix")).to_be_visible()
    expect(page.get_by_text("region not stated").first).to_be_visible()
    expect(page.get_by_role("heading", name="Transient routes")).to_be_visible()
    assert accessibility_problems(page) == []
    shot(page, site, "hosting-matrix")


def test_an_accounts_residency_page_shows_its_transfers_with_their_reasons(page: Any, site: Site) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/residency/account/{site.facts['account']}/residency/")

    expect(page.get_by_role("heading", name=re.compile("Transfers outside"))).to_be_visible()
    assert page.locator("tr.transfer").count() > 0
    assert accessibility_problems(page) == []
    shot(page, site, "account-residency")


def test_an_auditor_reads_an_accounts_record_of_processing_and_asks_for_it_as_of_a_date(page: Any, site: Site) -> None:
    log_in(page, site, "auditor")
    page.goto(f"{site.url}/admin/residency/account/{site.facts['account']}/change/")
    page.get_by_role("link", name="Record of processing").first.click()
    page.wait_for_url(re.compile(r"/processing-record/"))

    expect(page.get_by_role("heading", name=re.compile(r"\(c\) Transfers to third countries"))).to_be_visible()
    expect(page.locator("em.missing").first).to_be_visible()
    assert accessibility_problems(page) == []
    shot(page, site, "processing-record")

    page.get_by_label("As of", exact=True).fill("2001-01-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"as_of=2001-01-01"))
    expect(page.get_by_text(re.compile(r"as_of: No catalog had been loaded by 2001-01-01"))).to_be_visible()


def test_a_request_opened_through_the_api_appears_with_its_deadline_and_is_verified(page: Any, site: Site) -> None:
    body = json.dumps({"type": "access", "jurisdiction": "gdpr", "email": "new.requester@example.org", "name": "Nora Newcomer"})
    call = urllib.request.Request(
        f"{site.url}/api/v1/dsar/requests/", data=body.encode(), method="POST",
        headers={"Authorization": f"Bearer {site.facts['key']}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(call, timeout=30) as response:
        created = json.loads(response.read())

    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/dsar/request/?q={created['id']}")
    row = page.locator("#result_list tbody tr", has_text=f"#{created['id']}")
    assert created["due_at"] in row.inner_text() or row.get_by_text(re.compile(r"\d{4}|\w+\. \d+")).count()
    row.get_by_role("link").first.click()

    summary = page.locator("section.request-summary")
    assert created["due_at"] in summary.inner_text() and "Nora Newcomer" in summary.inner_text()
    assert "new.requester@example.org" not in summary.inner_text()
    assert accessibility_problems(page) == []
    shot(page, site, "request-page")

    page.get_by_label("Verification note").fill("Called back on the number in the account's records")
    page.get_by_role("button", name=re.compile("Verify identity")).click()
    # Cannot be undone: the confirmation page asks first, with the note carried over.
    expect(page.get_by_text("Cannot be undone:")).to_be_visible()
    page.get_by_role("button", name="Yes, I'm sure").click()
    expect(page.locator("section.request-summary")).to_contain_text("Verified on")


def test_an_erasure_is_previewed_executed_and_its_certificate_read(page: Any, site: Site) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/dsar/request/{site.facts['erasure']}/change/")
    page.get_by_role("link", name="Preview the erasure").click()

    expect(page.get_by_role("table", name="What each source erases")).to_be_visible()
    assert accessibility_problems(page) == []
    shot(page, site, "erasure-preview")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Execute the erasure").click()

    page.wait_for_url(re.compile(rf"/admin/dsar/request/{site.facts['erasure']}/change/"))
    expect(page.get_by_role("table", name="Erased, by data category")).to_be_visible()
    page.get_by_role("table", name="Erased, by data category").scroll_into_view_if_needed()
    shot(page, site, "erasure-certificate")


def confirm_deletion(page: Any) -> None:
    """Say why, tick that any open request named was read, and confirm."""
    page.get_by_label("Reason").fill("The caller asked us to delete it")
    if page.locator("input[name=acknowledge]").count():
        page.locator("input[name=acknowledge]").check()
    page.get_by_role("button", name="Yes, delete permanently").click()


def test_a_recording_deleted_by_hand_is_in_the_audit_log(page: Any, site: Site) -> None:
    log_in(page, site, "support")
    page.goto(f"{site.url}/admin/recordings/ticket/{site.facts['ticket']}/change/")
    page.locator(f"a[href$='/recording/{site.facts['recording']}/delete-permanently/']").click()
    confirm_deletion(page)
    page.wait_for_url(re.compile(rf"/recordings/ticket/{site.facts['ticket']}/change/"))

    page.goto(f"{site.url}/admin/recordings/recordingdeletion/?q={site.facts['recording_sid']}")
    row = page.locator("#result_list tbody tr", has_text="support")
    assert row.count() == 1 and f"#{site.facts['ticket']}" in row.inner_text()
    shot(page, site, "audit-log")


def test_a_legal_hold_refuses_a_deletion(page: Any, site: Site) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/recordings/legalhold/add/")
    page.get_by_label("Account").select_option(label=site.facts["held_account_name"])
    page.get_by_label("Scope").select_option(label="Whole account")
    page.get_by_label("Reason").fill("Litigation hold: dispute 2026-114")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "Litigation hold: dispute 2026-114" in page.locator("#result_list").inner_text()

    page.context.clear_cookies()
    log_in(page, site, "support")
    page.goto(f"{site.url}/admin/recordings/recording/{site.facts['held_recording']}/delete-permanently/")
    content = page.locator("#content").inner_text()
    # The page names the hold before any click, and offers nothing that would only be refused.
    assert "will not be deleted" in content and "Litigation hold: dispute 2026-114" in content
    assert "Nothing here can be acted on from this page" in content
    assert page.get_by_role("button", name="Yes, delete permanently").count() == 0
    shot(page, site, "legal-hold-refusal")

    page.goto(f"{site.url}/admin/recordings/recording/{site.facts['held_recording']}/change/")
    expect(page.get_by_text("Litigation hold: dispute 2026-114").first).to_be_visible()


def test_an_export_is_followed_to_its_download_link(page: Any, site: Site) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/recordings/historyexport/add/")
    page.get_by_label("Account").select_option(label=site.facts["account_name"])
    page.get_by_label("Kind").select_option(value="call_history")
    page.get_by_role("button", name="Save", exact=True).click()

    progress = page.locator("p.progress")
    progress.locator("a", has_text="Download the CSV").wait_for(timeout=60_000)  # the worker wrote it
    assert progress.get_attribute("data-done") == "true" and "Done:" in progress.inner_text()
    assert accessibility_problems(page) == []
    shot(page, site, "export-done")
    with page.expect_download() as download:
        progress.get_by_role("link").click()
    assert download.value.suggested_filename.endswith(".csv")


def test_an_auditor_sees_everything_and_can_change_nothing(page: Any, site: Site) -> None:
    log_in(page, site, "auditor")
    expect(page.locator("section.dashboard")).to_be_visible()

    page.goto(f"{site.url}/admin/dsar/request/{site.facts['erasure']}/change/")
    expect(page.locator("section.request-summary")).to_be_visible()
    expect(page.locator("section.request-actions")).to_have_count(0)
    assert page.get_by_role("button", name="Save").count() == 0
    shot(page, site, "auditor-request")

    page.goto(f"{site.url}/admin/recordings/ticket/{site.facts['held_ticket']}/change/")
    assert page.get_by_text("Delete permanently…").count() == 0
    page.goto(f"{site.url}/admin/recordings/legalhold/add/")
    assert "403" in page.title() or page.get_by_text("403 Forbidden").count() == 1
