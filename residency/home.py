"""The residency panel of the console's home page (registered with core/dashboard.py)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from core.dashboard import Figure, Panel, cached, register_panel
from residency.engine import residency_report
from residency.models import ChangeNotice
from residency.snapshot import account_snapshots, catalog_snapshot


def _accounts_out_of_jurisdiction() -> tuple[list[int], list[int]]:
    """Ids of the accounts with transfers outside their home jurisdiction, and of those with review items."""
    transfers, reviews = [], []
    catalog = catalog_snapshot()
    for account in account_snapshots(catalog):
        report = residency_report(account=account, catalog=catalog)
        if report.transfers:
            transfers.append(account.id)
        if report.reviews:
            reviews.append(account.id)
    return transfers, reviews


def residency_panel(request: HttpRequest) -> Panel | None:
    if not request.user.has_perm("residency.view_account"):
        return None
    # Every account's report: a scan, reused for a few minutes.
    transfers, reviews = cached("dashboard:residency", _accounts_out_of_jurisdiction)
    accounts = reverse("admin:residency_account_changelist")
    # Notices a processor owes its controllers (Art. 28(2)) that did not reach them: no contact, or mail failed.
    unsent = ChangeNotice.objects.filter(emailed_at__isnull=True).count()
    return Panel(
        title="Where the data is",
        figures=[
            Figure(
                "Accounts with data outside their home jurisdiction",
                len(transfers),
                f"{accounts}?id__in={','.join(map(str, transfers))}" if transfers else "",
            ),
            Figure(
                "Accounts with residency items to review",
                len(reviews),
                f"{accounts}?id__in={','.join(map(str, reviews))}" if reviews else "",
                alert=bool(reviews),
            ),
            Figure(
                "Notices of new sub-processors or transfers not emailed",
                unsent,
                reverse("admin:residency_changenotice_changelist") + "?emailed_at__isempty=1" if unsent else "",
                alert=bool(unsent),
                detail="no privacy contact on the account, or the email failed" if unsent else "",
            ),
        ],
        links=[("Hosting matrix: products × categories × regions", reverse("admin:residency_hosting_matrix"))],
    )


def register_home_panels() -> None:
    register_panel("residency", 30, residency_panel)
