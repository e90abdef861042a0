from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from dsar import services
from dsar.models import Person, Request, RequestEvent
from tests.dsar.factories import PersonFactory, make_request

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db


@time_machine.travel(dt.datetime(2026, 4, 2, 10, tzinfo=UTC), tick=False)
def test_an_objection_excludes_the_person_from_marketing_from_that_moment() -> None:
    objector = PersonFactory()
    other = PersonFactory(account=objector.account)
    assert set(Person.objects.marketable()) == {objector, other}
    request = make_request(objector, type=Request.Type.OBJECTION)
    services.request_execute(request=request)
    objector.refresh_from_db()
    assert objector.objected_to_marketing_at == dt.datetime(2026, 4, 2, 10, tzinfo=UTC)
    assert objector.objection_request == request
    assert list(Person.objects.marketable()) == [other]
    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED
    assert request.events.filter(kind=RequestEvent.Kind.OBJECTION, message__contains="excluded from marketing").exists()
    assert objector.history.filter(history_change_reason=f"objection, request {request.pk}").exists()


def test_objecting_twice_keeps_the_first_objection() -> None:
    person = PersonFactory()
    with time_machine.travel(dt.datetime(2026, 4, 2, 10, tzinfo=UTC), tick=False):
        first = make_request(person, type=Request.Type.OBJECTION)
        services.request_execute(request=first)
    with time_machine.travel(dt.datetime(2026, 5, 2, 10, tzinfo=UTC), tick=False):
        second = make_request(person, type=Request.Type.OBJECTION)
        assert services.person_object(request=second) is False
    person.refresh_from_db()
    assert person.objected_to_marketing_at == dt.datetime(2026, 4, 2, 10, tzinfo=UTC)
    assert person.objection_request == first
