"""What a change makes the purge delete: the numbers confirmation pages show agree with what the purge then does."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recordings import services
from recordings.models import Recording
from tests.dsar.factories import make_request
from tests.recordings.factories import (
    LegalHoldFactory,
    PhoneLineFactory,
    RecordingFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=dt_timezone.utc)


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def made(days: float, **kwargs: Any) -> Recording:
    return RecordingFactory(created_at=NOW - timedelta(days=days), **kwargs)


def test_a_shorter_window_counts_what_it_newly_makes_due_and_nothing_held_or_already_due() -> None:
    line = PhoneLineFactory(auto_delete_days=90)
    made(200, call__line=line)  # already past 90 days: the purge takes it anyway
    made(60, call__line=line)
    made(45, call__line=line)
    held = made(50, call__line=line)
    LegalHoldFactory(account=line.account, scope="person", person=held.call.end_user)
    made(10, call__line=line)

    impact = services.window_change_impact(windows={line.pk: 30}, now=NOW)

    assert (impact.recordings, impact.oldest) == (2, NOW - timedelta(days=60))
    assert impact.at == NOW + timedelta(hours=1)


def test_a_longer_window_or_never_makes_the_purge_delete_nothing_more() -> None:
    line = PhoneLineFactory(auto_delete_days=30)
    made(60, call__line=line)

    assert services.window_change_impact(windows={line.pk: 90}, now=NOW).recordings == 0
    assert services.window_change_impact(windows={line.pk: None}, now=NOW).recordings == 0


def test_the_window_impact_is_what_the_purge_then_deletes() -> None:
    line = PhoneLineFactory(auto_delete_days=None)
    for days in (400, 100, 31, 29.99, 5):
        made(days, call__line=line)
    impact = services.window_change_impact(windows={line.pk: 30}, now=NOW)

    line.auto_delete_days = 30
    line.save()
    result = services.recordings_purge(now=impact.at)

    assert impact.recordings == result.recordings_deleted == 4


def test_a_release_counts_only_what_no_other_hold_keeps_and_the_purge_then_deletes() -> None:
    line = PhoneLineFactory(auto_delete_days=30)
    freed = made(60, call__line=line)
    also_held = made(60, call__line=line)
    made(5, call__line=line)  # held but not yet past its window
    hold = LegalHoldFactory(account=line.account)
    LegalHoldFactory(account=line.account, scope="person", person=also_held.call.end_user)

    impact = services.release_impact(hold_ids=[hold.pk], now=NOW)
    services.legal_hold_release(hold_id=hold.pk, reason="Settled")
    result = services.recordings_purge(now=impact.at)

    assert (impact.recordings, impact.oldest) == (1, freed.created_at)
    assert result.recordings_deleted == 1
    assert not Recording.objects.filter(pk=freed.pk).exists()


def test_a_release_counts_the_soft_deleted_tickets_due_now_and_later() -> None:
    hold = LegalHoldFactory()
    TicketFactory(account=hold.account, deleted_at=NOW - timedelta(days=9), deleted_by_name="sam")
    later = TicketFactory(account=hold.account, deleted_at=NOW - timedelta(days=2), deleted_by_name="sam")
    TicketFactory(account=hold.account)  # live: not the purge's

    impact = services.release_impact(hold_ids=[hold.pk], now=NOW)

    assert (impact.tickets, impact.tickets_later) == (1, 1)
    assert impact.tickets_later_first == later.deleted_at + timedelta(days=7)


def test_a_ticket_kept_by_a_held_recording_is_not_counted() -> None:
    hold = LegalHoldFactory()
    ticket = TicketFactory(account=hold.account, deleted_at=NOW - timedelta(days=9), deleted_by_name="sam")
    recording = made(1, call__line__account=hold.account, call__ticket=ticket)
    LegalHoldFactory(account=hold.account, scope="person", person=recording.call.end_user)

    impact = services.release_impact(hold_ids=[hold.pk], now=NOW)

    assert (impact.recordings, impact.tickets) == (0, 0)


def test_an_already_released_hold_frees_nothing() -> None:
    hold = LegalHoldFactory()
    made(60, call__line__account=hold.account)
    services.legal_hold_release(hold_id=hold.pk)

    assert not services.release_impact(hold_ids=[hold.pk], now=NOW).deletes_anything


def test_without_the_purge_in_the_schedule_the_impact_is_as_of_now(settings: Any) -> None:
    settings.SCHEDULES = [entry for entry in settings.SCHEDULES if entry[1][0] != "purge_recordings"]
    line = PhoneLineFactory(auto_delete_days=None)
    made(40, call__line=line)

    impact = services.window_change_impact(windows={line.pk: 30}, now=NOW)

    assert (impact.at, impact.recordings) == (None, 1)


@pytest.mark.parametrize("kind", ["window", "release"])
def test_the_impact_costs_the_same_queries_for_one_row_as_for_many(kind: str) -> None:
    def queries(rows: int) -> int:
        line = PhoneLineFactory(auto_delete_days=None)
        hold = LegalHoldFactory(account=line.account)
        for _ in range(rows):
            made(60, call__line=line)
            TicketFactory(account=line.account, deleted_at=NOW - timedelta(days=3), deleted_by_name="sam")
        with CaptureQueriesContext(connection) as captured:
            if kind == "window":
                services.window_change_impact(windows={line.pk: 30}, now=NOW)
            else:
                services.release_impact(hold_ids=[hold.pk], now=NOW)
        return len(captured)

    assert queries(1) == queries(8)


def test_open_requests_are_found_for_many_recordings_in_one_query() -> None:
    recordings = [RecordingFactory() for _ in range(4)]
    request = make_request(recordings[1].call.end_user, type="access")
    loaded = list(Recording.objects.select_related("call", "ticket").order_by("pk"))

    with CaptureQueriesContext(connection) as captured:
        found = services.open_requests_by_recording(loaded)

    assert len(captured) == 1
    assert found == {recordings[1].pk: [request]}
