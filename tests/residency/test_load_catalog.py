from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from residency.models import CatalogLoad, HostingOffer, Region, TransientRoute
from tests.factories import AccountFactory
from tests.residency.catalogs import SHIPPED_VERSION, catalog_file, version_of

pytestmark = pytest.mark.django_db

CATALOG = Path(settings.RESIDENCY_CATALOG_PATH)
#: The line of the shipped catalog's version label (1-based).
VERSION_LINE = CATALOG.read_text().splitlines().index(f'version = "{SHIPPED_VERSION}"') + 1


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_catalog", *args, stdout=out)
    return out.getvalue()


def variant(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    """A copy of the real catalog with one edit (and a version label of its own)."""
    return catalog_file(tmp_path, (old, new), count=count)


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
        (f'version = "{SHIPPED_VERSION}"', 'version = "2027.01.9"\n[[regions]\n', f"catalog.toml: line {VERSION_LINE + 1}, column 10: not valid TOML (Expected ']]'"),
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
        (f'version = "{SHIPPED_VERSION}"', 'version = "2027.01.1"\neffective_from = "soon"', "field 'effective_from': must be a date"),
        ('sub_processors = ["aws-sso", "gcp-sso"]', 'sub_processors = ["okta"]', "platforms[0] (slug 'sso'): field 'sub_processors': unknown sub-processor 'okta'"),
        ('name = "Freshworks"', 'name = "Freshworks"\nphone = "1"', "[processor]: field 'phone': is not a known field"),
        (
            'purposes = ["Providing the help desk and service desk", "Resolving the requester\'s issue"]\npurposes_basis = "catalog"\n',
            'purposes = ["Providing the help desk and service desk", "Resolving the requester\'s issue"]\n',
            "categories[0] (slug 'ticket'): field 'purposes_basis': is required",
        ),
        ('personal = false\npersonal_basis = "catalog"\n', "personal = false\n", "(slug 'assets'): field 'personal_basis': is required"),
        (
            'default_region = "US"\ndefault_region_basis = "catalog"\n',
            'default_region = "US"\n',
            "products[2] (slug 'freshsales'): field 'default_region_basis': is required",
        ),
        ('personal_basis = "catalog"', 'personal_basis = "folklore"', "field 'personal_basis': must be one of source, catalog, not 'folklore'"),
    ],
    ids=[
        "unknown-region", "missing-field", "negative-duration", "negative-days", "unknown-category", "bad-kind", "bad-toml",
        "bad-safeguard", "dpf-as-safeguard", "no-default-region", "bad-effective-date", "unknown-platform-sub", "unknown-processor-field",
        "purposes-without-basis", "personal-flag-without-basis", "default-region-without-basis", "bad-basis",
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
    australia = '[[regions]]\ncode = "AU"\nname = "Australia"\njurisdiction = "Australia"\ncountry = "Australia"\n'
    path = catalog_file(tmp_path, (australia, ""), (', "AU"]', "]"), count=100)
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
    moved = catalog_file(tmp_path, (australia, ""), ('[[regions]]\ncode = "US"', australia + '[[regions]]\ncode = "US"'))

    out = run(str(moved), "--verbosity", "2")

    assert list(Region.objects.order_by("position").values_list("code", flat=True)) == ["AU", "US", "EEA", "IND"]
    assert f"Applied catalog {version_of(moved)}: 0 changes." in out
    assert "Entries only moved within the file, not changes: 4 region." in out
    assert "updated region" not in out and "account(s) whose residency report" not in out
    assert CatalogLoad.objects.order_by("-pk").first().changes == {"region.reordered": 4}


# --- validation of meaning: the schema, and what a schema cannot check ------------------------------


def test_the_shipped_catalog_meets_its_published_schema_whose_choices_are_the_models() -> None:
    import tomllib

    from residency.catalog.loader import _as_json, _schema_validator
    from residency.models import Integration, ProcessingPlatform, RetentionRule, Safeguard

    assert CATALOG.read_text().startswith("#:schema ./catalog.schema.json\n")  # editors validate as you type
    assert list(_schema_validator().iter_errors(_as_json(tomllib.loads(CATALOG.read_text())))) == []
    definitions = _schema_validator().schema["$defs"]
    assert definitions["retention"]["properties"]["kind"]["enum"] == RetentionRule.Kind.values
    assert definitions["integration"]["properties"]["kind"]["enum"] == Integration.Kind.values
    assert definitions["platform"]["properties"]["kind"]["enum"] == ProcessingPlatform.Kind.values
    assert definitions["safeguard"]["enum"] == Safeguard.values


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("held_minutes = 10", "held_minutes = -10"),
        ('kind = "log"', 'kind = "audit"'),
        ('country = "India"', 'country = "India"\nsafeguard = "trust-us"'),
        ('name = "Freshworks"', 'name = "Freshworks"\nphone = "1"'),
        ('name = "Freshservice"\n', "\n"),
        ('regions = ["US", "EEA"]', "documented = true"),
    ],
    ids=["negative-duration", "bad-kind", "bad-safeguard", "unknown-field", "missing-field", "documented-without-regions"],
)
def test_the_schema_alone_rejects_what_an_editor_can_see(tmp_path: Path, old: str, new: str) -> None:
    import tomllib

    from residency.catalog.loader import _as_json, _schema_validator

    data = tomllib.loads(variant(tmp_path, old, new).read_text())

    assert list(_schema_validator().iter_errors(_as_json(data)))


def test_a_field_only_the_schema_checks_is_reported_with_its_place(tmp_path: Path) -> None:
    path = variant(tmp_path, 'source = "Freshworks', 'source = 5\nunused = "Freshworks')
    path.write_text(path.read_text().replace('unused = "Freshworks data hosting page (seed 000_92ad8dee75aa1ac4, Swedish)"\n', ""))

    with pytest.raises(CommandError) as error:
        run(str(path))

    assert "catalog.toml: field 'source': 5 is not of type 'string'" in str(error.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'generated_in = "US"\nheld_minutes = 10\nrouted_to = "EEA"',
            'generated_in = "EEA"\nheld_minutes = 10\nrouted_to = "US"',
            "routes[0]: field 'generated_in': 'EEA' is not a region the hosting row of 'freshdesk' · 'call-recording' offers (US): "
            "a route starts where the data is hosted",
        ),
        (
            'products = ["freshdesk", "freshsales", "freshdesk-contact-center"]\ncategory = "call-recording"',
            'products = ["freshdesk", "freshteam"]\ncategory = "call-recording"',
            "routes[0]: field 'products': 'freshteam' has no hosting row for 'call-recording': the route would apply to nothing",
        ),
        (
            'kind = "log"\ndays = 365',
            'kind = "log"\ndays = 365\n\n[[retention]]\nslug = "us-logs-90"\nname = "US logs"\nkind = "log"\nstorage_regions = ["US"]\ndays = 90',
            "retention[2] (slug 'us-logs-90'): field 'storage_regions': logs of 'freshdesk' stored in US and kept in US are "
            "already ruled by 'logs-one-year-in-region': one rule per product and region",
        ),
        (
            '[[products]]\nslug = "freshteam"',
            '[[products]]\nslug = "freshcaller"\nname = "Freshcaller"\n\n[[products]]\nslug = "freshteam"',
            "",  # a product with no hosting row is fine on its own…
        ),
    ],
    ids=["route-from-a-region-not-offered", "route-without-a-hosting-row", "two-log-rules-for-one-region", "product-without-hosting"],
)
def test_a_catalog_that_contradicts_its_hosting_table_is_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = variant(tmp_path, old, new)
    before = snapshot()

    if not message:
        run(str(path), "--dry-run")
        return
    with pytest.raises(CommandError) as error:
        run(str(path))

    assert message in str(error.value)
    assert snapshot() == before


@pytest.mark.parametrize("section", ["retention", "integrations"])
def test_a_log_rule_or_integration_naming_a_product_without_hosting_is_refused(tmp_path: Path, section: str) -> None:
    text = CATALOG.read_text().replace('[[products]]\nslug = "freshteam"', '[[products]]\nslug = "freshcaller"\nname = "Freshcaller"\n\n[[products]]\nslug = "freshteam"', 1)
    if section == "retention":
        text = text.replace('products = ["freshdesk", "freshservice"]\nstorage_regions', 'products = ["freshdesk", "freshcaller"]\nstorage_regions', 1)
        where = "retention[2] (slug 'logs-30-days-eea-us-ind')"
    else:
        text = text.replace('kind = "marketplace_app"\nproducts = ["freshdesk", "freshservice"]', 'kind = "marketplace_app"\nproducts = ["freshdesk", "freshcaller"]', 1)
        where = "integrations[0] (slug 'marketplace-app')"
    path = tmp_path / "catalog.toml"
    path.write_text(text)

    with pytest.raises(CommandError) as error:
        run(str(path))

    assert f"{where}: field 'products': product 'freshcaller' has no row in the hosting table" in str(error.value)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from residency.catalog.loader import MAX_BYTES

    path = tmp_path / "catalog.toml"
    path.write_bytes(CATALOG.read_bytes() + b"#" * MAX_BYTES)

    with pytest.raises(CommandError, match=r"catalog.toml: larger than 2 MB; not read"):
        run(str(path))


def test_a_file_not_in_utf8_is_refused_with_the_line_and_column_of_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    lines = CATALOG.read_bytes().split(b"\n")
    at = next(index for index, line in enumerate(lines) if line.startswith(b'name = "Freshservice"'))
    lines[at] = 'name = "Fréshservice"'.encode("latin-1")
    path.write_bytes(b"\n".join(lines))

    with pytest.raises(CommandError) as error:
        run(str(path))

    assert f"catalog.toml: line {at + 1}, column 11: not UTF-8 (byte 0xe9)" in str(error.value)
