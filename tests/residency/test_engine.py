from __future__ import annotations

import datetime as dt

import pytest

from residency.engine import Entry, Hop, account_residency_report
from tests.factories import AccountFactory, region

pytestmark = pytest.mark.django_db


def entry(report, product: str, category: str) -> Entry:
    (found,) = [e for e in report.entries if e.product == product and e.data_category == category]
    return found


def test_an_eea_accounts_freshdesk_call_recordings_pass_ten_minutes_through_the_us_and_are_stored_in_the_eea() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("EEA"), products=["freshdesk"]))

    recordings = entry(report, "freshdesk", "call-recording")
    assert recordings.stored_in == "EEA"
    assert recordings.transient == [Hop(region="US", minutes=10)]
    assert recordings.transfer is True
    assert any(t.data_category == "call-recording" and t.region == "US" and "10 minutes" in t.reason for t in report.transfers)


def test_an_eea_accounts_freshdesk_chat_messages_are_stored_in_the_us_as_a_transfer() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("EEA"), products=["freshdesk"]))

    chats = entry(report, "freshdesk", "chat-messages")
    assert chats.stored_in == "US"
    assert chats.transfer is True
    assert ("freshdesk", "chat-messages", "US") in {(t.product, t.data_category, t.region) for t in report.transfers}


def test_an_india_freshdesk_accounts_logs_stay_a_year_in_india_and_thirty_days_in_the_eea() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("IND"), products=["freshdesk"]))

    tickets = entry(report, "freshdesk", "ticket")
    assert tickets.stored_in == "IND"
    assert tickets.logs == [Hop(region="IND", days=365), Hop(region="EEA", days=30)]
    assert tickets.backups == [Hop(region="IND", days=None)]
    assert any(t.data_category == "ticket" and t.region == "EEA" and "30 days" in t.reason for t in report.transfers)


def test_an_australian_freshdesk_accounts_logs_stay_in_australia_only() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("AU"), products=["freshdesk"]))

    assert entry(report, "freshdesk", "ticket").logs == [Hop(region="AU", days=365)]
    assert not entry(report, "freshdesk", "ticket").transfer


def test_an_eea_account_using_freshteam_has_that_data_in_the_us_as_transfers() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("EEA"), products=["freshteam"]))

    assert {e.data_category: e.stored_in for e in report.entries} == {
        "employee": "US",
        "candidate": "US",
        "report": "US",
        "social": "US",
    }
    assert all(e.transfer for e in report.entries)
    assert {t.data_category for t in report.transfers} == {"employee", "candidate", "report", "social"}


def test_an_eea_account_with_a_marketplace_app_has_a_transfer_naming_the_integration() -> None:
    account = AccountFactory(home_region=region("EEA"), products=["freshdesk"], integrations=["marketplace-app"])

    report = account_residency_report(account=account)

    named = [t for t in report.transfers if "Marketplace app" in t.reason]
    assert {t.data_category for t in named} == {"ticket", "requester", "app-integration"}
    assert "marketplace-app" in entry(report, "freshdesk", "ticket").integrations


def test_an_eea_account_without_integrations_keeps_its_freshdesk_tickets_at_home() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("EEA"), products=["freshdesk"]))

    tickets = entry(report, "freshdesk", "ticket")
    assert (tickets.stored_in, tickets.transfer, tickets.transient) == ("EEA", False, [])
    assert tickets.logs == [Hop(region="EEA", days=365)]


def test_a_us_accounts_call_recordings_stay_in_the_us_without_a_route_and_leave_only_as_logs() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("US"), products=["freshdesk"]))

    recordings = entry(report, "freshdesk", "call-recording")
    assert (recordings.stored_in, recordings.transient) == ("US", [])
    assert [t.region for t in report.transfers if t.data_category == "call-recording"] == ["EEA"]
    assert all(reason.startswith("Logs kept in EEA for 30 days") for reason in recordings.reasons)


def test_categories_the_source_gives_no_region_are_flagged_for_review_not_guessed() -> None:
    account = AccountFactory(home_region=region("EEA"), products=["freshsales", "freshdesk-messaging"])

    report = account_residency_report(account=account)

    for product, category in [("freshsales", "email-messages"), ("freshdesk-messaging", "chat-messages")]:
        found = entry(report, product, category)
        assert (found.stored_in, found.review, found.transfer) == (None, True, False)
    assert not any(t.data_category in {"email-messages", "chat-messages"} for t in report.transfers)
    assert len([r for r in report.reviews if "states no storage region" in r]) == 2


def test_an_india_account_on_a_product_not_offered_in_india_is_stored_in_the_fallback_region() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("IND"), products=["freshsales"]))

    leads = entry(report, "freshsales", "lead")
    assert leads.stored_in == "US"
    assert "Not offered in IND" in leads.rule
    assert leads.transfer is True


def test_the_report_lists_only_subscribed_products_and_their_sub_processors() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("EEA"), products=["freshmarketer"]))

    assert {e.product for e in report.entries} == {"freshmarketer"}
    assert "aws-migration" not in {sub.slug for sub in report.sub_processors}  # Freshdesk and Freshservice only
    assert {sub.slug for sub in report.sub_processors} == {"aws-hosting", "aws-sso", "gcp-sso"}


def test_the_report_runs_a_fixed_number_of_queries_whatever_the_number_of_products(django_assert_max_num_queries) -> None:
    small = AccountFactory(products=["freshdesk"])
    large = AccountFactory(products=["freshdesk", "freshservice", "freshsales", "freshdesk-contact-center", "freshteam"])

    with django_assert_max_num_queries(30) as small_queries:
        account_residency_report(account=small)
    with django_assert_max_num_queries(30) as large_queries:
        account_residency_report(account=large)
    assert len(large_queries.captured_queries) == len(small_queries.captured_queries)


def test_the_freshservice_row_without_a_region_line_says_where_its_regions_are_read_from() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("AU"), products=["freshservice"]))

    assets = entry(report, "freshservice", "assets")
    assert assets.stored_in == "AU"
    assert "no region line" in assets.rule and "row above" in assets.rule
    assert "row above" not in entry(report, "freshservice", "ticket").rule


def test_an_account_whose_home_region_a_product_does_not_offer_is_placed_by_the_products_stated_default() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("AU"), products=["freshdesk-messaging"]))

    conversations = entry(report, "freshdesk-messaging", "conversations")
    assert conversations.stored_in == "US"
    assert "Freshdesk Messaging's default region by the catalog's rule" in conversations.rule
    assert "not the source's" in conversations.rule


def test_single_sign_on_is_a_processing_location_to_review_in_every_report() -> None:
    report = account_residency_report(account=AccountFactory(home_region=region("EEA"), products=["freshdesk"]))

    (sso,) = [platform for platform in report.platforms if platform.slug == "sso"]
    assert (sso.regions, sso.review) == ([], True)
    assert sso.environments == ["Amazon Web Services (single sign-on)", "Google Cloud Platform (single sign-on)"]
    assert any(review.startswith("Single sign-on platform") for review in report.reviews)
    # Its sub-processors are reviewed once, through the platform.
    assert not any(review.startswith("Sub-processor Amazon Web Services (single sign-on)") for review in report.reviews)


def test_a_migration_in_progress_is_a_processing_location_with_its_dates_and_only_while_it_lasts() -> None:
    migrating = AccountFactory(
        products=["freshdesk"],
        migration_in_progress=True,
        migration_started_on=dt.date(2026, 11, 2),
        migration_ends_on=dt.date(2026, 12, 18),
    )
    settled = AccountFactory(products=["freshdesk"])

    report = account_residency_report(account=migrating)

    (migration,) = [platform for platform in report.platforms if platform.slug == "migration"]
    assert migration.review and "since 2026-11-02, expected to end 2026-12-18" in migration.reason
    assert "aws-migration" in {sub.slug for sub in report.sub_processors}
    other = account_residency_report(account=settled)
    assert "migration" not in {platform.slug for platform in other.platforms}
    assert "aws-migration" not in {sub.slug for sub in other.sub_processors}


def test_a_us_accounts_integration_quotes_the_source_and_says_what_the_product_infers() -> None:
    us = AccountFactory(home_region=region("US"), products=["freshdesk"], integrations=["marketplace-app"])
    eea = AccountFactory(home_region=region("EEA"), products=["freshdesk"], integrations=["marketplace-app"])

    (us_reason,) = {t.reason for t in account_residency_report(account=us).transfers if t.via == "integration"}
    (eea_reason,) = {t.reason for t in account_residency_report(account=eea).transfers if t.via == "integration"}

    quote = "The source says: \u201cAPI requests made by integrations may be processed outside the EEA.\u201d"
    assert quote in us_reason and quote in eea_reason
    assert "the product infers that the data may equally be processed outside United States" in us_reason
    assert "Flagged as processing outside the EEA." in eea_reason
