"""What a change makes the purge delete, and when: the numbers a confirmation page shows before the change.

Each function asks the purge's own selection (``Recording.objects.due_for_purge``, ``not_held``) with the change
applied in the query (a line's new window, holds read as released), never a copy of its rules, so the page
says what the next run will really do. Each costs a fixed number of queries, whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef, Q

from dsar.models import Request
from recordings.models import TICKET_PURGE_AFTER, LegalHold, Recording, Ticket

#: The command the schedule runs to purge (``settings.SCHEDULES``).
PURGE_COMMAND = "purge_recordings"


def purge_interval() -> timedelta | None:
    """How often the schedule runs the purge, from ``settings.SCHEDULES``; None when it is not scheduled there
    (cron or a timer may run it instead)."""
    for seconds, command in settings.SCHEDULES:
        if command and command[0] == PURGE_COMMAND:
            return timedelta(seconds=seconds)
    return None


def next_purge_run(now: datetime) -> datetime | None:
    """The latest time the purge next runs after ``now``: one schedule interval away (the run may come sooner).
    None when the purge is not in ``settings.SCHEDULES``."""
    interval = purge_interval()
    return None if interval is None else now + interval


@dataclass(frozen=True)
class PurgeImpact:
    """What the purge deletes because of a change: ``recordings`` (the ``oldest`` of them created when) at its
    next run, ``at`` (None: the purge is not scheduled here; the numbers are as of now); for a hold's release also
    the soft-deleted ``tickets`` deleted then, and the ``tickets_later`` still within their 7 days, the first of
    them purged on ``tickets_later_first``."""

    at: datetime | None
    recordings: int = 0
    oldest: datetime | None = None
    tickets: int = 0
    tickets_later: int = 0
    tickets_later_first: datetime | None = None

    @property
    def deletes_anything(self) -> bool:
        return bool(self.recordings or self.tickets or self.tickets_later)


def window_change_impact(*, windows: dict[int, int | None], now: datetime) -> PurgeImpact:
    """The recordings the purge deletes at its next run because these lines' windows change to ``windows``
    (line id → days, None: never) and would not have deleted otherwise: due under the new window, not under the
    current one, and not held."""
    at = next_purge_run(now) or now
    on_lines = Recording.objects.filter(line_id__in=list(windows))
    already = on_lines.due_for_purge(at).values("pk")
    newly = on_lines.due_for_purge(at, windows).not_held().exclude(pk__in=already)
    found = newly.aggregate(count=Count("pk"), oldest=Min("created_at"))
    return PurgeImpact(at=next_purge_run(now), recordings=found["count"], oldest=found["oldest"])


def release_impact(*, hold_ids: Iterable[int], now: datetime) -> PurgeImpact:
    """What the purge deletes once the active holds among ``hold_ids`` are released: the recordings held now, due
    at its next run (past their line's window, or on a ticket soft-deleted 7+ days before) and held by nothing
    else; the soft-deleted tickets it then deletes with them; and the soft-deleted tickets it deletes later, when
    their 7 days are up."""
    holds = LegalHold.objects.active().filter(pk__in=list(hold_ids))
    released = list(holds.values_list("pk", flat=True))
    if not released:
        return PurgeImpact(at=next_purge_run(now))
    at = next_purge_run(now) or now
    # Every hold covers rows of its own account only: the accounts bound the reads.
    accounts = list(holds.values_list("account_id", flat=True).distinct())
    freed = Recording.objects.filter(account_id__in=accounts).held().not_held(released)
    found = freed.due_for_purge(at).aggregate(count=Count("pk"), oldest=Min("created_at"))
    # As the purge decides: a ticket goes once no recording is left on it, so one with a held recording is kept
    # (by a hold on a caller, say) as much as a held ticket.
    kept_now = Q(pk__in=Ticket.objects.held().values("pk")) | Q(
        Exists(Recording.objects.filter(ticket_id=OuterRef("pk")).held())
    )
    kept_after = Exists(Recording.objects.filter(ticket_id=OuterRef("pk")).held(released))
    tickets = (
        Ticket.objects.filter(account_id__in=accounts).soft_deleted().filter(kept_now).not_held(released).exclude(kept_after)
    )
    later = tickets.soft_deleted().exclude(pk__in=tickets.due_for_purge(at).values("pk"))
    later_found = later.aggregate(count=Count("pk"), first=Min("deleted_at"))
    return PurgeImpact(
        at=next_purge_run(now),
        recordings=found["count"],
        oldest=found["oldest"],
        tickets=tickets.due_for_purge(at).count(),
        tickets_later=later_found["count"],
        tickets_later_first=later_found["first"] + TICKET_PURGE_AFTER if later_found["first"] else None,
    )


def recordings_per_ticket(ticket_ids: Iterable[int]) -> dict[int, int]:
    """How many recordings each ticket has (what its purge deletes with it), in one query; tickets without any
    are left out."""
    rows = Recording.objects.filter(ticket_id__in=list(ticket_ids)).values("ticket_id").annotate(n=Count("pk"))
    return {row["ticket_id"]: row["n"] for row in rows}


def recording_people(recording: Recording) -> set[int]:
    """The people a recording is of: its call's caller and agent, and its ticket's requester."""
    people = {recording.call.end_user_id, recording.call.agent_id}
    if recording.ticket_id:
        people.add(recording.ticket.requester_id)
    people.discard(None)
    return people


def open_requests_by_recording(recordings: Iterable[Recording]) -> dict[int, list[Request]]:
    """For each recording (its call and ticket loaded), the open data subject requests of its people (an access
    request in progress must not lose what it is about), in one query; recordings without any are left out."""
    recordings = list(recordings)
    people = set().union(*(recording_people(recording) for recording in recordings)) if recordings else set()
    if not people:
        return {}
    requests = list(Request.objects.open().filter(person_id__in=sorted(people)).select_related("person").order_by("pk"))
    found: dict[int, list[Request]] = {}
    for recording in recordings:
        mine = recording_people(recording)
        matching = [request for request in requests if request.person_id in mine]
        if matching:
            found[recording.pk] = matching
    return found
