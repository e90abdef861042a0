"""Demo accounts for the console: one per region, showing each kind of residency finding."""

from __future__ import annotations

from django.db import transaction

from residency.models import Account, Integration, Product, Region
from residency.services import account_create

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
            )
        accounts.append(account)
    return accounts
