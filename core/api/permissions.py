"""Who may call what in the API: staff by their Django permissions, integrations by their key's scopes.

Every view declares, per HTTP method, an :class:`Access`: the Django permission a logged-in staff user
needs and the scope an API key needs (``None``: nobody of that kind may). :class:`HasAccess`, the default
permission class, enforces it; a method a view does not declare is refused to everyone. The vocabulary
of roles and scopes is core/roles.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core.models import ApiKey


@dataclass(frozen=True)
class Access:
    """What one operation needs: ``perm`` for staff (``app.codename``), ``scope`` for an API key."""

    perm: str | None
    scope: str | None


def api_key_of(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


def account_scope(request: Request) -> Any:
    """The one account an API-key caller may see; ``None`` for staff, who see every account."""
    key = api_key_of(request)
    return key.account if key else None


def check_access(request: Request, access: Access) -> None:
    """Raise 401 for an anonymous caller and 403, naming what is missing, for one without ``access``."""
    key = api_key_of(request)
    if key is not None:
        if access.scope is None:
            raise exceptions.PermissionDenied("An API key cannot do this; it needs a staff login.")
        if not key.has_scope(access.scope):
            raise exceptions.PermissionDenied(f"The API key lacks the scope {access.scope}.")
        return
    user = request.user
    if not (user and user.is_authenticated):
        raise exceptions.NotAuthenticated("Log in as staff or send an account API key.")
    if not (user.is_active and user.is_staff) or access.perm is None:
        raise exceptions.PermissionDenied("Only staff with the right role can do this.")
    if not user.has_perm(access.perm):
        raise exceptions.PermissionDenied(f"You lack the permission {access.perm}.")


class HasAccess(BasePermission):
    """Enforces the view's ``access`` mapping of HTTP method to :class:`Access` (HEAD and OPTIONS as GET)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        method = request.method.upper()
        if method != "OPTIONS" and not hasattr(view, method.lower()):
            return True  # the view answers 405 next
        lookup = "GET" if method in ("HEAD", "OPTIONS") else method
        access = getattr(view, "access", {}).get(lookup)
        if access is None:
            raise exceptions.PermissionDenied("This operation is not open to anyone.")
        check_access(request, access)
        return True


class DocsAccess(BasePermission):
    """The OpenAPI schema and docs page: logged-in staff, or anyone when ``API_DOCS_PUBLIC`` is on."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if settings.API_DOCS_PUBLIC:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            raise exceptions.NotAuthenticated("Log in to the console to read the API documentation.")
        return bool(user.is_active and user.is_staff)
