"""Data sources: how dsar finds, exports and erases a person's data without importing the apps that hold it.

Every app that holds personal data implements :class:`DataSource` and registers an instance from its
``AppConfig.ready()`` with :func:`register`. dsar only ever talks to the registry.

Erasure runs in three ordered steps (the telephony guide's order matters: the person's records are
needed to find the tickets holding their data, so tickets are cleaned before the person is deleted):

1. ``TICKETS``: personal data out of every ticket;
2. ``RECORDS``: the person and their data in every other store (call, monitoring and text history,
   recordings, analytics…); dsar's own ``Person`` row is deleted last within this step;
3. ``HISTORY``: the person's personal data out of the history tables.

A source's ``erase`` must be idempotent: called again for a step it already finished (after a crash, or
on a second run) it changes nothing more and returns zero counts. Sources receive a :class:`Subject`,
a snapshot of the person's identifiers taken when the erasure started, because the ``Person`` row is
gone by step 3.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


class ErasureStep(enum.IntEnum):
    TICKETS = 1
    RECORDS = 2
    HISTORY = 3


def normal_phone(value: str, region: str = "") -> str:
    """A phone number in E.164, parsed by ``phonenumbers`` (national forms read as ``region``'s); failing that,
    its digits with a ``00`` international prefix written ``+``; "" when it is no number."""
    import phonenumbers  # here, not at start-up: its metadata is large and only this function needs it

    try:
        number = phonenumbers.parse(value or "", region or None)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = re.sub(r"[^\d+]", "", value or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    return digits if len(digits.lstrip("+")) >= 6 else ""


def normal_email(value: str) -> str:
    return (value or "").strip().lower()


def normal_name(value: str) -> str:
    return " ".join((value or "").split())


NORMAL = {"email": normal_email, "phone": normal_phone, "name": normal_name}


@dataclass(frozen=True)
class Subject:
    """Who a request is about: enough to find their rows in any store, even after the Person is deleted."""

    person_id: int
    account_id: int
    name: str = ""
    email: str = ""
    phone: str = ""
    #: Values the person had before (rectified names, emails, phones, from their history) and those the
    #: request was received with: an erasure must find those too.
    former_names: tuple[str, ...] = ()
    former_emails: tuple[str, ...] = ()
    former_phones: tuple[str, ...] = ()
    #: The account's country (ISO 3166): how national phone numbers are read. Empty: international forms only.
    country: str = ""
    #: The request erasing them: named in the audit chain by every scrub of their data.
    request_id: int | None = None

    def identifiers(self, kind: str) -> list[str]:
        """Every value of ``kind`` (``name``, ``email`` or ``phone``) the person has had, current first,
        normalised (emails in lower case, phones in E.164, names single-spaced), without blanks or repeats."""
        normal = (lambda value: normal_phone(value, self.country)) if kind == "phone" else NORMAL[kind]
        values = (normal(value) for value in [getattr(self, kind), *getattr(self, f"former_{kind}s")])
        return list(dict.fromkeys(value for value in values if value))


@dataclass(frozen=True)
class Retention:
    """Data a source keeps on purpose after erasure, and the rule that allows it."""

    data_category: str
    description: str
    reason: str
    count: int = 0
    #: Where the kept data lives, as ``"table"`` or ``"table.column"``: the verification scan counts hits
    #: there as declared instead of as leftovers.
    locations: tuple[str, ...] = ()
    #: Which rows of a location's table are kept, by table (a ``Q`` over its rows); a table not named here is
    #: kept whole. A hit outside these rows is a leftover, even in the same column.
    rows: dict[str, Any] = field(default_factory=dict)
    #: The legal hold that keeps it, when a hold does (the data is erased when it is released), and the ids
    #: of what it keeps, by kind (no personal data).
    hold: int | None = None
    ids: dict[str, list[int]] = field(default_factory=dict)


@runtime_checkable
class DataSource(Protocol):
    #: Stable identifier, stored in erasure progress (e.g. ``"dsar.person"``, ``"recordings"``).
    key: str
    #: Human name shown in previews and reports.
    label: str

    def locate(self, subject: Subject) -> dict[str, int]:
        """Counts of the subject's records by data category slug (categories with none may be left out)."""

    def export(self, subject: Subject) -> dict[str, Iterable[dict[str, Any]]]:
        """The subject's records by data category slug, as JSON-serialisable rows: a list, or an iterable read
        once and lazily (``QuerySet.values().iterator()``), so that a large export is never all in memory."""

    def erase(self, subject: Subject, step: ErasureStep) -> dict[str, int]:
        """Erase what belongs to ``step``; returns counts by data category. Idempotent."""

    def retained(self, subject: Subject) -> list[Retention]:
        """What this source keeps after erasure, and why."""

    def blockers(self, subject: Subject) -> list[str]:
        """Reasons erasure cannot run right now (e.g. the person is on a call); empty when it can."""

    def holds_on(self, subjects: Collection[Subject]) -> dict[int, list[str]]:
        """The legal holds this source keeps that freeze each of ``subjects``, by person id: a sentence naming
        each hold; people under none are left out (a source that places no holds answers ``{}``). While one
        stands, the person is deleted by no path and their identifiers and account stay as they are
        (:mod:`dsar.people`). Answers for many people in a fixed number of queries."""


def catalog_category(source: DataSource, category: str) -> str:
    """The residency catalog category whose hosting applies to ``category`` of ``source``.

    A source whose kinds of record are finer than the catalog's (monitoring history is call data…)
    maps them in an optional ``catalog_categories`` dict; any other category is a catalog slug itself.
    """
    return getattr(source, "catalog_categories", {}).get(category, category)


_registry: dict[str, DataSource] = {}


def register(source: DataSource) -> None:
    """Add a data source; registering the same key again replaces it (app reloads, tests)."""
    _registry[source.key] = source


def holds_on(subjects: Iterable[Subject]) -> dict[int, list[str]]:
    """What every registered source says holds ``subjects``: person id → sentences naming each hold."""
    subjects = list(subjects)
    held: dict[int, list[str]] = {}
    if not subjects:
        return held
    for source in registered_sources():
        for person_id, holds in source.holds_on(subjects).items():
            held.setdefault(person_id, []).extend(holds)
    return held


def registered_sources() -> list[DataSource]:
    """Every registered source; dsar's own come last (request records, then people), so the Person is deleted
    after every other source has used it to find theirs."""
    last = {"dsar.requests": 1, "dsar.person": 2}
    return sorted(_registry.values(), key=lambda source: last.get(source.key, 0))
