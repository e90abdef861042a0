"""Nothing irreversible on one click: an admin action that cannot be undone first answers a page that says what it
will do, to which rows (how many, each listed), and what cannot be undone; it acts only on the POST of that page,
which carries ``post=yes``. This is the shape of Django's own ``delete_selected``, for every app's actions: from the
changelist (the selection is listed, so "select all" acts on exactly the rows shown) and from a page's buttons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest
from django.template.response import TemplateResponse

#: What the confirmation page posts; nothing else makes an action act.
CONFIRMED_FIELD = "post"

#: Posted fields the page does not carry over: the token, the confirmation itself, the changelist's own bookkeeping.
_NOT_CARRIED = {"csrfmiddlewaretoken", CONFIRMED_FIELD, "index", "select_across", ACTION_CHECKBOX_NAME, "action"}


def confirmed(request: HttpRequest) -> bool:
    """Whether this is the POST of a confirmation page (never a GET, never the first click)."""
    return request.method == "POST" and request.POST.get(CONFIRMED_FIELD) == "yes"


@dataclass
class Row:
    """One item the action will act on: what it is, a link to it, and the cells the page's columns name."""

    item: Any
    cells: Sequence[Any] = ()
    url: str = ""
    #: Why this item will not be acted on from here (and where to do it instead), shown in place of acting.
    refused: str = ""


@dataclass
class Confirmation:
    """What the page says: ``title`` (the question), what will ``happen``, what ``cannot_be_undone``."""

    title: str
    happens: Sequence[str]
    cannot_be_undone: str
    rows: Sequence[Row]
    columns: Sequence[str] = ()
    #: The label of a note the action needs (a reason, how identity was checked): shown, required, carried.
    note: str = ""
    note_field: str = "text"
    button: str = "Yes, I'm sure"
    extra: dict[str, Any] = field(default_factory=dict)


def _chosen_action(request: HttpRequest) -> str:
    """The action chosen on the changelist (its form may post the select more than once: ``index`` says which)."""
    names = request.POST.getlist("action")
    try:
        return names[int(request.POST.get("index", 0))]
    except (IndexError, ValueError):
        return names[0] if names else ""


def confirmation_page(model_admin: admin.ModelAdmin, request: HttpRequest, confirmation: Confirmation) -> TemplateResponse:
    """The page that asks before ``confirmation``'s action runs; its form posts the same action back, confirmed.

    It posts to where the click came from (the changelist or a page's button), with every field that click carried
    (a chosen type and law, a reason), and with the rows listed, not "all": what runs is what was shown."""
    carried = [
        (name, value)
        for name in request.POST
        if name not in _NOT_CARRIED and name != confirmation.note_field
        for value in request.POST.getlist(name)
    ]
    action = _chosen_action(request)
    opts = model_admin.model._meta
    acting = [row for row in confirmation.rows if not row.refused]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": confirmation.title,
        "subtitle": None,
        "opts": opts,
        "confirmation": confirmation,
        "acting": acting,
        "count": len(acting),
        "action": action,
        "carried": carried,
        "selected": [row.item.pk for row in acting] if action else [],
        "note": request.POST.get(confirmation.note_field, ""),
        "media": model_admin.media,
        # Back to where the click came from: the changelist, or the page whose button it was.
        "back": request.get_full_path(),
    }
    return TemplateResponse(request, "admin/core/action_confirmation.html", context)


def rows_of(items: Iterable[Any], cells: Any = None, url: Any = None) -> list[Row]:
    """A row per item, its cells and link read by the given functions."""
    return [Row(item, cells(item) if cells else (), url(item) if url else "") for item in items]
