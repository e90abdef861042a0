"""Writes on API keys, shared by the admin, the API and the commands."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import Action, Record, audit_append
from core.history import actor_name
from core.models import ApiKey
from core import roles

API_KEY = ApiKey._meta.label_lower


@transaction.atomic
def api_key_create(
    *,
    account: Any,
    name: str,
    created_by: object | None = None,
    scopes: Iterable[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for ``account``; returns the key and its raw value, which is never stored or shown again.

    ``scopes`` default to the least (:func:`core.roles.default_scopes`: intake and reading); an unknown
    scope, or an expiry that is not in the future, is refused naming the field.
    """
    if not name.strip():
        raise ValidationError({"name": "Name the key after what uses it."})
    chosen = sorted(set(roles.default_scopes() if scopes is None else scopes))
    known = roles.scopes()
    unknown = [scope for scope in chosen if scope not in known]
    if unknown:
        raise ValidationError({"scopes": f"Unknown scope {unknown[0]!r}; use one of {', '.join(known)}."})
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
            object_type=API_KEY,
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
            object_type=API_KEY,
            object_id=key.pk,
            account_id=locked.account_id,
            actor=actor_name(user),
            data={"prefix": locked.prefix, "name": locked.name},
        )
    )
    return True
