from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from dsar import services
from dsar.models import Jurisdiction, Request, RequestEvent, add_months
from tests.dsar.factories import CaptureOnCommit, PersonFactory, make_request

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db


def received(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-01-31", 1, "2026-02-28"),
        ("2028-01-31", 1, "2028-02-29"),  # leap year
        ("2026-03-31", 1, "2026-04-30"),
        ("2026-12-15", 1, "2027-01-15"),
        ("2026-11-30", 3, "2027-02-28"),
        ("2026-02-28", 1, "2026-03-28"),
    ],
)
def test_adding_calendar_months_keeps_the_day_or_falls_to_the_month_end(start: str, months: int, expected: str) -> None:
    assert add_months(dt.date.fromisoformat(start), months) == dt.date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("law", "received_on", "due", "extended"),
    [
        ("gdpr", "2026-01-31", "2026-02-28", "2026-04-30"),
        ("gdpr", "2028-01-31", "2028-02-29", "2028-04-30"),
        ("uk-gdpr", "2026-01-15", "2026-02-15", "2026-04-15"),
        ("gdpr", "2026-11-30", "2026-12-30", "2027-02-28"),
        ("ccpa", "2026-01-01", "2026-02-15", "2026-04-01"),
        ("pipeda", "2026-02-01", "2026-03-03", "2026-04-02"),
        ("lgpd", "2026-02-20", "2026-03-07", None),
    ],
)
def test_each_law_sets_its_deadline_and_extension(law: str, received_on: str, due: str, extended: str | None) -> None:
    jurisdiction = Jurisdiction.objects.get(code=law)
    day = dt.date.fromisoformat(received_on)
    assert jurisdiction.due_date(day) == dt.date.fromisoformat(due)
    expected = dt.date.fromisoformat(extended) if extended else None
    assert jurisdiction.extended_due_date(day) == expected


def test_the_seeded_laws_are_there() -> None:
    assert set(Jurisdiction.objects.values_list("code", flat=True)) >= {"gdpr", "uk-gdpr", "ccpa", "lgpd", "pipeda"}


@time_machine.travel(dt.datetime(2026, 2, 3, 9, tzinfo=UTC), tick=False)
def test_a_request_received_on_31_january_is_due_the_last_day_of_february() -> None:
    request = make_request(received_at=received("2026-01-31"))
    assert request.due_at == dt.date(2026, 2, 28)
    assert request.first_due_at == dt.date(2026, 2, 28)
    assert request.days_left(dt.date(2026, 2, 3)) == 25


@time_machine.travel(dt.datetime(2026, 2, 10, 9, tzinfo=UTC), tick=False)
def test_an_extension_moves_the_deadline_and_tells_the_person(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    request = make_request(received_at=received("2026-01-31"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_extend(request=request, reason="Records are spread over four products.")
    request.refresh_from_db()
    assert request.due_at == dt.date(2026, 4, 30)
    assert request.first_due_at == dt.date(2026, 2, 28)
    assert request.extension_reason == "Records are spread over four products."
    assert request.extension_notified_at is not None
    assert [message.to for message in mail.outbox] == [[request.person.email]]
    assert "Records are spread over four products." in mail.outbox[0].body
    assert request.events.filter(kind=RequestEvent.Kind.EXTENDED).count() == 1


@time_machine.travel(dt.datetime(2026, 2, 10, 9, tzinfo=UTC), tick=False)
def test_an_extension_is_allowed_only_once() -> None:
    request = make_request(received_at=received("2026-01-31"))
    services.request_extend(request=request, reason="Complex request.")
    with pytest.raises(ValidationError) as error:
        services.request_extend(request=request, reason="Still complex.")
    assert "reason" in error.value.message_dict
    request.refresh_from_db()
    assert request.due_at == dt.date(2026, 4, 30)


@time_machine.travel(dt.datetime(2026, 2, 10, 9, tzinfo=UTC), tick=False)
def test_an_extension_needs_a_reason() -> None:
    request = make_request(received_at=received("2026-01-31"))
    with pytest.raises(ValidationError) as error:
        services.request_extend(request=request, reason="  ")
    assert "reason" in error.value.message_dict
    request.refresh_from_db()
    assert request.extended_at is None


def test_an_extension_is_refused_once_the_first_deadline_has_passed(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    time_machine.move_to(dt.datetime(2026, 2, 1, 9, tzinfo=UTC), tick=False)
    request = make_request(received_at=received("2026-01-31"))
    time_machine.move_to(dt.datetime(2026, 2, 28, 23, tzinfo=UTC), tick=False)
    assert request.days_left(dt.date(2026, 2, 28)) == 0  # the last day itself is still in time
    time_machine.move_to(dt.datetime(2026, 3, 1, 9, tzinfo=UTC), tick=False)
    with pytest.raises(ValidationError) as error:
        services.request_extend(request=request, reason="Too late.")
    assert "passed" in error.value.message_dict["reason"][0]
    request.refresh_from_db()
    assert request.due_at == dt.date(2026, 2, 28)


@time_machine.travel(dt.datetime(2026, 2, 22, 9, tzinfo=UTC), tick=False)
def test_a_law_without_extension_refuses_one() -> None:
    request = make_request(jurisdiction="lgpd", received_at=received("2026-02-20"))
    with pytest.raises(ValidationError) as error:
        services.request_extend(request=request, reason="Busy.")
    assert "allows no extension" in error.value.message_dict["reason"][0]


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False)
def test_overdue_and_due_soon_requests_are_told_apart() -> None:
    overdue = make_request(received_at=received("2026-02-01"))  # due 1 March
    soon = make_request(received_at=received("2026-02-12"))  # due 12 March
    later = make_request(received_at=received("2026-03-05"))  # due 5 April
    closed = make_request(received_at=received("2026-01-05"))
    services.request_reject(request=closed, reason="Duplicate of an earlier request.")
    today = dt.date(2026, 3, 10)
    assert list(Request.objects.overdue(today)) == [overdue]
    assert list(Request.objects.due_within(today, 7)) == [soon]
    assert overdue.is_overdue(today) and not later.is_overdue(today)


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False)
def test_a_request_cannot_be_received_in_the_future() -> None:
    person = PersonFactory()
    with pytest.raises(ValidationError) as error:
        services.request_create(
            account=person.account,
            person=person,
            type="access",
            jurisdiction="gdpr",
            received_at=received("2026-03-11"),
        )
    assert "received_at" in error.value.message_dict
