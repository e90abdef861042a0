"""Staff see, on the request page, the privacy center's submissions behind a request (the agent, and the agent's
signed authorization to download for those who may download people's data); the download is an attachment of
the type checked at upload, never sniffed, and goes on the request's timeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from core.roles import AUDITOR, PRIVACY_OFFICER
from dsar.models import Jurisdiction, Request, RequestEvent, Submission
from tests.dsar.factories import make_request, role_console

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% signed authorization\n"


@pytest.fixture(autouse=True)
def proof_root(settings: Any, tmp_path: Path) -> Path:
    settings.DSAR_AGENT_PROOF_ROOT = tmp_path / "proofs"
    settings.DSAR_AGENT_PROOF_ROOT.mkdir()
    return settings.DSAR_AGENT_PROOF_ROOT


def agent_request(proof_root: Path, *, stored: bool = True) -> tuple[Request, Submission]:
    request = make_request(type=Request.Type.ACCESS)
    Request.objects.filter(pk=request.pk).update(channel=Request.Channel.AGENT)
    if stored:
        (proof_root / "a1b2c3.pdf").write_bytes(PDF)
    submission = Submission.objects.create(
        account=request.account,
        type=request.type,
        jurisdiction=Jurisdiction.objects.get(code="ccpa"),
        via=Submission.Via.AGENT,
        status=Submission.Status.VERIFIED,
        email="person@example.org",
        expires_at=timezone.now() + dt.timedelta(days=7),
        request=request,
        agent_name="Ada Agentson",
        agent_email="ada@agents.example",
        agent_proof="a1b2c3.pdf",
        agent_proof_type="application/pdf",
        agent_proof_size=len(PDF),
    )
    return request, submission


def proof_url(request: Request, submission: Submission) -> str:
    return f"/admin/dsar/request/{request.pk}/submissions/{submission.pk}/authorization/"


def test_the_request_page_shows_the_agent_and_a_download_of_the_authorization(proof_root: Path) -> None:
    request, submission = agent_request(proof_root)

    html = role_console(PRIVACY_OFFICER).get(f"/admin/dsar/request/{request.pk}/change/").content.decode()

    section = html[html.index('class="request-submissions"') :]
    assert "Ada Agentson" in section and "ada@agents.example" in section and "An authorized agent" in section
    assert proof_url(request, submission) in section and "application/pdf" in section


def test_an_auditor_sees_the_agent_but_no_download(proof_root: Path) -> None:
    request, submission = agent_request(proof_root)
    auditor = role_console(AUDITOR)

    html = auditor.get(f"/admin/dsar/request/{request.pk}/change/").content.decode()

    assert "Ada Agentson" in html and proof_url(request, submission) not in html
    assert auditor.get(proof_url(request, submission)).status_code == 403
    assert not RequestEvent.objects.filter(request=request, message__contains="authorization").exists()


def test_the_authorization_downloads_as_an_attachment_of_its_checked_type_and_is_recorded(proof_root: Path) -> None:
    request, submission = agent_request(proof_root)

    response = role_console(PRIVACY_OFFICER).get(proof_url(request, submission))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;") and ".pdf" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    event = RequestEvent.objects.filter(request=request, message__contains="authorization").get()
    assert event.actor == "privacy-officer"


def test_a_missing_file_or_another_requests_submission_is_refused_plainly(proof_root: Path) -> None:
    request, submission = agent_request(proof_root, stored=False)
    other = make_request(type=Request.Type.ACCESS)
    officer = role_console(PRIVACY_OFFICER)

    gone = officer.get(proof_url(request, submission), follow=True)
    elsewhere = officer.get(proof_url(other, submission))

    assert "no longer stored" in gone.content.decode()
    assert elsewhere.status_code == 404
