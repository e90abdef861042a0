"""The console's admin site: its models grouped the way the privacy team works, not by Python package."""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest

#: (heading, [(app label, model name, name shown or "" for the model's own)]), in the order shown.
GROUPS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("Requests and people", [
        ("dsar", "Request", "Data subject requests"),
        ("dsar", "Person", "People (end users and agents)"),
        ("dsar", "Jurisdiction", "Laws and their deadlines"),
    ]),
    ("Recordings and retention", [
        ("recordings", "Recording", "Call recordings and voicemails"),
        ("recordings", "RecordingDeletion", "Deleted recordings (audit log)"),
        ("recordings", "LegalHold", ""),
        ("recordings", "ProviderDeletion", "Deletions at the telephony provider"),
        ("recordings", "PhoneLine", "Phone lines and auto-delete windows"),
        ("recordings", "Ticket", "Telephony tickets"),
        ("recordings", "HistoryExport", "Call and monitoring history exports"),
    ]),
    ("Telephony history", [
        ("recordings", "Call", "Call history"),
        ("recordings", "MonitoringEntry", ""),
        ("recordings", "TextMessage", ""),
        ("recordings", "AnalyticsRow", "Call analytics"),
    ]),
    ("Customer accounts", [
        ("residency", "Account", "Accounts and where their data is"),
        ("residency", "ChangeNotice", "Notices of new sub-processors and transfers"),
        ("core", "ApiKey", "API keys of integrations"),
        ("core", "AuditEntry", "Audit chain of destructive operations"),
    ]),
    ("Hosting catalog", [
        ("residency", "Region", ""),
        ("residency", "Product", ""),
        ("residency", "DataCategory", ""),
        ("residency", "HostingOffer", "Hosting offers (product × category × region)"),
        ("residency", "TransientRoute", "Transient routes"),
        ("residency", "RetentionRule", "Backup and log retention"),
        ("residency", "Integration", "Integrations and marketplace apps"),
        ("residency", "SubProcessor", "Sub-processors"),
        ("residency", "ProcessingPlatform", "Platforms (single sign-on, migration)"),
        ("residency", "Processor", "The vendor as processor"),
        ("residency", "CatalogLoad", "Catalog loads"),
    ]),
    ("Logins and access", [
        ("auth", "User", "Console users"),
        ("auth", "Group", "Roles"),
        ("axes", "AccessAttempt", "Failed logins and lockouts"),
        ("axes", "AccessFailureLog", "Failed login log"),
        ("axes", "AccessLog", "Login log"),
    ]),
    ("Background work", [("django_tasks_database", "DBTaskResult", "Background tasks")]),
]


class PrivacyAdminSite(AdminSite):
    site_header = "Privacy operations"
    site_title = "Privacy operations"
    index_title = "Back office"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        """The models the user may see, under the team's headings (an app's own page keeps the app's list)."""
        apps = super().get_app_list(request, app_label)
        if app_label:
            return apps
        models = {(app["app_label"], model["object_name"]): (app, model) for app in apps for model in app["models"]}
        grouped = []
        for heading, entries in GROUPS:
            shown = []
            for app_label_, object_name, name in entries:
                found = models.pop((app_label_, object_name), None)
                if found:
                    shown.append({**found[1], "name": name or found[1]["name"]})
            if shown:
                grouped.append({**found_app(apps, entries), "name": heading, "models": shown})
        # Whatever no group names (a model added later) still shows, under its app.
        leftovers: dict[str, dict[str, Any]] = {}
        for app, model in models.values():
            leftovers.setdefault(app["app_label"], {**app, "models": []})["models"].append(model)
        return grouped + list(leftovers.values())


def found_app(apps: list[dict[str, Any]], entries: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The app of a group's first model the user may see (its label and URL head the group)."""
    labels = [entry[0] for entry in entries]
    return next(app for label in labels for app in apps if app["app_label"] == label)
