"""Submissions from the privacy center and agents: nothing is linked to a person before the person proves control
of the identifier; verified, a submission opens a request in the one workflow, or is linked to the same
person's open request of the same type."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from core import sms
from dsar import services
from dsar.models import Jurisdiction, Person, PrivacyCenter, Request, RequestEvent, Submission
from dsar.submissions import (
    Throttled,
    answer_time,
    jurisdiction_for,
    request_withdraw,
    request_withdraw_blockers,
    submission_cancel,
    submission_create,
    submission_resend,
    submission_verify_code,
    submission_verify_link,
    submissions_expire,
)
from tests.dsar.factories import staff
from tests.factories import AccountFactory, PersonFactory

pytestmark = pytest.mark.django_db

_capture: Any = None


@pytest.fixture(autouse=True)
def _commits(django_capture_on_commit_callbacks: Any) -> None:
    global _capture
    _capture = django_capture_on_commit_callbacks


def committed(service: Any, /, *args: Any, **kwargs: Any) -> Any:
    """Call ``service`` and run what it left for its transaction's commit (the emails and text messages)."""
    with _capture(execute=True):
        return service(*args, **kwargs)

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def center() -> PrivacyCenter:
    account = AccountFactory(name="Nordlys Support AB", country="SE")
    return PrivacyCenter.objects.create(
        account=account, slug="nordlys", default_jurisdiction=Jurisdiction.objects.get(code="gdpr")
    )


def submit(center: PrivacyCenter, **kwargs: Any) -> Submission:
    values: dict[str, Any] = {
        "account": center.account,
        "type": Request.Type.ACCESS,
        "jurisdiction": center.default_jurisdiction,
        "language": "en",
        "email": "zoe@example.com",
        "name": "Zoë Łukasz",
        "client_address": "203.0.113.7",
        **kwargs,
    }
    return committed(submission_create, **values)


def sent(to: str) -> tuple[str, str]:
    """The one-time link's token and the code in the last email to ``to``."""
    message = [m for m in mail.outbox if to in m.to][-1]
    token = re.search(r"/verify/([\w-]+)/", message.body).group(1)
    code = re.search(r"code (\d{6})", message.body).group(1)
    return token, code


@time_machine.travel(START, tick=False)
def test_a_submission_links_nothing_to_a_person_until_the_code_proves_the_email(center: PrivacyCenter) -> None:
    known = PersonFactory(account=center.account, email="zoe@example.com")
    submission = submit(center)
    assert (Request.objects.count(), Person.objects.count()) == (0, 1)
    assert submission.status == Submission.Status.PENDING and submission.request is None
    _, code = sent("zoe@example.com")
    verified = committed(submission_verify_code, submission=submission, code=code)
    request = verified.request
    assert (request.person, request.channel, request.received_at) == (known, Request.Channel.WEB_FORM, START)
    assert request.status == Request.Status.IN_PROGRESS and request.verification_method == "code"
    kinds = set(request.events.values_list("kind", flat=True))
    assert {RequestEvent.Kind.SUBMITTED, RequestEvent.Kind.RECEIVED, RequestEvent.Kind.VERIFIED} <= kinds
    assert "submitted by the person under" in request.events.get(kind=RequestEvent.Kind.SUBMITTED).message
    verified.submission.refresh_from_db()
    assert (verified.submission.status, verified.submission.email) == (Submission.Status.VERIFIED, "")
    confirmed = mail.outbox[-1]
    assert "is confirmed" in confirmed.subject and f"/privacy/nordlys/status/{verified.status_token}/" in confirmed.body


@time_machine.travel(START, tick=False)
def test_the_one_time_link_works_once_and_a_replaced_link_not_at_all(center: PrivacyCenter) -> None:
    submission = submit(center)
    old_token, _ = sent("zoe@example.com")
    committed(submission_resend, submission=submission)
    new_token, _ = sent("zoe@example.com")
    with pytest.raises(ValidationError) as replaced:
        committed(submission_verify_link, token=old_token)
    assert "not valid" in replaced.value.message_dict["link"][0]
    committed(submission_verify_link, token=new_token)
    with pytest.raises(ValidationError) as reused:
        committed(submission_verify_link, token=new_token)
    assert "already confirmed" in reused.value.message_dict["link"][0]
    assert Request.objects.count() == 1


@time_machine.travel(START, tick=False)
def test_wrong_codes_are_counted_on_the_timeline_and_stop_at_the_limit(center: PrivacyCenter, settings: Any) -> None:
    settings.DSAR_CODE_MAX_ATTEMPTS = 3
    submission = submit(center)
    _, code = sent("zoe@example.com")
    wrong = "000000" if code != "000000" else "111111"
    for left in ("2 attempts left", "1 attempt left"):
        with pytest.raises(ValidationError, match=left):
            committed(submission_verify_code, submission=submission, code=wrong)
    with pytest.raises(ValidationError, match="Ask for a new code"):
        committed(submission_verify_code, submission=submission, code=wrong)
    with pytest.raises(ValidationError, match="Too many wrong codes"):
        committed(submission_verify_code, submission=submission, code=code)
    committed(submission_resend, submission=submission)
    _, fresh = sent("zoe@example.com")
    request = committed(submission_verify_code, submission=submission, code=fresh).request
    failed = request.events.filter(kind=RequestEvent.Kind.CODE_FAILED)
    assert failed.count() == 3 and all(event.at == START for event in failed)


@time_machine.travel(START, tick=False)
def test_a_duplicate_is_linked_after_verification_never_before(center: PrivacyCenter) -> None:
    person = PersonFactory(account=center.account, email="zoe@example.com")
    with time_machine.travel(START - dt.timedelta(days=20), tick=False):
        first = services.request_create(account=center.account, person=person, type="erasure", jurisdiction="gdpr", send_code=False)
    events_before = first.events.count()
    submission = submit(center, type=Request.Type.ERASURE, email="ZOE@example.com ")
    # Unverified, it touches nothing of the real request: no link, no line, no status change.
    first.refresh_from_db()
    assert (first.events.count(), first.status, first.submissions.count()) == (events_before, Request.Status.RECEIVED, 0)
    _, code = sent("zoe@example.com")
    verified = committed(submission_verify_code, submission=submission, code=code)
    assert verified.linked and verified.request == first and Request.objects.count() == 1
    assert first.events.filter(kind=RequestEvent.Kind.DUPLICATE).count() == 1
    assert list(first.submissions.values_list("status", flat=True)) == [Submission.Status.LINKED]


@time_machine.travel(START, tick=False)
def test_another_type_or_an_old_request_is_no_duplicate(center: PrivacyCenter) -> None:
    person = PersonFactory(account=center.account, email="zoe@example.com")
    with time_machine.travel(START - dt.timedelta(days=400), tick=False):
        services.request_create(account=center.account, person=person, type="access", jurisdiction="gdpr", send_code=False)
    services.request_create(account=center.account, person=person, type="erasure", jurisdiction="gdpr", send_code=False)
    submission = submit(center, type=Request.Type.ACCESS)
    _, code = sent("zoe@example.com")
    verified = committed(submission_verify_code, submission=submission, code=code)
    assert not verified.linked and Request.objects.count() == 3


@time_machine.travel(START, tick=False)
def test_unverified_submissions_are_reminded_once_then_expire_with_their_identifiers(center: PrivacyCenter) -> None:
    submission = submit(center, type=Request.Type.ERASURE)
    first_token, _ = sent("zoe@example.com")
    with time_machine.travel(START + dt.timedelta(hours=23), tick=False):
        assert committed(submissions_expire) == (0, 0)
    with time_machine.travel(START + dt.timedelta(hours=25), tick=False):
        assert committed(submissions_expire) == (1, 0)
        assert committed(submissions_expire) == (0, 0)
        assert "Reminder" in mail.outbox[-1].subject
    reminder_token, _ = sent("zoe@example.com")
    assert reminder_token != first_token
    with time_machine.travel(START + dt.timedelta(days=7), tick=False):
        committed(call_command, "expire_submissions", verbosity=0)
        submission.refresh_from_db()
        assert (submission.status, submission.email, submission.name) == (Submission.Status.EXPIRED, "", "")
        assert submission.trail[-1]["kind"] == "expired"
        with pytest.raises(ValidationError, match="not valid"):
            committed(submission_verify_link, token=reminder_token)  # expiry removed the link's digest
        with pytest.raises(ValidationError, match="expired"):
            committed(submission_verify_code, submission=submission, code="123456")
    assert Request.objects.count() == 0


@time_machine.travel(START, tick=False)
def test_a_link_past_its_week_is_refused_as_expired_even_before_the_job_runs(center: PrivacyCenter) -> None:
    submit(center)
    token, _ = sent("zoe@example.com")
    with time_machine.travel(START + dt.timedelta(days=7, seconds=1), tick=False):
        with pytest.raises(ValidationError, match="expired"):
            committed(submission_verify_link, token=token)
    assert Request.objects.count() == 0


@time_machine.travel(START, tick=False)
def test_identity_and_address_throttles_refuse_and_store_nothing(center: PrivacyCenter, settings: Any) -> None:
    settings.PRIVACY_CENTER_RATES = {"address": "4/hour", "identity": "2/hour"}
    submit(center)
    submit(center)
    with pytest.raises(Throttled) as identity:
        submit(center)
    assert identity.value.field == "identity" and "email or phone" in identity.value.message
    submit(center, email="someone@example.com")
    with pytest.raises(Throttled) as address:
        submit(center, email="third@example.com")
    assert address.value.field == "address" and address.value.retry_after > 0
    assert Submission.objects.count() == 3 and len(mail.outbox) == 3


@time_machine.travel(START, tick=False)
def test_only_a_phone_gets_the_code_by_text_message(center: PrivacyCenter) -> None:
    submission = submit(center, email="", phone="070-123 45 67")
    assert submission.phone == "+46701234567" and mail.outbox == []
    message = sms.outbox[-1]
    code = re.search(r"code is (\d{6})", message.body).group(1)
    assert message.to == "+46701234567" and "/privacy/nordlys/confirm/" in message.body
    assert committed(submission_verify_code, submission=submission, code=code).request.person.phone == "+46701234567"


def test_bad_identifiers_are_refused_naming_each_field(center: PrivacyCenter) -> None:
    with pytest.raises(ValidationError) as refused:
        submit(center, email="not-an-email", phone="12", type="everything")
    assert set(refused.value.message_dict) == {"email", "phone", "type"}
    with pytest.raises(ValidationError) as neither:
        submit(center, email="", phone="")
    assert "email" in neither.value.message_dict
    assert Submission.objects.count() == 0 and mail.outbox == []


@time_machine.travel(START, tick=False)
def test_an_agent_uploads_the_authorization_and_the_person_confirms(center: PrivacyCenter, settings: Any) -> None:
    proof = SimpleUploadedFile("authorization.pdf", PDF, content_type="application/pdf")
    submission = submit(
        center, via=Submission.Via.AGENT, agent_name="Rights Agent Inc.", agent_email="desk@agent.example",
        agent_proof=proof, type=Request.Type.ERASURE,
    )
    stored = Path(settings.DSAR_AGENT_PROOF_ROOT) / submission.agent_proof
    assert stored.read_bytes() == PDF and submission.agent_proof_type == "application/pdf"
    to_person = [m for m in mail.outbox if "zoe@example.com" in m.to][-1]
    assert "Rights Agent Inc. asked Nordlys Support AB, on your behalf" in to_person.body
    assert [m for m in mail.outbox if "desk@agent.example" in m.to][-1].subject == "Request received by Nordlys Support AB"
    _, code = sent("zoe@example.com")
    request = committed(submission_verify_code, submission=submission, code=code).request
    assert request.channel == Request.Channel.AGENT
    assert "/status/" in [m for m in mail.outbox if "desk@agent.example" in m.to][-1].body


@pytest.mark.parametrize(
    ("content", "size_limit", "message"),
    [
        (b"MZ\x90\x00 not a document", 5 * 1024 * 1024, "PDF, PNG or JPEG"),
        (PDF + b"0" * 2048, 1024, "at most 0.0 MB"),
    ],
)
def test_a_wrong_or_oversized_authorization_is_refused_and_nothing_is_kept(
    center: PrivacyCenter, settings: Any, content: bytes, size_limit: int, message: str
) -> None:
    settings.DSAR_AGENT_PROOF_MAX_BYTES = size_limit
    proof = SimpleUploadedFile("authorization.pdf", content, content_type="application/pdf")
    with pytest.raises(ValidationError) as refused:
        submit(center, via=Submission.Via.AGENT, agent_name="A", agent_email="a@agent.example", agent_proof=proof)
    assert message in refused.value.message_dict["authorization"][0]
    root = Path(settings.DSAR_AGENT_PROOF_ROOT)
    assert Submission.objects.count() == 0 and mail.outbox == [] and not (root.exists() and any(root.iterdir()))


@time_machine.travel(START, tick=False)
def test_an_erasure_waits_its_grace_period_and_the_person_may_withdraw_it_until_then(center: PrivacyCenter) -> None:
    PrivacyCenter.objects.filter(pk=center.pk).update(erasure_grace_days=3)
    submission = submit(center, type=Request.Type.ERASURE)
    _, code = sent("zoe@example.com")
    request = committed(submission_verify_code, submission=submission, code=code).request
    assert request.grace_ends_at == START + dt.timedelta(days=3)
    assert "withdraw this erasure until" in services.request_execute_blockers(request)["status"]
    with pytest.raises(ValidationError, match="cannot be executed before then"):
        services.request_execute(request=request)
    assert request_withdraw_blockers(request) == {}
    committed(request_withdraw, request=request)
    assert (request.status, request.completed_at) == (Request.Status.WITHDRAWN, START)
    assert request.events.filter(kind=RequestEvent.Kind.WITHDRAWN).exists()


@time_machine.travel(START, tick=False)
def test_after_the_grace_period_an_erasure_can_no_longer_be_withdrawn(center: PrivacyCenter) -> None:
    PrivacyCenter.objects.filter(pk=center.pk).update(erasure_grace_days=1)
    submission = submit(center, type=Request.Type.ERASURE)
    _, code = sent("zoe@example.com")
    request = committed(submission_verify_code, submission=submission, code=code).request
    with time_machine.travel(START + dt.timedelta(days=1, seconds=1), tick=False):
        assert "has passed" in request_withdraw_blockers(request)["status"]
        with pytest.raises(ValidationError):
            committed(request_withdraw, request=request)
        assert services.request_execute_blockers(request) == {}
    request.refresh_from_db()
    assert request.status == Request.Status.IN_PROGRESS


@time_machine.travel(START, tick=False)
def test_without_a_grace_period_an_erasure_is_not_withdrawn(center: PrivacyCenter) -> None:
    submission = submit(center, type=Request.Type.ERASURE)
    _, code = sent("zoe@example.com")
    request = committed(submission_verify_code, submission=submission, code=code).request
    assert request.grace_ends_at is None and request_withdraw_blockers(request)


@time_machine.travel(START, tick=False)
def test_cancelling_before_verification_forgets_the_submission_and_after_withdraws_the_request(
    center: PrivacyCenter, settings: Any
) -> None:
    proof = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    pending = submit(center, via=Submission.Via.AGENT, agent_name="A", agent_email="a@agent.example", agent_proof=proof)
    stored = Path(settings.DSAR_AGENT_PROOF_ROOT) / pending.agent_proof
    committed(submission_cancel, submission=pending)
    pending.refresh_from_db()
    assert (pending.status, pending.email) == (Submission.Status.CANCELLED, "") and not stored.exists()
    verified = submit(center, email="other@example.com")
    _, code = sent("other@example.com")
    request = committed(submission_verify_code, submission=verified, code=code).request
    committed(submission_cancel, submission=verified)
    request.refresh_from_db()
    assert request.status == Request.Status.WITHDRAWN


@time_machine.travel(START, tick=False)
def test_another_accounts_requests_and_people_are_untouched(center: PrivacyCenter) -> None:
    other = AccountFactory()
    theirs = PersonFactory(account=other, email="zoe@example.com")
    services.request_create(account=other, person=theirs, type="access", jurisdiction="gdpr", send_code=False)

    def rows() -> list[Any]:
        return [
            list(Person.objects.filter(account=other).values()),
            list(Request.objects.filter(account=other).values()),
            list(RequestEvent.objects.filter(request__account=other).values()),
        ]

    before = rows()
    submission = submit(center)
    _, code = sent("zoe@example.com")
    verified = committed(submission_verify_code, submission=submission, code=code)
    assert not verified.linked and verified.request.account == center.account
    assert rows() == before


def test_the_law_follows_where_the_person_lives_with_the_centers_default(center: PrivacyCenter) -> None:
    assert jurisdiction_for(center=center, residence="SE").code == "gdpr"
    assert jurisdiction_for(center=center, residence="GB").code == "uk-gdpr"
    assert jurisdiction_for(center=center, residence="US-CA").code == "ccpa"
    assert jurisdiction_for(center=center, residence="IN") == center.default_jurisdiction
    assert answer_time(Jurisdiction.objects.get(code="gdpr")) == "answered within one month under the GDPR (EU)"
    assert answer_time(Jurisdiction.objects.get(code="ccpa")) == "answered within 45 days under the CCPA/CPRA (California)"


@time_machine.travel(START, tick=False)
def test_an_erasure_cancels_the_persons_unverified_submissions_and_removes_their_identifiers(center: PrivacyCenter) -> None:
    person = PersonFactory(account=center.account, email="zoe@example.com", phone="+46701234567")
    waiting = submit(center, email="", phone="+46 70 123 45 67")
    someone_else = submit(center, email="jimzoe@example.com")
    erasure = services.request_create(account=center.account, person=person, type="erasure", jurisdiction="gdpr", send_code=False)
    services.request_verify_manually(request=erasure, note="Checked by phone.", actor=staff())
    committed(services.request_execute, request=erasure)
    waiting.refresh_from_db()
    someone_else.refresh_from_db()
    assert (waiting.status, waiting.phone) == (Submission.Status.CANCELLED, "")
    assert (someone_else.status, someone_else.email) == (Submission.Status.PENDING, "jimzoe@example.com")
    assert waiting.history.first().history_change_reason.startswith("erasure")


def test_a_closed_privacy_center_takes_no_submission(center: PrivacyCenter) -> None:
    PrivacyCenter.objects.filter(pk=center.pk).update(is_open=False)
    with pytest.raises(ValidationError) as refused:
        submit(center)
    assert "does not take requests" in refused.value.message_dict["account"][0]
    assert Submission.objects.count() == 0 and mail.outbox == []
