"""The telephony panel of the console's home page (see core/dashboard.py)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from core.charts import Chart, bar_chart, last_months, monthly_counts
from core.dashboard import Panel, cached, count_figure
from recordings.list_filters import PURGE_AHEAD_DAYS, unfinished_exports
from recordings.models import (
    DeletionReason,
    HistoryExport,
    LegalHold,
    ProviderDeletion,
    Recording,
    RecordingDeletion,
)

MONTHS = 12


def deletions_chart(today: dt.date) -> Chart:
    """Recordings deleted per month by path (by hand, auto-delete, with the ticket, erasure), the last twelve months."""
    months = last_months(today, MONTHS)
    counts = monthly_counts(RecordingDeletion.objects.all(), "history_date", "deletion_reason", months)
    return Chart(
        title="Recordings deleted per month, by path",
        labels=[f"{month:%b %y}" for month in months],
        series={label: [counts[(month, reason)] for month in months] for reason, label in DeletionReason.choices},
    )


def recordings_panel(request: HttpRequest) -> Panel | None:
    user = request.user
    if not user.has_perm("recordings.view_recording"):
        return None
    now = timezone.now()
    today = timezone.localdate()
    admin = "admin:recordings_{}_changelist".format
    failing = ProviderDeletion.objects.filter(done_at__isnull=True, attempts__gt=0)
    oldest = failing.order_by("created_at").values_list("provider_sid", "created_at", "last_error").first()
    exports = unfinished_exports(HistoryExport.objects.all())
    figures = [
        count_figure(
            f"Recordings the purge deletes within {PURGE_AHEAD_DAYS} days",
            Recording.objects.purged_within(now, PURGE_AHEAD_DAYS),
            f"{reverse(admin('recording'))}?purge=week",
        ),
        count_figure(
            "Legal holds in force",
            LegalHold.objects.filter(released_at__isnull=True),
            f"{reverse(admin('legalhold'))}?active=yes",
        ),
        count_figure(
            "Deletions at the provider failing",
            failing,
            f"{reverse(admin('providerdeletion'))}?state=retrying",
            alert=True,
            detail=(
                f"oldest: {oldest[0]} since {timezone.localtime(oldest[1]):%Y-%m-%d %H:%M} ({oldest[2][:80]})"
                if oldest
                else ""
            ),
        ),
        count_figure(
            "History exports queued, running or failed",
            exports,
            f"{reverse(admin('historyexport'))}?progress=unfinished",
            detail=f"{exports.filter(status=HistoryExport.Status.FAILED).count()} failed",
        ),
    ]
    chart = cached(
        f"dashboard:deletions-chart:{today}", lambda: bar_chart(deletions_chart(today)), tracked=[Recording]
    )
    return Panel(title="Telephony records", figures=figures, charts=[chart])
