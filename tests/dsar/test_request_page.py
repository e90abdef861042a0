"""The request page reads top to bottom (who, what, law, deadline, identity, state) and offers as buttons the
actions this user may take on this request in its state; an erasure is previewed, then executed, then its
certificate read on the same page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client

from core.roles import AUDITOR, PRIVACY_OFFICER
from dsar.models import Request
from tests.dsar.factories import AccountFactory, FakeSource, PersonFactory, make_request, role_console

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


def console(role: str) -> Client:
    return role_console(role)


def page(client: Client, request: Request) -> str:
    response = client.get(f"/admin/dsar/request/{request.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def refreshed(request: Request) -> Request:
    request.refresh_from_db()
    return request


def test_the_summary_says_who_what_law_deadline_and_identity_without_contact_details() -> None:
    person = PersonFactory(name="Signe Lindqvist", email="signe@example.org", phone="+46705550321")
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False):
        request = make_request(person, type=Request.Type.ACCESS, verified=False)
    with time_machine.travel(dt.datetime(2026, 3, 30, 9, tzinfo=UTC), tick=False):
        html = page(console(PRIVACY_OFFICER), request)

    summary = html[html.index('class="request-summary"') : html.index('class="request-actions"')]
    assert "Access request under GDPR" in summary and "Signe Lindqvist" in summary
    assert "2026-04-02" in summary and "3 days left" in summary and "May be extended once, to 2026-06-02" in summary
    assert "Not verified yet" in summary
    assert "signe@example.org" not in summary and "+46705550321" not in summary


def test_an_officer_gets_the_buttons_of_the_state_and_an_auditor_none() -> None:
    request = make_request(type=Request.Type.ERASURE, verified=False)

    officer = page(console(PRIVACY_OFFICER), request)
    auditor = page(console(AUDITOR), request)

    assert 'value="verify"' in officer and 'value="reject"' in officer and "/erasure-preview/" not in officer
    assert "not verified yet" in officer  # the preview's reason, beside it
    assert 'class="request-actions"' not in auditor and 'value="verify"' not in auditor


def test_a_button_asks_first_then_runs_its_action_on_this_request_and_comes_back_to_it() -> None:
    request = make_request(type=Request.Type.ACCESS, verified=False)
    client = console(PRIVACY_OFFICER)
    url = f"/admin/dsar/request/{request.pk}/change/"

    asked = client.post(url, {"_request_action": "verify", "text": "Checked the account owner"})
    assert asked.status_code == 200 and 'name="post" value="yes"' in asked.content.decode()
    assert refreshed(request).verified_at is None
    response = client.post(url, {"_request_action": "verify", "text": "Checked the account owner", "post": "yes"})

    assert response.status_code == 302 and response["Location"] == f"/admin/dsar/request/{request.pk}/change/"
    request.refresh_from_db()
    assert request.verified_at is not None and request.verification_method == "manual"


def test_an_auditor_posting_a_button_is_refused_and_nothing_changes() -> None:
    request = make_request(type=Request.Type.ACCESS, verified=False)

    response = console(AUDITOR).post(
        f"/admin/dsar/request/{request.pk}/change/", {"_request_action": "verify", "text": "no", "post": "yes"}
    )

    assert response.status_code == 403
    request.refresh_from_db()
    assert request.verified_at is None


def test_an_erasure_is_previewed_executed_and_its_certificate_read_on_the_page(settings: Any) -> None:
    request = make_request(type=Request.Type.ERASURE)
    client = console(PRIVACY_OFFICER)
    assert "Preview the erasure" in page(client, request)

    preview = client.get(f"/admin/dsar/request/{request.pk}/erasure-preview/").content.decode()
    assert "What each source erases" in preview and "Requester and contact data: 1" in preview
    assert 'name="post" value="yes"' in preview and "Cannot be undone" in preview

    client.post(f"/admin/dsar/request/{request.pk}/change/", {"_request_action": "execute", "post": "yes"})

    request.refresh_from_db()
    assert request.executed_at is not None and request.certificate
    html = page(client, request)
    assert "Erased, by data category" in html and "Requester and contact data" in html and "Verification scan" in html
    assert "under GDPR" in html


def test_the_erasure_pages_name_categories_and_histories_never_by_their_keys(use_sources: Any) -> None:
    use_sources(FakeSource("recordings", held={1: {"call-data": 3, "monitoring-history": 1}, 3: {"history:ticket": 2}}))
    request = make_request(type=Request.Type.ERASURE)
    client = console(PRIVACY_OFFICER)

    preview = client.get(f"/admin/dsar/request/{request.pk}/erasure-preview/").content.decode()
    client.post(f"/admin/dsar/request/{request.pk}/change/", {"_request_action": "execute"})
    request.refresh_from_db()
    html = page(client, request)

    assert "Call data: 3" in preview and "Monitoring history: 1" in preview and "History of tickets: 2" in preview
    for shown in (preview, html):
        assert "call-data" not in shown and "history:ticket" not in shown and "monitoring-history" not in shown
    assert "History of tickets" in html and "under GDPR" in html and "under gdpr" not in html


def test_an_archive_being_built_is_followed_on_the_page_until_it_is_ready() -> None:
    from dsar.models import Export

    request = make_request(type=Request.Type.PORTABILITY)
    export = Export.objects.create(request=request)
    client = console(AUDITOR)
    status_url = f"/admin/dsar/request/{request.pk}/exports/{export.pk}/status/"

    assert f'data-status-url="{status_url}"' in page(client, request)
    assert client.get(status_url).json() == {
        "state": "pending", "text": "Being built by the background worker…", "done": False, "link": None
    }
    Export.objects.filter(pk=export.pk).update(status=Export.Status.READY, size=2048)
    assert client.get(status_url).json()["text"] == "Ready: 2.0\xa0KB; the link was emailed to the person."
    assert client.get(f"/admin/dsar/request/{request.pk + 1}/exports/{export.pk}/status/").status_code == 404


def test_a_closed_request_says_whether_it_was_answered_in_time_instead_of_offering_an_extension() -> None:
    from dsar import services

    with time_machine.travel(dt.datetime(2026, 1, 5, 9, tzinfo=UTC), tick=False):
        request = make_request(type=Request.Type.ACCESS)
    with time_machine.travel(dt.datetime(2026, 2, 9, 9, tzinfo=UTC), tick=False):
        services.request_reject(request=request, reason="Manifestly unfounded", denial_reason="other", actor=None)
        html = page(console(AUDITOR), Request.objects.get(pk=request.pk))

    summary = html[html.index('class="request-summary"') :]
    assert "Rejected on 2026-02-09, 4 days after the deadline." in summary
    assert "May be extended" not in summary


def test_the_deadline_says_beside_the_date_why_it_moved_and_which_day_it_counts_from() -> None:
    account = AccountFactory(country="SE", time_zone="Europe/Stockholm")
    with time_machine.travel(dt.datetime(2025, 11, 3, 9, tzinfo=UTC), tick=False):
        # 23:30 UTC on 30 October is already 31 October in Stockholm: one month later is Sunday 30 November.
        received_at = dt.datetime(2025, 10, 30, 23, 30, tzinfo=UTC)
        request = make_request(PersonFactory(account=account), type=Request.Type.ACCESS, received_at=received_at)
        html = page(console(AUDITOR), request)

    summary = html[html.index('class="request-summary"') : html.index("</section>")]
    assert "2025-12-01 <span class=\"due-note\">(due Mon 1 Dec 2025: 30 Nov 2025 is a Sunday)</span>" in summary
    assert "2025-10-31 in the account's time zone (Europe/Stockholm)" in summary
    # Extending it would end on 31 January 2026, a Saturday: the page says so before anyone extends.
    assert "May be extended once, to 2026-02-02 (31 Jan–1 Feb 2026 are a weekend)" in summary


def test_a_verified_requests_page_does_not_offer_verifying_again() -> None:
    html = page(console(PRIVACY_OFFICER), make_request(type=Request.Type.ACCESS))

    actions = html[html.index('aria-label="Actions"'):]
    assert "Verify identity manually" not in actions and "Send a new verification code" not in actions
    assert "already verified" not in actions


def test_an_unverified_requests_page_offers_both_ways_to_verify() -> None:
    html = page(console(PRIVACY_OFFICER), make_request(type=Request.Type.ACCESS, verified=False))

    actions = html[html.index('aria-label="Actions"'):]
    assert 'value="verify"' in actions and 'value="send_code"' in actions
