"""The console's home page: figures a privacy officer asks for first, each linking to its filtered list;
charts drawn on the server; the models grouped the way the team works."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.charts import Chart, bar_chart
from core.roles import AUDITOR
from dsar.models import Export, Request
from recordings import services as recording_services
from recordings.models import HistoryExport, ProviderDeletion
from residency.models import CatalogLoad, ChangeNotice
from tests.dsar.factories import make_request
from tests.factories import AccountFactory, PersonFactory, UserFactory, region
from tests.recordings.factories import (
    LegalHoldFactory,
    PhoneLineFactory,
    RecordingFactory,
)

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    cache.clear()


def console(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def figure(html: str, label: str) -> tuple[str, str]:
    """The shown value and the link of the figure labelled ``label``."""
    match = re.search(
        r'<a href="(?P<url>[^"]*)"><span class="value">(?P<value>[^<]*)</span>\s*<span class="label">' + re.escape(label),
        html,
    )
    assert match, f"no figure {label!r}"
    return match["value"], match["url"].replace("&amp;", "&")


def test_overdue_and_due_soon_requests_are_counted_by_type_and_link_to_their_lists() -> None:
    with time_machine.travel(dt.datetime(2026, 1, 5, 9, tzinfo=UTC), tick=False):
        make_request(type=Request.Type.ERASURE)
        make_request(type=Request.Type.ACCESS)
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, tzinfo=UTC), tick=False):
        make_request(type=Request.Type.ACCESS)  # due on 1 April
        html = console(UserFactory()).get("/admin/").content.decode()
        due_soon = figure(html, "Due within 7 days")

    assert figure(html, "Overdue") == ("2", "/admin/dsar/request/?deadline=overdue")
    assert "1 access, 1 erasure" in html
    assert due_soon == ("0", "/admin/dsar/request/?deadline=week")


def test_holds_failing_provider_deletions_and_recordings_soon_purged_are_figures() -> None:
    line = PhoneLineFactory(auto_delete_days=30)
    RecordingFactory(call__line=line, created_at=timezone.now() - dt.timedelta(days=25))
    RecordingFactory(call__line=line, created_at=timezone.now() - dt.timedelta(days=1))
    LegalHoldFactory()
    ProviderDeletion.objects.create(
        account=line.account, provider_sid="RE" + "f" * 32, recording_id=1, attempts=3, last_error="503 from the provider"
    )

    html = console(UserFactory()).get("/admin/").content.decode()

    assert figure(html, "Recordings the purge deletes within 7 days")[0] == "1"
    assert figure(html, "Legal holds in force") == ("1", "/admin/recordings/legalhold/?active=yes")
    assert figure(html, "Deletions at the provider failing") == ("1", "/admin/recordings/providerdeletion/?state=retrying")
    assert "oldest: RE" + "f" * 32 in html and "503 from the provider" in html


def test_the_home_page_makes_the_same_queries_for_many_rows() -> None:
    line = PhoneLineFactory(auto_delete_days=1)
    old = timezone.now() - dt.timedelta(days=3)
    RecordingFactory(call__line=line, created_at=old)
    make_request(PersonFactory(account=line.account))
    user = UserFactory()
    with CaptureQueriesContext(connection) as few:
        console(user).get("/admin/")
    for _ in range(8):
        RecordingFactory(call__line=line, created_at=old)
        make_request(PersonFactory(account=line.account))
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        html = console(user).get("/admin/").content.decode()

    assert figure(html, "Recordings the purge deletes within 7 days")[0] == "9"
    assert len(many) == len(few)


def test_an_auditor_reads_the_figures_and_a_user_without_roles_sees_none() -> None:
    auditor = UserFactory(username="auditor", is_superuser=False)
    auditor.groups.add(Group.objects.get(name=AUDITOR))
    nobody = UserFactory(username="nobody", is_superuser=False)

    assert "Data subject requests</h2>" in console(auditor).get("/admin/").content.decode()
    assert 'class="dashboard"' not in console(nobody).get("/admin/").content.decode()


def test_models_are_grouped_the_way_the_team_works_requests_first() -> None:
    html = console(UserFactory()).get("/admin/").content.decode()

    headings = re.findall(r'<caption>\s*<a [^>]*>([^<]+)</a>', html)
    assert headings[:5] == [
        "Requests and people", "Telephony records", "Calls, monitoring and texts", "Customer accounts", "Hosting catalog"
    ]
    assert "Sub-processors" in html and "Data subject requests</a>" in html


def test_a_chart_is_an_svg_with_its_title_and_its_figures_as_a_table() -> None:
    chart = Chart(
        title="Recordings deleted per month",
        labels=["Jan 26", "Feb 26"],
        series={"Deleted by hand": [2, 0], "Line auto-delete window": [5, 7]},
        beside=("closed", [1, 3]),
        line=("median days to close", [4.5, None]),
    )

    html = bar_chart(chart)

    assert '<svg' in html and 'aria-label="Recordings deleted per month"' in html
    assert html.count("<rect") == 3 + 2  # three non-empty stacked values, two "closed" bars
    assert re.search(r"<th scope=\"row\">Jan 26</th><td>2</td><td>5</td><td>1</td><td>4.5</td>", html)
    assert re.search(r"<th scope=\"row\">Feb 26</th><td>0</td><td>7</td><td>3</td><td>–</td>", html)


FIGURE = re.compile(
    r'<li class="figure[^"]*">\s*(?:<a href="(?P<url>[^"]*)">)?<span class="value">(?P<value>[^<]*)</span>\s*'
    r'<span class="label">(?P<label>[^<]*)</span>'
)


def figures_and_lists(client: Client) -> list[tuple[str, int, int]]:
    """Every figure of the home page: (label, the figure, the result count of the list it links to)."""
    found = []
    for match in FIGURE.finditer(client.get("/admin/").content.decode()):
        assert match["url"], f"the figure {match['label']!r} links nowhere"
        listed = client.get(match["url"].replace("&amp;", "&"))
        assert listed.status_code == 200 and "cl" in listed.context, f"{match['label']!r}: {match['url']} is no list"
        found.append((match["label"], int(match["value"].replace(",", "")), listed.context["cl"].result_count))
    return found


def every_figure_counts(client: Client) -> dict[str, int]:
    found = figures_and_lists(client)
    assert [(label, shown) for label, shown, _ in found] == [(label, listed) for label, _, listed in found]
    return {label: shown for label, shown, _ in found}


def test_every_figure_is_the_result_count_of_the_list_it_links_to_before_and_after_the_data_changes() -> None:
    now = dt.datetime(2026, 3, 1, 9, tzinfo=UTC)
    with time_machine.travel(now - dt.timedelta(days=60), tick=False):
        overdue = make_request(type=Request.Type.ACCESS)
    with time_machine.travel(now, tick=False):
        client = console(UserFactory())
        make_request(type=Request.Type.ERASURE, received_at=now - dt.timedelta(days=25))  # due within the week
        waiting = make_request(type=Request.Type.ERASURE)
        Request.objects.filter(pk=waiting.pk).update(
            status=Request.Status.WAITING, status_reason="on a call", scan={"undeclared": 2, "declared": 0, "hits": []}
        )
        Export.objects.create(request=overdue, status=Export.Status.FAILED)
        line = PhoneLineFactory(auto_delete_days=30)
        RecordingFactory(call__line=line, created_at=now - dt.timedelta(days=25))  # purged within the week
        RecordingFactory(call__line=line, created_at=now - dt.timedelta(days=40))  # due now
        held_line = PhoneLineFactory(auto_delete_days=30)
        RecordingFactory(call__line=held_line, created_at=now - dt.timedelta(days=40))
        hold = recording_services.legal_hold_place(
            account=held_line.account, scope="account", reason="Litigation", user=UserFactory(username="counsel")
        )
        ProviderDeletion.objects.create(
            account=line.account, provider_sid="RE" + "f" * 32, recording_id=1, attempts=3, last_error="503"
        )
        for status in (HistoryExport.Status.QUEUED, HistoryExport.Status.FAILED, HistoryExport.Status.DONE):
            HistoryExport.objects.create(
                account=line.account, kind=HistoryExport.Kind.CALL_HISTORY, start=dt.date(2026, 2, 1),
                end=dt.date(2026, 2, 28), email="a@example.com", status=status,
            )
        AccountFactory(home_region=region("EEA"), products=["freshdesk"], integrations=["marketplace-app"])
        AccountFactory(home_region=region("EEA"), products=["freshsales"])
        ChangeNotice.objects.create(
            account=line.account, catalog_load=CatalogLoad.objects.first(), effective_from=dt.date(2026, 4, 1),
            objection_until=dt.date(2026, 3, 31),
        )

        before = every_figure_counts(client)
        assert len(before) == 12 and all(before.values()), before

        # The data changes under the cached and the counted figures alike; nothing clears the cache.
        recording_services.legal_hold_release(hold_id=hold.pk, user=UserFactory(username="counsel"))
        AccountFactory(home_region=region("US"), products=["freshdesk"], integrations=["marketplace-app"])
        Request.objects.filter(pk=waiting.pk).update(scan={"undeclared": 0, "declared": 0, "hits": []})
        HistoryExport.objects.filter(status=HistoryExport.Status.QUEUED).update(status=HistoryExport.Status.DONE)
        after = every_figure_counts(client)

    assert after["Recordings the purge deletes within 7 days"] == before["Recordings the purge deletes within 7 days"] + 1
    assert after["Accounts with data outside their home jurisdiction"] == before["Accounts with data outside their home jurisdiction"] + 1
    assert after["Erasures with undeclared scan hits"] == 0
    assert after["History exports queued, running or failed"] == 1


def test_the_purge_figure_counts_its_list_past_windows_and_deleted_tickets_in_held_ones_out() -> None:
    from recordings.models import LegalHold, Recording
    from tests.recordings.factories import CallFactory, TicketFactory

    now = dt.datetime(2026, 3, 1, 9, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        client = console(UserFactory())
        line = PhoneLineFactory(auto_delete_days=30)
        keeps = PhoneLineFactory(account=line.account, auto_delete_days=None)

        def recording(on: Any, age_days: int, **call: Any) -> Recording:
            return RecordingFactory(call=CallFactory(line=on, **call), created_at=now - dt.timedelta(days=age_days))

        recording(line, 40)  # past its window
        recording(line, 25)  # past it within the week
        recording(line, 2)
        deleted = TicketFactory(account=line.account, deleted_at=now - dt.timedelta(days=3), deleted_by_name="dpo")
        recording(keeps, 5, ticket=deleted)  # its ticket is purged within the week
        recording(keeps, 5, ticket=TicketFactory(account=line.account, deleted_at=now, deleted_by_name="dpo"))  # on day 7
        recording(keeps, 400, ticket=TicketFactory(account=line.account))  # a live ticket on a line that keeps them
        held = recording(line, 40, ticket=TicketFactory(account=line.account))
        LegalHoldFactory(account=line.account, scope=LegalHold.Scope.TICKET, ticket=held.ticket)
        caller = recording(line, 40)
        LegalHoldFactory(account=line.account, scope=LegalHold.Scope.PERSON, person=caller.call.end_user)
        label = "Recordings the purge deletes within 7 days"

        assert every_figure_counts(client)[label] == 4

        hold = LegalHold.objects.get(ticket=held.ticket)
        recording_services.legal_hold_release(hold_id=hold.pk, user=UserFactory(username="counsel"))
        assert every_figure_counts(client)[label] == 5
