from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from residency.models import Account, ApiKey


def api_key_of(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


def account_scope(request: Request) -> Account | None:
    """The one account an API-key caller may see; ``None`` for staff, who see every account."""
    key = api_key_of(request)
    return key.account if key else None


class IsStaffOrApiKey(BasePermission):
    """Staff logged in to the console, or an integration holding an active account API key."""

    message = "Log in as staff or send an account API key."

    def has_permission(self, request: Request, view: Any) -> bool:
        if api_key_of(request) is not None:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


class IsStaff(BasePermission):
    """Staff only: operations that are not scoped to one account (creating accounts, …)."""

    message = "Only staff can do this; an account API key cannot."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)
