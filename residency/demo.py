"""Demo accounts for the console: one per region, showing each kind of residency finding."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from residency.models import Account, Integration, Product, Region
from residency.services import account_create

#: The controller's contacts of each demo account (name, email, DPO name, DPO email); one is left without.
DEMO_CONTACTS = {
    "Nordlys Support AB": ("Ingrid Berg", "privacy@nordlys.example", "Ola Lund", "dpo@nordlys.example"),
    "Maison Lumière SAS": ("Camille Roux", "rgpd@maison-lumiere.example", "Hugo Marchand", "dpo@maison-lumiere.example"),
    "Acme Help Inc.": ("Dana Whitfield", "privacy@acmehelp.example", "", ""),
    "Harbour Desk Pty Ltd": ("Liam O'Connor", "privacy@harbourdesk.example", "", ""),
}
#: Where each demo controller is (country, time zone); "": the home region's time zone.
DEMO_PLACES = {
    "Nordlys Support AB": ("SE", "Europe/Stockholm"),
    "Maison Lumière SAS": ("FR", "Europe/Paris"),
    "Acme Help Inc.": ("US", ""),
    "Chennai Care Pvt Ltd": ("IN", ""),
    "Harbour Desk Pty Ltd": ("AU", ""),
}
#: Chennai Care is moving in from another vendor through the migration platform.
DEMO_MIGRATIONS = {"Chennai Care Pvt Ltd": (date(2026, 11, 2), date(2026, 12, 18))}

DEMO_ACCOUNTS = [
    # name, home region, plan, products, integrations, custom mailbox
    ("Nordlys Support AB", "EEA", "professional", ["freshdesk", "freshdesk-contact-center", "freshteam"], ["marketplace-app"], True),
    ("Maison Lumière SAS", "EEA", "growth", ["freshdesk", "freshdesk-messaging"], [], False),
    ("Acme Help Inc.", "US", "enterprise", ["freshdesk", "freshservice", "freshsales"], ["freshsales-integration"], False),
    ("Chennai Care Pvt Ltd", "IND", "team", ["freshdesk", "freshservice"], [], False),
    ("Harbour Desk Pty Ltd", "AU", "professional", ["freshdesk", "freshdesk-contact-center"], [], False),
]


@transaction.atomic
def load_demo() -> list[Account]:
    """Create the demo accounts that do not exist yet; returns every demo account. Idempotent."""
    accounts = []
    for name, region, plan, products, integrations, custom_mailbox in DEMO_ACCOUNTS:
        account = Account.objects.filter(name=name).first()
        if account is None:
            account = account_create(
                name=name,
                home_region=Region.objects.get(code=region),
                plan=plan,
                products=Product.objects.filter(slug__in=products),
                integrations=Integration.objects.filter(slug__in=integrations),
                custom_mailbox=custom_mailbox,
                **contact_fields(name),
            )
        accounts.append(account)
    return accounts


def contact_fields(name: str) -> dict:
    """The demo account's place, contacts and migration, as account_create takes them."""
    fields: dict = {}
    if name in DEMO_PLACES:
        fields.update(zip(Account.PLACE_FIELDS, DEMO_PLACES[name], strict=True))
    if name in DEMO_CONTACTS:
        contact_name, email, dpo_name, dpo_email = DEMO_CONTACTS[name]
        fields.update(privacy_contact_name=contact_name, privacy_contact_email=email, dpo_name=dpo_name, dpo_email=dpo_email)
    if name in DEMO_MIGRATIONS:
        started, ends = DEMO_MIGRATIONS[name]
        fields.update(migration_in_progress=True, migration_started_on=started, migration_ends_on=ends)
    return fields
