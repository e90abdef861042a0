"""Nothing irreversible on one click: every admin action and every custom admin page of every registered model is
classified here, destructive (it deletes, emails someone, or cannot be undone) or harmless (with why), and the
classification fails as soon as an action or page appears that is not in it.

Every app's confirmation is the one page of core/confirmation.py (or Django's own, for ``delete_selected``). The
destructive actions of dsar, core and recordings are proven here: the first POST of the action (from the list, or
from the request page's button) answers a confirmation page (or, for one erasure, its preview, which is its
confirmation) and changes nothing: no row, no email. Only the POST of that page, carrying ``post=yes``, acts.

The recordings app's own pages (a recording's delete button, a hold's release button, a line's window change) and
the phone lines' deletion are proven in its own tests (tests/recordings/), with the reason each asks for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.test import Client, RequestFactory
from django.utils import timezone

from core.models import ApiKey
from core.services import api_key_create
from dsar import services
from dsar.models import Export, Jurisdiction, Person, Request
from tests.dsar.factories import PersonFactory, make_request, staff
from tests.factories import AccountFactory
from tests.recordings.factories import LegalHoldFactory, RecordingFactory, TicketFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Destructive:
    """Deletes, emails someone, or cannot be undone: a confirmation page comes first."""

    why: str
    #: Where its confirmation is proven: here (dsar, core, Django's own) or in its app's tests.
    proven_in: str = "tests/test_confirmations.py"


@dataclass(frozen=True)
class Harmless:
    """Changes nothing that cannot be changed back, and sends nothing: it runs on its click."""

    why: str


DJANGO_DELETE = "deletes the selected rows: Django's own confirmation page (delete_selected) comes first"
RECORDINGS_TESTS = "tests/recordings/"
HISTORY = "a past version, read-only: the history page refuses a POST (core.admin.HistoryAdmin)"

#: Every admin action, by (model, action name).
ACTIONS: dict[tuple[str, str], Destructive | Harmless] = {
    ("auth.group", "delete_selected"): Destructive(DJANGO_DELETE),
    ("auth.user", "delete_selected"): Destructive(DJANGO_DELETE),
    ("axes.accessattempt", "delete_selected"): Destructive(DJANGO_DELETE),
    ("axes.accessattempt", "cleanup_expired_attempts"): Harmless(
        "removes only lockout attempts past their cool-off, which lock no one out any more"
    ),
    ("axes.accesslog", "delete_selected"): Destructive(DJANGO_DELETE),
    ("axes.accessfailurelog", "delete_selected"): Destructive(DJANGO_DELETE),
    ("core.apikey", "revoke"): Destructive("a revoked key never works again"),
    **{
        (f"residency.{model}", "delete_selected"): Destructive(DJANGO_DELETE)
        for model in (
            "region", "product", "datacategory", "hostingoffer", "transientroute", "retentionrule", "integration",
            "subprocessor", "processingplatform", "processor", "catalogload", "account",
        )
    },
    ("dsar.jurisdiction", "delete_selected"): Destructive(DJANGO_DELETE),
    ("dsar.person", "start_request"): Destructive("a request is never deleted: it is the proof it was answered"),
    ("dsar.request", "verify"): Destructive("a verification is not withdrawn, and opens the way to execution"),
    ("dsar.request", "send_code"): Destructive("emails the person"),
    ("dsar.request", "extend"): Destructive("emails the person; an extension is not taken back"),
    ("dsar.request", "preview_erasure"): Harmless("reads what an erasure would do; records only that it was previewed"),
    ("dsar.request", "execute"): Destructive("erases, reports, sends an archive or records an objection"),
    ("dsar.request", "generate_export"): Destructive("emails the person a link to their data"),
    ("dsar.request", "resend_export"): Destructive("emails the person a link to their data again"),
    ("dsar.request", "complete"): Destructive("closes for good and drops the identifiers kept for the scan"),
    ("dsar.request", "reject"): Destructive("closes for good"),
    ("recordings.phoneline", "delete_selected"): Destructive(DJANGO_DELETE, RECORDINGS_TESTS),
    ("recordings.ticket", "soft_delete"): Destructive("the purge deletes it for good 7 days later"),
    ("recordings.ticket", "restore"): Harmless("undoes a soft deletion"),
    ("recordings.recording", "delete_permanently"): Destructive("deletes recordings for good"),
    ("recordings.legalhold", "release"): Destructive("what the hold kept may then be deleted"),
    ("recordings.recordingdeletion", "export_csv"): Harmless("a download of the deletion log, read-only"),
    ("recordings.providerdeletion", "retry_now"): Harmless(
        "retries at the provider a deletion the product already made; nothing new is deleted"
    ),
}

#: Every admin page of a model beyond Django's own (list, add, change, delete, history), by URL name.
PAGES: dict[str, Destructive | Harmless] = {
    "auth_user_password_change": Harmless("a form: its GET changes nothing, and a password can be set again"),
    "residency_hosting_matrix": Harmless("a read-only table"),
    "residency_account_residency": Harmless("a read-only report"),
    "residency_account_processing_record": Harmless("a read-only report"),
    "residency_account_processing_records_csv": Harmless("a read-only download"),
    "residency_account_processing_records_xlsx": Harmless("a read-only download"),
    "dsar_request_report": Harmless("a read-only report, for those who may download people's data"),
    "dsar_request_rectify": Harmless(
        "a form: its GET changes nothing; a correction is kept in history and can be corrected again"
    ),
    "dsar_request_scan_hits": Destructive("its redaction overwrites rows in place; it asks first"),
    "dsar_request_erasure_preview": Harmless(
        "the erasure's confirmation page: reads what it would do; only its button (post=yes) executes"
    ),
    "dsar_request_export_status": Harmless("an archive's progress, read-only"),
    "dsar_request_export_download": Harmless(
        "the archive for staff allowed to read people's data: a download, recorded on the request's timeline"
    ),
    "dsar_request_certificate": Harmless("the erasure's certificate as a document to file (PDF or HTML), read-only"),
    "dsar_request_agent_proof": Harmless(
        "an agent's signed authorization for staff allowed to read people's data: a download, recorded on the "
        "request's timeline"
    ),
    "dsar_request_metrics": Harmless("the yearly request metrics and their CSV download, read-only"),
    "dsar_request_verify_code": Harmless(
        "checks the code the person reads out (its typing is the confirmation); a GET only goes back to the request"
    ),
    "recordings_recording_delete_permanently": Destructive("deletes a recording for good", RECORDINGS_TESTS),
    "recordings_legalhold_release": Destructive("releases a hold: the purge may then delete what it kept", RECORDINGS_TESTS),
    "core_auditentry_verify": Harmless("runs the audit log's verification, which reads and writes nothing (POST only)"),
    "recordings_recordingdeletion_export": Harmless("a download of the deletion log, read-only"),
    "recordings_historyexport_status": Harmless("an export's progress, read-only"),
}
#: Every history page (django-simple-history's, one per model) is read-only.
HISTORY_PAGE = "_simple_history"


def superuser_request() -> Any:
    request = RequestFactory().get("/admin/")
    request.user = staff("confirmations")
    return request


def registered_actions() -> set[tuple[str, str]]:
    request = superuser_request()
    return {
        (model._meta.label_lower, name)
        for model, model_admin in admin.site._registry.items()
        for name in model_admin.get_actions(request)
    }


def registered_pages() -> set[str]:
    found = set()
    for model, model_admin in admin.site._registry.items():
        own = {f"{model._meta.app_label}_{model._meta.model_name}_{view}" for view in
               ("changelist", "add", "history", "delete", "change")}
        found |= {url.name for url in model_admin.get_urls() if url.name and url.name not in own}
    return found


def test_every_admin_action_is_classified() -> None:
    found = registered_actions()

    assert found - set(ACTIONS) == set(), "An admin action is not classified destructive or harmless in ACTIONS"
    assert set(ACTIONS) - found == set(), "ACTIONS lists an action that no longer exists"


def test_every_custom_admin_page_is_classified() -> None:
    found = {name for name in registered_pages() if not name.endswith(HISTORY_PAGE)}

    assert found - set(PAGES) == set(), "An admin page is not classified destructive or harmless in PAGES"
    assert set(PAGES) - found == set(), "PAGES lists a page that no longer exists"


def test_only_recordings_leave_the_proof_of_their_confirmations_to_their_own_tests() -> None:
    elsewhere = [key for key, kind in {**ACTIONS, **PAGES}.items() if getattr(kind, "proven_in", None) == RECORDINGS_TESTS]

    assert elsewhere and all(("recordings" in str(key)) for key in elsewhere)


# --- the proofs: the first click of each destructive dsar and core action asks, and changes nothing ---


def state(*rows: Any) -> tuple[dict[str, int], list[dict[str, Any]], int]:
    """Every table's row count, the acted-on rows' values, and the emails sent: what an action would change."""
    counts = {model._meta.label: model._default_manager.count() for model in apps.get_models()}
    values = [type(row)._default_manager.filter(pk=row.pk).values().first() for row in rows]
    return counts, values, len(mail.outbox)


@dataclass
class Case:
    changelist: str
    setup: Callable[[], Any]
    data: dict[str, Any]


def _executed_access() -> Request:
    request = make_request(type=Request.Type.ACCESS)
    services.request_execute(request=request, actor=staff())
    request.refresh_from_db()
    return request


def _archived() -> Request:
    """A portability request whose archive was built and emailed (the row only: the first click reads no file)."""
    request = make_request(type=Request.Type.PORTABILITY)
    Export.objects.create(
        request=request, status=Export.Status.READY, ready_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=7), file_name=f"request-{request.pk}/export.zip",
    )
    return request


def _gdpr() -> dict[str, Any]:
    return {"request_type": "access", "jurisdiction": Jurisdiction.objects.get(code="gdpr").pk}


REQUESTS = "/admin/dsar/request/"
CASES: dict[tuple[str, str], Case] = {
    ("dsar.request", "verify"): Case(REQUESTS, lambda: make_request(type="access", verified=False), {"text": "Passport"}),
    ("dsar.request", "send_code"): Case(REQUESTS, lambda: make_request(type="access", verified=False), {}),
    ("dsar.request", "extend"): Case(REQUESTS, lambda: make_request(type="access"), {"text": "Many systems"}),
    ("dsar.request", "execute"): Case(REQUESTS, lambda: make_request(type="portability"), {}),
    ("dsar.request", "generate_export"): Case(REQUESTS, lambda: make_request(type="portability"), {}),
    ("dsar.request", "resend_export"): Case(REQUESTS, _archived, {}),
    ("dsar.request", "complete"): Case(REQUESTS, _executed_access, {}),
    ("dsar.request", "reject"): Case(REQUESTS, lambda: make_request(type="access"), {"text": "Unfounded"}),
    ("dsar.person", "start_request"): Case("/admin/dsar/person/", lambda: PersonFactory(), {"__data": _gdpr}),
    ("core.apikey", "revoke"): Case("/admin/core/apikey/", lambda: api_key_create(account=AccountFactory(), name="x")[0], {}),
    ("dsar.jurisdiction", "delete_selected"): Case(
        "/admin/dsar/jurisdiction/", lambda: Jurisdiction.objects.get(code="lgpd"), {}
    ),
    ("recordings.ticket", "soft_delete"): Case("/admin/recordings/ticket/", lambda: TicketFactory(), {"reason": "Spam"}),
    ("recordings.recording", "delete_permanently"): Case(
        "/admin/recordings/recording/", lambda: RecordingFactory(), {"reason": "Recorded by mistake"}
    ),
    ("recordings.legalhold", "release"): Case("/admin/recordings/legalhold/", lambda: LegalHoldFactory(), {"reason": "Settled"}),
}
PROVEN_HERE = sorted(
    key for key, kind in ACTIONS.items() if isinstance(kind, Destructive) and kind.proven_in != RECORDINGS_TESTS
    and key[0].split(".")[0] in ("dsar", "core", "recordings")
)


def test_each_destructive_action_of_ours_has_a_proof_below() -> None:
    assert set(PROVEN_HERE) <= set(CASES)


def _post_data(case: Case) -> dict[str, Any]:
    data = dict(case.data)
    extra = data.pop("__data", None)
    return {**data, **(extra() if extra else {})}


@pytest.fixture
def officer() -> Client:
    client = Client()
    client.force_login(staff("officer"))
    return client


@pytest.mark.parametrize("key", PROVEN_HERE, ids=["-".join(key) for key in PROVEN_HERE])
def test_the_first_post_of_a_destructive_action_asks_and_changes_nothing(officer: Client, key: tuple[str, str]) -> None:
    case = CASES[key]
    item = case.setup()
    mail.outbox.clear()
    before = state(item)

    response = officer.post(case.changelist, {"action": key[1], ACTION_CHECKBOX_NAME: [item.pk], **_post_data(case)})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="post" value="yes"' in page
    assert state(item) == before


REQUEST_BUTTONS = sorted(name for (model, name) in PROVEN_HERE if model == "dsar.request")


@pytest.mark.parametrize("name", REQUEST_BUTTONS)
def test_the_request_pages_destructive_buttons_ask_first_and_change_nothing(officer: Client, name: str) -> None:
    case = CASES[("dsar.request", name)]
    item = case.setup()
    mail.outbox.clear()
    before = state(item)

    response = officer.post(f"{REQUESTS}{item.pk}/change/", {"_request_action": name, **_post_data(case)})

    assert response.status_code == 200 and 'name="post" value="yes"' in response.content.decode()
    assert "Cannot be undone" in response.content.decode()
    assert state(item) == before


def test_the_confirmation_says_what_happens_to_how_many_and_what_cannot_be_undone(officer: Client) -> None:
    first, second = make_request(type="access"), make_request(type="access")

    page = officer.post(
        REQUESTS, {"action": "reject", ACTION_CHECKBOX_NAME: [first.pk, second.pk], "text": "Unfounded"}
    ).content.decode()

    assert "2 requests" in page and "Reject these requests?" in page
    assert "Cannot be undone:" in page and "not reopened" in page
    assert page.count('name="_selected_action"') == 2 and 'value="Unfounded"' in page
    done = officer.post(
        REQUESTS,
        {"action": "reject", ACTION_CHECKBOX_NAME: [first.pk, second.pk], "text": "Unfounded", "post": "yes",
         "denial_reason": "suspected_fraud"},
    )
    assert done.status_code == 302
    assert set(Request.objects.values_list("status", flat=True)) == {Request.Status.REJECTED}


def test_one_erasure_executed_from_the_list_goes_to_its_preview_and_erases_nothing(officer: Client) -> None:
    erasure = make_request()
    before = state(erasure)

    response = officer.post(REQUESTS, {"action": "execute", ACTION_CHECKBOX_NAME: [erasure.pk]})

    assert response.status_code == 302 and response["Location"] == f"{REQUESTS}{erasure.pk}/erasure-preview/"
    assert state(erasure) == before


def test_select_all_with_execute_lists_each_erasure_with_its_preview_and_erases_none_even_confirmed(
    officer: Client,
) -> None:
    erasures = [make_request() for _ in range(3)]
    before = state(*erasures)
    chosen = {"action": "execute", ACTION_CHECKBOX_NAME: [erasures[0].pk], "select_across": "1"}

    asked = officer.post(REQUESTS, chosen).content.decode()
    forced = officer.post(REQUESTS, {**chosen, "post": "yes"}, follow=True)

    for erasure in erasures:
        assert f'href="{REQUESTS}{erasure.pk}/erasure-preview/"' in asked
    assert asked.count("is not executed from the list") == 3 and 'name="post"' not in asked
    assert "Execute each erasure from its preview" in asked and "3 erasures below are not executed here" in asked
    assert "Cannot be undone" not in asked and "0 requests" not in asked
    messages = [str(message) for message in forced.context["messages"]]
    assert len(messages) == 3 and all("an erasure runs from" in message for message in messages)
    assert state(*erasures) == before
    assert Person.objects.count() == 3


def test_an_erasure_runs_only_from_its_preview_confirmed(officer: Client) -> None:
    erasure = make_request()
    preview = officer.get(f"{REQUESTS}{erasure.pk}/erasure-preview/").content.decode()
    assert "Cannot be undone" in preview and 'name="post" value="yes"' in preview

    officer.post(f"{REQUESTS}{erasure.pk}/change/", {"_request_action": "execute", "post": "yes"})

    erasure.refresh_from_db()
    assert erasure.executed_at is not None


def test_the_scan_hits_page_changes_nothing_on_get() -> None:
    client = Client()
    client.force_login(staff("officer"))
    erasure = make_request()
    Request.objects.filter(pk=erasure.pk).update(scan={"hits": [], "undeclared": 0}, executed_at=timezone.now())
    before = state(erasure)

    assert client.get(f"{REQUESTS}{erasure.pk}/scan-hits/").status_code == 200
    assert state(erasure) == before


def test_a_revoked_key_is_revoked_only_once_confirmed(officer: Client) -> None:
    key = api_key_create(account=AccountFactory(), name="intake")[0]

    officer.post("/admin/core/apikey/", {"action": "revoke", ACTION_CHECKBOX_NAME: [key.pk]})
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    officer.post("/admin/core/apikey/", {"action": "revoke", ACTION_CHECKBOX_NAME: [key.pk], "post": "yes"})
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None

