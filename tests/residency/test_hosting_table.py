"""The loaded catalog transcribes the source's hosting page completely: checked row by row, independently."""

from __future__ import annotations

import pytest

from residency.models import DataCategory, HostingOffer, RetentionRule, TransientRoute

ALL = ["AU", "EEA", "IND", "US"]
US_EEA = ["EEA", "US"]
US = ["US"]

# Written from the seeds README's hosting table, not from the catalog file.
HOSTING_TABLE = [
    ("freshdesk", ["ticket", "requester", "social", "app-integration", "knowledge-base", "forum", "report"], ALL),
    ("freshdesk", ["call-recording", "chat-messages"], US),
    ("freshservice", ["ticket", "requester", "app-integration", "knowledge-base", "forum"], ALL),
    ("freshservice", ["problem-change-release", "assets", "contracts", "projects", "announcements"], ALL),
    ("freshsales", ["lead", "contact", "sales-account", "deal", "file", "app-integration", "sales-activities", "event", "report"], US_EEA),
    ("freshsales", ["call-recording"], US),
    ("freshsales", ["email-messages"], None),
    ("freshdesk-contact-center", ["call-data", "contact", "agent-user"], US_EEA),
    ("freshdesk-contact-center", ["call-recording"], US),
    ("freshdesk-messaging", ["conversations", "social", "app-integration", "knowledge-base", "report", "agent-user"], US_EEA),
    ("freshdesk-messaging", ["chat-messages"], None),
    ("freshteam", ["employee", "candidate", "report", "social"], US),
    ("freshmarketer", ["website-visitor", "visitor-activity", "event", "report"], US),
]
CASES = [(product, category, regions) for product, categories, regions in HOSTING_TABLE for category in categories]


@pytest.mark.django_db
@pytest.mark.parametrize(("product", "category", "regions"), CASES, ids=[f"{p}/{c}" for p, c, _ in CASES])
def test_each_cell_of_the_hosting_table_is_in_the_catalog(product: str, category: str, regions: list[str] | None) -> None:
    offer = HostingOffer.objects.get(product__slug=product, category__slug=category)
    assert sorted(offer.regions.values_list("code", flat=True)) == (regions or [])
    assert offer.documented is (regions is not None)


@pytest.mark.django_db
def test_the_catalog_holds_no_offer_the_table_does_not_list() -> None:
    listed = {(product, category) for product, category, _ in CASES}
    loaded = set(HostingOffer.objects.values_list("product__slug", "category__slug"))
    assert loaded == listed


@pytest.mark.django_db
def test_the_ten_defined_categories_carry_their_definitions_and_purposes() -> None:
    defined = ["ticket", "requester", "agent-user", "call-recording", "conversations", "social", "app-integration", "knowledge-base", "forum", "report"]
    categories = DataCategory.objects.filter(slug__in=defined, definition_in_source=True)
    assert categories.count() == 10
    assert all(category.definition and category.purposes for category in categories)
    assert "email address" in DataCategory.objects.get(slug="requester").definition


@pytest.mark.django_db
def test_call_recordings_of_three_products_are_routed_from_the_us_to_the_eea_after_ten_minutes() -> None:
    routes = TransientRoute.objects.filter(category__slug="call-recording")
    assert sorted(routes.values_list("product__slug", flat=True)) == ["freshdesk", "freshdesk-contact-center", "freshsales"]
    assert set(routes.values_list("generated_in__code", "held_minutes", "routed_to__code")) == {("US", 10, "EEA")}


@pytest.mark.django_db
def test_logs_are_kept_a_year_in_region_and_thirty_days_in_the_eea_for_us_and_india_helpdesks() -> None:
    year = RetentionRule.objects.get(kind="log", kept_in__isnull=True)
    assert year.days == 365 and not year.products.exists()
    eea = RetentionRule.objects.get(kind="log", kept_in__code="EEA")
    assert eea.days == 30
    assert sorted(eea.products.values_list("slug", flat=True)) == ["freshdesk", "freshservice"]
    assert sorted(eea.storage_regions.values_list("code", flat=True)) == ["IND", "US"]
    backups = RetentionRule.objects.get(kind="backup")
    assert backups.kept_in is None and backups.days is None
