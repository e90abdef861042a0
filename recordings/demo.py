"""Demo telephony records for existing accounts, so the console has something to show after `make run`."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from dsar.models import Person
from recordings.models import (
    AnalyticsRow,
    Call,
    MonitoringEntry,
    PhoneLine,
    Recording,
    TextMessage,
    Ticket,
)
from recordings.services import ticket_soft_delete
from residency.models import Account

DEMO_PEOPLE = [
    (Person.Kind.END_USER, "Astrid Lindqvist", "astrid@example.se", "+46701230001"),
    (Person.Kind.END_USER, "Marco Bianchi", "marco@example.it", "+393471230002"),
    (Person.Kind.END_USER, "Priya Nair", "priya@example.in", "+919812300003"),
    (Person.Kind.AGENT, "Sam Agent", "sam.agent@example.com", "+46701230004"),
    (Person.Kind.AGENT, "Lee Supervisor", "lee.supervisor@example.com", "+46701230005"),
]


@transaction.atomic
def load_demo(*, account_names: list[str]) -> None:
    """Create phone lines, tickets, calls, recordings, monitoring, texts and analytics for each named account.

    Idempotent: an account that already has phone lines is left as it is. People are created only for an
    account that has none (its external ids start with ``demo-``).
    """
    for account in Account.objects.filter(name__in=account_names).order_by("pk"):
        if PhoneLine.objects.filter(account=account).exists():
            continue
        _load_account(account)


def _people(account: Account) -> tuple[list[Person], list[Person]]:
    if not Person.objects.filter(account=account).exists():
        for index, (kind, name, email, phone) in enumerate(DEMO_PEOPLE):
            Person.objects.create(
                account=account, kind=kind, name=name, email=email, phone=phone, external_id=f"demo-{index}"
            )
    people = list(Person.objects.filter(account=account).order_by("pk"))
    agents = [p for p in people if p.kind == Person.Kind.AGENT] or people[:1]
    end_users = [p for p in people if p.kind == Person.Kind.END_USER] or people[:1]
    return end_users, agents


def _load_account(account: Account) -> None:
    now = timezone.now()
    end_users, agents = _people(account)
    base = 4_600_000_000 + account.pk * 100
    support = PhoneLine.objects.create(account=account, number=f"+{base + 1}", name="Support", auto_delete_days=30)
    sales = PhoneLine.objects.create(account=account, number=f"+{base + 2}", name="Sales", auto_delete_days=None)
    PhoneLine.objects.create(account=account, number=f"+{base + 3}", name="After hours", auto_delete_days=7)

    for index, caller in enumerate(end_users * 2):
        agent = agents[index % len(agents)]
        age = [2, 12, 45, 90, 3, 400][index % 6]
        started = now - timedelta(days=age, hours=index)
        line = support if index % 2 == 0 else sales
        ticket = Ticket.objects.create(
            account=account,
            requester=caller,
            subject=f"Call from {caller.name} about invoice {1000 + index}",
            description=f"{caller.name} ({caller.phone}) asked about invoice {1000 + index}.",
            created_at=started,
        )
        call = Call.objects.create(
            account=account, line=line, ticket=ticket, end_user=caller, agent=agent,
            direction=Call.Direction.INBOUND, from_number=caller.phone, to_number=line.number,
            started=started, ended=started + timedelta(minutes=6), duration_seconds=360,
            ivr_external=index == 1, transferred_external=index == 2,
        )
        Recording.objects.create(
            account=account, line=line, call=call, ticket=ticket, kind=Recording.Kind.CALL,
            provider_sid=f"REdemo{account.pk:04d}{index:04d}c", duration_seconds=340, created_at=started,
        )
        if index % 3 == 0:
            Recording.objects.create(
                account=account, line=line, call=call, ticket=ticket, kind=Recording.Kind.VOICEMAIL,
                provider_sid=f"REdemo{account.pk:04d}{index:04d}v", duration_seconds=40, created_at=started,
            )
        MonitoringEntry.objects.create(
            account=account, call=call, supervisor=agents[-1], caller_number=caller.phone,
            mode=[MonitoringEntry.Mode.LISTEN, MonitoringEntry.Mode.WHISPER, MonitoringEntry.Mode.BARGE][index % 3],
            started=started + timedelta(minutes=1), ended=started + timedelta(minutes=3),
        )
        AnalyticsRow.objects.create(
            account=account, call=call, person=caller, phone_number=caller.phone, started=started,
            wait_seconds=20 + index, talk_seconds=340, ivr_external=call.ivr_external,
            transferred_external=call.transferred_external,
        )
        TextMessage.objects.create(
            account=account, line=line, person=caller, direction=TextMessage.Direction.INBOUND,
            from_number=caller.phone, to_number=line.number, body="Please call me back about my invoice.",
            sent_at=started - timedelta(minutes=30),
        )
        if index == 4:
            # Soft-deleted 8 days ago: the next purge deletes it for good with its recordings.
            ticket_soft_delete(ticket_id=ticket.pk, now=now - timedelta(days=8))
