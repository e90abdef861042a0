"""An export started from the console is followed on its page: its status, and its link once done for those
who may download; those who may not see exports get nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from core.roles import AUDITOR, PRIVACY_OFFICER
from recordings.history_exports import history_export_run
from recordings.models import HistoryExport
from tests.factories import AccountFactory, role_console
from tests.recordings.factories import CallFactory, PhoneLineFactory

pytestmark = pytest.mark.django_db


def console(role: str | None) -> Client:
    return role_console(role)


def test_adding_an_export_leads_to_its_page_which_follows_it_to_its_link(export_dir: Any) -> None:
    account = AccountFactory()
    CallFactory(line=PhoneLineFactory(account=account))
    officer = console(PRIVACY_OFFICER)

    added = officer.post("/admin/recordings/historyexport/add/", {"account": account.pk, "kind": "call_history"})
    export = HistoryExport.objects.get()
    assert added.status_code == 302 and added["Location"] == f"/admin/recordings/historyexport/{export.pk}/change/"
    page = officer.get(added["Location"]).content.decode()
    status_url = f"/admin/recordings/historyexport/{export.pk}/status/"
    assert f'data-status-url="{status_url}"' in page and 'data-state="queued"' in page
    assert officer.get(status_url).json() == {
        "state": "queued", "text": "Queued: waiting for the background worker…", "done": False, "link": None
    }

    history_export_run(export_id=export.pk)

    done = officer.get(status_url).json()
    assert done["done"] is True and done["text"] == "Done: 1 row."
    assert done["link"]["label"] == "Download the CSV (1 row)" and "/exports/" in done["link"]["href"]
    auditor = console(AUDITOR).get(status_url).json()
    assert auditor["done"] is True and auditor["link"] is None  # an auditor downloads nothing personal
    assert console(None).get(status_url).status_code == 403
