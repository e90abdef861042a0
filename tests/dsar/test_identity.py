from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from dsar import services
from dsar.models import Request, RequestEvent, VerificationCode
from tests.dsar.factories import (
    CaptureOnCommit,
    FakeSource,
    PersonFactory,
    UseSources,
    make_request,
    staff,
)

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db


def emailed_code() -> str:
    match = re.search(r"Your code is (\d{6})", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_a_new_request_sends_a_code_to_the_email_on_record_not_to_what_was_typed(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    person = PersonFactory(email="on.record@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_create(
            account=person.account, type="access", jurisdiction="gdpr", email="ON.RECORD@example.org"
        )
    assert request.person == person
    assert request.status == Request.Status.VERIFYING
    assert mail.outbox[-1].to == ["on.record@example.org"]
    code = emailed_code()
    stored = VerificationCode.objects.get(request=request)
    assert code not in stored.digest and len(stored.digest) == 64
    assert request.events.filter(kind=RequestEvent.Kind.CODE_SENT).exists()


def test_the_right_code_verifies_the_requester(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    person = PersonFactory()
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_create(account=person.account, person=person, type="access", jurisdiction="gdpr")
    services.request_verify_code(request=request, code=emailed_code())
    request.refresh_from_db()
    assert request.status == Request.Status.IN_PROGRESS
    assert request.verification_method == "code"
    assert request.verified_at is not None
    assert request.events.filter(kind=RequestEvent.Kind.VERIFIED).exists()


def test_wrong_codes_are_counted_and_lock_the_code_after_the_limit(
    settings: Any, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    settings.DSAR_CODE_MAX_ATTEMPTS = 3
    person = PersonFactory()
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_create(account=person.account, person=person, type="access", jurisdiction="gdpr")
    code = emailed_code()
    wrong = "000000" if code != "000000" else "111111"
    for left in (2, 1, 0):
        with pytest.raises(ValidationError) as error:
            services.request_verify_code(request=request, code=wrong)
        message = error.value.message_dict["code"][0]
        assert message.startswith("The code is wrong") and (
            f"{left} attempt(s) left" in message if left else "new one" in message
        )
    with pytest.raises(ValidationError) as error:
        services.request_verify_code(request=request, code=code)  # even the right one, now
    assert "Too many" in error.value.message_dict["code"][0]
    request.refresh_from_db()
    assert request.verified_at is None
    assert VerificationCode.objects.get(request=request).attempts == 3
    assert request.events.filter(kind=RequestEvent.Kind.CODE_FAILED).count() == 3


def test_an_expired_code_is_refused(
    time_machine: time_machine.TimeMachineFixture, settings: Any, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    settings.DSAR_CODE_TTL_MINUTES = 30
    time_machine.move_to(dt.datetime(2026, 5, 4, 9, tzinfo=UTC), tick=False)
    person = PersonFactory()
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_create(account=person.account, person=person, type="access", jurisdiction="gdpr")
    code = emailed_code()
    time_machine.move_to(dt.datetime(2026, 5, 4, 9, 31, tzinfo=UTC), tick=False)
    with pytest.raises(ValidationError) as error:
        services.request_verify_code(request=request, code=code)
    assert "expired" in error.value.message_dict["code"][0]


def test_a_new_code_replaces_the_old_one(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    person = PersonFactory()
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_create(account=person.account, person=person, type="access", jurisdiction="gdpr")
    first = emailed_code()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_send_code(request=request)
    second = emailed_code()
    if first != second:
        with pytest.raises(ValidationError):
            services.request_verify_code(request=request, code=first)
    services.request_verify_code(request=request, code=second)
    request.refresh_from_db()
    assert request.is_verified


def test_staff_verify_manually_with_a_note() -> None:
    request = make_request(verified=False)
    services.request_verify_manually(request=request, note="Called back on the number in the CRM.", actor=staff())
    request.refresh_from_db()
    assert request.verification_method == "manual"
    event = request.events.get(kind=RequestEvent.Kind.VERIFIED)
    assert "Called back on the number in the CRM." in event.message
    assert event.actor == "dpo"


def test_manual_verification_needs_a_note_and_staff() -> None:
    request = make_request(verified=False)
    with pytest.raises(ValidationError) as error:
        services.request_verify_manually(request=request, note="", actor=staff())
    assert "note" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.request_verify_manually(request=request, note="Trust me.", actor=None)
    request.refresh_from_db()
    assert not request.is_verified


def test_nothing_is_executed_before_the_identity_is_verified(use_sources: UseSources) -> None:
    source = FakeSource("tickets")
    use_sources(source)
    request = make_request(verified=False)
    with pytest.raises(ValidationError) as error:
        services.request_execute(request=request)
    assert "not verified" in error.value.messages[0]
    assert source.log == []
    assert request.person.__class__.objects.filter(pk=request.person.pk).exists()
