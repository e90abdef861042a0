"""Identity codes are capped per request and per address per hour, so intake cannot flood a mailbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from dsar import services
from dsar.models import RequestEvent, VerificationCode
from tests.dsar.factories import CaptureOnCommit, PersonFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def limits(settings: Any, time_machine: Any) -> None:
    settings.DSAR_CODES_PER_REQUEST_PER_HOUR = 2
    settings.DSAR_CODES_PER_ADDRESS_PER_HOUR = 3
    time_machine.move_to(NOW, tick=False)


def test_a_request_gets_at_most_its_hourly_number_of_codes(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    person = PersonFactory()
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_create(account=person.account, person=person, type="access", jurisdiction="gdpr")
        services.request_send_code(request=request)
        with pytest.raises(ValidationError) as error:
            services.request_send_code(request=request)

    assert "2 codes an hour" in error.value.message_dict["code"][0]
    assert len(mail.outbox) == 2
    assert VerificationCode.objects.filter(request=request).count() == 2


def test_the_cap_lifts_after_an_hour(time_machine: Any) -> None:
    person = PersonFactory()
    request = services.request_create(account=person.account, person=person, type="access", jurisdiction="gdpr")
    services.request_send_code(request=request)

    time_machine.move_to(NOW + dt.timedelta(hours=1, seconds=1), tick=False)
    services.request_send_code(request=request)

    assert VerificationCode.objects.filter(request=request).count() == 3


def test_requests_for_one_address_share_its_hourly_cap_and_the_request_says_no_code_was_sent(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    person = PersonFactory(email="target@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        requests = [
            services.request_create(account=person.account, type="access", jurisdiction="gdpr", email="TARGET@example.org")
            for _ in range(4)
        ]

    assert len(mail.outbox) == 3
    held = requests[-1].events.get(kind=RequestEvent.Kind.CODE_HELD)
    assert "3 codes an hour are sent to one address" in held.message
    assert "target@example.org" not in held.message
