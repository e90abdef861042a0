"""The console's admin site: its models grouped the way the privacy team works, not by Python package."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db import DataError, router, transaction
from django.db.models import DateTimeField, Model
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst

from core.bounds import in_current_time_zone, moment_in_range
from core.titles import object_title

#: The lookups by which a changelist's URL compares a date and time field with a moment.
MOMENT_LOOKUPS = ([], ["exact"], ["gt"], ["gte"], ["lt"], ["lte"])

#: (heading, [(app label, model name, name shown or "" for the model's own)]), in the order shown.
GROUPS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("Requests and people", [
        ("dsar", "Request", "Data subject requests"),
        ("dsar", "Person", "People (end users and agents)"),
        ("dsar", "Jurisdiction", "Laws and their deadlines"),
    ]),
    ("Telephony records", [
        ("recordings", "Recording", "Call recordings and voicemails"),
        ("recordings", "RecordingDeletion", "Deleted recordings (audit log)"),
        ("recordings", "LegalHold", ""),
        ("recordings", "ProviderDeletion", "Deletions at the telephony provider"),
        ("recordings", "PhoneLine", "Phone lines and auto-delete windows"),
        ("recordings", "Ticket", "Telephony tickets"),
        ("recordings", "HistoryExport", "Call and monitoring history exports"),
    ]),
    ("Calls, monitoring and texts", [
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


class CheckedChangeList(ChangeList):
    """A changelist whose filters, typed into its URL by anyone, never reach the database as values it cannot
    take: a moment past the calendar (core/bounds.py) — the date hierarchy's last year, month or day has
    no end to bound it by (``?received_at__year=9999``), and a date filter's day given in a time zone east or
    west of UTC can overflow once converted for SQLite — or a value PostgreSQL refuses: text with a NUL
    character (``?status=a%00``), a time zone offset past ±15:59. Each is the changelist's "invalid filter" (a
    redirect to ``?e=1``), as a malformed date already is, never a server error. A moment compared with a date
    and time field reaches the query in the current time zone, a day or a moment without one read in it (as
    Django would, but without its warning), one with an offset converted to it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "Requests", not Django's "Select request to change".
        self.title = capfirst(self.opts.verbose_name_plural)

    def get_filters(self, request: HttpRequest) -> Any:
        if any("\x00" in value for values in self.filter_params.values() for value in values):
            raise IncorrectLookupParameters("A filter's value holds a NUL character.")
        if self.date_hierarchy:
            self._check_date_hierarchy()
        for key, values in self.filter_params.items():
            if self._compares_a_moment(key):
                self.filter_params[key] = [_moment_in_current_time_zone(key, value) for value in values]
        return super().get_filters(request)

    def _compares_a_moment(self, key: str) -> bool:
        """Whether the filter ``key`` compares a date and time field (of the model or a related one) with a value."""
        parts = key.split(LOOKUP_SEP)
        for end in range(len(parts), 0, -1):
            try:
                fields = get_fields_from_path(self.model, LOOKUP_SEP.join(parts[:end]))
            except (FieldDoesNotExist, NotRelationField):
                continue
            return isinstance(fields[-1], DateTimeField) and parts[end:] in MOMENT_LOOKUPS
        return False

    def _check_date_hierarchy(self) -> None:
        """The range Django's date hierarchy filters by, computed as it does; refused when it leaves the calendar."""
        values = {part: self.filter_params.get(f"{self.date_hierarchy}__{part}") for part in ("year", "month", "day")}
        if values["year"] is None:
            return
        try:
            start = datetime(*(int(values[part][-1]) if values[part] else 1 for part in ("year", "month", "day")))
            if values["day"]:
                end = start + timedelta(days=1)
            elif values["month"]:
                end = (start + timedelta(days=32)).replace(day=1)
            else:
                end = start.replace(year=start.year + 1)
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        if not (moment_in_range(start) and moment_in_range(end)):
            raise IncorrectLookupParameters(f"{self.date_hierarchy}: {start:%Y-%m-%d} is outside the dates kept.")

    def get_results(self, request: HttpRequest) -> None:
        # SQLite's adapter overflows converting a filter's moment to UTC; PostgreSQL refuses an offset past
        # ±15:59 (``?started__gte=2026-01-01T00:00:00%2B16:00``). The page's first queries run in a savepoint,
        # so that the refusal leaves the request's transaction usable.
        try:
            with transaction.atomic(using=router.db_for_read(self.model)):
                super().get_results(request)
        except (OverflowError, DataError) as exc:
            raise IncorrectLookupParameters(exc) from exc


def _moment_in_current_time_zone(key: str, value: str) -> str:
    """``value`` (a day, or a moment with or without an offset) as an ISO moment in the current time zone;
    refused when it leaves the calendar. A value that is no date is left for Django to refuse."""
    try:
        moment = parse_datetime(value.strip())
    except ValueError as exc:  # well formed, but no such day or time
        raise IncorrectLookupParameters(f"{key}: {exc}") from exc
    if moment is None:
        return value
    if not moment_in_range(moment):
        raise IncorrectLookupParameters(f"{key}: {value} is outside the dates kept.")
    return in_current_time_zone(moment).isoformat()


@cache
def checked_changelist(changelist: type[ChangeList]) -> type[ChangeList]:
    """``changelist`` (Django's, or an admin's own subclass of it) with the checks of :class:`CheckedChangeList`."""
    if issubclass(changelist, CheckedChangeList):
        return changelist
    return type(f"Checked{changelist.__name__}", (CheckedChangeList, changelist), {})


class CheckedChangeListAdmin(ModelAdmin):
    """What every admin of the console does alike: the checked changelist, and page titles in the team's words
    ("Requests", "Request #12 · Erasure", "New request") instead of "Select request to change"."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return checked_changelist(super().get_changelist(request, **kwargs))

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], add: bool = False, change: bool = False,
        form_url: str = "", obj: Model | None = None,
    ) -> HttpResponse:
        if obj is not None and not add:
            context.update(title=object_title(obj), subtitle=None)
        elif add:
            context.update(title=f"New {self.opts.verbose_name}", subtitle=None)
        return super().render_change_form(request, context, add, change, form_url, obj)


class PrivacyAdminSite(AdminSite):
    site_header = "Privacy operations"
    site_title = "Privacy operations"
    index_title = "Back office"

    def register(
        self, model_or_iterable: type[Model] | Iterable[type[Model]], admin_class: type[ModelAdmin] | None = None, **options: Any
    ) -> None:
        """Every admin, ours and the installed apps' (axes, tasks, auth), with the checked changelist."""
        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, CheckedChangeListAdmin):
            admin_class = type(admin_class.__name__, (CheckedChangeListAdmin, admin_class), {"__module__": admin_class.__module__})
        super().register(model_or_iterable, admin_class, **options)

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
