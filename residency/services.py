"""Writes on accounts and API keys, shared by the admin, the API and the commands."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from residency.audit import Action, Record, audit_append
from residency.history import actor_name
from residency.models import Account, ApiKey, Integration, Product, Region
from residency.roles import DEFAULT_SCOPES, SCOPES


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


@transaction.atomic
def api_key_create(
    *,
    account: Account,
    name: str,
    created_by: object | None = None,
    scopes: Iterable[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for ``account``; returns the key and its raw value, which is never stored or shown again.

    ``scopes`` default to the least (:data:`residency.roles.DEFAULT_SCOPES`: intake and reading); an unknown
    scope, or an expiry that is not in the future, is refused naming the field.
    """
    if not name.strip():
        raise ValidationError({"name": "Name the key after what uses it."})
    chosen = sorted(set(DEFAULT_SCOPES if scopes is None else scopes))
    unknown = [scope for scope in chosen if scope not in SCOPES]
    if unknown:
        raise ValidationError({"scopes": f"Unknown scope {unknown[0]!r}; use one of {', '.join(SCOPES)}."})
    if not chosen:
        raise ValidationError({"scopes": "Choose at least one scope."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    prefix, raw = ApiKey.generate()
    key = ApiKey.objects.create(
        account=account,
        name=name.strip(),
        prefix=prefix,
        digest=ApiKey.digest_of(raw),
        created_by=created_by,
        scopes=chosen,
        expires_at=expires_at,
    )
    audit_append(
        Record(
            action=Action.API_KEY_CREATED,
            object_type="residency.apikey",
            object_id=key.pk,
            account_id=account.pk,
            actor=actor_name(created_by),
            data={"prefix": prefix, "name": key.name, "scopes": chosen, "expires_at": expires_at},
        )
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey, user: Any = None) -> bool:
    """Revoke ``key``; returns False when it was already revoked (nothing changes then)."""
    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
    if locked.revoked_at is not None:
        return False
    locked.revoked_at = timezone.now()
    locked._change_reason = "revoked"
    locked.save(update_fields=["revoked_at"])
    key.revoked_at = locked.revoked_at
    audit_append(
        Record(
            action=Action.API_KEY_REVOKED,
            object_type="residency.apikey",
            object_id=key.pk,
            account_id=locked.account_id,
            actor=actor_name(user),
            data={"prefix": locked.prefix, "name": locked.name},
        )
    )
    return True
