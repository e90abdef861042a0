"""Numbers and dates at the edges of the calendar answer 400 naming the field, or a command error; never a 500."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from rest_framework.test import APIClient

from dsar.intake import person_for_intake
from dsar.models import Jurisdiction, add_months, e164_validator
from recordings.services import history_export_range
from residency.models import Account
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff_api() -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory())
    return client


def test_an_enormous_due_within_answers_400_naming_it() -> None:
    response = staff_api().get("/api/v1/dsar/requests/?due_within=99999999")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "due_within"


@pytest.mark.parametrize(("start", "end", "field"), [("9999-12-01", "9999-12-31", "end"), ("9999-12-31", "9999-12-31", "start")])
def test_an_export_at_the_end_of_the_calendar_answers_400_naming_the_field(start: str, end: str, field: str) -> None:
    account = AccountFactory()

    response = staff_api().post(
        "/api/v1/exports/", {"kind": "call_history", "start": start, "end": end, "account": account.pk}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == field


def test_dsar_due_refuses_an_enormous_window_with_a_message() -> None:
    with pytest.raises(CommandError, match="--within: give a number of days from 0 to 3650"):
        call_command("dsar_due", "--within", "99999999", stdout=StringIO())


def test_export_history_refuses_dates_at_the_end_of_the_calendar_with_a_message() -> None:
    account = AccountFactory()

    with pytest.raises(CommandError, match="--end"):
        call_command(
            "export_history", str(account.pk), "--kind", "call_history", "--start", "9999-12-01", "--end", "9999-12-31",
            stdout=StringIO(),
        )


def test_export_history_refuses_an_account_id_beyond_any_database_integer() -> None:
    with pytest.raises(CommandError, match="account"):
        call_command("export_history", "9" * 30, "--kind", "call_history", stdout=StringIO())


# --- properties -----------------------------------------------------------------------------------

DATES = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9998, 1, 1))


@settings(max_examples=300, deadline=None)
@given(DATES, st.integers(min_value=0, max_value=36))
def test_adding_months_lands_in_the_right_month_never_past_its_end(day: dt.date, months: int) -> None:
    result = add_months(day, months)

    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == day.day or (result.day < day.day and (result + dt.timedelta(days=1)).day == 1)
    assert result >= day


@settings(max_examples=200, deadline=None)
@given(DATES, DATES)
def test_deadlines_never_fall_before_receipt_and_keep_the_order_of_receipt(first: dt.date, second: dt.date) -> None:
    for law in (
        Jurisdiction(code="gdpr", name="GDPR", period=1, period_unit="months", extension=2, extension_unit="months"),
        Jurisdiction(code="ccpa", name="CCPA", period=45, period_unit="days", extension=45, extension_unit="days"),
        Jurisdiction(code="mixed", name="Mixed", period=1, period_unit="months", extension=30, extension_unit="days"),
    ):
        earlier, later = sorted((first, second))
        assert earlier < law.due_date(earlier) <= law.due_date(later)
        assert law.due_date(earlier) < law.extended_due_date(earlier)


class ExportRangeProperties(HypothesisTestCase):
    @settings(max_examples=150, deadline=None)
    @given(st.none() | st.dates(), st.none() | st.dates(), st.dates(min_value=dt.date(2, 1, 1), max_value=dt.date(9998, 1, 1)))
    def test_any_dates_give_a_valid_range_or_an_error_naming_a_field(
        self, start: dt.date | None, end: dt.date | None, today: dt.date
    ) -> None:
        account = Account(name="x", plan=Account.Plan.ENTERPRISE)
        try:
            first, last = history_export_range(account=account, kind="call_history", start=start, end=end, today=today)
        except ValidationError as error:
            assert set(error.message_dict) <= {"start", "end"}
            return
        assert first <= last
        assert (last - first).days <= 366
        if start is None and end is None:
            assert (first.year, first.month, first.day) == (today.year, today.month, 1)
            assert last.month == today.month


class IntakeProperties(HypothesisTestCase):
    @settings(max_examples=100, deadline=None)
    @given(st.text(max_size=60), st.text(max_size=30))
    def test_any_typed_email_or_phone_is_accepted_or_refused_naming_the_field(self, email: str, phone: str) -> None:
        account = AccountFactory()
        try:
            person = person_for_intake(account=account, email=email, phone=phone, name="")
        except ValidationError as error:
            assert set(error.message_dict) <= {"email", "phone"}
            return
        assert person.pk is not None
        if phone.strip():
            e164_validator(phone.strip())


@pytest.mark.parametrize(
    "path",
    ["/api/v1/recordings/99999999999999999999999/", "/api/v1/dsar/requests/99999999999999999999999/", "/api/v1/accounts/99999999999999999999999/"],
)
def test_an_id_beyond_any_database_integer_answers_404(path: str) -> None:
    assert staff_api().get(path).status_code == 404
