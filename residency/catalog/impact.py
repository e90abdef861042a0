"""What a catalog change does to the customers: each account whose residency report changes, and how.

Read before and after the change inside the load's own transaction (a dry run rolls both back), so the
impact reported is what the residency engine answers, not a guess from the rows that changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from residency.engine import ResidencyReport, residency_report
from residency.snapshot import account_snapshots, catalog_snapshot


@dataclass(frozen=True)
class Footprint:
    """The parts of an account's report a catalog change can move, keyed for comparison."""

    stored: dict[tuple[str, str], str | None]
    transient: dict[tuple[str, str], frozenset[tuple[str | None, int | None]]]
    logs: dict[tuple[str, str], dict[str | None, int | None]]
    #: Keyed by what each transfer is (:attr:`~residency.engine.Transfer.key`): product, category, origin,
    #: destination and basis (storage, transit, copy, or the integration, sub-processor or platform).
    transfers: dict[tuple[str, str, str | None, str | None, str, str], str]
    sub_processors: dict[str, str]
    names: dict[tuple[str, str], str]


@dataclass
class AccountImpact:
    account_id: int
    account: str
    changes: list[str] = field(default_factory=list)
    #: The changes a processor must notify before they apply (GDPR Art. 28(2)): new transfers and sub-processors.
    notifiable: list[str] = field(default_factory=list)


def footprint(report: ResidencyReport) -> Footprint:
    key = lambda entry: (entry.product, entry.data_category)  # noqa: E731
    return Footprint(
        stored={key(entry): entry.stored_in for entry in report.entries},
        transient={key(entry): frozenset((hop.region, hop.minutes) for hop in entry.transient) for entry in report.entries},
        logs={key(entry): {hop.region: hop.days for hop in entry.logs} for entry in report.entries},
        transfers={transfer.key: transfer.reason for transfer in report.transfers},
        sub_processors={use.slug: use.name for use in report.sub_processors},
        names={key(entry): f"{entry.product_name} · {entry.data_category_name}" for entry in report.entries},
    )


def footprints() -> dict[int, tuple[str, Footprint]]:
    """Every account's footprint, as the catalog in the database now places it (one catalog read for all)."""
    catalog = catalog_snapshot()
    return {
        account.id: (account.name, footprint(residency_report(account=account, catalog=catalog)))
        for account in account_snapshots(catalog)
    }


def _days(days: int | None) -> str:
    return "no stated period" if days is None else f"{days} days"


#: A transfer's basis, as the impact names it.
_BASIS = {
    "storage": "storage",
    "transit": "transit",
    "backup": "backup copy",
    "log": "log copy",
    "integration": "integration",
    "sub_processor": "sub-processor",
    "platform": "platform",
}


def _transfer(key: tuple[str, str, str | None, str | None, str, str], names: dict[tuple[str, str], str]) -> str:
    """A transfer in words: what, from where to where, on which basis."""
    product, category, origin, region, via, via_slug = key
    basis = _BASIS.get(via, via) + (f" {via_slug}" if via_slug else "")
    return (
        f"{names.get((product, category), f'{product} · {category}')} from {origin or 'a region not stated'} "
        f"to {region or 'a region not stated'} ({basis})"
    )


def compare(before: Footprint, after: Footprint) -> list[str]:
    """How the report changed, in words a privacy officer reads (empty when it did not)."""
    return _compare(before, after)[0]


def _compare(before: Footprint, after: Footprint) -> tuple[list[str], list[str]]:
    """All the changes, and those a controller must be notified of (new transfers and sub-processors)."""
    changes: list[str] = []
    notifiable: list[str] = []
    names = {**before.names, **after.names}
    for entry in sorted(set(before.stored) | set(after.stored)):
        name = names[entry]
        if entry not in before.stored:
            changes.append(f"{name}: new, stored in {after.stored[entry] or 'a region the source does not state'}")
            continue
        if entry not in after.stored:
            changes.append(f"{name}: no longer in the report")
            continue
        old_logs, new_logs = dict(before.logs[entry]), dict(after.logs[entry])
        if before.stored[entry] != after.stored[entry]:
            changes.append(f"{name}: moves from {before.stored[entry] or 'not stated'} to {after.stored[entry] or 'not stated'}")
            # Its log copy in the storage region moves with it: said once, by the move. Unless a copy was already
            # kept where it goes, or stays where it was: then each region's copy is said as it changes.
            old_home, new_home = before.stored[entry], after.stored[entry]
            if (
                old_logs.get(old_home, -1) == new_logs.get(new_home, -2)
                and new_home not in old_logs
                and old_home not in new_logs
            ):
                del old_logs[old_home], new_logs[new_home]
        if before.transient[entry] != after.transient[entry]:
            hops = ", ".join(f"{region or 'not stated'} for {minutes} min" for region, minutes in sorted(after.transient[entry], key=str))
            changes.append(f"{name}: passes through {hops or 'nowhere on the way'} now")
        for region in sorted(set(old_logs) | set(new_logs), key=str):
            if region not in old_logs:
                changes.append(f"{name}: log copy added in {region or 'not stated'}, {_days(new_logs[region])}")
            elif region not in new_logs:
                changes.append(f"{name}: log copy in {region or 'not stated'} removed")
            elif old_logs[region] != new_logs[region]:
                verb = "shortened" if (new_logs[region] or 0) < (old_logs[region] or 0) else "lengthened"
                changes.append(
                    f"{name}: log copy in {region or 'not stated'} {verb} from {_days(old_logs[region])} to "
                    f"{_days(new_logs[region])}"
                )
    for key in sorted(set(after.transfers) - set(before.transfers), key=str):
        notifiable.append(f"new transfer: {_transfer(key, names)}: {after.transfers[key]}")
        changes.append(notifiable[-1])
    for key in sorted(set(before.transfers) - set(after.transfers), key=str):
        changes.append(f"transfer ends: {_transfer(key, names)}")
    for slug in sorted(set(after.sub_processors) - set(before.sub_processors)):
        notifiable.append(f"new sub-processor: {after.sub_processors[slug]}")
        changes.append(notifiable[-1])
    for slug in sorted(set(before.sub_processors) - set(after.sub_processors)):
        changes.append(f"sub-processor no longer used: {before.sub_processors[slug]}")
    return changes, notifiable


def impact(before: dict[int, tuple[str, Footprint]], after: dict[int, tuple[str, Footprint]]) -> list[AccountImpact]:
    """The accounts whose report differs between ``before`` and ``after``, with how."""
    affected = []
    for account_id, (name, old) in before.items():
        if account_id in after:
            changes, notifiable = _compare(old, after[account_id][1])
            if changes:
                affected.append(AccountImpact(account_id=account_id, account=name, changes=changes, notifiable=notifiable))
    return affected
