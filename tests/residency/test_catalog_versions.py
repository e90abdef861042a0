"""Versions that pin: a label stands for one content, reports name both, and a catalog dated for later applies
on its date, by the schedule, and nowhere before."""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from residency.catalog.loader import catalog_apply_scheduled
from residency.engine import account_residency_report
from residency.models import CatalogLoad, ChangeNotice, HostingOffer
from residency.records import account_processing_record
from residency.snapshot import parse_as_of
from tests.factories import AccountFactory, region
from tests.residency.catalogs import CATALOG, SHIPPED_VERSION, catalog_file

pytestmark = pytest.mark.django_db

#: A sub-processor for Freshteam's employee data in the US: a new transfer and sub-processor for EEA accounts.
PAYROLL = '''
[[sub_processors]]
slug = "payroll-bureau"
name = "Payroll Bureau"
purpose = "Payroll for the account's employees"
products = ["freshteam"]
categories = ["employee"]
regions = ["US"]
'''


def at(*moment: int) -> time_machine.travel:
    return time_machine.travel(dt.datetime(*moment, tzinfo=dt.UTC), tick=False)


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_catalog", *args, stdout=out)
    return out.getvalue()


def payroll_catalog(tmp_path: Path, effective_from: str, version: str = "2027.02.1") -> Path:
    path = tmp_path / f"catalog-{version}.toml"
    text = CATALOG.read_text().replace(f'version = "{SHIPPED_VERSION}"', f'version = "{version}"\neffective_from = {effective_from}', 1)
    path.write_text(text + PAYROLL)
    return path


def sub_processors(account: object, **as_of: object) -> set[str]:
    return {use.slug for use in account_residency_report(account=account, **as_of).sub_processors}


# --- a label stands for one content -----------------------------------------------------------------


def test_other_content_under_a_loaded_version_label_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    relabelled = tmp_path / "catalog.toml"
    relabelled.write_text(CATALOG.read_text().replace('regions = ["US"]\nnote = "Available in the US only."', 'regions = ["US"]', 1))
    offers = list(HostingOffer.objects.values_list("pk", "note"))

    with pytest.raises(CommandError) as error:
        load(str(relabelled))

    assert f"version '{SHIPPED_VERSION}' was loaded on" in str(error.value)
    assert "with other content" in str(error.value) and "give this file a version of its own" in str(error.value)
    assert list(HostingOffer.objects.values_list("pk", "note")) == offers
    assert set(CatalogLoad.objects.values_list("version", flat=True)) == {SHIPPED_VERSION}


def test_the_same_content_under_its_label_loads_again_as_nothing_changed() -> None:
    assert f"Catalog {SHIPPED_VERSION} (catalog.toml) is already loaded: nothing changed." in load()


def test_reports_and_records_name_the_version_and_the_checksum_of_the_catalog_in_force(tmp_path: Path) -> None:
    with at(2027, 1, 5, 9, 0):
        account = AccountFactory(home_region=region("EEA"), products=["freshteam"])
    shipped = hashlib.sha256(CATALOG.read_bytes()).hexdigest()
    changed = catalog_file(tmp_path, ('regions = ["US"]\nnote = "Available in the US only."', 'regions = ["US"]'))
    with at(2027, 1, 20, 9, 0):
        load(str(changed))

    with at(2027, 1, 21, 9, 0):
        before = account_residency_report(account=account, as_of=parse_as_of("2027-01-10"))
        now = account_processing_record(account=account)
        text = StringIO()
        call_command("processing_record", str(account.pk), "--as-of", "2027-01-10", stdout=text)

    assert (before.catalog_version, before.catalog_sha256) == (SHIPPED_VERSION, shipped)
    assert now.catalog_sha256 == hashlib.sha256(changed.read_bytes()).hexdigest() != shipped
    assert f"Catalog {SHIPPED_VERSION} (sha256 {shipped})" in text.getvalue()


# --- effective_from schedules the change -----------------------------------------------------------------


@pytest.fixture
def scheduled(tmp_path: Path) -> dict:
    """On 10 January, catalog 2027.02.1 (a new sub-processor for Freshteam) is loaded to take effect on 1 February."""
    with at(2027, 1, 10, 9, 0):
        nordic = AccountFactory(name="Nordic", home_region=region("EEA"), products=["freshteam"], privacy_contact_email="dpo@nordic.example")
        out = load(str(payroll_catalog(tmp_path, "2027-02-01")))
    return {"nordic": nordic, "out": out, "tmp_path": tmp_path}


def test_a_catalog_dated_for_later_is_scheduled_and_shows_nowhere_before_its_date(scheduled: dict) -> None:
    nordic = scheduled["nordic"]

    assert "Scheduled catalog 2027.02.1 to apply on 2027-02-01" in scheduled["out"]
    assert "Until then every report shows the catalog in force." in scheduled["out"]
    assert "1 account(s) whose residency report will change on 2027-02-01:" in scheduled["out"]
    load_row = CatalogLoad.objects.get(version="2027.02.1")
    assert (load_row.status, load_row.applied_at, load_row.effective_from) == ("scheduled", None, dt.date(2027, 2, 1))
    assert load_row.content.endswith(PAYROLL)
    with at(2027, 1, 31, 23, 0):
        assert "No scheduled catalog is due." in call_command_out("apply_scheduled_catalogs")
        report = account_residency_report(account=nordic)
        record = account_processing_record(account=nordic)
    assert (report.catalog_version, record.catalog_version) == (SHIPPED_VERSION, SHIPPED_VERSION)
    assert "payroll-bureau" not in {use.slug for use in report.sub_processors}
    assert not any(transfer.via_slug == "payroll-bureau" for transfer in report.transfers)
    assert not any("Payroll" in str(sub) for sub in record.sub_processors)


def test_its_notices_are_recorded_when_it_is_scheduled_and_give_its_date(scheduled: dict) -> None:
    notice = ChangeNotice.objects.get(account=scheduled["nordic"])

    assert notice.effective_from == dt.date(2027, 2, 1)
    assert notice.objection_until == dt.date(2027, 2, 9)  # 30 days from the notice, 10 January
    assert "new sub-processor: Payroll Bureau" in notice.changes
    assert notice.applies_before_objection_ends  # 22 days' notice is less than the 30 to object: the notice says so


def test_on_its_date_the_schedule_applies_it_once_and_it_shows_everywhere_after(scheduled: dict) -> None:
    nordic = scheduled["nordic"]
    with at(2027, 1, 20, 9, 0):  # an account that signs up while the change waits is told when it applies
        later = AccountFactory(name="Later", home_region=region("EEA"), products=["freshteam"], privacy_contact_email="p@later.example")

    with at(2027, 2, 1, 0, 30):
        out = call_command_out("apply_scheduled_catalogs")
        again = catalog_apply_scheduled()
        report = account_residency_report(account=nordic)
    with at(2027, 2, 10, 9, 0):
        before = sub_processors(nordic, as_of=parse_as_of("2027-01-31"))
        after = sub_processors(nordic, as_of=parse_as_of("2027-02-02"))

    assert "Applied catalog 2027.02.1" in out and again == []
    assert (report.catalog_version, "payroll-bureau" in {use.slug for use in report.sub_processors}) == ("2027.02.1", True)
    assert ("payroll-bureau" in before, "payroll-bureau" in after) == (False, True)
    applied = CatalogLoad.objects.get(version="2027.02.1")
    assert (applied.status, applied.applied_at) == ("applied", dt.datetime(2027, 2, 1, 0, 30, tzinfo=dt.UTC))
    assert ChangeNotice.objects.filter(account=nordic).count() == 1
    late = ChangeNotice.objects.get(account=later)
    assert (late.effective_from, late.objection_until) == (dt.date(2027, 2, 1), dt.date(2027, 3, 3))


def test_another_load_waits_for_the_scheduled_one_unless_it_is_withdrawn(scheduled: dict) -> None:
    other = catalog_file(scheduled["tmp_path"], ('regions = ["US"]\nnote = "Available in the US only."', 'regions = ["US"]'))

    with at(2027, 1, 12, 9, 0):
        with pytest.raises(CommandError, match="catalog 2027.02.1 is scheduled to apply on 2027-02-01"):
            load(str(other))
        withdrawn = load("--withdraw", "2027.02.1")
        load(str(other))
    with at(2027, 2, 1, 9, 0):
        applied = catalog_apply_scheduled()

    assert "withdrawn: it will not apply" in withdrawn and applied == []
    with pytest.raises(CommandError, match="No catalog '2027.02.1' is scheduled: nothing to withdraw."):
        load("--withdraw", "2027.02.1")
    assert CatalogLoad.objects.get(version="2027.02.1").status == "withdrawn"
    with at(2027, 2, 1, 9, 0):
        assert "payroll-bureau" not in sub_processors(scheduled["nordic"])


def call_command_out(name: str) -> str:
    out = StringIO()
    call_command(name, stdout=out)
    return out.getvalue()


def test_the_console_lists_a_scheduled_load_with_its_dates_and_keeps_its_text(scheduled: dict) -> None:
    from core.roles import AUDITOR
    from tests.factories import role_console

    console = role_console(AUDITOR)
    load_row = CatalogLoad.objects.get(version="2027.02.1")

    listing = console.get("/admin/residency/catalogload/", {"status__exact": "scheduled"}).content.decode()
    page = console.get(f"/admin/residency/catalogload/{load_row.pk}/change/").content.decode()

    assert "2027.02.1" in listing and "Scheduled" in listing and "Feb. 1, 2027" in listing
    assert SHIPPED_VERSION not in listing  # the filter leaves the applied loads out
    assert "payroll-bureau" in page  # the text that will apply, as it was checked


def test_a_scheduled_catalog_killed_while_it_applies_stays_scheduled_and_the_next_run_applies_it(
    scheduled: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from residency.catalog import loader

    real_sync = loader._sync_all

    def killed(spec: object, changes: object) -> None:
        real_sync(spec, changes)
        raise KeyboardInterrupt  # the process dies after the rows changed, before the transaction ends

    monkeypatch.setattr(loader, "_sync_all", killed)
    with at(2027, 2, 1, 0, 30), pytest.raises(KeyboardInterrupt):
        catalog_apply_scheduled()
    monkeypatch.setattr(loader, "_sync_all", real_sync)

    assert CatalogLoad.objects.get(version="2027.02.1").status == "scheduled"
    with at(2027, 2, 1, 0, 35):
        assert "payroll-bureau" not in sub_processors(scheduled["nordic"])
        assert [changes.version for changes in catalog_apply_scheduled()] == ["2027.02.1"]
        assert "payroll-bureau" in sub_processors(scheduled["nordic"])
    assert ChangeNotice.objects.filter(account=scheduled["nordic"]).count() == 1
