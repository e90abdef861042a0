"""The residency engine: where an account's data is stored, processed, backed up and logged."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Hop:
    """A place data passes through (a transient route) or a copy is kept (backups, logs)."""

    region: str | None
    minutes: int | None = None
    days: int | None = None


@dataclass
class Entry:
    """One subscribed product × data category."""

    product: str
    product_name: str
    data_category: str
    data_category_name: str
    purposes: list[str]
    stored_in: str | None
    rule: str
    transient: list[Hop] = field(default_factory=list)
    backups: list[Hop] = field(default_factory=list)
    logs: list[Hop] = field(default_factory=list)
    integrations: list[str] = field(default_factory=list)
    transfer: bool = False
    review: bool = False
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Transfer:
    """A place outside the home region's jurisdiction that the data reaches, and why."""

    product: str
    data_category: str
    region: str | None
    reason: str


@dataclass(frozen=True)
class SubProcessorUse:
    slug: str
    name: str
    purpose: str
    regions: list[str]
    in_storage_region: bool
    products: list[str]


@dataclass
class ResidencyReport:
    account_id: int
    account: str
    home_region: str
    jurisdiction: str
    catalog_version: str
    entries: list[Entry]
    transfers: list[Transfer]
    reviews: list[str]
    sub_processors: list[SubProcessorUse]
    notes: list[str]

    def entries_for_category(self, data_category: str) -> list[Entry]:
        """The entries of one data category across the account's products (empty if none)."""
        return [entry for entry in self.entries if entry.data_category == data_category]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
