"""The residency panel of the console's home page (registered with core/dashboard.py), and the accounts list's
filter its figures link to."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from core.dashboard import Figure, Panel, cached, count_figure, register_panel
from residency.models import ChangeNotice


def _scan_accounts() -> tuple[list[int], list[int]]:
    # The engine is imported here, not with this module: the panels are registered at start-up, and commands
    # that never draw the home page need neither the engine nor its snapshots.
    from residency.engine import residency_report
    from residency.snapshot import account_snapshots, catalog_snapshot

    transfers, reviews = [], []
    catalog = catalog_snapshot()
    for account in account_snapshots(catalog):
        report = residency_report(account=account, catalog=catalog)
        if report.transfers:
            transfers.append(account.id)
        if report.reviews:
            reviews.append(account.id)
    return transfers, reviews


def accounts_out_of_jurisdiction() -> tuple[list[int], list[int]]:
    """Ids of the accounts with transfers outside their home jurisdiction, and of those with review items.

    Every account's report is a scan: it is reused until an account or the catalog is written to."""
    tracked = [
        model for model in apps.get_app_config("residency").get_models()
        if getattr(model._meta, "simple_history_manager_attribute", None) == "history"
    ]
    return cached("dashboard:residency", _scan_accounts, tracked=tracked)


class ResidencyFilter(admin.SimpleListFilter):
    """The accounts the residency figures of the home page count."""

    title = "where the data is"
    parameter_name = "residency"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("transfers", "Data outside the home jurisdiction"), ("review", "Residency items to review")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("transfers", "review"):
            transfers, reviews = accounts_out_of_jurisdiction()
            return queryset.filter(id__in=transfers if self.value() == "transfers" else reviews)
        return queryset


def unsent_notices() -> QuerySet[ChangeNotice]:
    """Notices a processor owes its controllers (Art. 28(2)) that did not reach them: no contact, or mail failed."""
    return ChangeNotice.objects.filter(emailed_at__isnull=True)


def residency_panel(request: HttpRequest) -> Panel | None:
    if not request.user.has_perm("residency.view_account"):
        return None
    transfers, reviews = accounts_out_of_jurisdiction()
    accounts = reverse("admin:residency_account_changelist")
    unsent = count_figure(
        "Notices of new sub-processors or transfers not emailed",
        unsent_notices(),
        reverse("admin:residency_changenotice_changelist") + "?emailed_at__isempty=1",
        alert=True,
        detail="no privacy contact on the account, or the email failed",
    )
    return Panel(
        title="Where the data is",
        figures=[
            Figure("Accounts with data outside their home jurisdiction", len(transfers), f"{accounts}?residency=transfers"),
            Figure(
                "Accounts with residency items to review", len(reviews), f"{accounts}?residency=review", alert=bool(reviews)
            ),
            unsent if unsent.value else replace(unsent, detail=""),
        ],
        links=[("Hosting matrix: products × categories × regions", reverse("admin:residency_hosting_matrix"))],
    )


def register_home_panels() -> None:
    register_panel("residency", 30, residency_panel)
