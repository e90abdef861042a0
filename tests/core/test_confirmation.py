"""The one confirmation page of the console (core/confirmation.py): it acts only on its own POST, and a confirmation
missing its note or the acknowledgement of its warnings is answered with the page again, naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import RequestFactory

from core.confirmation import Confirmation, confirmation_page, confirmed
from core.models import ApiKey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def post(data: dict[str, Any], path: str = "/admin/core/apikey/") -> Any:
    request = RequestFactory().post(path, data)
    request.user = UserFactory(username="confirming")
    return request


def page(request: Any, confirmation: Confirmation) -> str:
    response = confirmation_page(admin.site._registry[ApiKey], request, confirmation)
    return response.render().content.decode()


def asking(**fields: Any) -> Confirmation:
    return Confirmation(title="Do it?", happens=["It happens."], cannot_be_undone="it stays done.", count=1, **fields)


def test_only_the_pages_own_post_is_a_confirmation() -> None:
    assert not confirmed(post({"action": "revoke"}))
    assert not confirmed(post({"confirmed": "yes"}))
    assert confirmed(post({"post": "yes"}))


def test_a_note_typed_where_the_click_came_from_is_shown_not_refused() -> None:
    request = post({"text": "Passport seen"})

    shown = page(request, asking(note="Verification note"))

    assert 'value="Passport seen"' in shown and "errorlist" not in shown


def test_a_confirmation_without_its_note_is_refused_naming_the_field() -> None:
    confirmation = asking(note="Reason", note_field="reason", note_missing="Reason: say why.")
    request = post({"post": "yes", "reason": "  "})
    form = confirmation.form(request)

    assert not form.is_valid()
    assert "Reason: say why." in page(request, confirmation)


def test_warnings_need_their_acknowledgement() -> None:
    confirmation = asking(warnings=["Someone asked about this."], acknowledge="I have read it.")

    refused = confirmation.form(post({"post": "yes"}))
    accepted = confirmation.form(post({"post": "yes", "acknowledge": "on"}))

    assert not refused.is_valid() and accepted.is_valid()
    shown = page(post({"post": "yes"}), confirmation)
    assert "Someone asked about this." in shown and "Acknowledgement: tick the box" in shown


def test_what_follows_and_a_statement_in_full_are_said_as_given() -> None:
    confirmation = Confirmation(
        title="Change it?", cannot_be_undone="It can be changed back.", cannot_be_undone_in_full=True, count=1,
        impact_title="What the purge will delete", impact=["3 recordings, tonight."], back_url="/admin/elsewhere/",
    )

    shown = page(post({}), confirmation)

    assert "What the purge will delete" in shown and "3 recordings, tonight." in shown
    assert "Cannot be undone:" not in shown and "It can be changed back." in shown
    assert 'href="/admin/elsewhere/"' in shown


def test_carried_fields_come_back_but_not_the_pages_own_answers() -> None:
    shown = page(post({"post": "yes", "name": "Sales", "acknowledge": "on", "reason": ""}), asking(note="Reason", note_field="reason"))

    assert 'name="name" value="Sales"' in shown
    assert shown.count('name="acknowledge"') == 0 and shown.count('name="reason"') == 1
