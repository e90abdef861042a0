"""Account-scoped API keys: ``Authorization: Bearer pok_<prefix>_<secret>``."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from core.models import ApiKey

LAST_USED_PRECISION = timedelta(minutes=1)
logger = logging.getLogger(__name__)


def _record_use(key_id: int, now: datetime) -> None:
    try:
        ApiKey.objects.filter(pk=key_id).update(last_used_at=now)
    except DatabaseError:
        logger.warning("API key %s: its last use was not recorded (database busy).", key_id)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates an integration by its API key; ``request.auth`` is then the :class:`ApiKey`.

    The request has no user (it is anonymous): what a key may see is decided by its account.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, raw_key = header.partition(" ")
        if scheme != self.keyword or not raw_key.startswith("pok_"):
            return None
        prefix = raw_key[4 : 4 + ApiKey.PREFIX_LENGTH]
        key = ApiKey.objects.select_related("account").filter(prefix=prefix).first()
        if key is None or not key.matches(raw_key.strip()) or key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        now = timezone.now()
        if key.is_expired(now):
            raise exceptions.AuthenticationFailed(f"This API key expired on {key.expires_at:%Y-%m-%d %H:%M} UTC.")
        # Bookkeeping, not the request's work: written after the request's transaction (a minute's precision
        # will do), on its own and tolerant of a busy database, so it never holds or waits for a lock meanwhile.
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
            transaction.on_commit(partial(_record_use, key.pk, now))
        # Lets the history rows written during this request name the key as their actor.
        request._request.api_key = key
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An account's API key (`pok_…`), created in the admin and shown once.",
        }
