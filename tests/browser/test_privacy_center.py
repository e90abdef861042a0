"""The privacy center as people use it, in Chromium: each kind of request filed in English, Swedish and French
(the browser's language, and the switcher), confirmed with the emailed code or the one-time link, followed on the
status page to its downloads, an erasure withdrawn in its grace period, an agent's request confirmed by the person,
a duplicate linked only once confirmed, and bad input answered in words with nothing half-written. Every page is
checked with axe-core (WCAG 2 A/AA) and at 360 px wide, where it must not scroll sideways.

The server is another process: the tests read its emails from the files its email backend writes, and play the
reverse proxy in front of it (each browser comes from an address of its own, as ``X-Forwarded-For`` says), so the
per-address limit on submissions counts each test apart."""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from tests.browser.conftest import Site, accessibility_problems, log_in, manage

pytestmark = pytest.mark.browser

#: Submissions one address may send per hour here (the flood test sends one more).
ADDRESS_RATE = 8
#: Submissions one email address may send per hour (the product's default).
IDENTITY_RATE = 5
#: The company whose privacy center the flows use; its erasures wait GRACE_DAYS for the person to change their mind.
COMPANY = "Nordlys Support AB"
GRACE_DAYS = 3
#: The browser's language (Accept-Language) → the page's.
LANGUAGES = {"en-GB": "en", "sv-SE": "sv", "fr-FR": "fr"}
#: The request types, as the form's values, and as the person reads them (in English).
TYPES = {
    "access": "See my data",
    "rectification": "Correct my data",
    "erasure": "Erase my data",
    "portability": "Get a copy of my data",
    "objection": "Stop marketing use",
}
NARROW = {"width": 360, "height": 780}
WIDE = {"width": 1024, "height": 800}
#: The smallest valid-looking PDF: the service knows files by their first bytes.
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

CENTER = f"""
import json
from dsar.models import PrivacyCenter
center = PrivacyCenter.objects.select_related("account").get(account__name="{COMPANY}")
center.erasure_grace_days = {GRACE_DAYS}
center.is_open = True
center.save()
print(json.dumps({{"slug": center.slug}}))
"""


@pytest.fixture(scope="module")
def mail_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="module")
def proofs_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("proofs")


@pytest.fixture(scope="module")
def site_env(tmp_path_factory: pytest.TempPathFactory, mail_folder: Path, proofs_folder: Path) -> dict[str, str]:
    return {
        # Every email a file in mail_folder (filemail:// then the absolute path).
        "EMAIL_URL": f"filemail:///{mail_folder}",
        "DSAR_AGENT_PROOF_ROOT": str(proofs_folder),
        "DSAR_EXPORT_ROOT": str(tmp_path_factory.mktemp("dsar-exports")),
        # The test is the proxy in front of the server: the client's address is the one X-Forwarded-For names.
        "TRUSTED_PROXIES": "127.0.0.1",
        "PRIVACY_CENTER_ADDRESS_RATE": f"{ADDRESS_RATE}/hour",
        "PRIVACY_CENTER_IDENTITY_RATE": f"{IDENTITY_RATE}/hour",
    }


@pytest.fixture(scope="module")
def site_setup() -> str:
    return CENTER


# --- the mailbox ----------------------------------------------------------------------------------------------


@dataclass
class Letter:
    to: str
    subject: str
    body: str

    def link(self, kind: str) -> str:
        """The address of the ``kind`` page ("verify", "confirm", "status") the letter links to."""
        return re.search(rf"https?://\S+/{kind}/\S+/", self.body).group(0)

    @property
    def code(self) -> str:
        return re.search(r"\b\d{6}\b", self.body).group(0)


class Mailbox:
    """The emails the server wrote (Django's file backend: a file per connection, messages separated by dashes)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def letters(self, to: str) -> list[Letter]:
        """The letters sent to ``to``, oldest first."""
        found = []
        files = sorted(self.folder.glob("*.log"), key=lambda path: (path.stat().st_mtime_ns, path.name))
        for path in files:
            for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if not raw.strip():
                    continue
                message = email.message_from_bytes(raw, policy=email.policy.default)
                if to in str(message["To"]):
                    body = message.get_body(("plain",)).get_content()
                    found.append(Letter(to=str(message["To"]), subject=str(message["Subject"]), body=body))
        return found

    def last(self, to: str, *, linking: str) -> Letter:
        """The newest letter to ``to`` with a link to a ``linking`` page; waits a little for it (the worker's
        letters come a moment after the page that caused them)."""
        deadline = time.monotonic() + 15
        while True:
            letters = [letter for letter in self.letters(to) if f"/{linking}/" in letter.body]
            if letters:
                return letters[-1]
            assert time.monotonic() < deadline, f"no letter to {to} linking to a {linking} page"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def mailbox(site: Site, mail_folder: Path) -> Mailbox:
    return Mailbox(mail_folder)


# --- the people's browsers --------------------------------------------------------------------------------------

_addresses = itertools.count(10)


@pytest.fixture
def open_browser(browser: Any) -> Iterator[Callable[..., Any]]:
    """Opens a page in a browser of its own (its own cookies, language and network address): a person, an agent."""
    contexts = []

    def opened(locale: str = "en-GB", viewport: dict[str, int] = WIDE) -> Any:
        context = browser.new_context(
            locale=locale, viewport=viewport, extra_http_headers={"X-Forwarded-For": f"198.51.100.{next(_addresses)}"}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield opened
    for context in contexts:
        context.close()


def words(language: str, text: str) -> str:
    """``text`` as the page says it in ``language``; a missing translation fails here rather than pass unseen."""
    with translation.override(language):
        translated = gettext(text)
    assert language == "en" or translated != text, f"{text!r} has no {language} translation"
    return translated


def shot(page: Any, site: Site, name: str) -> None:
    """Save the top of the page as the person first sees it (no field focused) as ``name``."""
    page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    # Down to the page's end when it is shorter than the window: no blank band in the README.
    end = page.evaluate("Math.ceil(document.body.getBoundingClientRect().bottom)")
    size = page.viewport_size
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], end + 8)}
    page.screenshot(path=str(site.shots / f"{name}.png"), clip=clip)


def check_page(page: Any) -> None:
    """axe-core finds nothing on the page, and at 360 px wide it does not scroll sideways."""
    assert accessibility_problems(page, within=None) == [], page.url
    size = page.viewport_size
    page.set_viewport_size(NARROW)
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], f"{page.url} is {width} px wide at 360 px"
    finally:
        page.set_viewport_size(size)


def center_url(site: Site, path: str = "") -> str:
    return f"{site.url}/privacy/{site.facts['slug']}/{path}"


def fill_request(
    page: Any, *, type: str, name: str, email: str, residence: str = "SE", details: str = ""
) -> None:
    """Fill in the form on the page (the person's or the agent's) for the person."""
    page.locator(f"input[name=type][value={type}]").check()
    if details:
        page.locator("#id_details").fill(details)
    page.locator("#id_name").fill(name)
    page.locator("#id_email").fill(email)
    page.locator("#id_residence").select_option(residence)


def file_request(
    page: Any, site: Site, *, check: bool = False, screenshots: str = "", promise: str = "", **person: str
) -> Any:
    """File a request from the form, through its check page, to "check your email"; the last page's response.
    ``check``: each page checked (axe-core, 360 px) on the way; ``screenshots``: each page saved under that prefix;
    ``promise``: words the check page's promise (the law and its answer time) must hold."""
    page.goto(center_url(site))
    if check:
        check_page(page)
    fill_request(page, **person)
    if screenshots:
        shot(page, site, f"{screenshots}-form")
    page.locator("button[name=step][value=check]").click()
    expect(page.locator("p.promise")).to_contain_text(promise)
    if check:
        check_page(page)
    with page.expect_navigation() as sent:
        page.locator("button[name=step][value=submit]").click()
    return sent.value


def confirm_with_code(page: Any, site: Site, letter: Letter, *, check: bool = False) -> None:
    page.goto(letter.link("confirm"))
    if check:
        check_page(page)
    page.locator("#id_code").fill(letter.code)
    page.locator("form:has(#id_code) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/status/"))


def confirm_with_link(page: Any, site: Site, letter: Letter, *, check: bool = False) -> Any:
    """Open the one-time link and press Confirm; the response to the press."""
    page.goto(letter.link("verify"))
    if check:
        check_page(page)
    with page.expect_navigation() as confirmed:
        page.locator("main form button[type=submit]").click()
    return confirmed.value


def request_number(page: Any) -> str:
    """The request's number, as the status page says it."""
    return page.locator("dl.summary dd").last.inner_text().strip()


# --- 1. Each kind of request, in each language, confirmed by the code or by the link ---


@pytest.mark.parametrize("locale", list(LANGUAGES))
def test_a_person_files_each_kind_of_request_in_their_language_and_confirms_it(
    open_browser: Callable[..., Any], site: Site, mailbox: Mailbox, locale: str
) -> None:
    language = LANGUAGES[locale]
    page = open_browser(locale)
    # Where the person lives says the law, named on the check page in the person's language.
    residence, law = {"en": ("GB", "the UK GDPR"), "sv": ("SE", "the GDPR (EU)"), "fr": ("FR", "the GDPR (EU)")}[language]
    for index, type in enumerate(TYPES):
        first = index == 0
        address = f"{language}.{type}@example.org"
        sent = file_request(
            page, site, check=first, screenshots="privacy-center" if first and language == "en" else "",
            promise=words(language, law), type=type, name=f"Kim {type.title()}", email=address, residence=residence,
            details="My surname is spelt Lindqvist, not Lindkvist." if type == "rectification" else "",
        )
        assert sent.status == 200 and page.locator("html").get_attribute("lang") == language
        expect(page.locator("h1")).to_have_text(words(language, "Check your email"))
        if first:
            check_page(page)
            if language == "en":
                shot(page, site, "privacy-center-check-email")

        letter = mailbox.last(address, linking="verify")
        assert letter.body.startswith(words(language, "Hello,"))
        # Alternately by the code and by the link, starting one way in one language and the other way in the
        # next: each language and each type is confirmed both ways.
        if (index + list(LANGUAGES).index(locale)) % 2:
            confirm_with_code(page, site, letter, check=first)
        else:
            confirm_with_link(page, site, letter, check=first)
            page.wait_for_url(re.compile(r"/status/"))

        expect(page.locator("h1")).to_contain_text(words(language, TYPES[type]))
        expect(page.locator("main")).to_contain_text(words(language, "Answer by"))
        assert page.locator("html").get_attribute("lang") == language
        assert address not in page.content()  # the status page names no identifier
        status = mailbox.last(address, linking="status")
        assert status.link("status") == page.url
        if first:
            check_page(page)
            if language == "en":
                shot(page, site, "privacy-center-status")
            if language == "sv":
                page.goto(center_url(site))
                shot(page, site, "privacy-center-sv")


def test_the_language_switcher_changes_the_language_of_every_page_after(
    open_browser: Callable[..., Any], site: Site
) -> None:
    page = open_browser("en-GB")
    page.goto(center_url(site))
    assert page.locator("html").get_attribute("lang") == "en"

    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text(words("fr", "Make a privacy request"))
    page.goto(center_url(site, "agent/"))
    expect(page.locator("h1")).to_have_text(words("fr", "Make a request as an authorized agent"))
    check_page(page)

    page.set_viewport_size(NARROW)
    page.goto(center_url(site))
    shot(page, site, "privacy-center-360")


# --- 2. The status page leads to what the request produced ---


def execute_in_the_console(page: Any, site: Site, number: str) -> None:
    """The privacy officer carries the request out from its page in the console."""
    page.goto(f"{site.url}/admin/dsar/request/{number}/change/")
    page.get_by_role("region", name="Actions").get_by_role("button", name="Execute", exact=True).click()
    page.get_by_role("button", name="Yes, I'm sure").click()
    page.wait_for_url(re.compile(rf"/admin/dsar/request/{number}/change/"))


def test_the_status_page_leads_to_the_access_report_and_the_portability_archive(
    open_browser: Callable[..., Any], site: Site, mailbox: Mailbox
) -> None:
    person, officer = open_browser(), open_browser()
    log_in(officer, site, "officer")
    statuses = {}
    for type in ("access", "portability"):
        address = f"downloads.{type}@example.org"
        file_request(person, site, type=type, name="Dana Downloads", email=address, residence="SE")
        confirm_with_code(person, site, mailbox.last(address, linking="verify"))
        statuses[type] = person.url
        assert person.locator("ul.downloads").count() == 0  # nothing yet
        execute_in_the_console(officer, site, request_number(person))

    person.goto(statuses["access"])
    report = person.locator("ul.downloads a").first
    expect(report).to_contain_text("access report")
    check_page(person)
    with person.expect_download() as download:
        report.click()
    assert download.value.suggested_filename.endswith("-access-report.html")
    assert "Dana Downloads" in Path(download.value.path()).read_text()

    person.goto(statuses["portability"])
    archive = person.locator("ul.downloads a", has_text="ZIP")
    for _ in range(60):  # the worker builds it
        if archive.count():
            break
        time.sleep(0.5)
        person.reload()
    check_page(person)
    with person.expect_download() as download:
        archive.click()
    assert download.value.suggested_filename.endswith(".zip")
    assert Path(download.value.path()).read_bytes().startswith(b"PK")


# --- 3. An erasure withdrawn in its grace period ---


def test_an_erasure_is_withdrawn_in_its_grace_period_after_a_confirmation(
    open_browser: Callable[..., Any], site: Site, mailbox: Mailbox
) -> None:
    page = open_browser()
    address = "changed.mind@example.org"
    file_request(page, site, type="erasure", name="Chris Changed-Mind", email=address)
    confirm_with_link(page, site, mailbox.last(address, linking="verify"))
    status = page.url
    expect(page.locator("main")).to_contain_text("You can withdraw this request")

    page.get_by_role("link", name="Withdraw my request").click()
    check_page(page)
    # The confirmation keeps it: nothing happens until the person says yes.
    page.get_by_role("link", name="No, keep it").click()
    assert page.url == status and page.get_by_role("link", name="Withdraw my request").count() == 1

    page.get_by_role("link", name="Withdraw my request").click()
    page.get_by_role("button", name="Yes, withdraw my request").click()
    page.wait_for_url(status)
    expect(page.locator("strong.state")).to_have_text("Withdrawn")
    assert page.get_by_role("link", name="Withdraw my request").count() == 0
    check_page(page)


# --- 4. An agent's request, confirmed by the person ---


def test_an_agent_files_for_a_person_who_confirms_it_and_the_officer_downloads_the_authorization(
    open_browser: Callable[..., Any], site: Site, mailbox: Mailbox
) -> None:
    agent = open_browser()
    agent.goto(center_url(site, "agent/"))
    check_page(agent)
    agent.get_by_label("Your name (the agent)").fill("Avery Agent")
    agent.get_by_label("Your email address (the agent)").fill("avery.agent@example.com")
    fill_request(agent, type="access", name="Pat Person", email="pat.person@example.org", residence="SE")
    agent.get_by_label("Signed authorization").set_input_files(
        files=[{"name": "authorization.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    agent.get_by_role("button", name="Send the request").click()
    agent.wait_for_url(re.compile(r"/sent/"))
    expect(agent.locator("main")).to_contain_text("We have sent the person a message")
    check_page(agent)
    assert mailbox.letters("avery.agent@example.com"), "the agent has a receipt"

    # The person, in their own browser and language, confirms.
    person = open_browser("sv-SE")
    letter = mailbox.last("pat.person@example.org", linking="verify")
    assert "Avery Agent" in letter.body
    confirm_with_link(person, site, letter)
    person.wait_for_url(re.compile(r"/status/"))
    number = request_number(person)
    assert mailbox.last("avery.agent@example.com", linking="status").link("status") == person.url

    officer = open_browser()
    log_in(officer, site, "officer")
    officer.goto(f"{site.url}/admin/dsar/request/{number}/change/")
    filed = officer.get_by_role("table", name="Filed from the privacy center")
    expect(filed).to_contain_text("Avery Agent")
    with officer.expect_download() as download:
        filed.get_by_role("link", name=re.compile("Download")).click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes() == PDF


# --- 5. A duplicate is linked only once it is confirmed ---


def submissions_on(officer: Any, site: Site, number: str) -> list[str]:
    """The statuses of the submissions the console shows on the request's page."""
    officer.goto(f"{site.url}/admin/dsar/request/{number}/change/")
    rows = officer.get_by_role("table", name="Filed from the privacy center").locator("tbody tr")
    return [row.locator("td").last.inner_text() for row in rows.all()]


def test_the_same_request_made_twice_is_linked_to_the_first_only_once_confirmed(
    open_browser: Callable[..., Any], site: Site, mailbox: Mailbox
) -> None:
    page, officer = open_browser(), open_browser()
    log_in(officer, site, "officer")
    address = "twice@example.org"
    file_request(page, site, type="access", name="Toni Twice", email=address)
    confirm_with_code(page, site, mailbox.last(address, linking="verify"))
    first = request_number(page)
    assert submissions_on(officer, site, first) == ["Verified: request opened"]

    file_request(page, site, type="access", name="Toni Twice", email=address)
    letter = mailbox.last(address, linking="verify")
    # Unconfirmed, the second one touches nothing: the first request shows no sign of it.
    assert submissions_on(officer, site, first) == ["Verified: request opened"]
    assert "linked to this open request" not in officer.locator("body").inner_text()

    confirm_with_code(page, site, letter)
    assert request_number(page) == first
    expect(page.locator("p.notice")).to_contain_text("You already had the same request open with us")
    check_page(page)
    assert submissions_on(officer, site, first) == ["Verified: request opened", "Verified: linked to an open request"]
    expect(officer.locator("body")).to_contain_text("linked to this open request")


# --- 6. Bad input: a clear message, nothing half-written ---


def stored(site: Site, emails: list[str]) -> dict[str, int]:
    """How many submissions the server's database holds for each of ``emails``."""
    code = (
        "import json\nfrom dsar.models import Submission\n"
        f"print(json.dumps({{e: Submission.objects.filter(email=e).count() for e in {emails!r}}}))"
    )
    return json.loads(manage(site, "shell", "-v", "0", "-c", code))


def test_an_authorization_too_large_or_not_a_document_is_refused_and_nothing_is_kept(
    open_browser: Callable[..., Any], site: Site, mailbox: Mailbox, proofs_folder: Path
) -> None:
    page = open_browser()
    kept = set(proofs_folder.iterdir())
    cases = [
        ("too-large.pdf", PDF + b"0" * (6 * 1024 * 1024), "the authorization may be at most"),
        ("letter.pdf", b"Dear sir, I authorize my agent.", "Upload the signed authorization as a PDF, PNG or JPEG file."),
    ]
    for index, (name, content, refusal) in enumerate(cases):
        page.goto(center_url(site, "agent/"))
        page.get_by_label("Your name (the agent)").fill("Bo Badfile")
        page.get_by_label("Your email address (the agent)").fill("bo.badfile@example.com")
        fill_request(page, type="erasure", name="Sam Subject", email=f"sam.subject.{index}@example.org")
        page.get_by_label("Signed authorization").set_input_files(
            files=[{"name": name, "mimeType": "application/pdf", "buffer": content}]
        )
        page.get_by_role("button", name="Send the request").click()
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("Signed authorization:")
        expect(summary).to_contain_text(refusal)
        # What was typed stays, to be sent again with another file.
        expect(page.locator("#id_agent_name")).to_have_value("Bo Badfile")
        check_page(page)

    # Larger than any form with a file may be: refused before it is read, on a page in words.
    page.goto(center_url(site, "agent/"))
    page.get_by_label("Your name (the agent)").fill("Bo Badfile")
    page.get_by_label("Your email address (the agent)").fill("bo.badfile@example.com")
    fill_request(page, type="erasure", name="Sam Subject", email="sam.subject.2@example.org")
    page.get_by_label("Signed authorization").set_input_files(
        files=[{"name": "huge.pdf", "mimeType": "application/pdf", "buffer": PDF + b"0" * (9 * 1024 * 1024)}]
    )
    with page.expect_navigation() as refused:
        page.get_by_role("button", name="Send the request").click()
    assert refused.value.status == 413
    expect(page.locator("h1")).to_have_text("The file is too large")
    check_page(page)

    assert set(proofs_folder.iterdir()) == kept
    emails = [f"sam.subject.{index}@example.org" for index in range(3)]
    assert stored(site, emails) == dict.fromkeys(emails, 0)
    assert not any(mailbox.letters(address) for address in [*emails, "bo.badfile@example.com"])


def test_an_unknown_privacy_center_is_a_page_in_words(open_browser: Callable[..., Any], site: Site) -> None:
    page = open_browser("fr-FR")
    for path in ("no-such-company/", "no-such-company/agent/", "no-such-company/status/abc/"):
        response = page.goto(f"{site.url}/privacy/{path}")
        assert response.status == 404
        expect(page.locator("h1")).to_have_text(words("fr", "Privacy center not found"))
    check_page(page)


def test_a_used_link_and_an_expired_link_say_so_and_open_nothing(
    open_browser: Callable[..., Any], site: Site, mailbox: Mailbox
) -> None:
    page = open_browser()
    file_request(page, site, type="objection", name="Uma Used", email="used.link@example.org")
    letter = mailbox.last("used.link@example.org", linking="verify")
    confirm_with_link(page, site, letter)
    page.wait_for_url(re.compile(r"/status/"))
    status = page.url

    # A mail scanner, or the person again: the GET still only shows the button; pressed, it says so.
    refused = confirm_with_link(page, site, letter, check=True)
    assert refused.status == 400
    expect(page.locator("h1")).to_have_text("This link cannot be used")
    expect(page.locator("main")).to_contain_text("This request is already confirmed")
    check_page(page)
    page.goto(status)
    expect(page.locator("strong.state")).to_be_visible()

    # Seven days pass without a confirmation.
    file_request(page, site, type="access", name="Eli Expired", email="expired.link@example.org")
    letter = mailbox.last("expired.link@example.org", linking="verify")
    manage(
        site, "shell", "-v", "0", "-c",
        "import datetime as dt\nfrom django.utils import timezone\nfrom dsar.models import Submission\n"
        "Submission.objects.filter(email='expired.link@example.org')"
        ".update(expires_at=timezone.now() - dt.timedelta(minutes=1))",
    )
    refused = confirm_with_link(page, site, letter)
    assert refused.status == 400
    expect(page.locator("main")).to_contain_text("has expired. Please make it again.")
    check_page(page)
    # Its code page offers no form once its time is over, even before the hourly job marks it expired.
    page.goto(letter.link("confirm"))
    expect(page.locator("main")).to_contain_text("a request not confirmed within its time expires")
    assert page.locator("#id_code").count() == 0
    assert not [letter for letter in mailbox.letters("expired.link@example.org") if "/status/" in letter.body]

    # A link never sent (mistyped, or guessed).
    response = page.goto(letter.link("verify").replace("/verify/", "/verify/x"))
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("This link is not valid")
    assert response.status == 200


def test_a_flood_of_requests_is_refused_with_a_page_saying_when_to_try_again(
    open_browser: Callable[..., Any], site: Site, mailbox: Mailbox
) -> None:
    page = open_browser()
    emails = [f"flood.{index}@example.org" for index in range(ADDRESS_RATE + 1)]
    for address in emails[:-1]:
        assert file_request(page, site, type="access", name="Flo Flood", email=address).status == 200
    refused = file_request(page, site, type="access", name="Flo Flood", email=emails[-1])
    assert refused.status == 429 and int(refused.headers["retry-after"]) > 0
    expect(page.locator("h1")).to_have_text("Too many requests")
    expect(page.locator("main")).to_contain_text("Too many requests were sent from your network. Try again in")
    check_page(page)

    # One email address, from anywhere: its own limit.
    for _ in range(IDENTITY_RATE):
        assert file_request(open_browser(), site, type="erasure", name="Flo Flood", email="same.flood@example.org").status == 200
    elsewhere = open_browser()
    assert file_request(elsewhere, site, type="erasure", name="Flo Flood", email="same.flood@example.org").status == 429
    expect(elsewhere.locator("main")).to_contain_text("Too many requests were sent for this email or phone number.")
    counts = stored(site, [*emails, "same.flood@example.org"])
    assert counts == {**dict.fromkeys(emails[:-1], 1), emails[-1]: 0, "same.flood@example.org": IDENTITY_RATE}
    assert not mailbox.letters(emails[-1])
