"""Volume on demand: a large, realistic telephony history for one account, written with bulk inserts, for
benchmarks and for trying the console at scale (``seed_volume``).

Rows are spread over the last year, so part of the recordings is past its line's auto-delete window (lines
keep 7, 30, 90 days or never), some tickets are soft-deleted long enough to be purged, and the call-history
export of a month has work to do. No history rows are written: this is bulk data, not edits.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from dsar.models import Person
from recordings.models import AnalyticsRow, Call, MonitoringEntry, PhoneLine, Recording, TextMessage, Ticket
from residency.models import Account, Region

BATCH = 5_000
LINES = [("Support", 30), ("Sales", 90), ("Billing", 7), ("Escalations", None)]
FIRST = ["Anna", "Bo", "Chloé", "David", "Eva", "Farid", "Greta", "Hugo", "Inès", "Jonas", "Karin", "Luca", "Maja", "Nils"]
LAST = ["Andersson", "Berg", "Dubois", "Eriksson", "Ferrari", "García", "Hansen", "Ivanova", "Jensen", "Lindqvist", "Martin"]

Progress = Callable[[str, int], None]


@dataclass
class Seeded:
    account: Account
    people: int = 0
    tickets: int = 0
    calls: int = 0
    recordings: int = 0
    monitoring: int = 0
    texts: int = 0
    analytics: int = 0


def _batches(rows: Iterator[models.Model], model: type[models.Model], label: str, progress: Progress | None) -> int:
    """Insert ``rows`` in committed batches; returns how many."""
    total = 0
    batch: list[models.Model] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            with transaction.atomic():
                model.objects.bulk_create(batch, batch_size=BATCH)
            total += len(batch)
            if progress:
                progress(label, len(batch))
            batch = []
    if batch:
        with transaction.atomic():
            model.objects.bulk_create(batch, batch_size=BATCH)
        total += len(batch)
        if progress:
            progress(label, len(batch))
    return total


def _ids(model: type[models.Model], account: Account, start: int) -> list[int]:
    return list(model.objects.filter(account=account, pk__gt=start).order_by("pk").values_list("pk", flat=True))


def seed_volume(
    *, account_name: str, calls: int, recordings: int, people: int, seed: int = 1, progress: Progress | None = None
) -> Seeded:
    """Add ``people`` end users (and agents), ``calls`` calls with their analytics, a monitoring row for one call
    in five and a text for one in four, one ticket per ten calls, and ``recordings`` recordings on the calls,
    to the account named ``account_name`` (created in the EEA if missing). Reproducible for a given ``seed``."""
    rng = random.Random(seed)
    now = timezone.now()
    account, _ = Account.objects.get_or_create(
        name=account_name, defaults={"home_region": Region.objects.get(code="EEA"), "plan": Account.Plan.ENTERPRISE}
    )
    result = Seeded(account=account)
    base = 4_700_000_000 + account.pk * 1_000
    lines = []
    for index, (name, days) in enumerate(LINES):
        line, _ = PhoneLine.objects.get_or_create(
            account=account, number=f"+{base + index}", defaults={"name": name, "auto_delete_days": days}
        )
        lines.append(line)

    last_person = Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    agent_count = max(1, people // 50)

    def people_rows() -> Iterator[Person]:
        for index in range(people + agent_count):
            agent = index >= people
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            yield Person(
                account=account,
                kind=Person.Kind.AGENT if agent else Person.Kind.END_USER,
                name=name,
                email=f"{name.lower().replace(' ', '.')}.{last_person + index}@example.net",
                phone=f"+4670{(last_person + index) % 10_000_000:07d}",
                external_id=f"volume-{last_person + index}",
                created_at=now - timedelta(days=400),
            )

    result.people = _batches(people_rows(), Person, "people", progress)
    person_rows = list(
        Person.objects.filter(account=account, pk__gt=last_person).order_by("pk").values_list("pk", "kind", "phone")
    )
    end_users = [(pk, phone) for pk, kind, phone in person_rows if kind == Person.Kind.END_USER]
    agents = [pk for pk, kind, _ in person_rows if kind == Person.Kind.AGENT] or [None]

    def started_at(index: int) -> Any:
        # Newest first is how people read histories; spread over a year, a little more recent than old.
        return now - timedelta(seconds=int(365 * 86400 * (index / max(calls, 1)) ** 1.3) + 60)

    last_ticket = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ticket_count = max(1, calls // 10)

    def ticket_rows() -> Iterator[Ticket]:
        for index in range(ticket_count):
            requester, _phone = end_users[index % len(end_users)] if end_users else (None, "")
            created = started_at(index * 10)
            deleted = created + timedelta(days=1) if index % 97 == 0 and created < now - timedelta(days=10) else None
            yield Ticket(
                account=account,
                requester_id=requester,
                subject=f"Call about order {100_000 + index}",
                description="The caller asked about an order and a refund.",
                created_at=created,
                deleted_at=deleted,
                deleted_by_name="volume seed" if deleted else "",
            )

    result.tickets = _batches(ticket_rows(), Ticket, "tickets", progress)
    tickets = _ids(Ticket, account, last_ticket)

    last_call = Call.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def call_rows() -> Iterator[Call]:
        for index in range(calls):
            user, phone = end_users[rng.randrange(len(end_users))] if end_users else (None, "+46700000000")
            line = lines[index % len(lines)]
            started = started_at(index)
            duration = rng.randint(20, 900)
            yield Call(
                account=account,
                line=line,
                ticket_id=tickets[index // 10] if tickets and index % 10 == 0 else None,
                end_user_id=user,
                agent_id=agents[index % len(agents)],
                direction=Call.Direction.INBOUND if index % 3 else Call.Direction.OUTBOUND,
                from_number=phone,
                to_number=line.number,
                started=started,
                ended=started + timedelta(seconds=duration),
                duration_seconds=duration,
                ivr_external=index % 101 == 0,
                transferred_external=index % 103 == 0,
            )

    result.calls = _batches(call_rows(), Call, "calls", progress)
    call_rows_ = list(
        Call.objects.filter(account=account, pk__gt=last_call)
        .order_by("pk")
        .values_list("pk", "line_id", "ticket_id", "started", "from_number", "end_user_id", "ivr_external", "transferred_external")
    )
    sid_base = Recording.objects.count() + seed * 10**12

    def recording_rows() -> Iterator[Recording]:
        for index in range(recordings):
            call_id, line_id, ticket_id, started, *_ = call_rows_[index % len(call_rows_)]
            yield Recording(
                account=account,
                line_id=line_id,
                call_id=call_id,
                ticket_id=ticket_id,
                kind=Recording.Kind.VOICEMAIL if index % 7 == 0 else Recording.Kind.CALL,
                provider_sid=f"REvol{sid_base + index:027d}",
                duration_seconds=rng.randint(20, 900),
                created_at=started + timedelta(seconds=30),
            )

    result.recordings = _batches(recording_rows(), Recording, "recordings", progress) if call_rows_ else 0

    def monitoring_rows() -> Iterator[MonitoringEntry]:
        for call_id, _line, _ticket, started, number, *_ in call_rows_[::5]:
            yield MonitoringEntry(
                account=account, call_id=call_id, supervisor_id=agents[0], caller_number=number,
                mode=MonitoringEntry.Mode.LISTEN, started=started + timedelta(seconds=10), ended=started + timedelta(seconds=70),
            )

    result.monitoring = _batches(monitoring_rows(), MonitoringEntry, "monitoring", progress)

    def text_rows() -> Iterator[TextMessage]:
        for call_id, line_id, _ticket, started, number, user, *_ in call_rows_[::4]:
            yield TextMessage(
                account=account, line_id=line_id, person_id=user, from_number=number, to_number=lines[0].number,
                body="Please call me back about my order.", sent_at=started - timedelta(minutes=5),
            )

    result.texts = _batches(text_rows(), TextMessage, "texts", progress)

    def analytics_rows() -> Iterator[AnalyticsRow]:
        for call_id, _line, _ticket, started, number, user, ivr, transferred in call_rows_:
            yield AnalyticsRow(
                account=account, call_id=call_id, person_id=user, phone_number=number, started=started,
                wait_seconds=rng.randint(0, 300), talk_seconds=rng.randint(20, 900),
                ivr_external=ivr, transferred_external=transferred,
            )

    result.analytics = _batches(analytics_rows(), AnalyticsRow, "analytics", progress)
    return result
