"""An erasure looks for every identifier the person ever had: a rectified email is still theirs."""

from __future__ import annotations

import pytest

from dsar import services
from dsar.models import Request
from recordings.models import Ticket
from tests.dsar.factories import make_request, staff
from tests.recordings.factories import PersonFactory, TicketFactory

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
