"""An erasure covers the product's own stores: request timelines and staff notes (with their history), the
console's change log, and texts that mention the person; what the request was received with stays, declared."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from dsar import services
from dsar.models import Request, RequestEvent
from recordings.models import Call
from tests.dsar.factories import staff
from tests.recordings.factories import CallFactory, PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.every_source]


def erasure_for(person, note: str) -> Request:  # type: ignore[no-untyped-def]
    request = services.request_create(
        account=person.account,
        type=Request.Type.ERASURE,
        jurisdiction="gdpr",
        email=person.email,
        phone="+46 70 555 01 23",
        name="Bill  Hansen",
        received_at=timezone.now(),
    )
    services.request_verify_manually(request=request, note=note, actor=staff())
    request.refresh_from_db()
    return request


def test_staff_notes_the_change_log_and_earlier_requests_lose_the_persons_identifiers() -> None:
    bill = PersonFactory(name="Bill Hansen", email="bill@example.net", phone="+46705550123")
    other = PersonFactory(account=bill.account, name="Erik Hansen", email="erik@example.net")
    call = CallFactory(account=bill.account, line__account=bill.account, end_user=bill)
    log = LogEntry.objects.create(
        user=staff("clerk"),
        content_type=ContentType.objects.get_for_model(Call),
        object_id=str(call.pk),
        object_repr=str(call),
        action_flag=CHANGE,
        change_message="",
    )
    earlier = services.request_create(
        account=bill.account, type=Request.Type.ACCESS, jurisdiction="gdpr", email="bill@example.net", received_at=timezone.now()
    )
    services.request_verify_manually(request=earlier, note="Bill read his customer number out on the phone.", actor=staff())
    unrelated = services.request_create(
        account=bill.account, type=Request.Type.ACCESS, jurisdiction="gdpr", email="erik@example.net", received_at=timezone.now()
    )
    services.request_verify_manually(request=unrelated, note="Erik Hansen confirmed; his colleague Bill was not involved.", actor=staff())
    erasure = erasure_for(bill, note="Called Bill Hansen back on +46705550123; he confirmed.")

    services.request_execute(request=erasure, actor=staff())

    messages = lambda request: list(request.events.filter(kind=RequestEvent.Kind.VERIFIED).values_list("message", flat=True))  # noqa: E731
    assert messages(erasure) == ["Identity verified manually: Called [redacted] back on [redacted]; he confirmed."]
    assert messages(earlier) == ["Identity verified manually: [redacted] read his customer number out on the phone."]
    assert messages(unrelated) == ["Identity verified manually: Erik Hansen confirmed; his colleague Bill was not involved."]
    assert not RequestEvent.history.filter(message__contains="+46705550123").exists()
    assert not RequestEvent.history.filter(message__contains="Bill read").exists()
    log.refresh_from_db()
    assert "+46705550123" not in log.object_repr and log.object_repr.startswith(f"call {call.pk} [redacted]")
    other.refresh_from_db()
    assert other.name == "Erik Hansen"


def test_the_scan_is_clean_and_declares_what_the_request_was_received_with() -> None:
    bill = PersonFactory(name="Bill Hansen", email="bill@example.net", phone="+46705550123")
    erasure = erasure_for(bill, note="Checked in the support product.")
    assert erasure.received_with == {"name": "Bill Hansen", "email": "bill@example.net", "phone": "+46705550123"}

    services.request_execute(request=erasure, actor=staff())

    erasure.refresh_from_db()
    assert erasure.scan["undeclared"] == 0 and erasure.status == Request.Status.COMPLETED
    declared = {(hit["table"], hit["column"]) for hit in erasure.scan["hits"] if hit["declared"]}
    assert ("dsar_request", "received_with") in declared
    kept = [item for item in erasure.certificate["retained"] if item["source"] == "dsar.requests"]
    assert kept[0]["count"] == 1 and "730 days after the request is closed" in kept[0]["reason"]


def test_a_phone_typed_at_intake_is_an_identifier_of_the_erasure() -> None:
    bill = PersonFactory(name="Bill Hansen", email="bill@example.net", phone="+46705550999")
    call = CallFactory(account=bill.account, line__account=bill.account, end_user=None, from_number="+46705550123")
    erasure = erasure_for(bill, note="Checked in the support product.")

    services.request_execute(request=erasure, actor=staff())

    call.refresh_from_db()
    assert call.from_number == ""
