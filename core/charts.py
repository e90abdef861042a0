"""Charts for the console, drawn on the server as SVG: no script, nothing from a CDN, fine under the
Content-Security-Policy and offline. Each chart carries a title and a description for screen readers, and
the figures as a table beside it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from html import escape
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

#: Series colours: distinguishable for the common colour-vision deficiencies (Okabe–Ito), dark enough for
#: 3:1 against white.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8B6C00", "#56B4E9"]


def last_months(today: dt.date, count: int = 12) -> list[dt.date]:
    """The first days of the ``count`` months ending with ``today``'s, oldest first."""
    first = today.replace(day=1)
    months = [first]
    while len(months) < count:
        months.append((months[-1] - dt.timedelta(days=1)).replace(day=1))
    return months[::-1]


def monthly_counts(rows: QuerySet[Any], when: str, by: str, months: list[dt.date]) -> dict[tuple[dt.date, str], int]:
    """How many of ``rows`` fall in each of ``months`` (first days, oldest first), by the value of ``by``:
    one grouped query from the first month on (``when`` names the date-time field)."""
    since = dt.datetime.combine(months[0], dt.time.min, tzinfo=timezone.get_current_timezone())
    counts: dict[tuple[dt.date, str], int] = defaultdict(int)
    grouped = (
        rows.filter(**{f"{when}__gte": since})
        .annotate(month=TruncMonth(when))
        .values_list("month", by)
        .annotate(n=Count("pk"))
        .values_list("month", by, "n")
        .order_by()
    )
    for month, key, n in grouped:
        counts[(month.date() if isinstance(month, dt.datetime) else month, key)] += n
    return counts


@dataclass(frozen=True)
class Chart:
    """Stacked bars: one bar per column (``labels``), one colour per series; ``beside`` an optional count per
    column drawn as a narrow dark bar next to the stack (e.g. requests closed); ``line`` an optional figure per
    column written under it (e.g. median days to close)."""

    title: str
    labels: list[str]
    series: dict[str, list[int]]
    beside: tuple[str, list[int]] | None = None
    line: tuple[str, list[float | None]] | None = None
    #: What a column is (the data table's first heading); and what an empty chart says, when not months.
    axis: str = "month"
    empty: str = ""


def bar_chart(chart: Chart, *, width: int = 640, height: int = 220) -> SafeString:
    """The chart as an SVG with its data table (for screen readers and for reading exact figures)."""
    left, right, top, bottom = 44, 12, 16, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for values in chart.series.values()) for i in range(len(chart.labels))]
    peak = max(totals + (list(chart.beside[1]) if chart.beside else []) + [1])
    step = plot_w / max(len(chart.labels), 1)
    bar_w = step * (0.45 if chart.beside else 0.6)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(chart.title)}" class="chart"><title>{escape(chart.title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#555"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11" fill="#333">{peak:,}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" font-size="11" fill="#333">0</text>',
    ]
    for index, label in enumerate(chart.labels):
        x = left + index * step + (step - bar_w) / 2
        y = top + plot_h
        for colour, (name, values) in zip(PALETTE, chart.series.items()):
            value = values[index]
            if not value:
                continue
            bar_h = plot_h * value / peak
            y -= bar_h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {escape(name)} {value:,}</title></rect>"
            )
        if chart.beside and chart.beside[1][index]:
            value = chart.beside[1][index]
            bar_h = plot_h * value / peak
            parts.append(
                f'<rect x="{x + bar_w + 2:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w / 3:.1f}" '
                f'height="{bar_h:.1f}" fill="#333"><title>{escape(label)}: {escape(chart.beside[0])} {value:,}</title></rect>'
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 18}" text-anchor="middle" font-size="11" fill="#333">'
            f"{escape(label)}</text>"
        )
        if chart.line and chart.line[1][index] is not None:
            value = chart.line[1][index]
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - 4}" text-anchor="middle" font-size="10" fill="#333">'
                f"{value:g} d</text>"
            )
    if not any(totals) and not (chart.beside and any(chart.beside[1])):
        parts.append(
            f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h / 2:.0f}" text-anchor="middle" font-size="13" '
            f'fill="#333">{escape(chart.empty or f"Nothing in the last {len(chart.labels)} months")}</text>'
        )
    parts.append("</svg>")
    return mark_safe(
        render_to_string(
            "admin/core/chart.html",
            {
                "chart": chart,
                "svg": mark_safe("".join(parts)),
                "legend": list(zip(PALETTE, chart.series)) + ([("#333", chart.beside[0])] if chart.beside else []),
                "columns": list(chart.series) + ([chart.beside[0]] if chart.beside else []),
                "rows": [
                    (
                        label,
                        [values[i] for values in chart.series.values()] + ([chart.beside[1][i]] if chart.beside else []),
                        chart.line[1][i] if chart.line else None,
                    )
                    for i, label in enumerate(chart.labels)
                ],
            },
        )
    )
