"""The console's home page: the figures a privacy officer asks for first, each linking to the filtered list.

Each app contributes a panel (registered in its ``AppConfig.ready``), so this module knows none of them and
the dependencies keep pointing one way. A figure is the result count of the changelist it links to: the panel
and the list's filter share one queryset method, so the two cannot drift apart. Figures come from indexed,
capped queries, counted on every visit; what needs a scan (monthly charts, the residency of every account) is
cached, under a key that changes as soon as a row it reads is written (:func:`history_fingerprint`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection, models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

#: Counts stop here, said as "10,000+": a figure links to its list, it does not walk a million rows.
COUNT_CAP = 10_000
#: How long a scan (charts, every account's residency) is kept; a write to what it reads replaces it sooner.
SCAN_CACHE_SECONDS = 600


@dataclass(frozen=True)
class Figure:
    """One number with its label and where to read the rows behind it; ``alert`` when it needs action."""

    label: str
    value: int
    url: str = ""
    alert: bool = False
    detail: str = ""
    capped: bool = False

    @property
    def shown(self) -> str:
        return f"{self.value:,}+" if self.capped else f"{self.value:,}"


@dataclass(frozen=True)
class Panel:
    title: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[SafeString] = field(default_factory=list)
    #: Pages to read next: (label, url).
    links: list[tuple[str, str]] = field(default_factory=list)


PanelBuilder = Callable[[HttpRequest], Panel | None]
_builders: list[tuple[int, str, PanelBuilder]] = []


def register_panel(key: str, order: int, build: PanelBuilder) -> None:
    """Add (or replace) the panel ``key``; panels show in ``order``. ``build`` returns None for a user who
    may not see it."""
    _builders[:] = [entry for entry in _builders if entry[1] != key]
    _builders.append((order, key, build))
    _builders.sort(key=lambda entry: entry[0])


def dashboard_panels(request: HttpRequest) -> list[Panel]:
    return [panel for _, _, build in _builders if (panel := build(request)) is not None]


def capped_count(queryset: QuerySet[Any]) -> tuple[int, bool]:
    """How many rows ``queryset`` has, counting at most COUNT_CAP (and whether it stopped there)."""
    count = queryset.order_by()[: COUNT_CAP + 1].count()  # unordered: stop at the cap, sort nothing
    return min(count, COUNT_CAP), count > COUNT_CAP


def count_figure(label: str, queryset: QuerySet[Any], url: str = "", *, alert: bool = False, detail: str = "") -> Figure:
    value, capped = capped_count(queryset)
    return Figure(label=label, value=value, url=url, alert=alert and value > 0, detail=detail, capped=capped)


def history_fingerprint(tracked: Iterable[type[models.Model]]) -> str:
    """The newest history row of each of ``tracked`` (models with history), in one query: it changes with every
    write to them, since every write in the product is recorded in history (bulk ones included, see
    core/history.py), and within the writing transaction's own reads. A scan cached under it is never stale."""
    quote = connection.ops.quote_name
    tables = sorted({model.history.model._meta.db_table for model in tracked})
    if not tables:
        return ""
    columns = ", ".join(f"(SELECT MAX({quote('history_id')}) FROM {quote(table)})" for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        return "-".join(str(value or 0) for value in cursor.fetchone())


def cached(key: str, compute: Callable[[], Any], *, tracked: Iterable[type[models.Model]] = ()) -> Any:
    """``compute()``, reused for SCAN_CACHE_SECONDS under ``key`` while no row of ``tracked`` is written."""
    key = f"{key}:{history_fingerprint(tracked)}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, SCAN_CACHE_SECONDS)
    return value
