"""The privacy center's pages: a person (or their authorized agent) files a request, proves control of the email
or phone with the one-time link or the code, and follows the request on its status page, in English, Swedish or
French, without a script; bad input, floods and software filling every field get a clear answer and store
nothing."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from core import sms
from dsar import services
from dsar.exports import export_create
from dsar.models import Jurisdiction, PrivacyCenter, Request, RequestEvent, Submission
from tests.dsar.factories import staff
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def frozen() -> Any:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def proof_root(settings: Any, tmp_path: Path) -> Path:
    settings.DSAR_AGENT_PROOF_ROOT = tmp_path / "agent-proofs"
    return settings.DSAR_AGENT_PROOF_ROOT


@pytest.fixture
def center() -> PrivacyCenter:
    account = AccountFactory(name="Nordlys Support AB", country="SE")
    return PrivacyCenter.objects.create(
        account=account, slug="nordlys", default_jurisdiction=Jurisdiction.objects.get(code="gdpr")
    )


@pytest.fixture
def web(django_capture_on_commit_callbacks: Any) -> Any:
    """A browser on the privacy center; each call runs what its request left for the commit (the emails)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    def call(method: str, url: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return getattr(client, method)(url, data or {}, **extra)

    call.client = client  # type: ignore[attr-defined]
    return call


def person(**values: Any) -> dict[str, Any]:
    return {
        "type": Request.Type.ACCESS,
        "name": "Zoë Lindqvist",
        "email": "zoe@example.com",
        "phone": "",
        "residence": "SE",
        "details": "",
        **values,
    }


def submit(web: Any, center: PrivacyCenter, **values: Any) -> Any:
    return web("post", f"/privacy/{center.slug}/", {**person(**values), "step": "submit"})


def sent_to(address: str) -> tuple[str, str]:
    """The one-time link's token and the code in the last email to ``address``."""
    body = [message for message in mail.outbox if address in message.to][-1].body
    token = re.search(r"/privacy/[\w-]+/verify/([\w-]+)/", body).group(1)  # type: ignore[union-attr]
    code = re.search(r"\b(\d{6})\b", body).group(1)  # type: ignore[union-attr]
    return token, code


def table_counts() -> tuple[int, int, int]:
    return Submission.objects.count(), Request.objects.count(), len(mail.outbox)


# --- filing -----------------------------------------------------------------------------------------------------


def test_the_form_offers_every_request_in_plain_words_with_its_fields_labelled(web: Any, center: PrivacyCenter) -> None:
    html = web("get", "/privacy/nordlys/").content.decode()

    for words in ("See my data", "Correct my data", "Erase my data", "Get a copy of my data", "Stop marketing use"):
        assert words in html
    assert '<html lang="en">' in html and "<legend>What would you like to do?</legend>" in html
    for field in ("id_name", "id_email", "id_phone", "id_residence", "id_details"):
        assert f'for="{field}"' in html
    assert 'name="website"' in html and 'tabindex="-1"' in html


def test_the_check_step_shows_the_law_and_its_answer_time_before_anything_is_stored(
    web: Any, center: PrivacyCenter
) -> None:
    response = web("post", "/privacy/nordlys/", {**person(residence="US-CA"), "step": "check"})
    html = response.content.decode()

    assert response.status_code == 200
    assert "45 days" in html and "CCPA" in html and "zoe@example.com" in html
    assert 'name="step" value="submit"' in html
    assert table_counts() == (0, 0, 0)


@pytest.mark.parametrize("type", Request.Type.values)
def test_each_type_submits_and_verifies_by_code(web: Any, center: PrivacyCenter, type: str) -> None:
    details = "My surname is Lindqvist, not Lindkvist." if type == Request.Type.RECTIFICATION else ""
    response = submit(web, center, type=type, details=details)

    submission = Submission.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/privacy/nordlys/sent/{submission.public_id}/"
    assert "Check your email" in web("get", response["Location"]).content.decode()
    assert (submission.type, submission.language, submission.request) == (type, "en", None)
    _token, code = sent_to("zoe@example.com")

    confirmed = web("post", f"/privacy/nordlys/confirm/{submission.public_id}/", {"code": code})

    submission.refresh_from_db()
    assert submission.status == Submission.Status.VERIFIED and submission.request.type == type
    assert re.fullmatch(r"/privacy/nordlys/status/[\w-]+/", confirmed["Location"])
    assert web("get", confirmed["Location"]).status_code == 200


@pytest.mark.parametrize("type", Request.Type.values)
def test_each_type_verifies_by_link_once_with_a_button_first(web: Any, center: PrivacyCenter, type: str) -> None:
    details = "My surname is Lindqvist." if type == Request.Type.RECTIFICATION else ""
    submit(web, center, type=type, details=details)
    token, _code = sent_to("zoe@example.com")
    url = f"/privacy/nordlys/verify/{token}/"

    shown = web("get", url)
    assert shown.status_code == 200 and "<form method=\"post\">" in shown.content.decode()
    assert Submission.objects.get().status == Submission.Status.PENDING  # a scanner's GET uses nothing

    used = web("post", url)
    again = web("post", url)

    assert used.status_code == 302 and "/privacy/nordlys/status/" in used["Location"]
    assert Submission.objects.get().status == Submission.Status.VERIFIED and Request.objects.count() == 1
    assert again.status_code == 400 and "already confirmed" in again.content.decode()
    assert Request.objects.count() == 1


def test_a_wrong_code_is_refused_beside_its_field_and_counted(web: Any, center: PrivacyCenter) -> None:
    submit(web, center)
    submission = Submission.objects.get()
    _token, code = sent_to("zoe@example.com")
    wrong = "000000" if code != "000000" else "111111"

    response = web("post", f"/privacy/nordlys/confirm/{submission.public_id}/", {"code": wrong})

    html = response.content.decode()
    assert response.status_code == 400 and 'id="id_code_error"' in html and "attempts left" in html
    submission.refresh_from_db()
    assert submission.code_attempts == 1 and submission.status == Submission.Status.PENDING


def test_a_new_code_replaces_the_old_one(web: Any, center: PrivacyCenter) -> None:
    submit(web, center)
    submission = Submission.objects.get()
    old_token, _old_code = sent_to("zoe@example.com")

    response = web("post", f"/privacy/nordlys/confirm/{submission.public_id}/", {"resend": "1"})
    new_token, new_code = sent_to("zoe@example.com")

    assert response.status_code == 200 and "new code" in response.content.decode()
    assert web("post", f"/privacy/nordlys/verify/{old_token}/").status_code == 400
    assert web("post", f"/privacy/nordlys/confirm/{submission.public_id}/", {"code": new_code}).status_code == 302


def test_an_unconfirmed_request_expires_and_its_link_says_so_with_a_way_to_start_again(
    web: Any, center: PrivacyCenter, frozen: Any
) -> None:
    submit(web, center)
    token, code = sent_to("zoe@example.com")
    submission = Submission.objects.get()

    frozen.shift(dt.timedelta(days=7, minutes=1))
    by_link = web("post", f"/privacy/nordlys/verify/{token}/")
    by_code = web("post", f"/privacy/nordlys/confirm/{submission.public_id}/", {"code": code})

    assert by_link.status_code == 400 and "expired" in by_link.content.decode()
    assert 'href="/privacy/nordlys/"' in by_link.content.decode()
    # Past its time the code page offers no form, even before the hourly job marks the submission expired.
    assert "not confirmed within its time expires" in by_code.content.decode() and 'name="code"' not in by_code.content.decode()
    assert Request.objects.count() == 0


def test_an_unknown_link_or_request_is_said_plainly(web: Any, center: PrivacyCenter) -> None:
    link = web("post", "/privacy/nordlys/verify/not-a-token/")
    confirm = web("get", "/privacy/nordlys/confirm/4b0c3a52-8d1e-4c53-9d1c-6f1f3e1b2a90/")
    status = web("get", "/privacy/nordlys/status/not-a-token/")

    assert link.status_code == 400 and "not valid" in link.content.decode()
    assert confirm.status_code == 404 and "We cannot find this request" in confirm.content.decode()
    assert status.status_code == 404 and "not valid" in status.content.decode()


def test_an_unknown_or_closed_center_is_a_404_that_says_so_in_the_persons_language(
    web: Any, center: PrivacyCenter
) -> None:
    unknown = web("get", "/privacy/no-such-center/", HTTP_ACCEPT_LANGUAGE="fr")
    PrivacyCenter.objects.filter(pk=center.pk).update(is_open=False)
    closed = web("get", "/privacy/nordlys/", HTTP_ACCEPT_LANGUAGE="sv")
    closed_post = submit(web, center)

    assert unknown.status_code == 404 and '<html lang="fr">' in unknown.content.decode()
    assert "Aucun centre de confidentialité" in unknown.content.decode()
    assert closed.status_code == 404 and '<html lang="sv">' in closed.content.decode()
    assert closed_post.status_code == 404 and table_counts() == (0, 0, 0)


def test_the_honeypot_answers_as_usual_and_stores_and_sends_nothing(
    web: Any, center: PrivacyCenter, caplog: Any
) -> None:
    response = submit(web, center, website="http://spam.example")

    assert response.status_code == 302 and "/privacy/nordlys/sent/" in response["Location"]
    assert "Check your email" in web("get", response["Location"]).content.decode()
    assert table_counts() == (0, 0, 0)
    assert "hidden field filled in was dropped" in caplog.text


def test_a_flood_from_one_address_answers_429_and_stores_nothing_more(
    web: Any, center: PrivacyCenter, settings: Any
) -> None:
    settings.PRIVACY_CENTER_RATES = {"address": "2/hour", "identity": "50/hour"}
    for n in range(2):
        assert submit(web, center, email=f"p{n}@example.com").status_code == 302
    before = table_counts()

    response = submit(web, center, email="p3@example.com")

    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Try again in" in response.content.decode()
    assert table_counts() == before


def test_a_flood_for_one_identity_answers_429_and_stores_nothing_more(
    web: Any, center: PrivacyCenter, settings: Any
) -> None:
    settings.PRIVACY_CENTER_RATES = {"address": "50/hour", "identity": "1/hour"}
    assert submit(web, center).status_code == 302
    before = table_counts()

    response = submit(web, center, type=Request.Type.ERASURE, REMOTE_ADDR="198.51.100.9")

    assert response.status_code == 429 and "email or phone" in response.content.decode()
    assert table_counts() == before


def test_missing_identifiers_and_details_are_refused_beside_their_fields(web: Any, center: PrivacyCenter) -> None:
    response = submit(web, center, type=Request.Type.RECTIFICATION, email="", phone="", details="")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_email_error"' in html and 'id="id_details_error"' in html and 'aria-invalid="true"' in html
    assert table_counts() == (0, 0, 0)


def test_a_phone_only_request_is_confirmed_by_text_message(web: Any, center: PrivacyCenter) -> None:
    response = submit(web, center, email="", phone="+46 70 123 45 67")

    assert "Check your phone" in web("get", response["Location"]).content.decode()
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].body).group(1)  # type: ignore[union-attr]
    submission = Submission.objects.get()
    assert web("post", f"/privacy/nordlys/confirm/{submission.public_id}/", {"code": code}).status_code == 302


# --- agents -----------------------------------------------------------------------------------------------------


def agent_post(web: Any, center: PrivacyCenter, upload: Any, **extra: Any) -> Any:
    data = {
        "agent_name": "Ada Agentson",
        "agent_email": "ada@agents.example",
        **person(residence="US-CA"),
        "authorization": upload,
    }
    return web("post", f"/privacy/{center.slug}/agent/", data, **extra)


def upload(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_an_agent_files_and_the_person_confirms(web: Any, center: PrivacyCenter, proof_root: Path) -> None:
    response = agent_post(web, center, upload("authorization.pdf", PDF))

    submission = Submission.objects.get()
    assert response.status_code == 302 and submission.via == Submission.Via.AGENT
    assert (submission.agent_name, submission.agent_proof_type) == ("Ada Agentson", "application/pdf")
    assert (proof_root / submission.agent_proof).read_bytes() == PDF
    assert any("ada@agents.example" in message.to for message in mail.outbox)
    _token, code = sent_to("zoe@example.com")  # the person is the one asked

    confirmed = web("post", f"/privacy/nordlys/confirm/{submission.public_id}/", {"code": code})

    submission.refresh_from_db()
    assert confirmed.status_code == 302 and submission.request.channel == Request.Channel.AGENT


def test_the_agent_form_shows_the_answer_time_for_each_place(web: Any, center: PrivacyCenter) -> None:
    html = web("get", "/privacy/nordlys/agent/").content.decode()

    assert "45 days" in html and "California" in html and "one month" in html
    assert 'enctype="multipart/form-data"' in html


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("authorization.pdf", b"MZ\x90\x00 an executable named .pdf", "PDF, PNG or JPEG"),
        ("authorization.png", PNG + b"\x00" * 2048, "at most"),
    ],
)
def test_a_wrong_type_or_oversized_authorization_is_refused_naming_the_field_and_nothing_is_stored(
    web: Any, center: PrivacyCenter, proof_root: Path, settings: Any, name: str, content: bytes, words: str
) -> None:
    settings.DSAR_AGENT_PROOF_MAX_BYTES = 1024

    response = agent_post(web, center, upload(name, content))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_authorization_error"' in html and words in html
    assert "Signed authorization" in html[html.index("error-summary") :]
    assert table_counts() == (0, 0, 0)
    assert not proof_root.exists() or not any(proof_root.iterdir())


def test_a_body_over_the_uploads_limit_is_refused_before_it_is_read(
    web: Any, center: PrivacyCenter, proof_root: Path, settings: Any
) -> None:
    settings.DSAR_AGENT_PROOF_MAX_BYTES = 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048

    response = agent_post(web, center, upload("authorization.pdf", PDF + b"0" * 8192), HTTP_ACCEPT_LANGUAGE="sv")

    html = response.content.decode()
    assert response.status_code == 413 and '<html lang="sv">' in html and "1,0" in html
    assert table_counts() == (0, 0, 0)
    assert not proof_root.exists() or not any(proof_root.iterdir())


# --- the status page --------------------------------------------------------------------------------------------


def verified(web: Any, center: PrivacyCenter, **values: Any) -> str:
    """File and confirm a request; the status page's URL."""
    submit(web, center, **values)
    token, _code = sent_to(values.get("email", "zoe@example.com"))
    return web("post", f"/privacy/nordlys/verify/{token}/")["Location"]


def test_the_status_page_shows_the_state_and_the_deadline_as_a_date(web: Any, center: PrivacyCenter) -> None:
    status = verified(web, center, type=Request.Type.ERASURE)

    html = web("get", status).content.decode()

    assert "Your request: Erase my data" in html
    assert "April 2, 2026" in html  # a month from receipt, in the account's days
    assert "Withdraw" not in html  # no grace period at this account


def test_the_status_page_offers_the_access_report_and_the_archive_by_their_links(
    web: Any, center: PrivacyCenter, django_capture_on_commit_callbacks: Any
) -> None:
    status = verified(web, center, type=Request.Type.ACCESS)
    request = Request.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_execute(request=request, actor=staff())
        export_create(request=request, actor=staff())

    html = web("get", status).content.decode()
    report = web("get", status + "report/")

    assert f'href="{status}report/"' in html
    assert "https://privacy.example.com/api/v1/dsar/exports/" in html and "ZIP" in html
    assert report.status_code == 200 and report["Content-Disposition"].startswith("attachment;")
    assert RequestEvent.objects.filter(request=request, message__contains="privacy center").exists()


def test_an_erasure_is_withdrawn_during_its_grace_period_after_a_confirmation(web: Any, center: PrivacyCenter) -> None:
    PrivacyCenter.objects.filter(pk=center.pk).update(erasure_grace_days=3)
    status = verified(web, center, type=Request.Type.ERASURE)
    html = web("get", status).content.decode()
    assert f'href="{status}withdraw/"' in html and "March 5, 2026" in html

    asked = web("get", status + "withdraw/")
    assert asked.status_code == 200 and 'name="post" value="yes"' in asked.content.decode()
    assert Request.objects.get().status != Request.Status.WITHDRAWN  # the question changes nothing

    done = web("post", status + "withdraw/", {"post": "yes"})

    assert done.status_code == 302 and done["Location"] == status
    assert Request.objects.get().status == Request.Status.WITHDRAWN
    assert "Withdrawn" in web("get", status).content.decode()


def test_after_the_grace_period_the_erasure_cannot_be_withdrawn(web: Any, center: PrivacyCenter, frozen: Any) -> None:
    PrivacyCenter.objects.filter(pk=center.pk).update(erasure_grace_days=3)
    status = verified(web, center, type=Request.Type.ERASURE)

    frozen.shift(dt.timedelta(days=4))
    response = web("post", status + "withdraw/", {"post": "yes"})

    assert response.status_code == 409 and Request.objects.get().status != Request.Status.WITHDRAWN


def test_a_duplicate_shows_the_request_it_was_linked_to(web: Any, center: PrivacyCenter) -> None:
    verified(web, center, type=Request.Type.ACCESS)
    mail.outbox.clear()
    status = verified(web, center, type=Request.Type.ACCESS)

    html = web("get", status).content.decode()

    assert Request.objects.count() == 1
    assert "You already had the same request open" in html and f"number {Request.objects.get().pk}" in html


# --- languages and the content security policy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "lang", "words"),
    [("sv-SE,sv;q=0.9", "sv", "Se mina uppgifter"), ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "Voir mes données")],
)
def test_accept_language_renders_swedish_or_french(web: Any, center: PrivacyCenter, header: str, lang: str, words: str) -> None:
    response = web("get", "/privacy/nordlys/", HTTP_ACCEPT_LANGUAGE=header)

    html = response.content.decode()
    assert f'<html lang="{lang}">' in html and words in html
    assert response["Content-Language"] == lang and "Accept-Language" in response["Vary"]


def test_the_switcher_chooses_the_language_and_the_submission_keeps_it(web: Any, center: PrivacyCenter) -> None:
    switched = web("post", "/i18n/setlang/", {"language": "fr", "next": "/privacy/nordlys/"})
    assert switched.status_code == 302 and switched["Location"] == "/privacy/nordlys/"

    assert '<html lang="fr">' in web("get", "/privacy/nordlys/").content.decode()
    submit(web, center)
    assert Submission.objects.get().language == "fr"


def test_the_console_stays_in_english_whatever_the_browser_asks(web: Any, center: PrivacyCenter) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    client.force_login(staff("officer"))

    html = client.get("/admin/").content.decode()

    assert 'lang="en-us"' in html and "Log out" in html and "Logga ut" not in html


@pytest.mark.parametrize("path", ["/privacy/nordlys/", "/privacy/nordlys/agent/", "/privacy/no-such-center/"])
def test_the_pages_run_under_the_csp_without_inline_script_or_style(web: Any, center: PrivacyCenter, path: str) -> None:
    response = web("get", path)

    policy = response["Content-Security-Policy"]
    html = response.content.decode()
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert "<script" not in html and "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert '<link rel="stylesheet" href="/static/dsar/center.css">' in html


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (Request.DenialReason.NO_MATCH, "Vi hittade inga personuppgifter om dig."),
        (Request.DenialReason.OTHER, "Skälet står i e-postmeddelandet vi skickade dig."),
    ],
)
def test_a_rejected_request_says_why_on_its_status_page_in_the_persons_language(
    web: Any, center: PrivacyCenter, reason: str, words: str
) -> None:
    status = verified(web, center, type=Request.Type.ACCESS)
    request = Request.objects.get()
    services.request_reject(request=request, reason="Searched every store.", denial_reason=reason, actor=staff())

    html = web("get", status, HTTP_ACCEPT_LANGUAGE="sv").content.decode()

    assert words in html and "no_match" not in html and "Searched every store." not in html
