"""Writes on accounts, shared by the admin, the API and the commands."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from residency.models import Account, Integration, Product, Region


def check_integrations(products: Iterable[Product], integrations: Iterable[Integration]) -> None:
    """Every integration must be available for at least one of the account's products."""
    product_ids = {product.pk for product in products}
    for integration in integrations:
        available = {product.pk for product in integration.products.all()}
        if available and not available & product_ids:
            names = ", ".join(sorted(product.slug for product in integration.products.all()))
            raise ValidationError(
                {"integrations": f"'{integration.slug}' is only available for {names}, which the account does not use."}
            )


def check_migration(in_progress: bool, started_on: date | None, ends_on: date | None) -> None:
    """A migration in progress has a start; an expected end is not before the start."""
    if in_progress and started_on is None:
        raise ValidationError({"migration_started_on": "A migration in progress needs the day it started."})
    if started_on and ends_on and ends_on < started_on:
        raise ValidationError({"migration_ends_on": "The expected end cannot be before the start."})


@transaction.atomic
def account_create(
    *,
    name: str,
    home_region: Region,
    plan: str = Account.Plan.TEAM,
    products: Iterable[Product] = (),
    integrations: Iterable[Integration] = (),
    custom_mailbox: bool = False,
    country: str = "",
    time_zone: str = "",
    privacy_contact_name: str = "",
    privacy_contact_email: str = "",
    dpo_name: str = "",
    dpo_email: str = "",
    migration_in_progress: bool = False,
    migration_started_on: date | None = None,
    migration_ends_on: date | None = None,
) -> Account:
    products, integrations = list(products), list(integrations)
    if Account.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"An account named '{name}' already exists."})
    check_integrations(products, integrations)
    check_migration(migration_in_progress, migration_started_on, migration_ends_on)
    account = Account(
        name=name,
        home_region=home_region,
        plan=plan,
        custom_mailbox=custom_mailbox,
        country=country,
        time_zone=time_zone,
        privacy_contact_name=privacy_contact_name,
        privacy_contact_email=privacy_contact_email,
        dpo_name=dpo_name,
        dpo_email=dpo_email,
        migration_in_progress=migration_in_progress,
        migration_started_on=migration_started_on,
        migration_ends_on=migration_ends_on,
    )
    account.full_clean()
    account.save()
    account.products.set(products)
    account.integrations.set(integrations)
    return account
