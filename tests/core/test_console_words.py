"""The console's pages are titled in the team's words, and a past version in history is read, never edited."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.utils.text import capfirst

from recordings.models import Ticket
from tests.dsar.factories import make_request
from tests.factories import AccountFactory, UserFactory
from tests.recordings.factories import TicketFactory

pytestmark = pytest.mark.django_db


def superuser() -> Client:
    client = Client()
    client.force_login(UserFactory(username="dpo"))
    return client


def title(html: str) -> str:
    return re.search(r"<title>([^<]*)</title>", html).group(1)


def test_a_list_is_titled_by_what_it_lists_never_select_to_change() -> None:
    html = superuser().get("/admin/dsar/request/").content.decode()

    assert title(html).startswith("Requests |")
    assert "Select" not in title(html) and "to change" not in html


def test_every_list_and_page_of_the_console_has_a_title_in_the_team_s_words() -> None:
    client = superuser()
    make_request()

    for model in admin.site._registry:
        listed = client.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
        assert listed.status_code == 200, model
        assert title(listed.content.decode()).startswith(f"{capfirst(model._meta.verbose_name_plural)} |"), model


def test_an_object_page_is_titled_with_what_it_is_and_which_one() -> None:
    request = make_request()
    account = AccountFactory(name="Nordlys Support AB")
    client = superuser()

    request_page = client.get(f"/admin/dsar/request/{request.pk}/change/").content.decode()
    account_page = client.get(f"/admin/residency/account/{account.pk}/change/").content.decode()

    assert title(request_page).startswith(f"Request #{request.pk} · Erasure |")
    assert f"<h1>Request #{request.pk} · Erasure</h1>" in request_page
    assert title(account_page).startswith("Account · Nordlys Support AB |")
    assert "Change request" not in request_page and "Change account" not in account_page


def test_a_past_version_is_shown_read_only_without_fields_or_links_that_add_change_or_delete() -> None:
    ticket = TicketFactory(subject="Refund dispute")
    ticket.subject = "Refund dispute, escalated"
    ticket.save()
    first = Ticket.history.filter(id=ticket.pk).earliest("history_date")

    html = superuser().get(f"/admin/recordings/ticket/{ticket.pk}/history/{first.history_id}/").content.decode()

    assert "Refund dispute" in html and "Refund dispute, escalated" not in html
    assert "as it was on" in title(html)
    assert not re.search(r"<(input|select|textarea)(?![^>]*type=\"hidden\")[^>]*name=\"(subject|account|requester|status)", html)
    assert "related-widget-wrapper-link" not in html  # no add, change or delete icons beside a related field
    assert 'value="Revert"' not in html and "Telephony records</a>" in html


def test_the_telephony_app_has_one_name_on_the_home_page_and_in_the_breadcrumbs() -> None:
    ticket = TicketFactory()
    client = superuser()

    home = client.get("/admin/").content.decode()
    page = client.get(f"/admin/recordings/ticket/{ticket.pk}/change/").content.decode()

    assert "Telephony records" in home and "Recordings and retention" not in home
    assert "Telephony records</a>" in page
