"""Identity codes, download links and the data subject's address never reach the logs, at any level."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from config.logging_filters import RedactSignedValues
from dsar.exports import export_storage
from dsar.models import Export
from recordings import services as recordings
from recordings.tasks import run_history_export
from tests.dsar.factories import CaptureOnCommit
from tests.factories import AccountFactory, UserFactory, api_key_for

pytestmark = pytest.mark.django_db
SITE = "https://privacy.example.com"
SUBJECT = "signe.lindqvist@example.org"


@pytest.fixture(autouse=True)
def production_like(settings: Any, tmp_path: Path) -> None:
    settings.SITE_URL = SITE
    settings.DSAR_EXPORT_ROOT = tmp_path / "dsar-exports"
    settings.RECORDINGS_EXPORT_DIR = tmp_path / "exports"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What the configured log handler writes, with every logger turned down to DEBUG meanwhile."""
    (handler,) = [handler for handler in logging.getLogger().handlers if handler.name == "console"]
    output = io.StringIO()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logging.root.manager.loggerDict)]
    levels = [logger.level for logger in loggers]
    stream = handler.setStream(output)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield output
    finally:
        handler.setStream(stream)
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def emailed_link() -> str:
    return re.search(r"https?://\S+", mail.outbox[-1].body).group(0)


def test_the_identity_code_and_the_export_link_are_never_logged(
    logs: io.StringIO, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    caplog.set_level(logging.DEBUG)
    account = AccountFactory()
    intake = APIClient()
    intake.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(account)}")
    staff = APIClient()
    staff.force_login(UserFactory(username="dpo"))

    with django_capture_on_commit_callbacks(execute=True):
        opened = intake.post(
            "/api/v1/dsar/requests/", {"type": "portability", "jurisdiction": "gdpr", "email": SUBJECT}, format="json"
        )
    request_id = opened.json()["id"]
    code = re.search(r"Your code is (\d{6})", mail.outbox[-1].body).group(1)
    wrong = intake.post(f"/api/v1/dsar/requests/{request_id}/verify/", {"code": f"{(int(code) + 1) % 10**6:06d}"})
    right = intake.post(f"/api/v1/dsar/requests/{request_id}/verify/", {"code": code})
    with django_capture_on_commit_callbacks(execute=True):
        executed = staff.post(f"/api/v1/dsar/requests/{request_id}/execute/")
    link = emailed_link()
    downloaded = Client().get(path_of(link))
    # The token is still valid once the archive is gone: Django logs the refused path ("Gone: …").
    export_storage().delete(Export.objects.get(request_id=request_id).file_name)
    refused = Client().get(path_of(link))

    assert (opened.status_code, wrong.status_code, right.status_code, executed.status_code) == (201, 400, 200, 200)
    assert (downloaded.status_code, refused.status_code) == (200, 410)
    written = logs.getvalue()
    assert "Gone: /api/v1/dsar/exports/[signed token]/" in written  # the refusal is logged, without its link
    token = path_of(link).strip("/").rsplit("/", 1)[1]
    for secret in (code, token, SUBJECT):
        assert secret not in written
    # The code and the address are not even handed to a logger; the link's token is, by Django, redacted.
    raw = "\n".join(record.getMessage() for record in caplog.records)
    assert code not in raw and SUBJECT not in raw


def test_a_history_export_link_is_never_logged(logs: io.StringIO) -> None:
    account = AccountFactory()
    UserFactory(username="ops", email="ops@example.com")  # a staff login allowed to read the history
    export = recordings.history_export_request(account=account, kind="call_history", recipient="ops@example.com")
    run_history_export.call(export_id=export.pk)
    link = emailed_link()
    downloaded = Client().get(path_of(link))
    export.refresh_from_db()
    recordings.export_path(export).unlink()
    refused = Client().get(path_of(link))

    assert (downloaded.status_code, refused.status_code) == (200, 404)
    written = logs.getvalue()
    assert "Not Found: /api/v1/exports/download/[signed token]/" in written
    assert path_of(link).strip("/").rsplit("/", 1)[1] not in written


def test_every_log_handler_redacts_what_reaches_it() -> None:
    # Django's defaults give its loggers handlers of their own (the console in development, the development
    # server's request lines); a record written there would skip the redaction.
    loggers = [logging.getLogger(), *logging.root.manager.loggerDict.values()]
    handlers = [
        handler
        for logger in loggers
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
        if not isinstance(handler, logging.NullHandler) and not type(handler).__module__.startswith("_pytest")
    ]

    assert handlers
    assert all(any(isinstance(f, RedactSignedValues) for f in handler.filters) for handler in handlers), handlers
