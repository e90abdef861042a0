"""A scan hit that no source declared is resolved in the console or the API: redacted in place or declared
retained with a reason and a period; the scan runs again and a clean one completes the request."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEntry
from core.roles import AUDITOR
from dsar import services
from dsar.models import Request
from recordings.models import LegalHold
from residency.models import Account
from tests.dsar.factories import CaptureOnCommit, PersonFactory, make_request, staff
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def waiting_erasure(leftover: str) -> Request:
    """An erasure whose scan finds ``leftover`` (naming the person) in the account's name."""
    person = PersonFactory(name="Ulla Berg", email="ulla@example.net")
    account = person.account
    request = make_request(person)
    Account.objects.filter(pk=account.pk).update(name=f"Escalations {leftover}")
    services.request_execute(request=request, actor=staff())
    request.refresh_from_db()
    assert request.status == Request.Status.WAITING
    return request


def api(user: Any = None) -> APIClient:
    client = APIClient()
    client.force_login(user or staff())
    return client


def test_the_api_lists_the_hits_and_a_redaction_completes_the_request(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    request = waiting_erasure("ulla@example.net")
    url = f"/api/v1/dsar/requests/{request.pk}/scan-hits/"

    listed = api().get(url).json()
    with django_capture_on_commit_callbacks(execute=True):
        resolved = api().post(url, {"table": "residency_account", "column": "name", "action": "redact"}, format="json")

    assert listed["undeclared"] == 1 and listed["hits"][0]["table"] == "residency_account"
    assert "ulla@example.net" not in str(listed)
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["status"] == "completed" and resolved.json()["undeclared"] == 0
    assert Account.objects.get(pk=request.account_id).name == "Escalations [redacted]"
    entry = AuditEntry.objects.get(action="erasure_hit_redacted")
    assert entry.data == {"table": "residency_account", "column": "name", "identifier": "email", "rows": 1}
    assert request.events.filter(message__startswith="Scan hit in residency_account.name (email) redacted in place: 1 row").exists()
    assert [message.to for message in mail.outbox if "erased" in message.subject] == [["ulla@example.net"]]


def test_a_hit_declared_retained_goes_into_the_certificate_with_its_reason_and_end() -> None:
    request = waiting_erasure("Ulla Berg")

    services.erasure_hit_declare(
        request=request,
        table="residency_account",
        column="name",
        reason="The account is named after its owner by contract.",
        retention_days=365,
        actor=staff(),
    )

    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED
    declared = [item for item in request.certificate["retained"] if item["source"] == "declared"]
    assert declared[0]["reason"] == "The account is named after its owner by contract."
    assert declared[0]["count"] == 1 and "residency_account.name, kept until" in declared[0]["description"]
    assert AuditEntry.objects.get(action="erasure_hit_declared").data["retention_days"] == 365


def test_an_address_inside_a_longer_one_is_someone_elses_and_no_hit() -> None:
    person = PersonFactory(name="Ulla Berg", email="ulla@example.net")
    request = make_request(person)
    Account.objects.filter(pk=person.account_id).update(name="Escalations ulla@example.net.au and jimulla@example.net")

    services.request_execute(request=request, actor=staff())

    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED and request.scan["undeclared"] == 0
    assert Account.objects.get(pk=request.account_id).name == "Escalations ulla@example.net.au and jimulla@example.net"


def test_a_declaration_covers_the_rows_it_names_and_a_new_hit_in_the_same_column_is_new(settings: Any) -> None:
    settings.DSAR_ERASURE_FINALIZATION = "manual"  # the request stays open, so it can be scanned again
    person = PersonFactory(name="Ulla Berg", email="ulla@example.net")
    request = make_request(person)
    first = LegalHold.objects.create(
        account=person.account, scope="account", reason="Complaint by Ulla Berg", released_at=timezone.now()
    )
    services.request_execute(request=request, actor=staff())
    request.refresh_from_db()
    assert request.status == Request.Status.WAITING

    for table in ("recordings_legalhold", "recordings_historicallegalhold"):
        declared = services.erasure_hit_declare(
            request=request, table=table, column="reason", reason="Litigation file.", retention_days=365, actor=staff()
        )
    later = LegalHold.objects.create(
        account=person.account, scope="account", reason="Second complaint, ulla@example.net", released_at=timezone.now()
    )
    request.refresh_from_db()
    again = services.request_verify_erasure(request=request, actor=staff())

    assert declared.undeclared == 0
    assert request.declarations[0]["rows"] == [str(first.pk)]
    assert [(hit.table, hit.column, hit.rows) for hit in again.hits if not hit.declared][-1] == (
        "recordings_legalhold", "reason", [str(later.pk)]
    )
    assert again.undeclared == 2  # the new hold and its history row


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"table": "residency_account", "column": "slug", "action": "redact"}, "column"),
        ({"table": "recordings_call", "column": "from_number", "action": "redact"}, "table"),
        ({"table": "residency_account", "column": "name", "action": "declare", "retention_days": 30}, "reason"),
        ({"table": "residency_account", "column": "name", "action": "declare", "reason": "Contract"}, "retention_days"),
        ({"table": "residency_account", "column": "name", "action": "declare", "reason": "x", "retention_days": 0}, "retention_days"),
        ({"table": "residency_account", "column": "name", "action": "erase"}, "action"),
    ],
)
def test_bad_resolutions_name_the_field_and_change_nothing(body: dict[str, Any], field: str) -> None:
    request = waiting_erasure("ulla@example.net")

    response = api().post(f"/api/v1/dsar/requests/{request.pk}/scan-hits/", body, format="json")

    assert response.status_code == 400
    assert field in str(response.json())
    request.refresh_from_db()
    assert request.status == Request.Status.WAITING and request.declarations == []
    assert "ulla@example.net" in Account.objects.get(pk=request.account_id).name


def test_the_console_page_resolves_hits_and_an_auditor_may_only_look() -> None:
    request = waiting_erasure("ulla@example.net")
    url = f"/admin/dsar/request/{request.pk}/scan-hits/"
    auditor = UserFactory(username="auditor", is_superuser=False)
    auditor.groups.add(Group.objects.get(name=AUDITOR))
    officer = Client()
    officer.force_login(staff())
    looking = Client()
    looking.force_login(auditor)

    page = officer.get(url)
    refused = looking.post(url, {"table": "residency_account", "column": "name", "action": "redact"})
    asked = officer.post(url, {"table": "residency_account", "column": "name", "action": "redact"})
    assert b"Cannot be undone" in asked.content and "ulla@example.net" in Account.objects.get(pk=request.account_id).name
    done = officer.post(url, {"table": "residency_account", "column": "name", "action": "redact", "post": "yes"}, follow=True)

    assert page.status_code == 200 and b"residency_account" in page.content and b"ulla@example.net" not in page.content
    assert "</a> › Scan hits" in page.content.decode()
    assert refused.status_code == 403
    assert b"0 undeclared hit(s) left" in done.content
    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED
    change = officer.get(f"/admin/dsar/request/{request.pk}/change/")
    assert b"Resolve the scan" not in change.content
