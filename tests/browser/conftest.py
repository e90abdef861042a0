"""Browser tests: Debian's Chromium, driven by Playwright, against the product served as a new user runs it
(a database of its own with the catalog and the demo data, `runserver` and the background worker as separate
processes). Each flow saves a screenshot: into SCREENSHOTS_DIR when set (`make screenshots` keeps the README's
current), else into the test's temporary folder.

Each test module gets a server of its own; a module that needs other settings or data says so by overriding
``site_env`` (environment variables) and ``site_setup`` (a script run on the database before the server starts)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.processes import ROOT, own_database

# Playwright's synchronous API runs an event loop in the test's thread; the ORM is not used from it here
# (the server is another process), but Django's guard would refuse the test database's own set-up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Correct-horse-battery-9"
USERS = f"""
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from dsar.models import Request
from recordings.impact import open_requests_by_recording
from recordings.models import Recording
from residency.models import Account
from core.services import api_key_create

User = get_user_model()
for username, role in (("officer", "Privacy officer"), ("support", "Support admin"), ("auditor", "Auditor")):
    user = User.objects.create_user(username, f"{{username}}@example.com", "{PASSWORD}", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
# Reads the audit chain and nothing else: no role, so not allowed to run its verification.
reader = User.objects.create_user("chainreader", "chainreader@example.com", "{PASSWORD}", is_staff=True)
reader.user_permissions.add(Permission.objects.get(content_type__app_label="core", codename="view_auditentry"))
account = Account.objects.order_by("pk").first()
_, key = api_key_create(account=account, name="intake form", scopes=["requests:create", "requests:read"])
erasure = (
    Request.objects.filter(type="erasure", status="in_progress", verified_at__isnull=False)
    .exclude(account=account).order_by("pk").first()
)
recording = (
    Recording.objects.filter(ticket__isnull=False).exclude(account__in=[account, erasure.account]).order_by("pk").first()
)
held = Recording.objects.filter(ticket__isnull=False, account=account).order_by("pk").first()
# A recording of a person with an open request, elsewhere than the flows above act: its deletion warns.
candidates = (
    Recording.objects.filter(ticket__isnull=False).exclude(account__in=[account, erasure.account])
    .exclude(pk=recording.pk).select_related("call", "ticket").order_by("pk")
)
warned = next(iter(open_requests_by_recording(candidates)))
print(json.dumps({{
    "account": account.pk, "account_name": account.name, "key": key, "erasure": erasure.pk,
    "recording": recording.pk, "recording_sid": recording.provider_sid, "ticket": recording.ticket_id,
    "held_recording": held.pk, "held_ticket": held.ticket_id, "held_account_name": account.name,
    "warned_recording": warned, "erasure_account": erasure.account_id,
}}))
"""


@dataclass
class Site:
    url: str
    facts: dict[str, Any]
    shots: Path
    #: What the server and the worker print (the console email backend's letters among it).
    log: Path
    #: The environment the server runs in: ``manage(site, ...)`` runs a command against its database.
    env: dict[str, str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def site_env() -> dict[str, str]:
    """Settings, as environment variables, the module's server runs with beside the defaults."""
    return {}


@pytest.fixture(scope="module")
def site_setup() -> str:
    """Python run on the module's database after the demo data and the users, printing a JSON object of facts
    added to ``site.facts``; empty: nothing more."""
    return ""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, site_env: dict[str, str], site_setup: str) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("site")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    for env in own_database(
        folder,
        **{"EMAIL_URL": "consolemail://", "RECORDINGS_EXPORT_DIR": str(folder / "exports"), **site_env, "SITE_URL": url},
    ):
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "load_demo", "-v", "0"], env=env, cwd=ROOT, check=True, timeout=300, capture_output=True)
        facts: dict[str, Any] = {}
        for script in (USERS, site_setup):
            if script:
                facts.update(json.loads(
                    subprocess.run([*manage, "shell", "-v", "0", "-c", script], env=env, cwd=ROOT, check=True,
                                   timeout=120, capture_output=True, text=True).stdout
                ))
        logs = (folder / "server.log").open("w")
        processes = [
            subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env, cwd=ROOT,
                             stdout=logs, stderr=subprocess.STDOUT),
            subprocess.Popen([*manage, "db_worker"], env=env, cwd=ROOT, stdout=logs, stderr=subprocess.STDOUT),
        ]
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/admin/login/", timeout=5).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            shots = Path(os.environ.get("SCREENSHOTS_DIR") or folder / "screenshots")
            shots.mkdir(parents=True, exist_ok=True)
            yield Site(url=url, facts=facts, shots=shots, log=folder / "server.log", env=env)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            logs.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    assert executable, "Chromium is missing: scripts/ensure-chromium.sh installs Debian's (make test runs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def log_in(page: Any, site: Site, username: str) -> None:
    page.goto(f"{site.url}/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.url}/admin/")


def manage(site: Site, *args: str) -> str:
    """Run a management command against the site's database (``"shell", "-c", code`` for a look or a change the
    browser cannot make, such as time passing); what it prints."""
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=site.env, cwd=ROOT, check=True,
                          timeout=120, capture_output=True, text=True).stdout


def accessibility_problems(page: Any, within: str | None = "#content") -> list[str]:
    """What axe-core finds on our part of the page (``within``: the console's content area; None: the whole page)
    against WCAG 2 A and AA."""
    from axe_playwright_python.sync_playwright import Axe

    context = {"include": [[within]]} if within else None
    results = Axe().run(page, context=context, options={"runOnly": ["wcag2a", "wcag2aa"]})
    return [
        f"{violation['id']}: {violation['help']} ({', '.join(node['target'][0] for node in violation['nodes'][:3])})"
        for violation in results.response["violations"]
    ]
