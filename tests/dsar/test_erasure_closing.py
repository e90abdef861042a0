"""Closing an erasure: a clean scan completes it and tells the person; leftovers make it wait, saying where."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from dsar import services
from dsar.models import Request, RequestEvent
from residency.models import Account
from tests.dsar.factories import CaptureOnCommit, PersonFactory, make_request, staff

pytestmark = pytest.mark.django_db


def test_a_clean_erasure_completes_by_itself_and_emails_the_person(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    person = PersonFactory(name="Greta Holm", email="greta.holm@example.org")
    request = make_request(person)

    with django_capture_on_commit_callbacks(execute=True):
        services.request_execute(request=request, actor=staff())

    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED and request.subject is None
    message = mail.outbox[-1]
    assert message.to == ["greta.holm@example.org"]
    assert "has finished erasing your personal data" in message.body
    assert "- Requester and contact data (1 record)." in message.body
    assert "What we keep, and why" in message.body
    assert "Logs of Freshdesk (European Economic Area), kept 365 days" in message.body
    timeline = " ".join(request.events.values_list("message", flat=True))
    assert "greta" not in timeline.lower() and "told by email" in timeline


def test_with_manual_finalization_a_clean_erasure_waits_for_staff(settings: Any) -> None:
    settings.DSAR_ERASURE_FINALIZATION = "manual"
    request = make_request()

    services.request_execute(request=request, actor=staff())

    request.refresh_from_db()
    assert request.status == Request.Status.IN_PROGRESS
    assert not mail.outbox or "erased" not in mail.outbox[-1].subject


def test_leftovers_make_the_erasure_wait_naming_where_and_a_clean_rescan_completes_it(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    person = PersonFactory(email="left.behind@example.org")
    Account.objects.filter(pk=person.account_id).update(name="Escalations: left.behind@example.org")
    request = make_request(person)

    services.request_execute(request=request, actor=staff())

    request.refresh_from_db()
    assert request.status == Request.Status.WAITING
    assert "residency_account.name (email)" in request.status_reason
    assert "left.behind" not in request.status_reason
    assert request.events.filter(kind=RequestEvent.Kind.BLOCKED).exists()

    Account.objects.filter(pk=person.account_id).update(name="Escalations")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_verify_erasure(request=request, actor=staff())

    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED
    assert mail.outbox[-1].to == ["left.behind@example.org"]
