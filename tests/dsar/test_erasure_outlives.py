"""What outlives an erasure, said plainly: backups and each log copy, with region and how long it lasts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dsar import services
from tests.dsar.factories import AccountFactory, PersonFactory, make_request, staff
from tests.factories import region

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(dt.datetime(2026, 11, 24, 10, tzinfo=dt.timezone.utc), tick=False)


def test_the_preview_lists_backups_and_every_log_copy_of_an_india_freshdesk_account() -> None:
    account = AccountFactory(home_region=region("IND"), products=["freshdesk"])
    request = make_request(PersonFactory(account=account))

    outlives = services.request_erasure_preview(request=request, actor=staff()).as_dict()["outlives"]

    # Most Freshdesk data is stored in IND; call recordings and chat messages are offered in the US only.
    logs = {(copy["region"], copy["days"], copy["until"]) for copy in outlives if copy["kind"] == "log"}
    assert logs == {("IND", 365, "2027-11-24"), ("US", 365, "2027-11-24"), ("EEA", 30, "2026-12-24")}
    backups = [copy for copy in outlives if copy["kind"] == "backup"]
    assert sorted(copy["region"] for copy in backups) == ["IND", "US"]
    assert all(copy["until"] is None and copy["statement"].endswith("until they rotate.") for copy in backups)
    assert "Logs in IND for 365 days, until 2027-11-24." in [copy["statement"] for copy in outlives]
    assert all(copy["products"] == ["Freshdesk"] for copy in outlives)


def test_an_eea_account_has_no_thirty_day_eea_copy_of_its_eea_logs() -> None:
    request = make_request(PersonFactory(account=AccountFactory(products=["freshdesk"])))

    outlives = services.request_erasure_preview(request=request, actor=staff()).as_dict()["outlives"]

    # The 30-day EEA copy exists for the US-stored categories' logs only (chat messages).
    log_copies = {(copy["region"], copy["days"]): copy["products"] for copy in outlives if copy["kind"] == "log"}
    assert set(log_copies) == {("EEA", 365), ("US", 365), ("EEA", 30)}


def test_the_certificate_says_what_outlives_the_erasure_without_personal_data() -> None:
    person = PersonFactory(account=AccountFactory(home_region=region("US"), products=["freshdesk"]), name="Vera Lind")
    request = make_request(person)

    services.request_execute(request=request, actor=staff())
    request.refresh_from_db()

    assert {(copy["kind"], copy["region"], copy["days"]) for copy in request.certificate["outlives"]} >= {
        ("log", "US", 365),
        ("log", "EEA", 30),
    }
    assert "Vera Lind" not in str(request.certificate)


@pytest.mark.every_source
def test_analytics_numbers_kept_unlinked_are_said_with_their_region(django_capture_on_commit_callbacks: Any) -> None:
    from django.core import mail

    from tests.recordings.factories import AnalyticsRowFactory, CallFactory

    account = AccountFactory(home_region=region("EEA"), products=["freshdesk"])
    person = PersonFactory(account=account, email="kept@example.net", phone="+46705550150")
    call = CallFactory(account=account, line__account=account, end_user=person, transferred_external=True)
    AnalyticsRowFactory(call=call)
    request = make_request(person)

    preview = services.request_erasure_preview(request=request, actor=staff()).as_dict()["outlives"]
    with django_capture_on_commit_callbacks(execute=True):
        services.request_execute(request=request, actor=staff())

    kept = [copy for copy in preview if copy["kind"] == "kept"]
    assert [(copy["region"], copy["products"]) for copy in kept] == [("EEA", ["Freshdesk"])]
    assert kept[0]["statement"].startswith("Phone numbers in the analytics of calls routed to an external number")
    assert "They stay in EEA, as long as the account keeps them" in kept[0]["statement"]
    request.refresh_from_db()
    assert [copy["kind"] for copy in request.certificate["outlives"]].count("kept") == 1
    body = mail.outbox[-1].body
    # Said once, with what is kept and why: not again among the copies the erasure cannot reach.
    assert body.count("Phone numbers in the analytics of calls") == 1
    assert "They are stored in: European Economic Area." in body
