"""What the console and the certificate call the keys the data sources count by: catalog categories by their
catalog names ("call-data" is "Call data"), a store's history by its model ("history:ticket" is "History of
tickets"), a law by its name ("gdpr" is "GDPR"). Pages for people never show the keys themselves."""

from __future__ import annotations

from typing import Any

from django.apps import apps

from dsar.models import Jurisdiction
from residency.models import DataCategory

HISTORY_PREFIX = "history:"


def category_names() -> dict[str, str]:
    """The catalog's data categories, slug → name (one query)."""
    return dict(DataCategory.objects.values_list("slug", "name"))


def category_label(key: str, names: dict[str, str]) -> str:
    """The name of what a source counts under ``key``: a catalog category's name, "History of …" for a store's
    history, else the key in words ("monitoring-history" → "Monitoring history")."""
    if key.startswith(HISTORY_PREFIX):
        model_name = key[len(HISTORY_PREFIX):]
        model = next((model for model in apps.get_models() if model._meta.model_name == model_name), None)
        what = model._meta.verbose_name_plural if model is not None else model_name.replace("-", " ")
        return f"History of {what}"
    if key in names:
        return names[key]
    return key.replace("-", " ").replace("_", " ").capitalize()


def named_counts(counts: dict[str, int], names: dict[str, str] | None = None) -> list[tuple[str, int]]:
    """``counts`` keyed by name instead of key, in the order given."""
    names = category_names() if names is None else names
    return [(category_label(key, names), count) for key, count in counts.items()]


def counts_in_words(counts: dict[str, int], empty: str) -> str:
    """``counts`` as a sentence's list, by name: "Call data (3), Ticket data (2)"; ``empty`` when there are none."""
    named = sorted(named_counts({key: count for key, count in counts.items() if count}))
    return ", ".join(f"{name} ({count})" for name, count in named) or empty


def law_name(code: str) -> str:
    """A jurisdiction's name from its code; the code itself for a law no longer in the table."""
    return Jurisdiction.objects.filter(code=code).values_list("name", flat=True).first() or code.upper()


def certificate_for_people(certificate: dict[str, Any]) -> dict[str, Any]:
    """An erasure certificate (dsar/erasure.py) with names where it stores keys: the law, the erased categories
    (``erased``: [(name, count)]), what was kept (``category``) and each addendum's counts (``erased``)."""
    names = category_names()
    return {
        **certificate,
        "law": law_name(certificate.get("jurisdiction", "")),
        "erased": named_counts(certificate.get("totals", {}), names),
        "retained": [
            {**kept, "category": category_label(kept.get("data_category", ""), names)}
            for kept in certificate.get("retained", [])
        ],
        "addenda": [
            {**addendum, "erased": named_counts(addendum.get("counts", {}), names)}
            for addendum in certificate.get("addenda", [])
        ],
    }
