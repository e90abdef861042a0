"""Who may mail a history export, and to whom: the caller needs the read scope (the console: the view permission)
of the history as well as the export's, and the link goes only to an active staff login allowed to read it."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django_tasks_db.models import DBTaskResult

from core.services import api_key_create
from recordings import services
from recordings.models import HistoryExport
from recordings.tasks import run_history_export
from residency.models import Account
from tests.factories import AccountFactory, UserFactory
from tests.recordings.factories import CallFactory, PhoneLineFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=dt_timezone.utc)


@pytest.fixture(autouse=True)
def frozen(time_machine: Any, export_dir: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def account() -> Account:
    account = AccountFactory(plan=Account.Plan.ENTERPRISE)
    CallFactory(line=PhoneLineFactory(account=account), from_number="+46705550123", started=NOW)
    return account


def staff_with(username: str, *perms: str, **fields: Any) -> Any:
    """A staff login (not a superuser) holding exactly ``perms`` (``app.codename``)."""
    user = UserFactory(username=username, is_superuser=False, **fields)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


READER = ("recordings.view_call", "recordings.view_monitoringentry", "recordings.download_export")


def key_client(account: Account, *scopes: str, owner: Any = None) -> Client:
    _, raw = api_key_create(account=account, name="integration", scopes=list(scopes), created_by=owner)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post(client: Client, **data: Any) -> Any:
    return client.post("/api/v1/exports/", data, content_type="application/json")


def nothing_queued() -> bool:
    return not HistoryExport.objects.exists() and not DBTaskResult.objects.exists()


def run_all() -> None:
    for export_id in HistoryExport.objects.values_list("pk", flat=True):
        run_history_export.call(export_id=export_id)


@pytest.mark.parametrize("recipient", [None, "attacker@evil.example", "owner@example.com"])
@pytest.mark.parametrize("kind", ["call_history", "monitoring_history"])
def test_a_key_with_only_exports_create_cannot_mail_an_export_anywhere(account: Account, kind: str, recipient: str | None) -> None:
    owner = staff_with("owner", *READER, email="owner@example.com")
    client = key_client(account, "exports:create", owner=owner)

    response = post(client, kind=kind, **({"recipient": recipient} if recipient else {}))
    run_all()

    assert response.status_code == 403
    assert response.json()["errors"][0]["detail"] == "The API key lacks the scope history:read."
    assert nothing_queued()
    assert mail.outbox == []


def test_a_key_that_may_read_the_history_cannot_mail_it_to_an_outside_address(account: Account) -> None:
    owner = staff_with("owner", *READER, email="owner@example.com")
    client = key_client(account, "exports:create", "history:read", owner=owner)

    response = post(client, kind="call_history", recipient="attacker@evil.example")
    run_all()

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["attr"] == "recipient"
    assert error["detail"].startswith("attacker@evil.example is not the address of an active staff login allowed to read")
    assert nothing_queued()
    assert mail.outbox == []


def test_the_link_goes_to_the_keys_owner_by_default(account: Account) -> None:
    owner = staff_with("owner", *READER, email="owner@example.com")
    client = key_client(account, "exports:create", "history:read", owner=owner)

    response = post(client, kind="call_history")
    run_all()

    assert response.status_code == 202
    assert [message.to for message in mail.outbox] == [["owner@example.com"]]
    assert "/api/v1/exports/download/" in mail.outbox[0].body


def test_another_staff_login_allowed_to_read_it_may_be_named(account: Account) -> None:
    staff_with("colleague", *READER, email="colleague@example.com")
    client = key_client(account, "exports:create", "history:read", owner=staff_with("owner", *READER))

    response = post(client, kind="monitoring_history", recipient="Colleague@Example.com")
    run_all()

    assert response.status_code == 202
    assert [message.to for message in mail.outbox] == [["colleague@example.com"]]


@pytest.mark.parametrize(
    ("who", "why"),
    [
        (lambda: staff_with("gone", *READER, email="x@example.com", is_active=False), "inactive"),
        (lambda: staff_with("customer", *READER, email="x@example.com", is_staff=False), "not staff"),
        (lambda: staff_with("auditor", "recordings.view_call", email="x@example.com"), "may not download"),
        (
            lambda: staff_with("support", "recordings.view_monitoringentry", "recordings.download_export", email="x@example.com"),
            "may not read calls",
        ),
    ],
)
def test_a_login_that_may_not_have_the_data_is_no_recipient(account: Account, who: Any, why: str) -> None:
    who()
    client = key_client(account, "exports:create", "history:read", owner=staff_with("owner", *READER))

    response = post(client, kind="call_history", recipient="x@example.com")

    assert response.status_code == 400, why
    assert response.json()["errors"][0]["attr"] == "recipient"
    assert nothing_queued()


def test_a_key_whose_owner_may_no_longer_read_the_history_mails_nobody_by_default(account: Account) -> None:
    owner = staff_with("owner", *READER, email="owner@example.com")
    client = key_client(account, "exports:create", "history:read", owner=owner)
    owner.is_active = False
    owner.save()

    response = post(client, kind="call_history")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "recipient"
    assert "the API key's owner (owner@example.com)" in response.json()["errors"][0]["detail"]
    assert nothing_queued()


def test_a_recipient_who_loses_the_right_before_the_file_is_ready_gets_no_link(account: Account) -> None:
    owner = staff_with("owner", *READER, email="owner@example.com")
    export = services.history_export_request(account=account, kind="call_history", recipient=owner.email)
    owner.user_permissions.remove(Permission.objects.get(codename="download_export", content_type__app_label="recordings"))

    run_history_export.call(export_id=export.pk)

    export.refresh_from_db()
    assert export.status == HistoryExport.Status.FAILED
    assert "no longer an active staff login allowed" in export.error
    assert export.file_name == "" and not any(services.export_path(export).parent.glob("*.csv"))
    assert mail.outbox == []


def test_in_the_console_exporting_needs_the_view_permission_of_the_history(account: Account) -> None:
    clerk = staff_with("clerk", "recordings.add_historyexport", "recordings.view_monitoringentry", "recordings.download_export")
    console = Client()
    console.force_login(clerk)

    refused = console.post("/admin/recordings/historyexport/add/", {"account": account.pk, "kind": "call_history"})
    allowed = console.post("/admin/recordings/historyexport/add/", {"account": account.pk, "kind": "monitoring_history"})

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["kind"] == [
        "You may not read call history (recordings.view_call), so you may not export it."
    ]
    assert allowed.status_code == 302
    assert list(HistoryExport.objects.values_list("kind", "email")) == [("monitoring_history", "clerk@example.com")]


def test_in_the_console_the_recipient_is_a_staff_login_allowed_to_read_it(account: Account) -> None:
    console = Client()
    console.force_login(staff_with("clerk", "recordings.add_historyexport", *READER))
    form = {"account": account.pk, "kind": "call_history"}

    refused = console.post("/admin/recordings/historyexport/add/", {**form, "recipient": "attacker@evil.example"})

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["recipient"][0].startswith(
        "attacker@evil.example is not the address of an active staff login"
    )
    assert nothing_queued()


def test_the_consoles_link_to_a_finished_export_needs_the_view_permission_of_its_history(account: Account) -> None:
    export = services.history_export_request(
        account=account, kind="call_history", recipient=staff_with("owner", *READER, email="owner@example.com").email
    )
    services.history_export_run(export_id=export.pk)
    page = f"/admin/recordings/historyexport/{export.pk}/change/"
    status = f"/admin/recordings/historyexport/{export.pk}/status/"
    reader, blind = Client(), Client()
    reader.force_login(staff_with("reader", "recordings.view_historyexport", *READER))
    blind.force_login(staff_with("blind", "recordings.view_historyexport", "recordings.download_export"))

    assert "/api/v1/exports/download/" in reader.get(page).content.decode()
    assert reader.get(status).json()["link"] is not None
    assert "/api/v1/exports/download/" not in blind.get(page).content.decode()
    assert blind.get(status).json()["link"] is None
