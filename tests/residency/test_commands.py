from __future__ import annotations

import csv
import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from residency.models import CatalogLoad
from tests.factories import AccountFactory, region

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_report_command_prints_json_with_entries_and_transfers() -> None:
    account = AccountFactory(name="Fjord Help", home_region=region("IND"), products=["freshdesk"])

    report = json.loads(run("residency_report", "Fjord Help", "--format", "json"))

    assert report["account_id"] == account.pk and report["home_region"] == "IND"
    tickets = next(e for e in report["entries"] if e["data_category"] == "ticket")
    assert tickets["logs"] == [{"region": "IND", "minutes": None, "days": 365}, {"region": "EEA", "minutes": None, "days": 30}]
    assert any(t["region"] == "EEA" for t in report["transfers"])


def test_the_report_command_prints_csv_one_row_per_category_by_id() -> None:
    account = AccountFactory(products=["freshteam"])

    rows = list(csv.DictReader(StringIO(run("residency_report", str(account.pk), "--format", "csv"))))

    assert {row["data_category"] for row in rows} == {"employee", "candidate", "report", "social"}
    assert {row["stored_in"] for row in rows} == {"US"} and {row["transfer"] for row in rows} == {"yes"}


def test_the_report_command_prints_readable_text_with_transfers() -> None:
    AccountFactory(name="Fjord Help", products=["freshdesk"])

    text = run("residency_report", "Fjord Help")

    assert "home region EEA" in text
    shipped = CatalogLoad.objects.applied().first()
    assert f"catalog {shipped.version} (sha256 {shipped.sha256})" in text
    assert "passes through: US 10 minutes" in text
    assert "Transfers outside EEA" in text


def test_an_unknown_account_is_an_error_naming_the_argument() -> None:
    with pytest.raises(CommandError, match="account: no account with id or name 'Nobody'"):
        run("residency_report", "Nobody")


def test_ensure_admin_creates_a_login_once_and_prints_it(settings, tmp_path) -> None:
    settings.BASE_DIR = tmp_path

    first = run("ensure_admin")
    second = run("ensure_admin")

    password = first.strip().rsplit(" / ", 1)[1]
    assert get_user_model().objects.get(username="admin").check_password(password)
    assert second.strip().endswith(f"admin / {password}")
