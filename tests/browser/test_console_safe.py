"""The console, safe by default and in the team's words, walked through in Chromium at 1400 and 1024 px as a privacy
officer, a support admin and an auditor: nothing irreversible on one click, sibling requests noticed, retention and
holds changed only through a confirmation with a reason, figures equal to their lists, lists that fit, no dead-end
buttons, pages that print, and pages in words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, accessibility_problems, log_in

pytestmark = pytest.mark.browser

#: The widths the team works at: a laptop's full screen, and a small one (or a window beside another).
VIEWPORTS = {"1400": {"width": 1400, "height": 900}, "1024": {"width": 1024, "height": 768}}
#: An A4 page at 96 px per inch.
A4_WIDTH = 794


@pytest.fixture(params=list(VIEWPORTS), ids=lambda width: f"{width}px")
def width(request: pytest.FixtureRequest, page: Any) -> int:
    """The page's width for this run of the flow (each flow runs at both)."""
    page.set_viewport_size(VIEWPORTS[request.param])
    return VIEWPORTS[request.param]["width"]


def shot(page: Any, site: Site, name: str, *, at: int | None = None) -> None:
    """Save the page as ``name``: taken at one width only when ``at`` says which (the README shows one)."""
    if at is None or page.viewport_size["width"] == at:
        page.screenshot(path=str(site.shots / f"{name}.png"))


def result_count(page: Any) -> int:
    """The changelist's result count, as its paginator says it ("3 requests", "0 recordings")."""
    text = page.locator("#changelist p.paginator").inner_text()
    # The page numbers come first when there are several pages: the count is the last number, before the name.
    return int(re.findall(r"(\d[\d,]*)\s+[^\d\s]", text)[-1].replace(",", ""))


def changelists(page: Any, site: Site) -> list[str]:
    """Every list the home page links to (each app's models), as paths."""
    page.goto(f"{site.url}/admin/")
    hrefs = page.locator("#content-main table th[scope=row] a").evaluate_all("links => links.map(a => a.pathname)")
    return sorted(set(hrefs))


def refused_by_the_form(field: Any) -> bool:
    """Whether the browser holds the form back for ``field`` (a required reason left empty, a box left unticked)."""
    return field.evaluate("element => !element.checkValidity()")


def open_first_row(page: Any) -> str:
    """Open the first row of the list; the number of what it opened."""
    page.locator("#result_list tbody tr").first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/\d+/change/"))
    return re.search(r"/(\d+)/change/", page.url).group(1)


def choose_action(page: Any, label: str) -> None:
    page.locator("select[name=action]").first.select_option(label=label)
    page.get_by_role("button", name="Go").first.click()


# --- 1. "Execute" on the list lands on a preview; nothing is erased until it is confirmed ---


def test_execute_on_the_list_opens_the_erasures_preview_and_erases_nothing(page: Any, site: Site, width: int) -> None:
    erasure = site.facts["erasure"]
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/dsar/request/?q={erasure}")
    page.locator(f"#result_list input[name=_selected_action][value='{erasure}']").check()
    choose_action(page, "Execute")

    page.wait_for_url(re.compile(rf"/admin/dsar/request/{erasure}/erasure-preview/"))
    expect(page.get_by_role("table", name="What each source erases")).to_be_visible()
    expect(page.get_by_role("button", name="Execute the erasure")).to_be_visible()

    page.goto(f"{site.url}/admin/dsar/request/{erasure}/change/")
    assert page.get_by_role("table", name="Erased, by data category").count() == 0
    expect(page.get_by_role("link", name="Preview the erasure", exact=True)).to_be_visible()


def test_execute_on_several_requests_asks_first_and_sends_each_erasure_to_its_preview(
    page: Any, site: Site, width: int
) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/dsar/request/?type__exact=erasure")
    before = result_count(page)
    page.locator("#action-toggle").check()  # every erasure on the page
    choose_action(page, "Execute")

    expect(page.get_by_role("heading", name="Execute each erasure from its preview")).to_be_visible()
    expect(page.get_by_text(f"{before} erasures below are not executed here")).to_be_visible()
    assert page.get_by_text("Cannot be undone:").count() == 0
    refused = page.locator("table tr.refused")
    assert refused.count() == before
    expect(refused.first).to_contain_text("An erasure is not executed from the list")
    assert page.get_by_role("button", name="Yes, I'm sure").count() == 0
    assert accessibility_problems(page) == []
    shot(page, site, "execute-confirmation", at=1400)

    refused.first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/erasure-preview/"))


# --- 2. A request page names the person's other open requests; a second one of the same type is flagged ---


def test_a_request_page_lists_the_persons_other_open_requests(page: Any, site: Site, width: int) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/dsar/request/{site.facts['erasure']}/change/")

    siblings = page.get_by_role("table", name="The person's other open requests")
    expect(siblings).to_be_visible()
    expect(siblings).to_contain_text("Portability")
    assert accessibility_problems(page) == []


def test_a_second_open_request_of_the_same_type_is_flagged_as_a_duplicate(page: Any, site: Site) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/dsar/person/?q=pierre.demo%40example.org&account__id__exact={site.facts['erasure_account']}")
    page.locator("#result_list input[name=_selected_action]").first.check()
    page.locator("select[name=request_type]").select_option(label="Erasure")
    page.locator("select[name=jurisdiction]").select_option(index=1)
    choose_action(page, "Start a request for the selected people (choose type and law)")
    # The person's open erasure is named before anything is opened.
    expect(page.get_by_role("table", name="What it acts on")).to_contain_text(f"#{site.facts['erasure']}")
    page.get_by_role("button", name="Yes, I'm sure").click()

    opened = page.locator(".messagelist .success").inner_text()
    number = re.search(r"request (\d+) opened", opened).group(1)
    page.goto(f"{site.url}/admin/dsar/request/{number}/change/")
    expect(page.locator("dd.duplicate")).to_contain_text(f"#{site.facts['erasure']}")
    page.goto(f"{site.url}/admin/dsar/request/?q={number}")
    expect(page.locator("#result_list tbody tr").first).to_contain_text(f"#{site.facts['erasure']}")


# --- 3. Retention and holds change only through a confirmation that says what the purge will delete ---


def test_a_lines_new_window_is_confirmed_with_what_the_purge_deletes_and_a_reason(page: Any, site: Site, width: int) -> None:
    log_in(page, site, "support")
    page.goto(f"{site.url}/admin/recordings/phoneline/")
    open_first_row(page)
    window = page.get_by_label(re.compile("auto delete", re.I))
    new = "After 7 days" if width == 1400 else "After 30 days"
    if window.locator("option:checked").inner_text().strip() == new:
        new = "Never"
    window.select_option(label=new)
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("heading", name="What the purge will delete")).to_be_visible()
    expect(page.locator("ul.impact")).to_contain_text(re.compile(r"The purge will (delete|keep)|From then on"))
    assert accessibility_problems(page) == []
    shot(page, site, "line-window-confirmation", at=1400)

    page.get_by_role("button", name="Yes, change the window").click()  # no reason given
    assert refused_by_the_form(page.get_by_label("Reason"))
    expect(page.get_by_role("heading", name="What the purge will delete")).to_be_visible()
    page.get_by_label("Reason").fill("The account asked for a shorter retention")
    page.get_by_role("button", name="Yes, change the window").click()

    expect(page.locator(".messagelist .success")).to_be_visible()
    page.locator(".messagelist .success a").first.click()
    page.get_by_role("link", name="History", exact=True).click()
    expect(page.locator("#change-history tbody tr").first).to_contain_text("The account asked for a shorter retention")


def test_releasing_a_hold_asks_for_a_reason_and_says_what_the_purge_will_delete(page: Any, site: Site, width: int) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/recordings/legalhold/add/")
    page.get_by_label("Account").select_option(index=1)
    page.get_by_label("Scope").select_option(label="Whole account")
    page.get_by_label("Reason").fill(f"Dispute {width}: documents requested")
    page.get_by_role("button", name="Save", exact=True).click()

    row = page.locator("#result_list tbody tr", has_text=f"Dispute {width}")
    row.locator("input[name=_selected_action]").check()
    choose_action(page, "Release selected holds…")
    expect(page.get_by_role("heading", name="What the purge will delete")).to_be_visible()
    expect(page.locator("ul.impact")).to_contain_text("The purge will then delete")

    page.get_by_role("button", name="Yes, release").click()  # no reason given
    assert refused_by_the_form(page.get_by_label("Reason"))
    page.get_by_label("Reason").fill("The dispute was settled")
    page.get_by_role("button", name="Yes, release").click()
    expect(page.locator(".messagelist .success")).to_contain_text("1 hold(s) released.")
    released = page.locator("#result_list tbody tr", has_text=f"Dispute {width}").locator("td.field-released_at")
    expect(released).not_to_have_text("-")


def test_deleting_a_recording_of_a_person_with_an_open_request_needs_the_warning_acknowledged(
    page: Any, site: Site, width: int
) -> None:
    recording = site.facts["warned_recording"]
    log_in(page, site, "support")
    page.goto(f"{site.url}/admin/recordings/recording/{recording}/delete-permanently/")

    expect(page.locator(".messagelist .warning").first).to_contain_text("open")
    acknowledgement = page.get_by_label(re.compile("I have read the open data subject requests"))
    expect(acknowledgement).to_be_visible()
    assert accessibility_problems(page) == []
    shot(page, site, "recording-deletion-warning", at=1400)

    page.get_by_label("Reason").fill("The caller asked us to delete it")
    page.get_by_role("button", name="Yes, delete permanently").click()  # not acknowledged
    assert refused_by_the_form(acknowledgement)
    response = page.goto(f"{site.url}/admin/recordings/recording/{recording}/change/")
    assert response.status == 200  # still there


# --- 4. Every figure on the home page is the result count of the list it links to ---


def test_every_figure_on_the_home_page_is_the_count_of_the_list_it_links_to(page: Any, site: Site, width: int) -> None:
    log_in(page, site, "officer")
    figures = page.locator("section.dashboard li.figure:has(a)").evaluate_all(
        """items => items.map(li => ({
            label: li.querySelector('.label').innerText, value: li.querySelector('.value').innerText,
            href: li.querySelector('a').href }))"""
    )
    assert len(figures) >= 8
    mismatched = []
    for figure in figures:
        page.goto(figure["href"])
        shown = int(figure["value"].rstrip("+").replace(",", ""))
        if page.locator("#changelist").count() == 0 or result_count(page) != shown:
            mismatched.append(f"{figure['label']}: {shown} on the home page, list at {figure['href']} says "
                              + (page.locator("#changelist p.paginator").inner_text() if page.locator("#changelist").count() else "no list"))
    assert mismatched == []


# --- 6. The recordings list: when each goes, whether it is held; no "Add" for what the telephony product creates ---


def test_the_recordings_list_shows_auto_delete_and_hold_and_offers_no_add(page: Any, site: Site, width: int) -> None:
    for username in ("support", "officer"):
        page.context.clear_cookies()
        log_in(page, site, username)
        page.goto(f"{site.url}/admin/recordings/recording/")
        headers = page.locator("#result_list thead th").all_inner_texts()
        assert any("auto-delete" in header.lower() for header in headers), headers
        assert any("legal hold" in header.lower() for header in headers), headers
        assert page.locator(".object-tools .addlink").count() == 0
        expect(page.locator("#result_list tbody tr").first).to_contain_text(re.compile(r"never|\d{4}|\w+\. \d+"))
    assert accessibility_problems(page) == []
    shot(page, site, "recordings-list", at=1024)


# --- 7. Audit pages say When, Who and From; the chain reads newest first, with "Verify now" for those allowed ---


@pytest.fixture(scope="module")
def deletion(browser: Any, site: Site) -> str:
    """A recording deleted by hand by the support admin, from its ticket's page: an entry of the deletion log."""
    context = browser.new_context(viewport=VIEWPORTS["1400"])
    page = context.new_page()
    try:
        log_in(page, site, "support")
        page.goto(f"{site.url}/admin/recordings/recording/{site.facts['recording']}/delete-permanently/")
        page.get_by_label("Reason").fill("The caller asked us to delete it")
        acknowledgement = page.get_by_label(re.compile("I have read the open data subject requests"))
        if acknowledgement.count():
            acknowledgement.check()
        page.get_by_role("button", name="Yes, delete permanently").click()
        page.wait_for_url(re.compile(rf"/recordings/ticket/{site.facts['ticket']}/change/"))
        return site.facts["recording_sid"]
    finally:
        context.close()


def test_audit_lists_read_when_who_and_from(page: Any, site: Site, deletion: str, width: int) -> None:
    log_in(page, site, "officer")
    for path in ("/admin/recordings/recordingdeletion/", "/admin/core/auditentry/"):
        page.goto(f"{site.url}{path}")
        headers = [header.strip().lower() for header in page.locator("#result_list thead th").all_inner_texts()]
        assert {"when", "who", "from"} <= set(headers), (path, headers)
        assert not any("history" in header for header in headers), (path, headers)
        filters = page.locator("#changelist-filter").inner_text().lower()
        assert "history origin" not in filters and "history date" not in filters

    page.goto(f"{site.url}/admin/dsar/request/{site.facts['erasure']}/history/")
    headers = [header.strip().lower() for header in page.locator("#change-history thead th").all_inner_texts()]
    assert headers[:3] == ["when", "who", "from"]


def test_the_chain_reads_newest_first_and_the_officer_verifies_it(page: Any, site: Site, width: int) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/core/auditentry/")
    numbers = [int(text) for text in page.locator("#result_list tbody tr td.field-seq, #result_list tbody tr th.field-seq").all_inner_texts()]
    assert len(numbers) > 1 and numbers == sorted(numbers, reverse=True)
    assert accessibility_problems(page) == []
    shot(page, site, "audit-chain", at=1400)

    page.get_by_role("button", name="Verify now").click()
    page.wait_for_url(re.compile(r"/admin/core/auditentry/$"))
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert page.locator(".messagelist .error").count() == 0


def test_the_chain_offers_no_verification_to_a_reader_without_the_permission(page: Any, site: Site) -> None:
    log_in(page, site, "chainreader")
    page.goto(f"{site.url}/admin/core/auditentry/")
    assert page.locator("#result_list tbody tr").count() > 0
    assert page.get_by_role("button", name="Verify now").count() == 0

    page.context.clear_cookies()
    log_in(page, site, "support")
    response = page.goto(f"{site.url}/admin/core/auditentry/")
    assert response.status == 403


# --- 8. Every list fits its page without scrolling sideways ---


def _overflowing_lists(page: Any, site: Site, paths: list[str]) -> list[str]:
    """The lists that would scroll sideways: the table wider than the box it scrolls in, or reaching past the
    content area, or the page wider than the window; with the widths."""
    wide = []
    for path in paths:
        page.goto(f"{site.url}{path}")
        measured = page.evaluate(
            """() => {
                const table = document.querySelector('#result_list');
                if (!table) return null;
                const box = table.closest('.results') || document.querySelector('#changelist');
                const content = document.querySelector('#content').getBoundingClientRect();
                return {
                    table: Math.ceil(table.scrollWidth), box: box.clientWidth,
                    past: Math.ceil(table.getBoundingClientRect().right - content.right),
                    page: document.documentElement.scrollWidth, window: window.innerWidth,
                };
            }"""
        )
        if measured and (
            measured["table"] > measured["box"] or measured["past"] > 0 or measured["page"] > measured["window"]
        ):
            wide.append(f"{path}: table {measured['table']} px in {measured['box']} px, "
                        f"{measured['past']} px past the content, page {measured['page']} px in {measured['window']} px")
    return wide


def test_every_list_fits_without_scrolling_sideways(page: Any, site: Site, width: int) -> None:
    log_in(page, site, "officer")
    paths = changelists(page, site)
    assert len(paths) > 15
    wide = _overflowing_lists(page, site, paths)
    assert wide == [], "\n".join(wide)
    page.goto(f"{site.url}/admin/dsar/request/")
    shot(page, site, "requests-list-1024", at=1024)


# --- 9. No dead ends: a button that cannot succeed is disabled with the reason; a code can be typed in ---


def test_buttons_that_cannot_succeed_are_disabled_with_their_reason(page: Any, site: Site, width: int) -> None:
    log_in(page, site, "officer")
    # John Carter-Demo has no email; his access request is not verified yet.
    page.goto(f"{site.url}/admin/dsar/request/?q=John+Carter-Demo&type__exact=access&account__id__exact={site.facts['erasure_account']}")
    open_first_row(page)

    actions = page.get_by_role("region", name="Actions")
    send = actions.get_by_role("button", name=re.compile("verification code"))
    expect(send).to_be_disabled()
    reason = page.locator(f"#{send.get_attribute('aria-describedby')}")
    expect(reason).to_contain_text("email")
    complete = actions.get_by_role("button", name="Complete", exact=True)
    expect(complete).to_be_disabled()
    expect(page.locator(f"#{complete.get_attribute('aria-describedby')}")).to_contain_text(re.compile("verif", re.I))
    assert accessibility_problems(page) == []
    shot(page, site, "disabled-buttons", at=1024)


def test_the_officer_types_in_the_code_the_person_reads_out(page: Any, site: Site) -> None:
    log_in(page, site, "officer")
    # Maria Silva-Demo's rectification is not verified yet; she has an email on record.
    page.goto(f"{site.url}/admin/dsar/request/?q=Maria+Silva-Demo&type__exact=rectification&account__id__exact={site.facts['erasure_account']}")
    number = open_first_row(page)

    page.get_by_role("region", name="Actions").get_by_role("button", name=re.compile("verification code")).click()
    page.get_by_role("button", name="Yes, I'm sure").click()
    page.wait_for_url(re.compile(rf"/request/{number}/change/"))

    page.get_by_label(re.compile("Code the person reads out")).fill("000000")
    page.get_by_role("button", name="Verify with the code").click()
    expect(page.locator(".messagelist .error")).to_contain_text("code")

    letters = site.log.read_text(errors="replace")
    # The letter names the request's number; its code is the six-digit number after it.
    code = re.findall(rf"\b{number}\).*?\b(\d{{6}})\b", letters, flags=re.S)[-1]
    page.get_by_label(re.compile("Code the person reads out")).fill(code)
    page.get_by_role("button", name="Verify with the code").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Identity verified with the code")
    expect(page.locator("section.request-summary")).to_contain_text("Verified on")


# --- 10. Reports and certificates print on A4 without the console around them, and download as PDF ---


@pytest.fixture(scope="module")
def certificate(browser: Any, site: Site) -> str:
    """The request page of an erasure executed from its preview: the page that shows its certificate."""
    context = browser.new_context(viewport=VIEWPORTS["1400"])
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        log_in(page, site, "officer")
        # Another erasure than the one the flows above leave unexecuted, in the same account.
        page.goto(
            f"{site.url}/admin/dsar/request/?type__exact=erasure&status__exact=in_progress"
            f"&account__id__exact={site.facts['account']}"
        )
        open_first_row(page)
        page.get_by_role("link", name="Preview the erasure", exact=True).click()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Execute the erasure").click()
        page.get_by_role("table", name="Erased, by data category").wait_for()
        return page.url
    finally:
        context.close()


def _printed(page: Any) -> dict[str, Any]:
    page.set_viewport_size({"width": A4_WIDTH, "height": 1123})
    page.emulate_media(media="print")
    return page.evaluate(
        """() => ({
            chrome: ['#header', '#nav-sidebar', '.breadcrumbs', '#toggle-nav-sidebar']
                .map(s => document.querySelector(s)).filter(e => e && e.offsetParent !== null).map(e => e.id || e.className),
            page: document.documentElement.scrollWidth,
            widest: Math.max(0, ...[...document.querySelectorAll('#content table')].map(t => Math.ceil(t.getBoundingClientRect().right))),
        })"""
    )


def test_the_residency_report_prints_on_a4_without_the_console(page: Any, site: Site) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/residency/account/{site.facts['account']}/residency/")
    printed = _printed(page)
    assert printed["chrome"] == []
    assert printed["page"] <= A4_WIDTH and printed["widest"] <= A4_WIDTH, printed
    shot(page, site, "residency-print")


def test_the_erasure_certificate_prints_on_a4_and_downloads_as_pdf(page: Any, site: Site, certificate: str) -> None:
    log_in(page, site, "officer")
    page.goto(certificate)
    link = page.get_by_role("link", name="Download PDF")
    response = page.request.get(link.evaluate("a => a.href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    printed = _printed(page)
    assert printed["chrome"] == []
    assert printed["page"] <= A4_WIDTH and printed["widest"] <= A4_WIDTH, printed
    page.get_by_role("table", name="Erased, by data category").scroll_into_view_if_needed()
    shot(page, site, "certificate-print")


# --- 11. Pages in words; old versions read-only; the auditor reads everything and changes nothing ---


def test_every_list_is_titled_in_words(page: Any, site: Site, width: int) -> None:
    log_in(page, site, "officer")
    for path in changelists(page, site):
        page.goto(f"{site.url}{path}")
        title = page.locator("#content h1").inner_text()
        assert not re.search(r"^Select .* to (change|view)$", title), (path, title)
        assert "to change" not in page.title() and "to view" not in page.title(), (path, page.title())


def test_an_old_version_is_shown_read_only(page: Any, site: Site, width: int) -> None:
    log_in(page, site, "officer")
    page.goto(f"{site.url}/admin/dsar/request/{site.facts['erasure']}/history/")
    page.locator("#change-history tbody tr a").last.click()  # the oldest version

    content = page.locator("#content")
    assert content.locator("input:not([type=hidden]), select, textarea").count() == 0
    assert content.locator("a.related-widget-wrapper-link, a.add-related, a.change-related, a.delete-related").count() == 0
    expect(page.locator("#content h1")).to_contain_text(" as it was on ")
    assert accessibility_problems(page) == []


def test_an_auditor_reads_every_list_and_can_change_nothing(page: Any, site: Site, width: int) -> None:
    log_in(page, site, "auditor")
    paths = changelists(page, site)
    assert len(paths) > 15
    changing = []
    for path in paths:
        page.goto(f"{site.url}{path}")
        if page.locator(".object-tools .addlink").count():
            changing.append(f"{path}: an Add link")
        actions = [
            text for text in page.locator("select[name=action] option").all_inner_texts()
            if text.strip("-") and "export" not in text.lower()
        ]
        if actions:
            changing.append(f"{path}: actions {actions}")
    assert changing == []

    page.goto(f"{site.url}/admin/dsar/request/{site.facts['erasure']}/change/")
    expect(page.locator("section.request-summary")).to_be_visible()
    assert page.get_by_role("region", name="Actions").count() == 0
    assert page.locator("#content input[type=submit], #content button[type=submit]").count() == 0
    page.goto(f"{site.url}/admin/core/auditentry/")
    assert page.locator("#result_list tbody tr").count() > 0
