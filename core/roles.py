"""Who may do what: the roles (Django groups) and the scopes an API key can carry.

This is the one table of the product's permissions. The admin, the API and the commands check Django
permissions (``app_label.codename``); a role is a named set of them, created and kept in step by data
migrations (``recordings/migrations/*_roles.py``: recordings is the app that depends on all others, so
every permission named here exists when it runs). Permissions that Django does not create by itself are
declared on the models (``Meta.permissions``):

- ``dsar.verify_identity``, ``dsar.execute_erasure``, ``dsar.execute_request`` and
  ``dsar.download_export`` (access reports and personal-data downloads) on ``dsar.Request``;
- ``recordings.place_hold`` and ``recordings.release_hold`` on ``recordings.LegalHold``;
- ``recordings.download_export`` (call- and monitoring-history CSVs) on ``recordings.HistoryExport``;
- ``core.manage_api_keys`` (create and revoke) on ``core.ApiKey``.

Manual deletion of a recording is Django's own ``recordings.delete_recording``; soft deletion and
restoring of a ticket is ``recordings.delete_ticket``.

An entry ``"app.view_*"`` stands for every view permission of that app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

PRIVACY_OFFICER = "Privacy officer"
SUPPORT_ADMIN = "Support admin"
AUDITOR = "Auditor"

CATALOG_VIEW = (
    "residency.view_region",
    "residency.view_product",
    "residency.view_datacategory",
    "residency.view_hostingoffer",
    "residency.view_transientroute",
    "residency.view_retentionrule",
    "residency.view_integration",
    "residency.view_subprocessor",
    "residency.view_processingplatform",
    "residency.view_processor",
    "residency.view_catalogload",
    "residency.view_changenotice",
)

ROLES: dict[str, tuple[str, ...]] = {
    # People, requests, identity, erasure, portability, exports, holds; accounts and their API keys.
    PRIVACY_OFFICER: (
        "residency.view_*",
        "residency.add_account",
        "residency.change_account",
        "core.view_*",
        "core.manage_api_keys",
        "dsar.view_*",
        "dsar.add_person",
        "dsar.change_person",
        "dsar.add_request",
        "dsar.change_request",
        "dsar.verify_identity",
        "dsar.execute_erasure",
        "dsar.execute_request",
        "dsar.download_export",
        "dsar.change_jurisdiction",
        "recordings.view_*",
        "recordings.place_hold",
        "recordings.release_hold",
        "recordings.add_historyexport",
        "recordings.download_export",
        # Login lockouts: seeing them, and lifting one by deleting the attempt.
        "axes.view_*",
        "axes.delete_accessattempt",
    ),
    # Lines, tickets, recordings (manual deletion), history exports; no requests, identity or erasure.
    SUPPORT_ADMIN: (
        "residency.view_account",
        *CATALOG_VIEW,
        "dsar.view_person",
        "recordings.view_*",
        "recordings.add_phoneline",
        "recordings.change_phoneline",
        "recordings.add_ticket",
        "recordings.change_ticket",
        "recordings.delete_ticket",
        "recordings.delete_recording",
        "recordings.add_historyexport",
        "recordings.download_export",
        "recordings.change_providerdeletion",
    ),
    # Read-only on everything, history and audit logs included; downloads nothing personal.
    AUDITOR: (
        "core.view_*",
        "residency.view_*",
        "dsar.view_*",
        "recordings.view_*",
        "axes.view_*",
        "auth.view_user",
        "auth.view_group",
    ),
}

#: What an API key may be allowed to do. A key carries the scopes chosen when it was created.
SCOPES: dict[str, str] = {
    "residency:read": "Read the catalog, the account, its residency report, record of processing and notices.",
    "requests:create": "Open data subject requests (intake).",
    "requests:read": "Read the account's requests and their timelines.",
    "requests:verify": "Submit the one-time code a requester received.",
    "requests:manage": "Extend deadlines.",
    "requests:report": "Read access reports (personal data).",
    "requests:execute": "Preview and execute requests, erasure included.",
    "history:read": "Read call, monitoring and text history (people's numbers).",
    "recordings:read": "Read recordings.",
    "recordings:delete": "Delete recordings permanently.",
    "tickets:read": "Read telephony tickets.",
    "tickets:delete": "Delete (soft) and restore telephony tickets.",
    "exports:create": "Queue call- and monitoring-history exports.",
    "exports:read": "Read the state of history exports.",
}

#: A new key's scopes unless others are chosen: what an intake form needs, and reading.
DEFAULT_SCOPES: tuple[str, ...] = ("requests:create", "requests:read", "requests:verify", "residency:read")


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
    """Create or update the groups of :data:`ROLES` with exactly their permissions (a data migration's body).

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
    for name, entries in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([available[pair] for pair in expand(entries, available)])


def remove_roles(apps: Any, schema_editor: Any = None) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()
