"""Nothing irreversible on one click: an admin action that cannot be undone first answers a page that says what it
will do, to which rows (how many, each listed), and what cannot be undone; it acts only on the POST of that page,
which carries ``post=yes``. This is the shape of Django's own ``delete_selected``, for every app's actions: from the
changelist (the selection is listed, so "select all" acts on exactly the rows shown) and from a page's buttons.

A page may also say what follows later (what a purge will then delete), warn of something that must be acknowledged
with a tick, ask for a note (a reason, how identity was checked) and for a choice (why a request is refused); a
confirmation missing any is answered with the page again, its form's errors naming the field."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest
from django.template.response import TemplateResponse

#: What the confirmation page posts; nothing else makes an action act.
CONFIRMED_FIELD = "post"
#: The tick that says the page's warnings were read.
ACKNOWLEDGE_FIELD = "acknowledge"

#: Posted fields the page does not carry over: the token, its own answers, the changelist's own bookkeeping.
_NOT_CARRIED = {
    "csrfmiddlewaretoken", CONFIRMED_FIELD, ACKNOWLEDGE_FIELD, "index", "select_across", ACTION_CHECKBOX_NAME, "action"
}


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
    """What the page says: ``title`` (the question), what will ``happen``, what ``cannot_be_undone``, to which
    ``rows``; what follows later (``impact``, under ``impact_title``); ``warnings`` to acknowledge; and the
    ``note`` it asks for."""

    title: str
    happens: Sequence[str] = ()
    #: A clause after "Cannot be undone:"; or, ``cannot_be_undone_in_full``, sentences said as they are (they also
    #: say what can be undone: a deletion restorable for some days, a setting that can be set back).
    cannot_be_undone: str = ""
    rows: Sequence[Row] = ()
    columns: Sequence[str] = ()
    cannot_be_undone_in_full: bool = False
    #: How many items it acts on, when that is not one per listed row that is not refused: rows shown but left
    #: alone (held), or one object's setting with no rows.
    count: int | None = None
    impact_title: str = ""
    impact: Sequence[str] = ()
    #: Shown above the rows; if any, the button acts only with ``acknowledge`` (the tick's label) ticked.
    warnings: Sequence[str] = ()
    acknowledge: str = ""
    #: The label of a note the action needs (a reason, how identity was checked): shown, required, carried.
    note: str = ""
    note_field: str = "text"
    note_help: str = ""
    note_max_length: int | None = None
    #: The error when the note is missing; it names the field.
    note_missing: str = ""
    #: The label of a choice the action needs among ``choices`` (why a request is refused): shown, required, carried.
    choice: str = ""
    choice_field: str = "choice"
    choices: Sequence[tuple[str, str]] = ()
    button: str = "Yes, I'm sure"
    #: Where "No, take me back" goes, when not where the click came from (a page reached by a link, not a POST).
    back_url: str = ""

    def form(self, request: HttpRequest) -> ConfirmationForm:
        """The page's questions (its note, the acknowledgement of its warnings), bound once it is confirmed."""
        return ConfirmationForm(self, request)


class ConfirmationForm(forms.Form):
    """What a confirmation asks besides its button. Bound only to the page's own POST (``post=yes``): before that
    it holds the note typed where the click came from, so it is shown, not refused."""

    def __init__(self, confirmation: Confirmation, request: HttpRequest) -> None:
        note, choice = confirmation.note_field, confirmation.choice_field
        super().__init__(
            request.POST if confirmed(request) else None,
            initial={note: request.POST.get(note, ""), choice: request.POST.get(choice, "")},
        )
        if confirmation.choice:
            self.fields[choice] = forms.ChoiceField(
                label=confirmation.choice,
                choices=[("", "—"), *confirmation.choices],
                error_messages={
                    "required": f"{confirmation.choice}: choose one.",
                    "invalid_choice": f"{confirmation.choice}: choose one of the list.",
                },
            )
        if confirmation.note:
            self.fields[note] = forms.CharField(
                label=confirmation.note,
                max_length=confirmation.note_max_length,
                help_text=confirmation.note_help,
                error_messages={"required": confirmation.note_missing or f"{confirmation.note}: required."},
                widget=forms.TextInput(attrs={"size": 60}),
            )
        if confirmation.warnings and confirmation.acknowledge:
            self.fields[ACKNOWLEDGE_FIELD] = forms.BooleanField(
                label=confirmation.acknowledge,
                error_messages={"required": "Acknowledgement: tick the box to say you have read the warning above."},
            )


def _chosen_action(request: HttpRequest) -> str:
    """The action chosen on the changelist (its form may post the select more than once: ``index`` says which)."""
    names = request.POST.getlist("action")
    try:
        return names[int(request.POST.get("index", 0))]
    except (IndexError, ValueError):
        return names[0] if names else ""


def confirmation_page(
    model_admin: admin.ModelAdmin, request: HttpRequest, confirmation: Confirmation, form: ConfirmationForm | None = None
) -> TemplateResponse:
    """The page that asks before ``confirmation``'s action runs; its form posts the same action back, confirmed.

    It posts to where the click came from (the changelist or a page's button), with every field that click carried
    (a chosen type and law, a reason), and with the rows listed, not "all": what runs is what was shown. ``form`` is
    the one already checked (a confirmation missing its note), to show with its errors."""
    carried = [
        (name, value)
        for name in request.POST
        if name not in _NOT_CARRIED and name not in (confirmation.note_field, confirmation.choice_field)
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
        "count": len(acting) if confirmation.count is None else confirmation.count,
        "action": action,
        "carried": carried,
        "selected": [row.item.pk for row in acting] if action else [],
        "form": form or confirmation.form(request),
        "media": model_admin.media,
        # Back to where the click came from: the changelist, or the page whose button it was.
        "back": confirmation.back_url or request.get_full_path(),
    }
    return TemplateResponse(request, "admin/core/action_confirmation.html", context)


def rows_of(items: Iterable[Any], cells: Any = None, url: Any = None) -> list[Row]:
    """A row per item, its cells and link read by the given functions."""
    return [Row(item, cells(item) if cells else (), url(item) if url else "") for item in items]
