"""The yearly request metrics: what the CCPA regulations ask a business to compile for each calendar year
(11 CCR §7102(a): requests to know, to delete, to correct and to opt out received, complied with in whole or in
part, and denied, and the median or mean number of days to respond), by law, so any DPO's annual report reads
the same figures for the GDPR and the others.

The year is read as §7102 reads it: the requests *received* in the calendar year (day of receipt in the
request's account's time zone, the day its deadline counts from), each with its outcome as it stands now,
whenever it came. Requests staff filed to try the workflow (``is_test``) are left out.
"""

from __future__ import annotations

import csv
import datetime as dt
import statistics
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone

from core.csv_safety import safe_cell
from dsar.models import Jurisdiction, Request
from residency.models import REGION_TIME_ZONES, Account, Region

#: The first year asked about: before it the product kept no requests.
FIRST_YEAR = 2000

#: Our request types in CCPA's words, in the order the regulations list them.
CCPA_TYPES: dict[str, str] = {
    Request.Type.ACCESS: "know/access",
    Request.Type.ERASURE: "delete",
    Request.Type.RECTIFICATION: "correct",
    Request.Type.OBJECTION: "opt-out/objection",
    Request.Type.PORTABILITY: "portability",
}

#: The statuses counted as an answer for the days to answer: complied with (in whole or in part) or denied. A
#: withdrawn request was never answered; an open one not yet.
ANSWERED = (Request.Status.COMPLETED, Request.Status.REJECTED)


@dataclass(frozen=True)
class Figures:
    """One request type under one law (or all types: ``type`` ""): how many were received in the year and what
    became of them, and how many days (decimals, one place) answering took, median and mean, None when none
    was answered."""

    type: str
    label: str
    received: int = 0
    complied: int = 0
    denied: int = 0
    #: Every denial reason (DRP's, ``Request.DenialReason``), zero included, in that order.
    denied_by_reason: dict[str, int] = field(default_factory=dict)
    withdrawn: int = 0
    open: int = 0
    median_days: float | None = None
    mean_days: float | None = None


@dataclass(frozen=True)
class LawMetrics:
    jurisdiction: str
    name: str
    #: One per request type, in ``CCPA_TYPES`` order, zeros included.
    types: list[Figures]
    total: Figures


@dataclass(frozen=True)
class YearMetrics:
    year: int
    account_id: int | None
    account_name: str
    #: One per law with a request received in the year, by the law's name.
    laws: list[LawMetrics]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_year(value: Any, *, field_name: str = "year", today: dt.date | None = None) -> int:
    """``value`` as a calendar year from ``FIRST_YEAR`` to this one; ValidationError naming ``field_name``."""
    this_year = (today or timezone.localdate()).year
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        year = None
    if year is None or not FIRST_YEAR <= year <= this_year:
        raise ValidationError(
            {field_name: f"Give a calendar year from {FIRST_YEAR} to {this_year}, e.g. {this_year} ({value!r} is not)."}
        )
    return year


def _year_in(zone: zoneinfo.ZoneInfo, year: int) -> Q:
    start = dt.datetime(year, 1, 1, tzinfo=zone)
    end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
    return Q(received_at__gte=start, received_at__lt=end)


def received_in(year: int) -> Q:
    """Requests received in ``year`` as each account counts its days (``Account.zone``): its own time zone, else
    its home region's, else the server's. One condition per time zone in use, so the query does not grow with
    the number of accounts or requests."""
    condition = Q(pk__in=[])
    named = Account.objects.exclude(time_zone="").values_list("time_zone", flat=True).distinct().order_by()
    for name in named:
        condition |= Q(account__time_zone=name) & _year_in(zoneinfo.ZoneInfo(name), year)
    for code in Region.objects.values_list("code", flat=True):
        zone = zoneinfo.ZoneInfo(REGION_TIME_ZONES.get(code, "") or settings.TIME_ZONE)
        condition |= Q(account__time_zone="", account__home_region__code=code) & _year_in(zone, year)
    return condition


def _days(durations: list[float]) -> tuple[float | None, float | None]:
    if not durations:
        return None, None
    return round(statistics.median(durations), 1), round(statistics.mean(durations), 1)


def _figures(kind: str, label: str, counts: dict[tuple[str, str], int], durations: list[float]) -> Figures:
    """``counts`` by (status, denial reason) of one group of requests as its figures."""
    by_status: dict[str, int] = defaultdict(int)
    denied_by_reason = {reason: 0 for reason in Request.DenialReason.values}
    for (status, reason), n in counts.items():
        by_status[status] += n
        if status == Request.Status.REJECTED:
            denied_by_reason[reason or Request.DenialReason.OTHER] += n
    median, mean = _days(durations)
    return Figures(
        type=kind,
        label=label,
        received=sum(counts.values()),
        complied=by_status[Request.Status.COMPLETED],
        denied=by_status[Request.Status.REJECTED],
        denied_by_reason=denied_by_reason,
        withdrawn=by_status[Request.Status.WITHDRAWN],
        open=sum(n for status, n in by_status.items() if status not in Request.CLOSED),
        median_days=median,
        mean_days=mean,
    )


def request_metrics(*, year: int, account: Account | None = None) -> YearMetrics:
    """The requests received in ``year`` (see the module), by law and by type in CCPA's words: received,
    complied with in whole or in part (completed), denied in total and by denial reason, withdrawn, still open,
    and the median and mean days from receipt to the answer (completed or denied; withdrawn ones are no answer).
    Every account's when ``account`` is None (staff), else that account's. Test requests are left out.

    Counted by the database in one grouped query; the days come from one query of the answered requests'
    receipt and closing times (a year's requests), as a median needs them all."""
    requests = Request.objects.for_account(account).filter(received_in(year), is_test=False)
    grouped: dict[str, dict[str, dict[tuple[str, str], int]]] = defaultdict(lambda: defaultdict(dict))
    rows = (
        requests.values_list("jurisdiction__code", "type", "status", "denial_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for law, kind, status, reason, n in rows:
        grouped[law][kind][(status, reason)] = grouped[law][kind].get((status, reason), 0) + n
    durations: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    answered = requests.filter(status__in=ANSWERED, completed_at__isnull=False).values_list(
        "jurisdiction__code", "type", "received_at", "completed_at"
    )
    for law, kind, received_at, completed_at in answered.order_by().iterator(chunk_size=2000):
        durations[law][kind].append(max((completed_at - received_at).total_seconds(), 0) / 86400)
    names = dict(Jurisdiction.objects.filter(code__in=list(grouped)).values_list("code", "name"))
    laws = []
    for code in sorted(grouped, key=lambda code: names.get(code, code)):
        types = [
            _figures(kind, label, grouped[code].get(kind, {}), durations[code][kind]) for kind, label in CCPA_TYPES.items()
        ]
        every: dict[tuple[str, str], int] = defaultdict(int)
        for counts in grouped[code].values():
            for key, n in counts.items():
                every[key] += n
        all_days = [days for kind in CCPA_TYPES for days in durations[code][kind]]
        laws.append(
            LawMetrics(
                jurisdiction=code,
                name=names.get(code, code),
                types=types,
                total=_figures("", "all requests", dict(every), all_days),
            )
        )
    return YearMetrics(
        year=year, account_id=account.pk if account else None, account_name=account.name if account else "", laws=laws
    )


# --- as files --------------------------------------------------------------------------------------------

CSV_HEADER = [
    "year",
    "account",
    "law",
    "request type",
    "received",
    "complied with in whole or in part",
    "denied",
    *(f"denied: {label.lower()}" for label in Request.DenialReason.labels),
    "withdrawn",
    "still open",
    "median days to answer",
    "mean days to answer",
]


def csv_rows(metrics: YearMetrics) -> Iterable[list[Any]]:
    """A row per law and request type, then the law's total ("all requests"), under ``CSV_HEADER``."""
    who = metrics.account_name or "every account"
    for law in metrics.laws:
        for figures in [*law.types, law.total]:
            yield [
                metrics.year,
                who,
                law.name,
                figures.label,
                figures.received,
                figures.complied,
                figures.denied,
                *(figures.denied_by_reason[reason] for reason in Request.DenialReason.values),
                figures.withdrawn,
                figures.open,
                "" if figures.median_days is None else figures.median_days,
                "" if figures.mean_days is None else figures.mean_days,
            ]


def write_csv(metrics: YearMetrics, out: TextIO) -> None:
    """The metrics as CSV, every cell through ``safe_cell`` (a law's or an account's name is typed by people)."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in csv_rows(metrics):
        writer.writerow([safe_cell(value) for value in row])


def _days_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def write_text(metrics: YearMetrics, out: TextIO) -> None:
    """The metrics as a plain table per law, for a terminal or a mail."""
    who = metrics.account_name or "every account"
    out.write(f"Data subject requests received in {metrics.year} ({who}), test requests left out\n")
    if not metrics.laws:
        out.write("\nNo request was received in that year.\n")
        return
    columns = ["type", "received", "complied", "denied", "withdrawn", "open", "median days", "mean days"]
    for law in metrics.laws:
        out.write(f"\n{law.name}\n")
        rows = [
            [
                figures.label, str(figures.received), str(figures.complied), str(figures.denied), str(figures.withdrawn),
                str(figures.open), _days_text(figures.median_days), _days_text(figures.mean_days),
            ]
            for figures in [*law.types, law.total]
        ]
        widths = [max(len(row[i]) for row in [columns, *rows]) for i in range(len(columns))]
        for row in [columns, *rows]:
            out.write("  ".join(cell.ljust(width) if i == 0 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))).rstrip() + "\n")
        reasons = [f"{n} {label.lower()}" for label, n in zip(Request.DenialReason.labels, law.total.denied_by_reason.values()) if n]
        out.write(f"Denied by reason: {', '.join(reasons) if reasons else 'none'}\n")
