"""Requester identity data goes DSAR_IDENTITY_RETENTION_DAYS after the request closes; the proof stays."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from core.audit import verify_chain
from core.models import AuditEntry
from dsar import services
from dsar.models import Person, Request, RequestEvent
from tests.dsar.factories import AccountFactory, staff
from tests.recordings.factories import CallFactory

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
CLOSED_ON = dt.datetime(2024, 3, 1, 9, tzinfo=UTC)


def closed_request(*, account: Any = None, email: str = "asker@example.net", closed_on: dt.datetime = CLOSED_ON) -> Request:
    """An access request from someone intake did not know, verified by hand and rejected on ``closed_on``."""
    with time_machine.travel(closed_on, tick=False):
        request = services.request_create(
            account=account or AccountFactory(),
            type=Request.Type.ACCESS,
            jurisdiction="gdpr",
            email=email,
            name="Asa Asker",
            phone="+46 70 555 12 12",
            send_code=False,
        )
        services.request_verify_manually(request=request, note="Asa Asker showed her passport at the desk.", actor=staff())
        services.request_reject(request=request, reason="Asa Asker withdrew by phone.", denial_reason="other", actor=staff())
    request.refresh_from_db()
    return request


def forget(*args: str) -> str:
    out = StringIO()
    call_command("forget_requesters", *args, stdout=out)
    return out.getvalue()


def test_identity_data_goes_after_the_retention_period_and_the_proof_stays() -> None:
    old = closed_request()
    recent = closed_request(email="recent@example.net", closed_on=CLOSED_ON + dt.timedelta(days=2))
    person_id = old.person_id

    with time_machine.travel(CLOSED_ON + dt.timedelta(days=731), tick=False):
        output = forget()

    old.refresh_from_db()
    recent.refresh_from_db()
    assert "1 request(s) closed over 730 days ago lost their identity data; 2 staff note(s); 1 intake-created person(s) removed." in output
    assert (old.received_with, old.status_reason, old.status) == (None, "", Request.Status.REJECTED)
    assert old.completed_at is not None and old.person_id is None
    messages = list(old.events.order_by("pk").values_list("message", flat=True))
    assert not any("Asa" in message or "passport" in message for message in messages)
    assert not RequestEvent.history.filter(request_id=old.pk, message__contains="passport").exists()
    assert not Request.history.filter(id=old.pk, status_reason__contains="Asa").exists()
    assert not Person.objects.filter(pk=person_id).exists()
    assert not Person.history.filter(id=person_id).exclude(email="").exists()
    assert AuditEntry.objects.get(action="identity_verified", object_id=str(old.pk)).data["note"] is None
    assert verify_chain().problem == ""
    assert recent.received_with == {"name": "Asa Asker", "email": "recent@example.net", "phone": "+46705551212"}
    assert recent.events.filter(message__contains="passport").exists()


def test_a_dry_run_counts_and_changes_nothing() -> None:
    old = closed_request()

    with time_machine.travel(CLOSED_ON + dt.timedelta(days=731), tick=False):
        output = forget("--dry-run")

    old.refresh_from_db()
    assert "1 request(s) closed over 730 days ago would lose their identity data; 2 staff note(s); 1 intake-created person(s) would be removed." in output
    assert old.received_with is not None and Person.objects.filter(pk=old.person_id).exists()


def test_people_with_other_records_or_an_objection_stay(settings: Any) -> None:
    settings.DSAR_IDENTITY_RETENTION_DAYS = 30
    with_call = closed_request(email="caller@example.net")
    CallFactory(account=with_call.account, line__account=with_call.account, end_user=with_call.person)
    objected = closed_request(email="objector@example.net")
    Person.objects.filter(pk=objected.person_id).update(objected_to_marketing_at=CLOSED_ON)

    with time_machine.travel(CLOSED_ON + dt.timedelta(days=31), tick=False):
        output = forget()

    assert "2 request(s) closed over 30 days ago lost their identity data; 4 staff note(s); 0 intake-created person(s) removed." in output
    assert Person.objects.filter(pk__in=[with_call.person_id, objected.person_id]).count() == 2


def test_running_it_again_changes_nothing() -> None:
    closed_request()
    with time_machine.travel(CLOSED_ON + dt.timedelta(days=731), tick=False):
        forget()
        again = forget()

    assert "0 request(s)" in again and "0 staff note(s); 0 intake-created" in again
