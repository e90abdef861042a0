"""An erasure looks for every identifier the person ever had: a rectified email is still theirs."""

from __future__ import annotations

import pytest

from dsar import services
from dsar.models import Request
from recordings import services as services_recordings
from recordings.history_exports import export_path as history_export_path
from recordings.models import AnalyticsRow, Call, Ticket
from tests.dsar.factories import make_request, staff
from tests.recordings.factories import (
    AnalyticsRowFactory,
    CallFactory,
    PersonFactory,
    TextMessageFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


def test_an_address_rectified_away_is_erased_from_old_tickets_and_the_scan_looks_for_it() -> None:
    person = PersonFactory(name="Ulla Berg", email="ub.old@example.net", phone="+46705550177")
    ticket = TicketFactory(
        account=person.account, requester=None, subject="Billing question", description="Reply to ub.old@example.net please."
    )
    rectification = make_request(person, type=Request.Type.RECTIFICATION)
    services.person_rectify(request=rectification, changes={"email": "ub@example.net"}, actor=staff())
    erasure = make_request(person)

    services.request_execute(request=erasure, actor=staff())

    ticket.refresh_from_db()
    assert "ub.old@example.net" not in ticket.description
    erasure.refresh_from_db()
    assert erasure.status == Request.Status.COMPLETED
    assert not Ticket.history.filter(description__contains="ub.old@example.net").exists()


def test_a_leftover_of_the_former_address_is_found_by_the_scan(settings: object) -> None:
    settings.DSAR_ERASURE_FINALIZATION = "manual"  # type: ignore[attr-defined]
    person = PersonFactory(email="old.address@example.net")
    rectification = make_request(person, type=Request.Type.RECTIFICATION)
    services.person_rectify(request=rectification, changes={"email": "new.address@example.net"}, actor=staff())
    erasure = make_request(person)
    services.request_execute(request=erasure, actor=staff())
    person.account.__class__.objects.filter(pk=person.account_id).update(name="Escalate old.address@example.net")

    result = services.request_verify_erasure(request=erasure)

    assert result.undeclared == 1
    assert [(hit.table, hit.identifier) for hit in result.hits if not hit.declared] == [("residency_account", "email")]


def test_erasing_bill_hansen_leaves_erik_hansen_and_the_word_bill_alone() -> None:
    bill = PersonFactory(name="Bill Hansen", email="bill@example.net", phone="+46701234567")
    erik = PersonFactory(account=bill.account, name="Erik Hansen", email="erik@example.net", phone="+46701110000")
    own = TicketFactory(account=bill.account, requester=bill, subject="Hansen: invoice", description="Hi Bill, call +46 70 123 45 67.")
    others = TicketFactory(
        account=bill.account, requester=erik, subject="Wrong Bill amount", description="Erik Hansen in finance; cc bill@example.net"
    )
    text = TextMessageFactory(account=bill.account, line__account=bill.account, person=erik, body="Bill Hansen said hi")

    services.request_execute(request=make_request(bill), actor=staff())

    own.refresh_from_db()
    others.refresh_from_db()
    text.refresh_from_db()
    assert (own.subject, own.description) == ("[redacted]: invoice", "Hi [redacted], call [redacted].")
    assert (others.subject, others.description) == ("Wrong Bill amount", "Erik Hansen in finance; cc [redacted]")
    assert text.body == "[redacted] said hi"
    erik.refresh_from_db()
    assert (erik.name, erik.email) == ("Erik Hansen", "erik@example.net")


def test_calls_texts_and_analytics_from_a_former_phone_are_erased() -> None:
    person = PersonFactory(name="Ulla Berg", phone="+46705550100")
    old_call = CallFactory(account=person.account, line__account=person.account, end_user=None, from_number="+46705550100")
    rectification = make_request(person, type=Request.Type.RECTIFICATION)
    services.person_rectify(request=rectification, changes={"phone": "+46705550199"}, actor=staff())
    old_text = TextMessageFactory(account=person.account, line__account=person.account, person=None, from_number="+46705550100")
    old_analytics = AnalyticsRowFactory(call=old_call, person=None, phone_number="+46705550100")

    services.request_execute(request=make_request(person), actor=staff())

    old_call.refresh_from_db()
    old_text.refresh_from_db()
    assert (old_call.from_number, old_text.from_number, old_text.body) == ("", "", "")
    assert not AnalyticsRow.objects.filter(pk=old_analytics.pk).exists()
    assert not Call.history.filter(from_number="+46705550100").exists()


def test_call_history_files_already_written_lose_the_persons_number(export_dir: object) -> None:
    person = PersonFactory(name="Ulla Berg", phone="+46705550100")
    CallFactory(account=person.account, line__account=person.account, end_user=person)
    CallFactory(account=person.account, line__account=person.account, end_user=None, from_number="+46705550222")
    export = services_recordings.history_export_request(
        account=person.account, kind="call_history", recipient=staff().email
    )
    export = services_recordings.history_export_run(export_id=export.pk)
    before = history_export_path(export).read_text()

    services.request_execute(request=make_request(person), actor=staff())

    after = history_export_path(export).read_text()
    assert "+46705550100" in before and "+46705550100" not in after
    assert "+46705550222" in after and after.count("\n") == before.count("\n")
