"""Numbers and dates at the edges of the calendar answer 400 naming the field, or a command error; never a 500."""

from __future__ import annotations

import base64
import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from rest_framework.test import APIClient

from core.api.parsers import nesting_depth
from core.bounds import MAX_ID, moment_in_range
from dsar.intake import person_for_intake
from dsar.models import Jurisdiction, add_months, e164_validator
from recordings.services import history_export_range
from residency.models import Account
from tests.factories import AccountFactory, UserFactory
from tests.recordings.factories import CallFactory

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

# Up to 36 months (a deadline with its extension) after the last of them is still inside the calendar.
DATES = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9996, 12, 31))


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


# --- what a fuzzer sends: every answer a 4xx naming the field, never a 500 --------------------------------

LISTS = ["/api/v1/calls/", "/api/v1/recordings/", "/api/v1/tickets/", "/api/v1/monitoring/", "/api/v1/texts/"]
CURSOR_LISTS = [*LISTS, "/api/v1/dsar/requests/"]
#: Every operation that reads a JSON body.
BODIES = [
    "/api/v1/accounts/",
    "/api/v1/dsar/requests/",
    "/api/v1/dsar/requests/1/verify/",
    "/api/v1/dsar/requests/1/extend/",
    "/api/v1/dsar/requests/1/scan-hits/",
    "/api/v1/exports/",
]


def error_of(response: Any) -> tuple[int, str | None]:
    """The status and the field the (first) error names."""
    errors = response.json().get("errors", [{}]) if response.status_code >= 400 else [{}]
    return response.status_code, errors[0].get("attr")


@pytest.mark.parametrize("path", BODIES)
def test_a_body_nested_950_levels_deep_answers_400_naming_the_body(path: str) -> None:
    response = staff_api().post(path, "[" * 950 + "]" * 950, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "parse_error", "detail": "The request body nests arrays and objects deeper than 64 levels.", "attr": None}
    ]


@pytest.mark.parametrize("path", ["residency", "processing-record"])
def test_a_moment_before_the_calendar_once_in_utc_answers_400_naming_as_of(path: str) -> None:
    account = AccountFactory()

    response = staff_api().get(f"/api/v1/accounts/{account.pk}/{path}/", {"as_of": "0001-01-01T00:00:00+14:00"})

    assert error_of(response) == (400, "as_of")
    assert "outside the dates this service keeps" in response.json()["errors"][0]["detail"]


def test_the_access_report_as_of_a_moment_before_the_calendar_answers_400_naming_as_of() -> None:
    response = staff_api().get("/api/v1/dsar/requests/1/report/", {"as_of": "0001-01-01T00:00:00+14:00"})

    assert error_of(response) == (400, "as_of")


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(("parameter", "value"), [("since", "9999-12-31T23:59:59-12:00"), ("until", "0001-01-01T00:00:00+14:00")])
def test_a_moment_past_the_calendar_once_in_utc_answers_400_naming_it(path: str, parameter: str, value: str) -> None:
    assert error_of(staff_api().get(path, {parameter: value})) == (400, parameter)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("parameter", ["line", "person", "account"])
@pytest.mark.parametrize("value", ["99999999999999999999999", "1.5", "-3", "0"])
def test_an_id_no_row_can_have_answers_400_naming_it(path: str, parameter: str, value: str) -> None:
    assert error_of(staff_api().get(path, {parameter: value})) == (400, parameter)


@pytest.mark.parametrize("path", CURSOR_LISTS)
def test_a_cursor_the_list_never_gave_answers_400_naming_it(path: str) -> None:
    forged = base64.b64encode(b"p=9999-12-31 23:59:59-12:00&r=0").decode()

    assert error_of(staff_api().get(path, {"cursor": "not a cursor"})) == (400, "cursor")
    assert error_of(staff_api().get(path, {"cursor": forged})) == (400, "cursor")


def test_the_year_9999_in_the_date_hierarchy_is_the_changelists_invalid_filter(client: Client) -> None:
    client.force_login(UserFactory())

    response = client.get("/admin/dsar/request/", {"received_at__year": "9999"})

    assert response.status_code == 302 and response["Location"] == "/admin/dsar/request/?e=1"


def test_a_date_filter_past_the_calendar_is_the_changelists_invalid_filter(client: Client, settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"  # +09:18:59 in year 1: its first midnight is before UTC's calendar starts
    client.force_login(UserFactory())

    page = client.get("/admin/recordings/call/", {"started__gte": "0001-01-01"})
    export = client.get("/admin/recordings/recordingdeletion/export.csv", {"history_date__gte": "0001-01-01"})

    assert (page.status_code, page["Location"]) == (302, "/admin/recordings/call/?e=1")
    assert (export.status_code, export["Location"]) == (302, "/admin/recordings/recordingdeletion/?e=1")


def test_a_moment_with_an_offset_past_what_postgresql_takes_filters_as_the_same_moment(client: Client) -> None:
    """+16:00 is a valid ISO 8601 offset that PostgreSQL refuses: the moment reaches it in the current time zone."""
    CallFactory(started=dt.datetime(2025, 12, 31, 7, 59, tzinfo=dt.UTC))
    later = CallFactory(started=dt.datetime(2025, 12, 31, 8, 1, tzinfo=dt.UTC))
    client.force_login(UserFactory())

    page = client.get("/admin/recordings/call/", {"started__gte": "2026-01-01T00:00:00+16:00"})

    assert page.status_code == 200
    assert [call.pk for call in page.context["cl"].result_list] == [later.pk]


@pytest.mark.parametrize(
    ("path", "query"),
    [("/admin/dsar/request/", {"status": "open\x00"}), ("/admin/recordings/call/", {"direction": "in\x00"}), ("/admin/dsar/person/", {"q": "\x00"})],
)
def test_a_nul_character_in_a_console_filter_is_the_changelists_invalid_filter(client: Client, path: str, query: dict) -> None:
    client.force_login(UserFactory())

    response = client.get(path, query)

    assert response.status_code == 302 and response["Location"] == f"{path}?e=1"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ ab', max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\ ab', max_size=4), children, max_size=3),
    max_leaves=40,
)


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_the_nesting_depth_of_any_json_counts_its_arrays_and_objects_and_never_brackets_in_strings(value: Any) -> None:
    assert nesting_depth(json.dumps(value).encode()) == depth_of(value)


OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))
MOMENTS = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59), timezones=st.none() | OFFSETS)
IDS = st.integers(min_value=-(10**30), max_value=10**30) | st.integers(min_value=MAX_ID - 2, max_value=MAX_ID + 2)


class QueryParameterProperties(HypothesisTestCase):
    """Anything in a list's query parameters: a page, or a 400 naming the parameter."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff, cls.account = UserFactory(), AccountFactory()

    def api(self) -> APIClient:
        client = APIClient()
        client.force_authenticate(self.staff)
        return client

    @settings(max_examples=100, deadline=None)
    @given(st.sampled_from(LISTS), st.sampled_from(["since", "until"]), MOMENTS)
    def test_any_moment_answers_a_page_when_the_database_can_compare_it_else_400_naming_it(
        self, path: str, parameter: str, moment: dt.datetime
    ) -> None:
        response = self.api().get(path, {parameter: moment.isoformat()})

        assert error_of(response) == ((200, None) if moment_in_range(moment) else (400, parameter))

    @settings(max_examples=100, deadline=None)
    @given(st.sampled_from(LISTS), st.sampled_from(["line", "person", "account"]), IDS)
    def test_any_integer_answers_a_page_when_it_can_be_an_id_else_400_naming_it(self, path: str, parameter: str, value: int) -> None:
        response = self.api().get(path, {parameter: str(value)})

        assert error_of(response) == ((200, None) if 1 <= value <= MAX_ID else (400, parameter))

    @settings(max_examples=100, deadline=None)
    @given(
        st.sampled_from(CURSOR_LISTS),
        st.text(max_size=40) | st.builds(lambda position: base64.b64encode(f"p={position}".encode()).decode(), st.text(max_size=30)),
    )
    def test_any_cursor_answers_a_page_or_400_naming_it(self, path: str, cursor: str) -> None:
        assert error_of(self.api().get(path, {"cursor": cursor})) in {(200, None), (400, "cursor")}

    @settings(max_examples=100, deadline=None)
    @given(st.sampled_from(["residency", "processing-record"]), MOMENTS)
    def test_any_as_of_answers_the_report_or_400_naming_it(self, report: str, moment: dt.datetime) -> None:
        response = self.api().get(f"/api/v1/accounts/{self.account.pk}/{report}/", {"as_of": moment.isoformat()})

        assert error_of(response) in {(200, None), (400, "as_of")}
        if not moment_in_range(moment):
            assert error_of(response) == (400, "as_of")


class BodyProperties(HypothesisTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = UserFactory()

    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(BODIES), st.integers(min_value=0, max_value=3000), st.sampled_from(["[]", '{"a":}']))
    def test_a_body_of_any_depth_answers_400_refusing_it_past_64_levels(self, path: str, depth: int, brackets: str) -> None:
        opening, closing = brackets[:-1], brackets[-1]
        body = opening * depth + ("1" if opening.startswith("{") else "") + closing * depth

        client = APIClient()
        client.force_authenticate(self.staff)

        response = client.post(path, body, content_type="application/json")

        first_error = response.json()["errors"][0]
        assert (response.status_code == 400 and first_error["code"] == "parse_error") == (depth > 64)
        assert response.status_code in (400, 404)  # a body refused, or a valid one for a request that is not there


class ChangelistDateProperties(HypothesisTestCase):
    """Every changelist with a date hierarchy (requests, and django-axes' login logs) takes any year, month and
    day in its URL, and a date filter any moment: the page, or its "invalid filter" redirect."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = UserFactory()

    @settings(max_examples=100, deadline=None)
    @given(
        st.sampled_from([(model, model_admin.date_hierarchy) for model, model_admin in admin.site._registry.items() if model_admin.date_hierarchy]),
        st.integers(min_value=-1, max_value=10001) | st.integers(),
        st.none() | st.integers(min_value=-1, max_value=13),
        st.none() | st.integers(min_value=-1, max_value=32),
    )
    def test_any_year_month_and_day_answer_the_page_or_its_invalid_filter_redirect(
        self, changelist: tuple[type, str], year: int, month: int | None, day: int | None
    ) -> None:
        model, field = changelist
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        query = {f"{field}__{part}": value for part, value in (("year", year), ("month", month), ("day", day)) if value is not None}
        self.client.force_login(self.staff)

        response = self.client.get(url, query)

        assert (response.status_code, response.get("Location")) in {(200, None), (302, f"{url}?e=1")}

    @settings(max_examples=100, deadline=None)
    @given(st.sampled_from(["started__gte", "started__lt"]), MOMENTS)
    def test_any_moment_in_a_date_filter_answers_the_page_or_its_invalid_filter_redirect(self, lookup: str, moment: dt.datetime) -> None:
        self.client.force_login(self.staff)

        response = self.client.get("/admin/recordings/call/", {lookup: moment.isoformat()})

        assert (response.status_code, response.get("Location")) in {(200, None), (302, "/admin/recordings/call/?e=1")}
