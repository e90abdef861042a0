"""Request rates per API key, per logged-in user, and for intake; rates come from settings.API_THROTTLE_RATES.

DRF's own throttles read their rates once, when the module is imported; these read them per request, so
a changed setting (tests, a reloaded configuration) takes effect.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from core.api.permissions import api_key_of
from core.client_address import client_address


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]

    def get_ident(self, request: Request) -> str:
        """The client's address as logins read it. DRF's own believes X-Forwarded-For from anyone, so a
        client could take a fresh address for every call; this one believes only the trusted proxies."""
        return client_address(request) or ""


class ApiKeyRateThrottle(_SettingsRateThrottle):
    """Every call made with one API key."""

    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = api_key_of(request)
        return f"throttle:api_key:{key.pk}" if key else None


class UserRateThrottle(_SettingsRateThrottle):
    """Every call made by one logged-in staff user."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if api_key_of(request) is not None or not request.user.is_authenticated:
            return None
        return f"throttle:user:{request.user.pk}"


class IntakeRateThrottle(_SettingsRateThrottle):
    """Requests opened through the API, per key or user: each may email a code to the address typed in."""

    scope = "intake"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.method != "POST":
            return None
        key = api_key_of(request)
        if key is not None:
            return f"throttle:intake:key:{key.pk}"
        if request.user.is_authenticated:
            return f"throttle:intake:user:{request.user.pk}"
        return None


class _KeyRate(SimpleRateThrottle):
    """One named counter at one rate, outside any API view (the privacy center's forms)."""

    def __init__(self, key: str, rate: str) -> None:
        self.key, self.rate = key, rate
        super().__init__()

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.key


def allow_key(key: str, rate: str) -> float | None:
    """Count one hit on the counter ``key`` at ``rate`` ("N/second|minute|hour|day"), on the shared cache with
    the API's throttles; ``None`` when allowed, else how many seconds until it would be."""
    throttle = _KeyRate(f"throttle:{key}", rate)
    if throttle.allow_request(None, None):  # type: ignore[arg-type]
        return None
    return throttle.wait() or 1.0
