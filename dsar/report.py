"""The access report: every record the sources hold about a person, by data category, with where each
category is stored, passes through and is kept, and what it is used for (from the residency engine)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import timezone

from dsar.letters import cell, field_label, law_name, moment, region_name, speaking_to, words
from dsar.models import Request
from dsar.sources import catalog_category, registered_sources
from dsar.workflow import request_subject, require_verified
from residency.engine import account_residency_report
from residency.models import DataCategory, Region


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
    catalog = {
        category.slug: category for category in DataCategory.objects.filter(slug__in={*records, *in_catalog.values()})
    }
    owners = {source.key: source for source in registered_sources()}

    def name_of(slug: str) -> str:
        # A source's own finer category is named by the source (its ``category_labels``), else by the catalog.
        for key in by_source.get(slug, {}):
            label = getattr(owners.get(key), "category_labels", {}).get(slug)
            if label:
                return str(label)
        if slug in catalog:
            return catalog[slug].name
        # A finer category its source does not name: after it, under the catalog category it belongs to.
        parent = catalog.get(in_catalog[slug])
        return f"{parent.name if parent else in_catalog[slug]}: {slug.replace('-', ' ')}"

    categories = []
    for slug in sorted(records, key=name_of):
        entries = residency.entries_for_category(in_catalog[slug])
        # GDPR Art. 15(1)(a): the purposes of every category, from the catalog itself, whether or not the account's
        # products list the category in the hosting table.
        stated = catalog.get(in_catalog[slug])
        purposes = list(stated.purposes) if stated else sorted({purpose for entry in entries for purpose in entry.purposes})
        categories.append(
            {
                "slug": slug,
                "name": name_of(slug),
                "catalog_category": in_catalog[slug],
                "count": len(records[slug]),
                "sources": by_source.get(slug, {}),
                "purposes": purposes,
                # Whether the catalog states them itself (its own addition) or from its source: for the auditor.
                "purposes_basis": stated.purposes_basis if stated else "catalog",
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
        "language": request.language,
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


def readable_access_report(*, request: Request, report: dict[str, Any], for_staff: bool = False) -> dict[str, Any]:
    """``report`` as a person reads it, in the active language (wrap in :func:`dsar.letters.speaking_to` for the
    person's): catalog names and purposes in words, each record's fields under its source's labels and its
    values as words and dates, regions by name, the law by name. ``for_staff`` keeps the residency engine's
    notes (the console's page), which are the catalog's reasoning in English."""
    owners = {source.key: source for source in registered_sources()}
    regions = dict(Region.objects.values_list("code", "name"))
    categories = []
    for category in report["categories"]:
        sources = [owners[key] for key in category["sources"] if key in owners]
        columns = list(dict.fromkeys(key for row in category["records"] for key in row))
        categories.append(
            {
                "name": words(category["name"]),
                "count": category["count"],
                "purposes": [words(purpose) for purpose in category["purposes"]],
                "columns": [field_label(sources, key) for key in columns],
                "rows": [[cell(sources, key, row.get(key)) for key in columns] for row in category["records"]],
                "where": [
                    {
                        "product": where["product"],
                        "stored_in": region_name(where["stored_in"], regions) if where["stored_in"] else "",
                        "passes_through": [
                            {"region": region_name(hop["region"], regions), "minutes": hop["minutes"]}
                            for hop in where["passes_through"]
                        ],
                        "backups": [
                            {"region": region_name(hop["region"], regions), "days": hop["days"]} for hop in where["backups"]
                        ],
                        "logs": [{"region": region_name(hop["region"], regions), "days": hop["days"]} for hop in where["logs"]],
                        "transfer": where["transfer"],
                        "notes": where["notes"] if for_staff else [],
                    }
                    for where in category["where"]
                ],
            }
        )
    return {
        "number": str(report["request"]),
        "company": request.account.name,
        "law": law_name(request),
        "home_region": region_name(report["home_region"], regions),
        "generated": moment(report["generated_at"]),
        "as_of": moment(report["as_of"]) if report.get("as_of") else "",
        "catalog_version": report["catalog_version"],
        "total": report["total"],
        "categories": categories,
        "sub_processors": [
            {
                "name": sub["name"],
                "purpose": words(sub["purpose"]),
                "regions": [region_name(code, regions) for code in sub["regions"]],
            }
            for sub in report["sub_processors"]
        ],
        "notes": report["notes"] if for_staff else [],
    }


def access_report_html(*, request: Request, report: dict[str, Any]) -> str:
    """The access report the person receives: a page of its own, in their language and time zone."""
    with speaking_to(request):
        return render_to_string(
            "dsar/access_report_download.html",
            {"report": readable_access_report(request=request, report=report), "language": request.language},
        )
