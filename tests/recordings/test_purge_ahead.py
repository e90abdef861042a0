"""What the purge will delete soon (``Recording.objects.purged_within``), the home page's figure and its list's
filter: the rows of the purge's own selection, ``due_for_purge(…).not_held()``, read with the holds and the
lines' windows fetched first."""

from __future__ import annotations

from functools import partial

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest

from recordings.models import HeldTargets, LegalHold, Recording, Ticket
from tests.recordings import factories
from tests.recordings.factories import (
    AccountFactory,
    LegalHoldFactory,
    PersonFactory,
    PhoneLineFactory,
    TicketFactory,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=dt_timezone.utc)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


recording_on = partial(factories.recording_on, now=NOW)


def soft_deleted_ticket(account: Any, *, days_ago: float) -> Ticket:
    return TicketFactory(account=account, deleted_at=NOW - timedelta(days=days_ago), deleted_by_name="dpo")


def ids(queryset: Any) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_it_selects_what_the_purge_selects_by_then_past_windows_and_purged_tickets_held_ones_left_out() -> None:
    account = AccountFactory()
    month = PhoneLineFactory(account=account, auto_delete_days=30)
    week = PhoneLineFactory(account=account, auto_delete_days=7)
    never = PhoneLineFactory(account=account, auto_delete_days=None)
    agent = PersonFactory(account=account, kind="agent")

    due_now = recording_on(month, age_days=40)
    due_in_five_days = recording_on(month, age_days=25)
    recording_on(month, age_days=1)
    due_in_six_days = recording_on(week, age_days=1)
    recording_on(never, age_days=400)
    ticket_purged_now = recording_on(never, age_days=9, ticket=soft_deleted_ticket(account, days_ago=8))
    ticket_purged_in_four_days = recording_on(never, age_days=3, ticket=soft_deleted_ticket(account, days_ago=3))
    recording_on(never, age_days=3, ticket=TicketFactory(account=account))  # a live ticket keeps its recordings

    held_ticket = TicketFactory(account=account)
    recording_on(month, age_days=40, ticket=held_ticket)
    LegalHoldFactory(account=account, scope=LegalHold.Scope.TICKET, ticket=held_ticket)
    requested = TicketFactory(account=account)
    recording_on(never, age_days=20, ticket=requested)
    requested.deleted_at, requested.deleted_by_name = NOW - timedelta(days=10), "dpo"
    requested.save()
    LegalHoldFactory(account=account, scope=LegalHold.Scope.PERSON, person=requested.requester)
    caller = recording_on(week, age_days=10)
    LegalHoldFactory(account=account, scope=LegalHold.Scope.PERSON, person=caller.call.end_user)
    recording_on(month, age_days=40, call={"agent": agent})
    LegalHoldFactory(account=account, scope=LegalHold.Scope.PERSON, person=agent)
    other_account = AccountFactory()
    recording_on(PhoneLineFactory(account=other_account, auto_delete_days=7), age_days=30)
    LegalHoldFactory(account=other_account, scope=LegalHold.Scope.ACCOUNT)
    released_ticket = TicketFactory(account=account)
    freed = recording_on(month, age_days=40, ticket=released_ticket)
    LegalHoldFactory(account=account, scope=LegalHold.Scope.TICKET, ticket=released_ticket, released_at=NOW)

    now = ids(Recording.objects.purged_within(NOW, 0))
    week_ahead = ids(Recording.objects.purged_within(NOW, 7))

    assert now == {due_now.pk, ticket_purged_now.pk, freed.pk}
    assert week_ahead == now | {due_in_five_days.pk, due_in_six_days.pk, ticket_purged_in_four_days.pk}
    for days, selected in ((0, now), (7, week_ahead)):
        assert selected == ids(Recording.objects.due_for_purge(NOW + timedelta(days=days)).not_held())


def test_a_person_hold_leaves_alone_recordings_without_a_ticket_or_of_other_people() -> None:
    line = PhoneLineFactory(auto_delete_days=7)
    without_ticket = recording_on(line, age_days=10)
    on_a_ticket = recording_on(line, age_days=10, ticket=TicketFactory(account=line.account))
    LegalHoldFactory(account=line.account, scope=LegalHold.Scope.PERSON, person=PersonFactory(account=line.account))

    assert ids(Recording.objects.purged_within(NOW, 0)) == {without_ticket.pk, on_a_ticket.pk}


def test_the_targets_of_active_holds_are_read_in_one_query(django_assert_num_queries: Any) -> None:
    account = AccountFactory()
    ticket = TicketFactory(account=account)
    person = PersonFactory(account=account)
    LegalHoldFactory(account=account, scope=LegalHold.Scope.ACCOUNT)
    LegalHoldFactory(account=account, scope=LegalHold.Scope.TICKET, ticket=ticket)
    LegalHoldFactory(account=account, scope=LegalHold.Scope.PERSON, person=person)
    LegalHoldFactory(account=AccountFactory(), scope=LegalHold.Scope.ACCOUNT, released_at=NOW)

    with django_assert_num_queries(1):
        targets = LegalHold.objects.active().targets()

    assert targets == HeldTargets(
        accounts=frozenset({account.pk}), tickets=frozenset({ticket.pk}), people=frozenset({person.pk})
    )
