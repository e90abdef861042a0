from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from residency.models import CatalogLoad, HostingOffer, Region, TransientRoute
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

CATALOG = Path(settings.RESIDENCY_CATALOG_PATH)


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_catalog", *args, stdout=out)
    return out.getvalue()


def variant(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    """A copy of the real catalog with one edit."""
    text = CATALOG.read_text()
    assert old in text
    path = tmp_path / "catalog.toml"
    path.write_text(text.replace(old, new, count))
    return path


def snapshot() -> list:
    return [
        list(HostingOffer.objects.values_list("product__slug", "category__slug", "regions__code").order_by("pk", "regions__code")),
        list(TransientRoute.objects.values_list("product__slug", "held_minutes").order_by("pk")),
        list(Region.objects.values_list("code", "name", "jurisdiction").order_by("pk")),
        CatalogLoad.objects.count(),
    ]


def test_loading_the_loaded_catalog_again_changes_nothing_and_says_so() -> None:
    before = snapshot()
    history_rows = HostingOffer.history.count()

    output = run()

    assert "already loaded: nothing changed" in output
    assert snapshot() == before
    assert HostingOffer.history.count() == history_rows


def test_a_dry_run_prints_the_changes_and_writes_nothing(tmp_path: Path) -> None:
    path = variant(tmp_path, "held_minutes = 10", "held_minutes = 15")
    before = snapshot()

    output = run(str(path), "--dry-run")

    assert "updated route freshdesk/call-recording/US>EEA: held_minutes" in output
    assert "Dry run: would apply" in output and "3 route.updated" in output
    assert snapshot() == before


def test_a_changed_file_updates_only_what_differs_and_records_the_load(tmp_path: Path) -> None:
    path = variant(tmp_path, 'name = "Australia"', 'name = "Australia (Sydney)"')

    output = run(str(path))

    assert "Applied catalog" in output and "1 region.updated" in output
    assert Region.objects.get(code="AU").name == "Australia (Sydney)"
    assert CatalogLoad.objects.latest().changes == {"region.updated": 1}
    assert Region.history.filter(code="AU").latest().history_change_reason.startswith("catalog ")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'regions = ["US", "EEA", "IND", "AU"]',
            'regions = ["US", "EEA", "XX", "AU"]',
            "catalog.toml: hosting[0] (product 'freshdesk'): field 'regions': unknown region 'XX'",
        ),
        (
            'name = "Freshservice"\n',
            "\n",
            "catalog.toml: products[1] (slug 'freshservice'): field 'name': is required",
        ),
        ("held_minutes = 10", "held_minutes = -10", "catalog.toml: routes[0]: field 'held_minutes': must be a positive whole number, not -10"),
        ("days = 30", "days = -30", "catalog.toml: retention[2] (slug 'logs-30-days-eea-us-ind'): field 'days': must be a positive whole number"),
        ('category = "call-recording"', 'category = "calls"', "field 'category': unknown category 'calls'"),
        ('kind = "log"', 'kind = "audit"', "field 'kind': must be one of backup, log, not 'audit'"),
        ('version = "2026.11.2"', 'version = "2026.11.2"\n[[regions]\n', "catalog.toml: not valid TOML"),
        (
            'country = "India"',
            'country = "India"\nsafeguard = "trust-us"',
            "regions[2] (code 'IND'): field 'safeguard': must be one of adequacy, scc, bcr (or left out: none stated), not 'trust-us'",
        ),
        (
            'slug = "gcp-sso"\n',
            'slug = "gcp-sso"\nsafeguard = "dpf"\n',
            "sub_processors[3] (slug 'gcp-sso'): field 'safeguard': the EU-US Data Privacy Framework is named by 'dpf_certified = true'",
        ),
        (
            'default_region = "US"\n',
            "",
            "field 'fallback': is required: the row offers US, EEA and product 'freshsales' names no default_region among them",
        ),
        ('version = "2026.11.2"', 'version = "2026.11.2"\neffective_from = "soon"', "field 'effective_from': must be a date"),
        ('sub_processors = ["aws-sso", "gcp-sso"]', 'sub_processors = ["okta"]', "platforms[0] (slug 'sso'): field 'sub_processors': unknown sub-processor 'okta'"),
        ('name = "Freshworks"', 'name = "Freshworks"\nphone = "1"', "[processor]: field 'phone': is not a known field"),
    ],
    ids=[
        "unknown-region", "missing-field", "negative-duration", "negative-days", "unknown-category", "bad-kind", "bad-toml",
        "bad-safeguard", "dpf-as-safeguard", "no-default-region", "bad-effective-date", "unknown-platform-sub", "unknown-processor-field",
    ],
)
def test_a_bad_file_is_rejected_naming_file_entry_and_field_and_nothing_changes(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = variant(tmp_path, old, new)
    before = snapshot()

    with pytest.raises(CommandError) as error:
        run(str(path))

    assert message in str(error.value)
    assert "nothing was changed" in str(error.value)
    assert snapshot() == before


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = variant(tmp_path, "held_minutes = 10", "held_minutes = 0")
    path.write_text(path.read_text().replace('jurisdiction = "India"', ""))

    with pytest.raises(CommandError) as error:
        run(str(path))

    assert re.search(r"regions\[2\] \(code 'IND'\): field 'jurisdiction': is required", str(error.value))
    assert "routes[0]: field 'held_minutes'" in str(error.value)


def test_a_region_still_used_by_an_account_is_not_deleted_and_nothing_else_changes(tmp_path: Path) -> None:
    AccountFactory(home_region=Region.objects.get(code="AU"))
    text = CATALOG.read_text()
    text = text.replace('[[regions]]\ncode = "AU"\nname = "Australia"\njurisdiction = "Australia"\ncountry = "Australia"\n', "")
    text = text.replace(', "AU"]', "]")
    path = tmp_path / "catalog.toml"
    path.write_text(text)
    before = snapshot()

    with pytest.raises(CommandError, match="region 'AU' is no longer in the file but is still used by: Account"):
        run(str(path))

    assert snapshot() == before


def test_a_missing_file_is_reported_by_path(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot be read"):
        run(str(tmp_path / "nope.toml"))


def test_entries_only_moved_within_the_file_are_saved_in_order_but_are_not_changes(tmp_path: Path) -> None:
    AccountFactory(products=["freshdesk", "freshteam"])
    australia = '[[regions]]\ncode = "AU"\nname = "Australia"\njurisdiction = "Australia"\ncountry = "Australia"\n\n'
    text = CATALOG.read_text()
    assert australia in text
    moved = tmp_path / "catalog.toml"
    moved.write_text(text.replace(australia, "").replace('[[regions]]\ncode = "US"', australia + '[[regions]]\ncode = "US"', 1))

    out = run(str(moved), "--verbosity", "2")

    assert list(Region.objects.order_by("position").values_list("code", flat=True)) == ["AU", "US", "EEA", "IND"]
    assert "Applied catalog 2026.11.2: 0 changes." in out
    assert "Entries only moved within the file, not changes: 4 region." in out
    assert "updated region" not in out and "account(s) whose residency report" not in out
    assert CatalogLoad.objects.order_by("-pk").first().changes == {"region.reordered": 4}
