"""Deployment checks of the platform (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def runtime_login_is_not_the_owner(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """On PostgreSQL the application should log in as a runtime login that owns no table (core/database_logins.py)."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or settings.DATABASE_RUNTIME_ROLE:
        return []
    return [
        Warning(
            "DATABASE_RUNTIME_ROLE is not set: the application logs in as the tables' owner, which can switch off "
            "the append-only triggers and rewrite, delete or truncate audit and history rows.",
            hint="Create a runtime login, migrate as the owner with DATABASE_RUNTIME_ROLE naming it, and serve with "
            "DATABASE_URL logging in as it (README, Running in production).",
            id="core.W001",
        )
    ]
