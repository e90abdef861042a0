"""The requests panel of the console's home page (see core/dashboard.py)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict

from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from core.charts import Chart, bar_chart, last_months, monthly_counts
from core.dashboard import Panel, cached, count_figure
from dsar.models import Export, Request

MONTHS = 12


def _by_type(requests: object) -> str:
    counts = dict(requests.values("type").annotate(n=Count("pk")).values_list("type", "n").order_by())  # type: ignore[attr-defined]
    labels = dict(Request.Type.choices)
    return ", ".join(f"{counts[kind]} {labels[kind].lower()}" for kind in labels if counts.get(kind))


def requests_chart(today: dt.date) -> Chart:
    """Requests received and closed per month by type, the last twelve months, with the median days to close."""
    months = last_months(today, MONTHS)
    since = dt.datetime.combine(months[0], dt.time.min, tzinfo=timezone.get_current_timezone())
    received = monthly_counts(Request.objects.all(), "received_at", "type", months)
    closed: dict[dt.date, list[float]] = defaultdict(list)
    closed_count: Counter[dt.date] = Counter()
    for received_at, completed_at in Request.objects.filter(completed_at__gte=since).values_list(
        "received_at", "completed_at"
    ):
        month = timezone.localtime(completed_at).date().replace(day=1)
        closed[month].append((completed_at - received_at).total_seconds() / 86400)
        closed_count[month] += 1
    labels = dict(Request.Type.choices)
    series = {
        f"{label} received": [received.get((month, kind), 0) for month in months] for kind, label in labels.items()
    }
    series = {name: values for name, values in series.items() if any(values)} or {"received": [0] * len(months)}
    medians = [round(statistics.median(closed[month]), 1) if closed[month] else None for month in months]
    return Chart(
        title="Requests received (by type) and closed per month",
        labels=[f"{month:%b %y}" for month in months],
        series=series,
        beside=("closed", [closed_count[month] for month in months]),
        line=("median days to close", medians),
    )


def requests_panel(request: HttpRequest) -> Panel | None:
    if not request.user.has_perm("dsar.view_request"):
        return None
    today = timezone.localdate()
    changelist = reverse("admin:dsar_request_changelist")
    requests = Request.objects.all()
    overdue = requests.overdue(today)
    soon = requests.due_within(today, 7)
    waiting = requests.filter(status=Request.Status.WAITING)
    reasons = Counter(reason.split(":")[0][:80] for reason in waiting.values_list("status_reason", flat=True)[:200])
    with_hits = requests.with_undeclared_hits()
    archives = requests.with_archive_unfinished()
    failed_archives = Export.objects.filter(status=Export.Status.FAILED).values("request").distinct().count()
    figures = [
        count_figure("Overdue", overdue, f"{changelist}?deadline=overdue", alert=True, detail=_by_type(overdue)),
        count_figure("Due within 7 days", soon, f"{changelist}?deadline=week", detail=_by_type(soon)),
        count_figure(
            "Waiting",
            waiting,
            f"{changelist}?status__exact=waiting",
            detail="; ".join(f"{n} × {reason or 'no reason given'}" for reason, n in reasons.most_common(3)),
        ),
        count_figure("Erasures with undeclared scan hits", with_hits, f"{changelist}?attention=scan-hits", alert=True),
        count_figure(
            "Requests with a portability archive being built or failed",
            archives,
            f"{changelist}?attention=archive",
            detail=f"{failed_archives} with a failed archive" if failed_archives else "",
        ),
    ]
    chart = cached(f"dashboard:requests-chart:{today}", lambda: bar_chart(requests_chart(today)), tracked=[Request])
    links = [("Yearly metrics: received, complied with, denied, days to answer", reverse("admin:dsar_request_metrics"))]
    return Panel(title="Data subject requests", figures=figures, charts=[chart], links=links)
