"""System checks of the platform (``manage.py check``, and ``--deploy`` for production)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


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


@register()
def sqlite_transactions_take_the_write_lock(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """On SQLite every transaction must take the write lock when it begins (``transaction_mode`` ``IMMEDIATE``):
    the deletions claim their rows by reading them inside such a transaction (recordings/deletion.py), which is
    only safe when no other writer can start meanwhile."""
    problems = []
    for alias, database in settings.DATABASES.items():
        if database["ENGINE"] != "django.db.backends.sqlite3":
            continue
        if str(database.get("OPTIONS", {}).get("transaction_mode", "")).upper() != "IMMEDIATE":
            problems.append(
                Error(
                    f"DATABASES[{alias!r}]: SQLite transactions must begin IMMEDIATE.",
                    hint='Set OPTIONS["transaction_mode"] = "IMMEDIATE" (config/settings.py does).',
                    id="core.E001",
                )
            )
    return problems
