"""A person's requests side by side: the request page lists their other open ones, a second open request of the
same type is flagged as a possible duplicate (never linked), and once their erasure is complete the others close,
each with its reason, so none falls overdue."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from dsar import services
from dsar.models import Request, RequestEvent
from tests.dsar.factories import PersonFactory, make_request, staff

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
REQUESTS = "/admin/dsar/request/"


def test_the_request_page_lists_the_persons_other_open_requests_with_type_status_due_and_link(officer: Client) -> None:
    person = PersonFactory()
    erasure = make_request(person)
    access = make_request(person, type="access", verified=False)
    closed = make_request(person, type="objection")
    services.request_reject(request=closed, reason="Sent to the wrong company", denial_reason="no_match", actor=staff())
    someone_else = make_request(type="access")

    page = officer.get(f"{REQUESTS}{erasure.pk}/change/").content.decode()

    siblings = page[page.index('class="request-siblings"') :]
    assert f'href="{REQUESTS}{access.pk}/change/"' in siblings and "Access" in siblings
    assert access.due_at.isoformat() in siblings and access.get_status_display() in siblings
    assert f"{REQUESTS}{closed.pk}/change/" not in siblings and f"{REQUESTS}{someone_else.pk}/change/" not in siblings


def test_a_second_open_request_of_the_same_type_is_flagged_a_possible_duplicate_but_not_linked(officer: Client) -> None:
    person = PersonFactory()
    first = make_request(person, type="access")
    second = make_request(person, type="access", verified=False)
    other_type = make_request(person, type="portability", verified=False)

    received = second.events.get(kind=RequestEvent.Kind.RECEIVED).message
    assert f"Possible duplicate of #{first.pk}" in received
    assert "duplicate" not in other_type.events.get(kind=RequestEvent.Kind.RECEIVED).message.lower()
    flags = {r.pk: r.duplicate_of for r in Request.objects.with_duplicate_of()}
    assert flags == {first.pk: None, second.pk: first.pk, other_type.pk: None}
    listing = officer.get(REQUESTS).content.decode()
    assert f'<a href="{REQUESTS}{first.pk}/change/">#{first.pk}</a>' in listing
    page = officer.get(f"{REQUESTS}{second.pk}/change/").content.decode()
    assert "Possible duplicate" in page and "verify who asked" in page
    second.refresh_from_db()
    assert second.verified_at is None and second.status != Request.Status.COMPLETED


def test_once_the_erasure_completes_the_persons_other_open_requests_close_with_their_reason() -> None:
    person = PersonFactory(email="greta@example.org")
    erasure = make_request(person)
    access = make_request(person, type="access", verified=False)
    second_erasure = make_request(person, verified=False)
    someone_else = make_request(type="access")

    services.request_execute(request=erasure, actor=staff())

    erasure.refresh_from_db()
    access.refresh_from_db()
    second_erasure.refresh_from_db()
    assert erasure.status == Request.Status.COMPLETED
    assert access.status == Request.Status.REJECTED and f"erased by request #{erasure.pk}" in access.status_reason
    assert "none is left to report" in access.status_reason
    assert second_erasure.status == Request.Status.COMPLETED
    assert access.events.filter(kind=RequestEvent.Kind.REJECTED, message__contains=f"#{erasure.pk}").exists()
    latest = access.history.first()
    assert latest.status == Request.Status.REJECTED and latest.history_change_reason == "closed after the person's erasure"
    assert Request.objects.get(pk=someone_else.pk).status not in Request.CLOSED


def test_the_closed_requests_no_longer_count_as_overdue() -> None:
    person = PersonFactory()
    with time_machine.travel(dt.datetime(2026, 1, 5, 9, tzinfo=UTC), tick=False):
        erasure = make_request(person)
        late = make_request(person, type="access", verified=False)
    with time_machine.travel(dt.datetime(2026, 3, 20, 9, tzinfo=UTC), tick=False):
        today = dt.date(2026, 3, 20)
        assert set(Request.objects.overdue(today)) == {erasure, late}

        services.request_execute(request=erasure, actor=staff())

        assert list(Request.objects.overdue(today)) == []
