from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from dsar.models import (
    ErasureProgress,
    Export,
    Jurisdiction,
    Person,
    Request,
    RequestEvent,
)
from tests.dsar.factories import (
    CaptureOnCommit,
    FakeSource,
    PersonFactory,
    UseSources,
    make_request,
)
from tests.factories import UserFactory

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/dsar/request/"


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(UserFactory(username="analyst"))
    return client


def act(console: Client, action: str, request: Request, text: str = "", **more: str) -> list[str]:
    response = console.post(
        CHANGELIST,
        {"action": action, ACTION_CHECKBOX_NAME: [request.pk], "text": text, "post": "yes", **more},
        follow=True,
    )
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def execute_from_preview(console: Client, request: Request) -> list[str]:
    """The erasure preview's button: the request page's "execute", confirmed (an erasure never runs from the list)."""
    response = console.post(
        f"{CHANGELIST}{request.pk}/change/", {"_request_action": "execute", "post": "yes"}, follow=True
    )
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False)
def test_the_list_shows_days_left_with_overdue_highlighted_and_filters(console: Client) -> None:
    overdue = make_request(received_at=dt.datetime(2026, 2, 1, 9, tzinfo=UTC))
    soon = make_request(received_at=dt.datetime(2026, 2, 12, 9, tzinfo=UTC), type="access")
    page = console.get(CHANGELIST).content.decode()
    assert "8 overdue" in page  # due Sunday 1 March, moved to Monday 2 March
    overdue_page = console.get(CHANGELIST, {"deadline": "overdue"})
    assert list(overdue_page.context["cl"].result_list) == [overdue]
    week_page = console.get(CHANGELIST, {"deadline": "week"})
    assert list(week_page.context["cl"].result_list) == [soon]
    assert list(console.get(CHANGELIST, {"type__exact": "access"}).context["cl"].result_list) == [soon]
    assert console.get(f"{CHANGELIST}{overdue.pk}/change/").status_code == 200


def test_staff_start_a_request_from_people(
    console: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    person = PersonFactory()
    law = Jurisdiction.objects.get(code="ccpa")
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            "/admin/dsar/person/",
            {
                "action": "start_request",
                ACTION_CHECKBOX_NAME: [person.pk],
                "request_type": "access",
                "jurisdiction": law.pk,
                "channel": "phone",
                "post": "yes",
            },
            follow=True,
        )
    assert response.status_code == 200
    request = Request.objects.get(person=person)
    assert (request.type, request.jurisdiction, request.channel) == ("access", law, "phone")
    assert request.history.first().history_origin == "admin"
    assert request.events.first().actor == "analyst"
    assert console.get(f"/admin/dsar/person/{person.pk}/change/").status_code == 200


def test_staff_choose_the_language_the_person_is_written_to_in(console: Client) -> None:
    person = PersonFactory()
    law = Jurisdiction.objects.get(code="gdpr")
    form = {
        "action": "start_request",
        ACTION_CHECKBOX_NAME: [person.pk],
        "request_type": "erasure",
        "jurisdiction": law.pk,
        "language": "sv",
    }
    asked = console.post("/admin/dsar/person/", form)
    assert "written in Swedish" in asked.content.decode()
    assert not Request.objects.filter(person=person).exists()

    console.post("/admin/dsar/person/", {**form, "post": "yes"})
    request = Request.objects.get(person=person)
    assert request.language == "sv"
    assert "Swedish: what the person receives" in console.get(f"{CHANGELIST}{request.pk}/change/").content.decode()


def test_an_unknown_language_is_refused_naming_the_field(console: Client) -> None:
    person = PersonFactory()
    law = Jurisdiction.objects.get(code="gdpr")
    response = console.post(
        "/admin/dsar/person/",
        {"action": "start_request", ACTION_CHECKBOX_NAME: [person.pk], "request_type": "erasure",
         "jurisdiction": law.pk, "language": "xx", "post": "yes"},
        follow=True,
    )
    assert "Language: choose one of" in response.content.decode()
    assert not Request.objects.filter(person=person).exists()


def test_the_verify_action_needs_a_note_and_records_it(console: Client) -> None:
    request = make_request(verified=False)
    assert "not verified" in act(console, "verify", request)[0]
    act(console, "verify", request, text="Matched the ticket history.")
    request.refresh_from_db()
    assert request.verification_method == "manual"
    assert request.events.get(kind=RequestEvent.Kind.VERIFIED).actor == "analyst"


@time_machine.travel(dt.datetime(2026, 2, 10, 9, tzinfo=UTC), tick=False)
def test_the_extend_action(console: Client) -> None:
    request = make_request(received_at=dt.datetime(2026, 1, 31, 9, tzinfo=UTC))
    assert "extended to 2026-04-30" in act(console, "extend", request, text="Four products to search.")[0]


def test_preview_execute_and_complete_an_erasure_from_the_console(console: Client, use_sources: UseSources) -> None:
    use_sources(FakeSource("recordings"))
    request = make_request()
    assert "ticket 2" in act(console, "preview_erasure", request)[0]
    assert "scan: 0 undeclared" in execute_from_preview(console, request)[0]
    act(console, "complete", request)
    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED and not Person.objects.exists()
    assert console.get(f"{CHANGELIST}{request.pk}/change/").status_code == 200


def test_generate_export_and_reject_from_the_console(
    console: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    portability = make_request(type="portability")
    with django_capture_on_commit_callbacks(execute=True):
        act(console, "generate_export", portability)
    assert Export.objects.get(request=portability).status == Export.Status.READY
    other = make_request(type="access")
    act(console, "reject", other, text="Manifestly unfounded.", denial_reason="suspected_fraud")
    other.refresh_from_db()
    assert other.status == Request.Status.REJECTED and other.status_reason == "Manifestly unfounded."
    assert other.denial_reason == "suspected_fraud"
    assert other.events.get(kind="rejected").message.startswith(
        "Rejected: Manifestly unfounded. Denial reason: suspected fraud."
    )


@pytest.mark.parametrize(
    ("posted", "error"),
    [
        ({"text": "Unfounded."}, "Denial reason: choose one."),
        ({"text": "Unfounded.", "denial_reason": "bored"}, "Denial reason: choose one of the list."),
        ({"denial_reason": "no_match"}, "Reason for rejecting: required"),
    ],
)
def test_a_rejection_without_its_denial_reason_or_words_asks_again_naming_the_field(
    console: Client, posted: dict[str, str], error: str
) -> None:
    request = make_request(type="access")
    response = console.post(
        CHANGELIST, {"action": "reject", ACTION_CHECKBOX_NAME: [request.pk], "post": "yes", **posted}
    )
    assert response.status_code == 200 and error in response.content.decode()
    assert 'name="denial_reason"' in response.content.decode()
    request.refresh_from_db()
    assert request.status != Request.Status.REJECTED and not request.denial_reason


def test_the_request_page_and_the_list_filter_show_the_denial_reason(console: Client) -> None:
    rejected, other = make_request(type="access"), make_request(type="access")
    act(console, "reject", rejected, text="No account under that address.", denial_reason="no_match")
    page = console.get(f"{CHANGELIST}{rejected.pk}/change/").content.decode()
    assert 'Rejected <span class="denial-reason">(No data found for the person)</span>: No account under that address.' in page
    filtered = console.get(CHANGELIST, {"denial_reason__exact": "no_match"})
    assert list(filtered.context["cl"].result_list) == [rejected]
    assert other not in filtered.context["cl"].result_list


def test_the_access_report_page_and_downloads(console: Client) -> None:
    request = make_request(type="access")
    url = f"{CHANGELIST}{request.pk}/report/"
    page = console.get(url)
    assert page.status_code == 200 and request.person.email in page.content.decode()
    download = console.get(url, {"format": "json"})
    assert download["Content-Disposition"].startswith("attachment") and download.json()["request"] == request.pk
    html = console.get(url, {"format": "html"})
    assert html["Content-Disposition"].endswith('.html"') and b"Your personal data" in html.content
    assert "no-store" in download["Cache-Control"] and "no-store" in html["Cache-Control"]


def test_an_answered_access_request_links_to_its_report_as_when_it_was_answered(console: Client) -> None:
    request = make_request(type="access")
    act(console, "execute", request)
    request.refresh_from_db()
    assert request.executed_at is not None

    page = console.get(f"{CHANGELIST}{request.pk}/change/").content.decode()
    link = f"{CHANGELIST}{request.pk}/report/?as_of="
    assert link in page and "as when answered" in page
    report = console.get(f"{CHANGELIST}{request.pk}/report/", {"as_of": request.executed_at.isoformat()}).content.decode()
    assert "Where the data was on " in report and request.executed_at.isoformat()[:10] not in report


def test_rectify_from_the_request_page(console: Client) -> None:
    person = PersonFactory(name="Wrong Name")
    request = make_request(person, type="rectification")
    url = f"{CHANGELIST}{request.pk}/rectify/"
    assert console.get(url).status_code == 200
    response = console.post(
        url, {"kind": "end_user", "name": "Right Name", "email": person.email, "phone": "bad", "external_id": ""}
    )
    assert response.status_code == 200 and "phone" in response.context["form"].errors
    response = console.post(
        url, {"kind": "end_user", "name": "Right Name", "email": person.email, "phone": person.phone, "external_id": ""}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.name == "Right Name"
    assert person.history.first().history_origin == "admin"


def test_an_execution_stopped_by_an_error_in_the_console_resumes_when_run_again(
    console: Client, use_sources: UseSources
) -> None:
    use_sources(FakeSource("recordings", fail_on=2))
    request = make_request()
    assert "execute again to resume" in execute_from_preview(console, request)[0]
    assert ErasureProgress.objects.filter(request=request).count() == 3  # step 1 of the three sources
    assert "(3 already done); scan: 0 undeclared" in execute_from_preview(console, request)[0]
    assert ErasureProgress.objects.filter(request=request).count() == 9


def test_staff_file_a_test_request_which_the_page_and_a_list_filter_show(console: Client) -> None:
    person, other = PersonFactory(), PersonFactory()
    law = Jurisdiction.objects.get(code="gdpr")
    form = {"action": "start_request", ACTION_CHECKBOX_NAME: [person.pk], "request_type": "access",
            "jurisdiction": law.pk, "is_test": "on"}
    asked = console.post("/admin/dsar/person/", form)
    assert "marked as a test request" in asked.content.decode() and 'name="is_test" value="on"' in asked.content.decode()

    console.post("/admin/dsar/person/", {**form, "post": "yes"})
    console.post("/admin/dsar/person/", {**form, ACTION_CHECKBOX_NAME: [other.pk], "is_test": "", "post": "yes"})
    test, real = Request.objects.get(person=person), Request.objects.get(person=other)
    assert (test.is_test, real.is_test) == (True, False)
    assert "Filed as a test" in test.events.get(kind=RequestEvent.Kind.RECEIVED).message
    assert "a test request: left out of the yearly metrics" in console.get(f"{CHANGELIST}{test.pk}/change/").content.decode()
    assert "a test request" not in console.get(f"{CHANGELIST}{real.pk}/change/").content.decode()
    assert list(console.get(CHANGELIST, {"is_test__exact": "1"}).context["cl"].result_list) == [test]
    assert list(console.get(CHANGELIST, {"is_test__exact": "0"}).context["cl"].result_list) == [real]
