"""Template filters that name what pages for people would otherwise show as keys (dsar/words.py)."""

from __future__ import annotations

from typing import Any

from django import template

from dsar import words

register = template.Library()


@register.filter
def for_people(certificate: dict[str, Any]) -> dict[str, Any]:
    """An erasure certificate with names instead of keys."""
    return words.certificate_for_people(certificate)


@register.filter
def named_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    """A source's counts, keyed by the names of what it counted."""
    return words.named_counts(counts)


@register.filter
def category_name(key: str) -> str:
    """One data category's name."""
    return words.category_label(key, words.category_names())
