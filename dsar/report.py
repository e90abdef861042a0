"""The access report: every record the sources hold about a person, by data category, with where each
category is stored, passes through and is kept, and what it is used for (from the residency engine)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from dsar.models import Request
from dsar.sources import catalog_category, registered_sources
from dsar.workflow import request_subject, require_verified
from residency.engine import account_residency_report
from residency.models import DataCategory


def request_access_report(*, request: Request, as_of: datetime | None = None) -> dict[str, Any]:
    """The report as JSON-ready data (the HTML page renders the same dict).

    Where each category is stored and why comes from the residency engine now, or as of ``as_of`` (what
    was true when the request was answered, say), and the report names the catalog version it used.
    Reads only: the sources' exports, the catalog's category names (one query) and the residency engine.
    """
    require_verified(request)
    subject = request_subject(request)
    if subject is None:
        raise ValidationError({"person": "The person has been erased; there is no data left to report."})
    records: dict[str, list[dict[str, Any]]] = {}
    by_source: dict[str, dict[str, int]] = {}
    in_catalog: dict[str, str] = {}
    for source in registered_sources():
        for category, export_rows in source.export(subject).items():
            rows = list(export_rows)
            if not rows:
                continue
            records.setdefault(category, []).extend(rows)
            by_source.setdefault(category, {})[source.key] = len(rows)
            in_catalog[category] = catalog_category(source, category)
    residency = account_residency_report(account=request.account, as_of=as_of)
    names = dict(DataCategory.objects.filter(slug__in={*records, *in_catalog.values()}).values_list("slug", "name"))

    def name_of(slug: str) -> str:
        if slug in names:
            return names[slug]
        # A source's own finer category: named after it, under the catalog category it belongs to.
        return f"{names.get(in_catalog[slug], in_catalog[slug])}: {slug.replace('-', ' ')}"

    categories = []
    for slug in sorted(records, key=name_of):
        entries = residency.entries_for_category(in_catalog[slug])
        purposes = sorted({purpose for entry in entries for purpose in entry.purposes})
        categories.append(
            {
                "slug": slug,
                "name": name_of(slug),
                "catalog_category": in_catalog[slug],
                "count": len(records[slug]),
                "sources": by_source.get(slug, {}),
                "purposes": purposes,
                "where": [
                    {
                        "product": entry.product_name,
                        "stored_in": entry.stored_in,
                        "passes_through": [asdict(hop) for hop in entry.transient],
                        "backups": [asdict(hop) for hop in entry.backups],
                        "logs": [asdict(hop) for hop in entry.logs],
                        "integrations": entry.integrations,
                        "transfer": entry.transfer,
                        "review": entry.review,
                        "notes": [entry.rule, *entry.reasons] if entry.rule else list(entry.reasons),
                    }
                    for entry in entries
                ],
                "records": records[slug],
            }
        )
    return {
        "request": request.pk,
        "generated_at": timezone.now().isoformat(),
        "account": residency.account,
        "home_region": residency.home_region,
        "jurisdiction": request.jurisdiction.name,
        "catalog_version": residency.catalog_version,
        "catalog_loaded_at": residency.catalog_loaded_at,
        "as_of": residency.as_of,
        "total": sum(category["count"] for category in categories),
        "categories": categories,
        "sub_processors": [asdict(use) for use in residency.sub_processors],
        "notes": residency.notes,
    }
