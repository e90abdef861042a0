"""The hosting page's prose, sentence by sentence, is in the loaded catalog (the table is checked cell by cell in
test_hosting_table.py), and the catalog states nothing the source does not, unless it labels it its own.

Each fact is written here from the seeds README's English rendering of the source, not from the catalog file."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from residency.engine import account_residency_report
from residency.models import (
    Basis,
    DataCategory,
    HostingOffer,
    Integration,
    ProcessingPlatform,
    Processor,
    Product,
    RetentionRule,
    SubProcessor,
    TransientRoute,
)
from tests.factories import AccountFactory, region

pytestmark = pytest.mark.django_db


def processor() -> Processor:
    return Processor.objects.get()


def measures() -> str:
    return " ".join(processor().security_measures)


def rule(slug: str) -> RetentionRule:
    return RetentionRule.objects.get(slug=slug)


def slugs(queryset: object, field: str = "slug") -> set[str]:
    return set(queryset.values_list(field, flat=True))


def custom_mailbox_note() -> str:
    account = AccountFactory(home_region=region("EEA"), products=["freshdesk"], custom_mailbox=True)
    return " ".join(account_residency_report(account=account).notes)


#: (the source's fact, in English, and what holds it in the catalog).
FACTS: list[tuple[str, Callable[[], bool]]] = [
    ("The vendor, Freshworks, stores and processes customer data", lambda: processor().name == "Freshworks"),
    ("Customer data is all electronic data, messages or other material sent by and for the customer",
     lambda: processor().customer_data.startswith("All electronic data, messages or other material sent to Freshworks")),
    ("It is processed under applicable laws to provide the services of the product range",
     lambda: "applicable laws and regulations, to provide the services in Freshworks' product range" in processor().purpose),
    ("Freshworks acts as a processor, carrying out processing operations on the data", lambda: "as processor" in processor().purpose),
    ("Hosted data is data stored to deliver the services as a processor", lambda: "as a processor" in processor().hosted_data),
    ("Hosted data includes data stored for backups", lambda: "including data stored for backups" in processor().hosted_data),
    ("Data is stored in data centres qualified under global IT standards and regulations",
     lambda: "data centres qualified under global IT standards and regulations" in measures()),
    ("Several storage locations are offered when the data-location option is purchased",
     lambda: "several data storage locations when the data-location option is purchased" in processor().data_location_option),
    ("EEA customers with a custom mailbox: data stays in the EEA by default", lambda: "stays in the EEA by default" in custom_mailbox_note()),
    ("…but third-party integrations, apps or custom apps are expected to take it out of the EEA",
     lambda: "expected to leave the EEA" in Integration.objects.get(slug="custom-app").source_says),
    ("Call recordings of Freshdesk, Freshsales and Freshdesk Contact Center are generated in the US",
     lambda: slugs(TransientRoute.objects.filter(category__slug="call-recording", generated_in__code="US"), "product__slug")
     == {"freshdesk", "freshsales", "freshdesk-contact-center"}),
    ("…held there temporarily for 10 minutes", lambda: set(TransientRoute.objects.values_list("held_minutes", flat=True)) == {10}),
    ("…then routed to the EEA", lambda: set(TransientRoute.objects.values_list("routed_to__code", flat=True)) == {"EEA"}),
    ("Backups are distributed and stored in secure locations inside the respective region",
     lambda: rule("backups-in-region").kind == "backup" and rule("backups-in-region").kept_in is None and "robust backup plan" in measures()),
    ("Logs are kept for 1 year inside the storage region", lambda: (rule("logs-one-year-in-region").days, rule("logs-one-year-in-region").kept_in) == (365, None)),
    ("…for all the products above", lambda: not rule("logs-one-year-in-region").products.exists()),
    ("Freshdesk and Freshservice logs of the US and India data centres are also kept in the EEA",
     lambda: (slugs(rule("logs-30-days-eea-us-ind").products), slugs(rule("logs-30-days-eea-us-ind").storage_regions, "code"),
              rule("logs-30-days-eea-us-ind").kept_in.code) == ({"freshdesk", "freshservice"}, {"US", "IND"}, "EEA")),
    ("…for 30 days, then deleted", lambda: rule("logs-30-days-eea-us-ind").days == 30),
    ("The SSO platform gives identity and access management across all the products",
     lambda: ProcessingPlatform.objects.get(slug="sso").kind == "sso" and not ProcessingPlatform.objects.get(slug="sso").products.exists()),
    ("User authentication and profile data are processed in AWS and GCP environments",
     lambda: slugs(ProcessingPlatform.objects.get(slug="sso").sub_processors) == {"aws-sso", "gcp-sso"}
     and slugs(ProcessingPlatform.objects.get(slug="sso").categories) == {"agent-user"}),
    ("These services meet recommended global security standards", lambda: "recommended global security standards" in measures()),
    ("Data migration is offered to Freshdesk and Freshservice customers",
     lambda: slugs(ProcessingPlatform.objects.get(slug="migration").products) == {"freshdesk", "freshservice"}),
    ("During a migration service data is kept inside the product's AWS environment, as a security measure",
     lambda: "kept inside the product's AWS environment" in measures()
     and slugs(ProcessingPlatform.objects.get(slug="migration").sub_processors) == {"aws-migration"}),
    ("The AWS environment is covered by the necessary global security standards",
     lambda: "covered by the necessary global security standards" in measures()),
    ("The migration runs through the Freshdesk Migration Platform inside AWS",
     lambda: "Freshdesk Migration Platform" in SubProcessor.objects.get(slug="aws-migration").name),
    ("The marketplace for Freshdesk and Freshservice offers apps integrating third-party systems",
     lambda: slugs(Integration.objects.get(slug="marketplace-app").products) == {"freshdesk", "freshservice"}),
    ("The Freshsales integration shows customer information without leaving Freshdesk",
     lambda: "without leaving Freshdesk" in Integration.objects.get(slug="freshsales-integration").note),
    ("API requests made by integrations may be processed outside the EEA",
     lambda: all("may be processed outside the EEA" in i.source_says for i in Integration.objects.filter(kind__in=["marketplace_app", "third_party"]))),
    ("More in the Terms of Service, the Privacy Notice and the list of sub-processors",
     lambda: processor().documents == ["Freshworks Terms of Service", "Freshworks Privacy Notice", "Freshworks list of sub-processors"]),
]
FACTS += [
    (f"{name} is defined as the source defines it", lambda slug=slug: DataCategory.objects.get(slug=slug).definition_in_source)
    for slug, name in [
        ("ticket", "Ticket data"), ("requester", "Requester data"), ("agent-user", "Agent and user data"),
        ("call-recording", "Call recording"), ("conversations", "Conversations"), ("social", "Social content"),
        ("app-integration", "App integration data"), ("knowledge-base", "Knowledge base content"), ("forum", "Forum data"),
        ("report", "Report data"),
    ]
]


@pytest.mark.parametrize("check", [check for _fact, check in FACTS], ids=[fact for fact, _check in FACTS])
def test_each_fact_of_the_sources_prose_is_in_the_catalog(check: Callable[[], bool]) -> None:
    assert check()


def test_the_catalog_names_no_region_for_a_sub_processor_or_platform_the_source_gives_none() -> None:
    # The source names the environments (AWS, GCP) and never their regions: any region here would be invented,
    # as Twilio's US was.
    assert not SubProcessor.objects.filter(regions__isnull=False).exists()
    assert not ProcessingPlatform.objects.filter(regions__isnull=False).exists()
    assert slugs(SubProcessor.objects) == {"aws-hosting", "aws-migration", "aws-sso", "gcp-sso"}


def test_what_the_catalog_adds_is_labelled_its_own_or_says_where_it_is_read_from() -> None:
    assert set(DataCategory.objects.values_list("purposes_basis", flat=True)) == {Basis.CATALOG}
    assert set(DataCategory.objects.filter(is_personal=False).values_list("personal_basis", flat=True)) == {Basis.CATALOG}
    assert set(Product.objects.exclude(default_region=None).values_list("default_region_basis", flat=True)) == {Basis.CATALOG}
    assert all("the catalog's rule" in note for note in Product.objects.exclude(default_region=None).values_list("default_region_note", flat=True))
    # A row the source gives no region line is read from the row it continues, and says so.
    assert set(HostingOffer.objects.filter(product__slug="freshservice", category__slug="assets").values_list("regions_basis", flat=True)) != {""}
    assert "Inferred" in SubProcessor.objects.get(slug="aws-hosting").note
