from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from dsar import services
from dsar.deadlines import on_working_day
from dsar.models import Jurisdiction, Request, RequestEvent, add_months
from tests.dsar.factories import AccountFactory, CaptureOnCommit, PersonFactory, make_request

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


@time_machine.travel(dt.datetime(2025, 2, 3, 9, tzinfo=UTC), tick=False)
def test_a_request_received_on_31_january_is_due_the_last_day_of_february() -> None:
    request = make_request(received_at=received("2025-01-31"))
    assert request.due_at == dt.date(2025, 2, 28)
    assert request.first_due_at == dt.date(2025, 2, 28)
    assert request.days_left(dt.date(2025, 2, 3)) == 25


@time_machine.travel(dt.datetime(2025, 2, 10, 9, tzinfo=UTC), tick=False)
def test_an_extension_moves_the_deadline_and_tells_the_person(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    request = make_request(received_at=received("2025-01-31"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_extend(request=request, reason="Records are spread over four products.")
    request.refresh_from_db()
    assert request.due_at == dt.date(2025, 4, 30)
    assert request.first_due_at == dt.date(2025, 2, 28)
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
    time_machine.move_to(dt.datetime(2025, 2, 1, 9, tzinfo=UTC), tick=False)
    request = make_request(received_at=received("2025-01-31"))
    time_machine.move_to(dt.datetime(2025, 2, 28, 22, tzinfo=UTC), tick=False)
    assert request.days_left(dt.date(2025, 2, 28)) == 0  # the last day itself is still in time
    time_machine.move_to(dt.datetime(2025, 3, 1, 9, tzinfo=UTC), tick=False)
    with pytest.raises(ValidationError) as error:
        services.request_extend(request=request, reason="Too late.")
    assert "passed" in error.value.message_dict["reason"][0]
    request.refresh_from_db()
    assert request.due_at == dt.date(2025, 2, 28)


@time_machine.travel(dt.datetime(2026, 2, 22, 9, tzinfo=UTC), tick=False)
def test_a_law_without_extension_refuses_one() -> None:
    request = make_request(jurisdiction="lgpd", received_at=received("2026-02-20"))
    with pytest.raises(ValidationError) as error:
        services.request_extend(request=request, reason="Busy.")
    assert "allows no extension" in error.value.message_dict["reason"][0]


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False)
def test_overdue_and_due_soon_requests_are_told_apart() -> None:
    overdue = make_request(received_at=received("2026-02-01"))  # due Sunday 1 March, so Monday 2 March
    soon = make_request(received_at=received("2026-02-12"))  # due 12 March
    later = make_request(received_at=received("2026-03-05"))  # due 5 April
    closed = make_request(received_at=received("2026-01-05"))
    services.request_reject(request=closed, reason="Duplicate of an earlier request.", denial_reason="too_many_requests")
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


# --- the working day (Regulation 1182/71, Art. 3(4)) and the account's day of receipt ------------------------

CHRISTMAS_SE = (
    "due Mon 29 Dec 2025: 25 Dec 2025 is Christmas Day, 26 Dec 2025 is Second Day of Christmas, "
    "27–28 Dec 2025 are a weekend"
)
CHRISTMAS_GB = (
    "due Mon 29 Dec 2025: 25 Dec 2025 is Christmas Day, 26 Dec 2025 is Boxing Day, 27–28 Dec 2025 are a weekend"
)


@pytest.mark.parametrize(
    ("law", "country", "received_on", "due", "note"),
    [
        ("gdpr", "SE", "2025-01-31", "2025-02-28", ""),
        ("gdpr", "SE", "2024-01-31", "2024-02-29", ""),
        ("gdpr", "SE", "2025-10-31", "2025-12-01", "due Mon 1 Dec 2025: 30 Nov 2025 is a Sunday"),
        ("gdpr", "SE", "2025-11-25", "2025-12-29", CHRISTMAS_SE),
        ("uk-gdpr", "GB", "2025-11-25", "2025-12-29", CHRISTMAS_GB),
        ("gdpr", "FR", "2025-11-25", "2025-12-26", "due Fri 26 Dec 2025: 25 Dec 2025 is Christmas Day"),
        ("gdpr", "SE", "2025-12-01", "2026-01-02", "due Fri 2 Jan 2026: 1 Jan 2026 is New Year's Day"),
        ("gdpr", "", "2025-11-25", "2025-12-25", ""),
        ("gdpr", "", "2025-10-31", "2025-12-01", "due Mon 1 Dec 2025: 30 Nov 2025 is a Sunday"),
        ("ccpa", "US", "2025-10-15", "2025-11-29", ""),
        ("ccpa", "US", "2025-10-13", "2025-11-27", ""),
    ],
    ids=[
        "31-jan-gives-28-feb",
        "31-jan-gives-29-feb-in-a-leap-year",
        "a-sunday-moves-to-monday",
        "christmas-in-sweden-moves-past-the-holidays-and-the-weekend",
        "christmas-in-britain-names-boxing-day",
        "christmas-in-france-is-one-day",
        "new-years-day-moves-into-the-new-year",
        "no-country-no-holidays",
        "no-country-still-weekends",
        "ccpa-stays-on-a-saturday",
        "ccpa-stays-on-thanksgiving",
    ],
)
def test_a_deadline_moves_to_the_next_working_day_where_the_law_says_so_and_says_why(
    time_machine: time_machine.TimeMachineFixture, law: str, country: str, received_on: str, due: str, note: str
) -> None:
    time_machine.move_to(received(received_on), tick=False)
    person = PersonFactory(account=AccountFactory(country=country))

    request = make_request(person, jurisdiction=law, received_at=received(received_on))

    assert request.due_at == request.first_due_at == dt.date.fromisoformat(due)
    assert request.due_note == note
    received_event = request.events.get(kind=RequestEvent.Kind.RECEIVED).message
    assert f"due {due}" in received_event
    assert (note.split(": ", 1)[1] in received_event) if note else received_event.endswith(f"due {due}.")


@time_machine.travel(dt.datetime(2025, 3, 10, 9, tzinfo=UTC), tick=False)
def test_a_request_received_at_23_30_utc_is_dated_the_next_day_in_an_account_two_hours_ahead() -> None:
    helsinki = AccountFactory(country="FI", time_zone="Europe/Helsinki")  # UTC+2 until 30 March
    reykjavik = AccountFactory(country="IS", time_zone="Atlantic/Reykjavik")  # UTC all year
    moment = dt.datetime(2025, 3, 9, 23, 30, tzinfo=UTC)

    ahead = services.request_create(
        account=helsinki, type="access", jurisdiction="gdpr", email="aino@example.fi", received_at=moment
    )
    level = services.request_create(
        account=reykjavik, type="access", jurisdiction="gdpr", email="jon@example.is", received_at=moment
    )

    assert ahead.received_on == dt.date(2025, 3, 10) and ahead.due_at == dt.date(2025, 4, 10)
    assert level.received_on == dt.date(2025, 3, 9) and level.due_at == dt.date(2025, 4, 9)


@time_machine.travel(dt.datetime(2025, 3, 10, 9, tzinfo=UTC), tick=False)
def test_an_account_without_a_time_zone_dates_receipt_in_its_home_regions() -> None:
    account = AccountFactory(country="BE")  # EEA: Europe/Brussels, UTC+1 in March

    request = services.request_create(
        account=account,
        type="access",
        jurisdiction="gdpr",
        email="lotte@example.be",
        received_at=dt.datetime(2025, 3, 9, 23, 30, tzinfo=UTC),
    )

    assert request.received_on == dt.date(2025, 3, 10) and request.due_at == dt.date(2025, 4, 10)


@time_machine.travel(dt.datetime(2025, 10, 1, 9, tzinfo=UTC), tick=False)
def test_an_extension_is_counted_from_receipt_and_moved_off_the_holidays_with_its_note() -> None:
    person = PersonFactory(account=AccountFactory(country="SE", time_zone="Europe/Stockholm"))
    request = make_request(person, received_at=received("2025-09-25"))
    assert request.first_due_at == dt.date(2025, 10, 27)
    assert request.due_note == "due Mon 27 Oct 2025: 25–26 Oct 2025 are a weekend"

    services.request_extend(request=request, reason="Records are spread over four products.")

    request.refresh_from_db()
    assert request.first_due_at == dt.date(2025, 10, 27)
    assert request.due_at == dt.date(2025, 12, 29)
    assert request.due_note == CHRISTMAS_SE
    assert request.history.first().due_note == CHRISTMAS_SE  # the change is in the history
    assert request.history.first().history_change_reason == "deadline extended"
    extended = request.events.get(kind=RequestEvent.Kind.EXTENDED).message
    assert "to 2025-12-29 (25 Dec 2025 is Christmas Day" in extended


@time_machine.travel(dt.datetime(2025, 11, 3, 9, tzinfo=UTC), tick=False)
def test_an_extension_that_ends_on_a_working_day_clears_the_first_deadlines_note() -> None:
    person = PersonFactory(account=AccountFactory(country="SE"))
    request = make_request(person, received_at=received("2025-10-30"))
    assert request.due_note == "due Mon 1 Dec 2025: 30 Nov 2025 is a Sunday"

    services.request_extend(request=request, reason="Complex request.")

    request.refresh_from_db()
    assert request.due_at == dt.date(2026, 1, 30)  # a Friday
    assert request.due_note == ""


def test_a_weekend_split_by_a_holiday_names_each_day() -> None:
    moved = on_working_day(dt.date(2025, 11, 1), country="SE")  # All Saints' Day falls on a Saturday

    assert moved.day == dt.date(2025, 11, 3)
    assert moved.note == "due Mon 3 Nov 2025: 1 Nov 2025 is All Saints' Day, 2 Nov 2025 is a Sunday"


def test_a_country_without_a_holiday_calendar_moves_off_weekends_only() -> None:
    assert on_working_day(dt.date(2025, 12, 25), country="AC").note == ""  # Ascension Island: not in the calendar
    assert on_working_day(dt.date(2025, 12, 27), country="AC").day == dt.date(2025, 12, 29)
