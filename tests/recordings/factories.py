"""Factories for telephony records; accounts and people are built on the real catalog."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from dsar.models import Person
from recordings.models import (
    AnalyticsRow,
    Call,
    LegalHold,
    MonitoringEntry,
    PhoneLine,
    Recording,
    TextMessage,
    Ticket,
)
from tests.factories import AccountFactory, PersonFactory, UserFactory  # noqa: F401 (re-exported)


class PhoneLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneLine

    account = factory.SubFactory(AccountFactory)
    number = factory.Sequence(lambda n: f"+4610{n:07d}")
    name = factory.Sequence(lambda n: f"Support line {n}")
    auto_delete_days = 30


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    account = factory.SubFactory(AccountFactory)
    requester = factory.SubFactory(PersonFactory, account=factory.SelfAttribute("..account"))
    subject = "Call about my order"
    description = "The caller asked about an order."


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    line = factory.SubFactory(PhoneLineFactory)
    account = factory.SelfAttribute("line.account")
    ticket = None
    end_user = factory.SubFactory(PersonFactory, account=factory.SelfAttribute("..account"))
    agent = None
    direction = Call.Direction.INBOUND
    from_number = factory.LazyAttribute(lambda call: call.end_user.phone if call.end_user else "+4670999999")
    to_number = factory.SelfAttribute("line.number")
    started = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=10))
    ended = factory.LazyAttribute(lambda call: call.started + timedelta(minutes=5))
    duration_seconds = 300


class RecordingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recording

    call = factory.SubFactory(CallFactory)
    line = factory.SelfAttribute("call.line")
    account = factory.SelfAttribute("call.account")
    ticket = factory.SelfAttribute("call.ticket")
    kind = Recording.Kind.CALL
    provider_sid = factory.Sequence(lambda n: f"RE{n:032x}")
    duration_seconds = 120
    created_at = factory.LazyFunction(timezone.now)


class MonitoringEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonitoringEntry

    call = factory.SubFactory(CallFactory)
    account = factory.SelfAttribute("call.account")
    supervisor = factory.SubFactory(PersonFactory, account=factory.SelfAttribute("..account"), kind=Person.Kind.AGENT)
    caller_number = factory.SelfAttribute("call.from_number")
    mode = MonitoringEntry.Mode.LISTEN
    started = factory.SelfAttribute("call.started")
    ended = factory.SelfAttribute("call.ended")


class TextMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TextMessage

    line = factory.SubFactory(PhoneLineFactory)
    account = factory.SelfAttribute("line.account")
    person = factory.SubFactory(PersonFactory, account=factory.SelfAttribute("..account"))
    from_number = factory.LazyAttribute(lambda text: text.person.phone if text.person else "")
    to_number = factory.SelfAttribute("line.number")
    body = "Hello, please call me back."
    sent_at = factory.LazyFunction(timezone.now)


class AnalyticsRowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnalyticsRow

    call = factory.SubFactory(CallFactory)
    account = factory.SelfAttribute("call.account")
    person = factory.SelfAttribute("call.end_user")
    phone_number = factory.SelfAttribute("call.from_number")
    started = factory.SelfAttribute("call.started")
    ivr_external = factory.SelfAttribute("call.ivr_external")
    transferred_external = factory.SelfAttribute("call.transferred_external")


class LegalHoldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LegalHold

    account = factory.SubFactory(AccountFactory)
    scope = LegalHold.Scope.ACCOUNT
    reason = "Litigation 2026-17"
    placed_by_name = "dpo"


def recording_on(line, *, now, age_days: float, ticket=None, call: dict | None = None, **recording):
    """A recording on ``line`` made ``age_days`` before ``now``, with its call (10 minutes earlier, on ``ticket``;
    ``call``: more of the call's fields), for the purge's tests."""
    made = CallFactory(line=line, ticket=ticket, started=now - timedelta(days=age_days, minutes=10), **(call or {}))
    return RecordingFactory(call=made, created_at=now - timedelta(days=age_days), **recording)
