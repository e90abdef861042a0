"""What a data subject receives: every email to them, rendered from ``dsar/templates/dsar/letters/`` in the
request's language, with the account's time zone, and worded from the catalog (category names and purposes)
and the data sources' own labels, never from internal codes.

Catalog words (category names, purposes, region names) are data: they are looked up in the translation
catalogs at render time (``locale/<language>/LC_MESSAGES/django.po`` holds them, and a test checks that every
category and purpose of the catalog file has its Swedish and French words).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from dsar.models import Request
from dsar.sources import DataSource, catalog_category, registered_sources
from residency.models import DataCategory, Region

#: The laws, as the person reads them (the jurisdiction's code is what the API sends).
LAW_NAMES = {
    "gdpr": gettext_lazy("the GDPR (EU)"),
    "uk-gdpr": gettext_lazy("the UK GDPR"),
    "ccpa": gettext_lazy("the CCPA/CPRA (California)"),
    "lgpd": gettext_lazy("the LGPD (Brazil)"),
    "pipeda": gettext_lazy("PIPEDA (Canada)"),
}

#: What each type of request asks for, as the end of "your request for …".
REQUEST_TYPES = {
    Request.Type.ACCESS: pgettext_lazy("request for", "access to your personal data"),
    Request.Type.RECTIFICATION: pgettext_lazy("request for", "correction of your personal data"),
    Request.Type.ERASURE: pgettext_lazy("request for", "erasure of your personal data"),
    Request.Type.PORTABILITY: pgettext_lazy("request for", "a copy of your personal data"),
    Request.Type.OBJECTION: pgettext_lazy("request for", "no marketing use of your personal data"),
}


#: Why a request was refused, as the person reads it (one sentence per reason of ``Request.DenialReason``, the
#: Data Rights Protocol's); the rejection letter follows it with what staff wrote.
DENIAL_REASONS = {
    Request.DenialReason.SUSPECTED_FRAUD: gettext_lazy(
        "We have reason to believe that the request was not made by you or on your behalf."
    ),
    Request.DenialReason.INSUF_VERIFICATION: gettext_lazy(
        "We could not confirm that you are the person whose data the request is about."
    ),
    Request.DenialReason.NO_MATCH: gettext_lazy("We found no personal data about you."),
    Request.DenialReason.CLAIM_NOT_COVERED: gettext_lazy(
        "The law does not give the right you asked to exercise in this case."
    ),
    Request.DenialReason.OUTSIDE_JURISDICTION: gettext_lazy(
        "The law you made the request under does not apply to you or to the data we hold about you."
    ),
    Request.DenialReason.TOO_MANY_REQUESTS: gettext_lazy(
        "You have made more requests than the law requires us to answer in this period."
    ),
    Request.DenialReason.OTHER: gettext_lazy("For the reason below."),
}


@contextmanager
def speaking_to(request: Request) -> Iterator[None]:
    """Render in the request's language and the account's time zone (the day and hour the person lives by)."""
    with translation.override(request.language or Request.Language.ENGLISH), timezone.override(request.account.zone()):
        yield


def law_name(request: Request) -> str:
    return str(LAW_NAMES.get(request.jurisdiction.code, request.jurisdiction.name))


def day(value: dt.date | dt.datetime | str | None) -> str:
    """A date as the active language writes it ("2 december 2026", "2 décembre 2026"); a moment is read in the
    active time zone first; an ISO string is parsed. Empty for nothing."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return formats.date_format(value, "DATE_FORMAT")


def moment(value: dt.datetime | str | None) -> str:
    """A moment as the active language writes it, to the minute, in the active time zone."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{formats.date_format(value, 'DATE_FORMAT')} {formats.time_format(value, 'TIME_FORMAT')}"


def words(text: str) -> str:
    """A catalog string (a category's name, a purpose, a region's name) in the active language."""
    return gettext(text) if text else text


def region_name(code: str | None, names: Mapping[str, str] | None = None) -> str:
    if not code:
        return gettext("a region the source does not state")
    names = names if names is not None else dict(Region.objects.values_list("code", "name"))
    return words(names.get(code, code))


# --- naming the person's data ----------------------------------------------------------------------


@dataclass
class Category:
    """One catalog category of the person's data, as a letter names it: its name and purposes from the
    catalog, and how many records (history copies not counted: they are earlier versions of the same)."""

    slug: str
    name: str
    purposes: list[str]
    count: int = 0
    copies: bool = False
    parts: list[str] = field(default_factory=list)


def _copy_of(source: DataSource | None, key: str) -> str | None:
    """The category a count key of ``source`` is a copy of (its history rows), if it is one."""
    return getattr(source, "copies_of", {}).get(key) if source is not None else None


def _knowing(sources: Iterable[DataSource], key: str) -> DataSource | None:
    for source in sources:
        if any(key in getattr(source, name, {}) for name in ("copies_of", "catalog_categories", "category_labels")):
            return source
    return None


def source_category_label(source: DataSource | None, key: str) -> str:
    """A source's own name for one of its kinds of record (``""`` when it names none)."""
    label = getattr(source, "category_labels", {}).get(key, "") if source is not None else ""
    return str(label)


def categories_of(counts_by_source: Iterable[tuple[str | None, Mapping[str, int]]]) -> tuple[list[Category], bool]:
    """The catalog categories that ``counts_by_source`` ((source key or None, counts by the source's keys)) touch, each
    once, with their records counted; and whether anything else was touched (copies in the change history and
    logs that belong to no category the person would know)."""
    sources = {source.key: source for source in registered_sources()}
    slugs: dict[str, tuple[int, bool, list[str]]] = {}
    other = False
    for source_key, counts in counts_by_source:
        for key, count in counts.items():
            if not count:
                continue
            # Counts merged across sources (a hold's addendum) are read by the source that knows the key.
            source = sources.get(source_key) if source_key else _knowing(sources.values(), key)
            copied = _copy_of(source, key)
            own = copied or key
            slug = catalog_category(source, own) if source is not None else own
            total, copies, parts = slugs.get(slug, (0, False, []))
            part = source_category_label(source, own)
            if part and part not in parts:
                parts.append(part)
            slugs[slug] = (total + (0 if copied else int(count)), copies or bool(copied), parts)
    catalog = {category.slug: category for category in DataCategory.objects.filter(slug__in=slugs)}
    named = []
    for slug, (count, copies, parts) in slugs.items():
        if slug not in catalog:
            other = True
            continue
        category = catalog[slug]
        named.append(
            Category(
                slug=slug,
                name=words(category.name),
                purposes=[words(purpose) for purpose in category.purposes],
                count=count,
                copies=copies,
                parts=parts,
            )
        )
    return sorted(named, key=lambda category: category.name), other


def category_named(slug: str, source: DataSource | None = None) -> Category:
    """One category by a source's key for it (or a catalog slug): the catalog's name and purposes."""
    catalog_slug = catalog_category(source, slug) if source is not None else slug
    category = DataCategory.objects.filter(slug=catalog_slug).first()
    label = source_category_label(source, slug)
    if category is None:
        return Category(slug=slug, name=label or gettext("Other data"), purposes=[])
    return Category(
        slug=catalog_slug,
        name=label or words(category.name),
        purposes=[words(purpose) for purpose in category.purposes],
        parts=[label] if label else [],
    )


# --- sending -----------------------------------------------------------------------------------------


def render_letter(request: Request, letter: str, **context: Any) -> tuple[str, str]:
    """The subject line and body of ``letter`` for ``request``, in its language."""
    with speaking_to(request):
        values = {
            "request": request,
            "company": request.account.name,
            "law": law_name(request),
            "asked_for": str(REQUEST_TYPES.get(request.type, request.get_type_display())),
            "received_on": day(request.received_at),
            **context,
        }
        # One line; a non-breaking space (French "société\u00a0:") stays as it is.
        subject = re.sub(r"[ \t\r\n]+", " ", render_to_string(f"dsar/letters/{letter}_subject.txt", values)).strip()
        body = render_to_string(f"dsar/letters/{letter}.txt", values).strip() + "\n"
    return subject, body


def send_letter(request: Request, letter: str, *, to: str, **context: Any) -> str:
    """Email ``letter`` to ``to`` once the transaction commits; returns its subject line (for the timeline)."""
    subject, body = render_letter(request, letter, **context)
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to]))
    return subject


# --- the person's records, in words ----------------------------------------------------------------

_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def field_label(sources: Iterable[DataSource], key: str) -> str:
    """What the person reads for the field ``key`` of a record: the label of the first source that owns one
    (each source labels its own fields, ``field_labels``), else the key in words."""
    for source in sources:
        label = getattr(source, "field_labels", {}).get(key)
        if label:
            return str(label)
    return capfirst(key.replace("_", " ").replace("-", " "))


def cell(sources: Iterable[DataSource], key: str, value: Any) -> str:
    """A record's value as the person reads it: a source's words for its codes (``value_labels``), dates
    and moments in the active language and time zone, yes or no; the value itself otherwise."""
    if value is None or value == "":
        return ""
    for source in sources:
        labels = getattr(source, "value_labels", {}).get(key)
        if labels and value in labels:
            return str(labels[value])
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, dt.datetime):
        return moment(value)
    if isinstance(value, dt.date):
        return day(value)
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        try:
            return moment(value)
        except ValueError:
            return value
    if isinstance(value, str) and _ISO_DAY.match(value):
        try:
            return day(value)
        except ValueError:
            return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
