"""The last day to answer, moved off weekends and public holidays where the law says so, and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

#: A note longer than this is cut (it fits ``Request.due_note``).
NOTE_MAX_LENGTH = 200


@dataclass(frozen=True)
class Deadline:
    """A last day to answer and, when it is not the plain count, why (``moved_from`` is the plain count)."""

    day: dt.date
    moved_from: dt.date | None = None
    why: str = ""

    @property
    def note(self) -> str:
        """The deadline in plain words when it moved, e.g. "due Mon 1 Dec 2025: 30 Nov 2025 is a Sunday"; else ""."""
        if self.moved_from is None:
            return ""
        note = f"due {self.day:%a} {self.day.day} {self.day:%b %Y}: {self.why}"
        return note if len(note) <= NOTE_MAX_LENGTH else note[: NOTE_MAX_LENGTH - 1] + "…"


def on_working_day(day: dt.date, *, country: str) -> Deadline:
    """``day`` if it is a working day in ``country`` (ISO 3166; "": weekends only), else the next working day
    with every skipped day's reason: its public holiday, or the weekend.

    Regulation 1182/71, Art. 3(4): a period ending on a public holiday, a Saturday or a Sunday ends at the
    end of the following working day. The holidays are the country's national public holidays; a country
    the holidays library does not know counts weekends only.
    """
    reasons: list[str] = []
    weekend: list[dt.date] = []
    moved = day
    while True:
        holiday = holiday_name(moved, country=country)
        if holiday or moved.weekday() >= 5:
            if holiday:
                reasons.extend(_weekend(weekend))
                weekend = []
                reasons.append(f"{_long(moved)} is {holiday}")
            else:
                weekend.append(moved)
            moved += dt.timedelta(days=1)
            continue
        break
    reasons.extend(_weekend(weekend))
    if moved == day:
        return Deadline(day=day)
    return Deadline(day=moved, moved_from=day, why=", ".join(reasons))


def holiday_name(day: dt.date, *, country: str) -> str:
    """The public holiday ``day`` is in ``country`` (in English where the library has it), else ""."""
    return _holidays(country, day.year).get(day, "") if country else ""


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> dict[dt.date, str]:
    import holidays  # here, not with the models: it loads its calendars and dateutil, which only this needs

    try:
        found = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return {}
    if not (found.default_language or "en").startswith("en") and "en_US" in found.supported_languages:
        found = holidays.country_holidays(country, years=year, language="en_US")
    return dict(found.items())


def _weekend(days: list[dt.date]) -> list[str]:
    """A run of weekend days in words: "30 Nov 2025 is a Sunday", "27–28 Dec 2025 are a weekend"."""
    if not days:
        return []
    if len(days) == 1:
        return [f"{_long(days[0])} is a {days[0]:%A}"]
    first, last = days[0], days[-1]
    start = f"{first.day}" if first.month == last.month else f"{first.day} {first:%b}"
    if first.year != last.year:
        start = _long(first)
    return [f"{start}–{_long(last)} are a weekend"]


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"
