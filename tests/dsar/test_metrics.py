"""The yearly request metrics (CCPA regulations §7102): a seeded year's figures, by law and type, match the same
figures counted here in plain Python over the seeded list, never through dsar.metrics; from the module, the
command, the console (page and CSV) and the API, each within what the caller may read."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import statistics
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.roles import AUDITOR
from dsar import services
from dsar.metrics import request_metrics
from dsar.models import Jurisdiction, Request
from residency.models import Account
from tests.dsar.factories import PersonFactory
from tests.factories import AccountFactory, UserFactory, api_key_for, region, role_console

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db
YEAR = 2026
PAGE = "/admin/dsar/request/metrics/"
API = "/api/v1/dsar/metrics/"
#: CCPA's words for our types, as the regulations name them (written out here, not read from the module).
CCPA = {
    "access": "know/access",
    "erasure": "delete",
    "rectification": "correct",
    "objection": "opt-out/objection",
    "portability": "portability",
}
REASONS = [
    "suspected_fraud", "insuf_verification", "no_match", "claim_not_covered", "outside_jurisdiction",
    "too_many_requests", "other",
]


@pytest.fixture(autouse=True)
def frozen() -> Any:
    with time_machine.travel(dt.datetime(2027, 3, 1, 12, tzinfo=UTC), tick=False):
        yield


@dataclass
class Seeded:
    """One seeded request, as the test knows it: where its account counts days, and what became of it."""

    request: Request
    account: Account
    zone: str
    law: str
    type: str
    received_at: dt.datetime
    status: str
    denial_reason: str = ""
    completed_at: dt.datetime | None = None
    is_test: bool = False


def seed(
    account: Account, zone: str, *, law: str, type: str, received_at: dt.datetime, status: str = "received",
    days: float | None = None, denial_reason: str = "", is_test: bool = False,
) -> Seeded:
    request = services.request_create(
        account=account, person=PersonFactory(account=account), type=type, jurisdiction=law,
        received_at=received_at, channel=Request.Channel.EMAIL, send_code=False, is_test=is_test,
    )
    completed_at = received_at + dt.timedelta(days=days) if days is not None else None
    # The outcome as the services would leave it (closing each the real way needs every type's workflow).
    Request.objects.filter(pk=request.pk).update(status=status, denial_reason=denial_reason, completed_at=completed_at)
    return Seeded(request, account, zone, law, type, received_at, status, denial_reason, completed_at, is_test)


@pytest.fixture
def seeded() -> dict[str, Any]:
    """Requests of two accounts (Stockholm; New York, from its US home region) and a third, across laws, types and
    outcomes; some test requests; some received the year before or after, by each account's calendar."""
    stockholm = AccountFactory(name="Nordkust AB", time_zone="Europe/Stockholm")
    new_york = AccountFactory(name="Pacific Desk Inc", home_region=region("US"))
    other = AccountFactory(name="Other Ltd", time_zone="Asia/Kolkata")
    accounts = [(stockholm, "Europe/Stockholm"), (new_york, "America/New_York"), (other, "Asia/Kolkata")]
    laws = ["gdpr", "ccpa", "uk-gdpr"]
    types = list(CCPA)
    outcomes = itertools.cycle(
        [("completed", None)] * 3 + [("rejected", reason) for reason in REASONS] + [("withdrawn", None), ("received", None)]
    )
    rows = []
    for n in range(54):
        account, zone = accounts[n % 3]
        status, reason = next(outcomes)
        received_at = dt.datetime(YEAR, 1 + n % 12, 1 + n % 27, 8 + n % 9, 15 * (n % 4), tzinfo=UTC)
        days = None if status == "received" else (n % 7) * 6.25 + 0.5 + n / 100
        rows.append(seed(
            account, zone, law=laws[n % 3 if n % 5 else 1], type=types[n % 5], received_at=received_at,
            status=status, days=days, denial_reason=reason or "", is_test=n % 11 == 4,
        ))
    # At the edges of the year, as each account counts its days.
    rows += [
        # 00:30 on 1 January 2026 in Stockholm: this year; 00:30 on 1 January 2027 there: next year.
        seed(stockholm, "Europe/Stockholm", law="gdpr", type="access", received_at=dt.datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
             status="completed", days=12.2),
        seed(stockholm, "Europe/Stockholm", law="gdpr", type="access", received_at=dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
             status="completed", days=3),
        # 22:00 on 31 December 2026 in New York: this year; 22:00 on 31 December 2025 there: the year before.
        seed(new_york, "America/New_York", law="ccpa", type="erasure", received_at=dt.datetime(2027, 1, 1, 3, tzinfo=UTC),
             status="rejected", days=30, denial_reason="no_match"),
        seed(new_york, "America/New_York", law="ccpa", type="erasure", received_at=dt.datetime(2026, 1, 1, 3, tzinfo=UTC),
             status="completed", days=5),
        # Received this year, answered the next: counted with this year, with its outcome.
        seed(new_york, "America/New_York", law="ccpa", type="objection", received_at=dt.datetime(2026, 12, 20, 15, tzinfo=UTC),
             status="completed", days=40.04),
        seed(other, "Asia/Kolkata", law="lgpd", type="portability", received_at=dt.datetime(2025, 6, 1, tzinfo=UTC),
             status="completed", days=2),
    ]
    return {"rows": rows, "stockholm": stockholm, "new_york": new_york, "other": other}


def expected(rows: list[Seeded], account: Account | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """The year's figures counted here: law code → CCPA type → figures; "all requests" for the law's total."""
    mine = [
        row for row in rows
        if not row.is_test
        and row.received_at.astimezone(zoneinfo.ZoneInfo(row.zone)).year == YEAR
        and (account is None or row.account == account)
    ]
    groups: dict[str, dict[str, list[Seeded]]] = defaultdict(lambda: defaultdict(list))
    for row in mine:
        groups[row.law][CCPA[row.type]].append(row)
        groups[row.law]["all requests"].append(row)
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    for law, by_type in groups.items():
        figures[law] = {}
        for label in [*CCPA.values(), "all requests"]:
            group = by_type.get(label, [])
            days = [
                (row.completed_at - row.received_at).total_seconds() / 86400
                for row in group if row.status in ("completed", "rejected")
            ]
            figures[law][label] = {
                "received": len(group),
                "complied": sum(row.status == "completed" for row in group),
                "denied": sum(row.status == "rejected" for row in group),
                "denied_by_reason": {reason: sum(row.denial_reason == reason for row in group) for reason in REASONS},
                "withdrawn": sum(row.status == "withdrawn" for row in group),
                "open": sum(row.status == "received" for row in group),
                "median_days": round(statistics.median(days), 1) if days else None,
                "mean_days": round(statistics.mean(days), 1) if days else None,
            }
    return figures


def computed(metrics: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    keys = ["received", "complied", "denied", "denied_by_reason", "withdrawn", "open", "median_days", "mean_days"]
    return {
        law["jurisdiction"]: {figures["label"]: {key: figures[key] for key in keys} for figures in [*law["types"], law["total"]]}
        for law in metrics["laws"]
    }


# --- the figures ----------------------------------------------------------------------------------------


def test_a_seeded_years_metrics_match_the_counts_computed_here(seeded: dict[str, Any]) -> None:
    metrics = request_metrics(year=YEAR).as_dict()

    want = expected(seeded["rows"])
    assert computed(metrics) == want
    # The seeding reaches what it means to: three laws, every outcome and reason, test requests and other years.
    assert set(want) == {"gdpr", "ccpa", "uk-gdpr"}
    total = sum(law["all requests"]["received"] for law in want.values())
    assert total == 54 - 5 + 3  # five test requests left out; three of the six at the edges fall in the year
    assert all(sum(law["all requests"]["denied_by_reason"][reason] for law in want.values()) for reason in REASONS)
    assert [law["name"] for law in metrics["laws"]] == sorted(law["name"] for law in metrics["laws"])


def test_one_accounts_metrics_are_its_requests_only(seeded: dict[str, Any]) -> None:
    for account in (seeded["stockholm"], seeded["new_york"], seeded["other"]):
        metrics = request_metrics(year=YEAR, account=account).as_dict()
        assert computed(metrics) == expected(seeded["rows"], account)
        assert (metrics["account_id"], metrics["account_name"]) == (account.pk, account.name)


def test_a_year_without_requests_has_no_laws(seeded: dict[str, Any]) -> None:
    assert request_metrics(year=2019).laws == []


def test_the_query_count_does_not_grow_with_the_requests() -> None:
    account = AccountFactory(time_zone="Europe/Stockholm")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            request_metrics(year=YEAR)
        return len(captured)

    seed(account, "Europe/Stockholm", law="gdpr", type="access", received_at=dt.datetime(YEAR, 3, 1, tzinfo=UTC),
         status="completed", days=2)
    few = queries()
    for n in range(20):
        seed(AccountFactory(time_zone="Europe/Stockholm"), "Europe/Stockholm", law=["gdpr", "ccpa"][n % 2],
             type=list(CCPA)[n % 5], received_at=dt.datetime(YEAR, 4, 1 + n, tzinfo=UTC), status="completed", days=n)
    assert queries() == few


# --- the command ----------------------------------------------------------------------------------------


def test_the_command_prints_a_table_per_law(seeded: dict[str, Any]) -> None:
    out = io.StringIO()
    call_command("dsar_metrics", "--year", str(YEAR), stdout=out)
    text = out.getvalue()
    want = expected(seeded["rows"])
    assert f"received in {YEAR} (every account), test requests left out" in text
    assert "CCPA" in text and "GDPR" in text
    sections = {part.splitlines()[0]: part for part in text.split("\n\n")[1:]}
    gdpr = sections["GDPR (EU/EEA)"].splitlines()
    row = next(line for line in gdpr if line.startswith("know/access")).split()
    figures = want["gdpr"]["know/access"]
    assert row[1:7] == [str(figures[key]) for key in ("received", "complied", "denied", "withdrawn", "open")] + [
        f"{figures['median_days']:.1f}" if figures["median_days"] is not None else "—"
    ]
    assert "Denied by reason:" in text


def test_the_command_writes_csv_for_one_account_to_a_file(seeded: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "metrics.csv"
    account = seeded["new_york"]
    out = io.StringIO()
    call_command("dsar_metrics", "--year", str(YEAR), "--account", str(account.pk), "--format", "csv",
                 "--output", str(target), stdout=out)
    assert str(target) in out.getvalue()
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    want = expected(seeded["rows"], account)
    assert {row["account"] for row in rows} == {"Pacific Desk Inc"}
    ccpa = {row["request type"]: row for row in rows if row["law"].startswith("CCPA")}
    assert int(ccpa["delete"]["received"]) == want["ccpa"]["delete"]["received"]
    assert int(ccpa["all requests"]["denied: no data found for the person"]) == want["ccpa"]["all requests"]["denied_by_reason"]["no_match"]
    assert ccpa["all requests"]["median days to answer"] == str(want["ccpa"]["all requests"]["median_days"])


@pytest.mark.parametrize("year", ["twenty", "1999", "2028", ""])
def test_the_command_refuses_a_bad_year_naming_it(year: str) -> None:
    with pytest.raises(CommandError, match=r"^--year: Give a calendar year from 2000 to 2027"):
        call_command("dsar_metrics", "--year", year, stdout=io.StringIO())


def test_the_command_refuses_an_unknown_account_naming_it() -> None:
    with pytest.raises(CommandError, match=r"^--account: no account with id '999999'"):
        call_command("dsar_metrics", "--year", "2026", "--account", "999999", stdout=io.StringIO())


# --- the console ----------------------------------------------------------------------------------------


def test_an_auditor_reads_the_page_with_a_table_and_a_chart_per_law(seeded: dict[str, Any]) -> None:
    page = role_console(AUDITOR).get(PAGE, {"year": YEAR})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Request metrics for 2026" in html
    for law in ("GDPR", "CCPA"):
        assert law in html
    charts = [part.split("</figure>")[0] for part in html.split('<figure class="chart">')[1:]]
    assert len(charts) == 3 and all("<svg" in chart and "<script" not in chart for chart in charts)
    assert "opt-out/objection" in html and "Denied: suspected fraud" in html
    assert f"{PAGE}?year=2026&amp;format=csv" in html


def test_the_page_is_refused_to_staff_who_may_not_read_requests() -> None:
    client = Client()
    client.force_login(UserFactory(username="support", is_superuser=False))
    assert client.get(PAGE).status_code == 403
    assert client.get(PAGE, {"format": "csv", "year": YEAR}).status_code == 403


def test_the_page_names_a_bad_year_and_shows_this_one(seeded: dict[str, Any]) -> None:
    page = role_console(AUDITOR).get(PAGE, {"year": "1066"})
    assert page.status_code == 200
    assert "year: Give a calendar year from 2000 to 2027" in page.content.decode()
    assert "Request metrics for 2027" in page.content.decode()
    refused = role_console(AUDITOR).get(PAGE, {"year": "1066", "format": "csv"})
    assert refused.status_code == 400 and refused.content.decode().startswith("year: ")


def test_the_csv_download_holds_the_figures_with_cells_made_safe(seeded: dict[str, Any]) -> None:
    account = seeded["other"]
    Account.objects.filter(pk=account.pk).update(name="=HYPERLINK(\"http://x\")")
    response = role_console(AUDITOR).get(PAGE, {"year": YEAR, "account": account.pk, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f'filename="request-metrics-2026-account-{account.pk}.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {row["account"] for row in rows} == {"'=HYPERLINK(\"http://x\")"}
    want = expected(seeded["rows"], account)
    names = dict(Jurisdiction.objects.values_list("code", "name"))
    got = {(row["law"], row["request type"]): int(row["received"]) for row in rows}
    assert got == {(names[law], label): figures["received"] for law, by_type in want.items() for label, figures in by_type.items()}


def test_the_requests_list_and_the_home_page_link_to_the_metrics() -> None:
    console = role_console(AUDITOR)
    assert PAGE in console.get("/admin/dsar/request/").content.decode()
    assert PAGE in console.get("/admin/").content.decode()


# --- the API --------------------------------------------------------------------------------------------


def key_client(account: Account, scopes: list[str] | None = None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(account, scopes=scopes)}")
    return client


def test_a_key_reads_its_own_accounts_metrics_only(seeded: dict[str, Any]) -> None:
    account = seeded["stockholm"]
    response = key_client(account, ["requests:read"]).get(API, {"year": YEAR})
    assert response.status_code == 200, response.json()
    assert response.json()["account_id"] == account.pk
    assert computed(response.json()) == expected(seeded["rows"], account)
    other = key_client(account, ["requests:read"]).get(API, {"year": YEAR, "account": seeded["other"].pk})
    assert other.status_code == 400 and {e["attr"] for e in other.json()["errors"]} == {"account"}


def test_staff_read_every_account_or_one(seeded: dict[str, Any]) -> None:
    client = APIClient()
    client.force_login(UserFactory(username="dpo"))
    assert computed(client.get(API, {"year": YEAR}).json()) == expected(seeded["rows"])
    one = client.get(API, {"year": YEAR, "account": seeded["new_york"].pk}).json()
    assert computed(one) == expected(seeded["rows"], seeded["new_york"])


@pytest.mark.parametrize("year", [None, "x", "1999", "2028", "2026.5"])
def test_the_api_refuses_a_bad_year_naming_it(year: str | None) -> None:
    client = key_client(AccountFactory(), ["requests:read"])
    response = client.get(API, {} if year is None else {"year": year})
    assert response.status_code == 400
    assert {e["attr"] for e in response.json()["errors"]} == {"year"}


def test_the_api_needs_the_read_scope_or_permission() -> None:
    refused = key_client(AccountFactory(), ["requests:create"]).get(API, {"year": YEAR})
    assert refused.status_code == 403 and "requests:read" in str(refused.json())
    nobody = APIClient()
    nobody.force_login(UserFactory(username="nobody", is_superuser=False))
    assert nobody.get(API, {"year": YEAR}).status_code == 403
    user = UserFactory(username="reader", is_superuser=False)
    user.user_permissions.add(Permission.objects.get(codename="view_request"))
    reader = APIClient()
    reader.force_login(user)
    assert reader.get(API, {"year": YEAR}).status_code == 200
