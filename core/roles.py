"""Who may do what: the roles (Django groups) and the scopes an API key can carry.

The admin, the API and the commands check Django permissions (``app_label.codename``); a role is a named set
of them. Each app states what each role may do with its own records, and which scopes a key can carry for
them, in its ``roles`` module (``GRANTS``, ``SCOPES``, ``DEFAULT_SCOPES``); this module knows the three roles,
puts the apps' tables together (:func:`roles`, :func:`scopes`, :func:`default_scopes`) and keeps the groups in
step through data migrations (``recordings/migrations/*_roles.py``: recordings is the app that depends on all
the others, so every permission named exists when it runs). Permissions Django does not create by itself are
declared on the models (``Meta.permissions``), e.g. ``core.manage_api_keys`` (create and revoke) on
``core.ApiKey``.

An entry ``"app.view_*"`` stands for every view permission of that app.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from django.apps import apps as installed_apps
from django.utils.module_loading import import_string, module_has_submodule

#: People, requests, identity, erasure, portability, exports, holds; accounts and their API keys.
PRIVACY_OFFICER = "Privacy officer"
#: Lines, tickets, recordings (manual deletion), history exports; no requests, identity or erasure.
SUPPORT_ADMIN = "Support admin"
#: Read-only on everything, history and audit logs included; downloads nothing personal.
AUDITOR = "Auditor"

#: What the platform's own records give each role: API keys and the audit chain, logins and lockouts.
GRANTS: dict[str, tuple[str, ...]] = {
    PRIVACY_OFFICER: (
        "core.view_*",
        "core.manage_api_keys",
        "core.verify_audit_chain",
        # Login lockouts: seeing them, and lifting one by deleting the attempt.
        "axes.view_*",
        "axes.delete_accessattempt",
    ),
    SUPPORT_ADMIN: (),
    AUDITOR: ("core.view_*", "core.verify_audit_chain", "axes.view_*", "auth.view_user", "auth.view_group"),
}


def _tables(name: str) -> list[Any]:
    """``name`` (GRANTS, SCOPES, DEFAULT_SCOPES) of every installed app's ``roles`` module, in app order."""
    found = []
    for app_config in installed_apps.get_app_configs():
        if module_has_submodule(app_config.module, "roles"):
            try:
                found.append(import_string(f"{app_config.name}.roles.{name}"))
            except ImportError:
                continue
    return found


@cache
def roles() -> dict[str, tuple[str, ...]]:
    """Each role and every permission it holds, across the apps."""
    combined: dict[str, tuple[str, ...]] = {PRIVACY_OFFICER: (), SUPPORT_ADMIN: (), AUDITOR: ()}
    for grants in _tables("GRANTS"):
        for role, entries in grants.items():
            if role not in combined:
                raise LookupError(f"No role {role!r}: roles are {', '.join(combined)}.")
            combined[role] += tuple(entries)
    return combined


@cache
def scopes() -> dict[str, str]:
    """What an API key may be allowed to do, with what each scope means. A key carries the scopes chosen
    when it was created."""
    combined: dict[str, str] = {}
    for table in _tables("SCOPES"):
        combined.update(table)
    return combined


@cache
def default_scopes() -> tuple[str, ...]:
    """A new key's scopes unless others are chosen: the least, what an intake form needs, and reading."""
    return tuple(scope for table in _tables("DEFAULT_SCOPES") for scope in table)


def scope_choices() -> list[tuple[str, str]]:
    return list(scopes().items())


def expand(entries: Iterable[str], available: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (app_label, codename) pairs ``entries`` name among ``available``; ``app.view_*`` expands.

    Raises ``LookupError`` for an entry that names no existing permission: a typo in the table must
    stop the migration, not leave a role silently short of a permission.
    """
    available = set(available)
    chosen: set[tuple[str, str]] = set()
    for entry in entries:
        app_label, _, codename = entry.partition(".")
        if codename.endswith("*"):
            prefix = codename[:-1]
            chosen |= {(app, code) for app, code in available if app == app_label and code.startswith(prefix)}
        elif (app_label, codename) in available:
            chosen.add((app_label, codename))
        else:
            raise LookupError(f"Role permission {entry!r} does not exist.")
    return chosen


def sync_roles(apps: Any, schema_editor: Any = None) -> None:
    """Create or update the groups of :func:`roles` with exactly their permissions (a data migration's body).

    Permissions are created first: on a fresh database Django creates them only after every migration.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    available = {
        (app, code): pk
        for pk, app, code in Permission.objects.values_list("pk", "content_type__app_label", "codename")
    }
    for name, entries in roles().items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([available[pair] for pair in expand(entries, available)])


def remove_roles(apps: Any, schema_editor: Any = None) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=list(roles())).delete()
