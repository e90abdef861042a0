"""A portability archive from the request page: downloaded by an officer allowed to read people's data, its link
emailed again to the person after a confirmation, and both refused with the reason once the archive has expired."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
import time_machine
from django.core import mail
from django.test import Client

from core.roles import AUDITOR, PRIVACY_OFFICER
from dsar import services
from dsar.models import Export, Request, RequestEvent
from tests.dsar.factories import CaptureOnCommit, PersonFactory, make_request, role_console

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
BUILT = dt.datetime(2026, 6, 1, 8, tzinfo=UTC)


def console(role: str) -> Client:
    return role_console(role)


def built_archive(django_capture_on_commit_callbacks: CaptureOnCommit, **person: str) -> tuple[Request, Export]:
    request = make_request(PersonFactory(**person), type=Request.Type.PORTABILITY)
    with time_machine.travel(BUILT, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.request_execute(request=request)
    mail.outbox.clear()
    return request, Export.objects.get(request=request)


def request_page(client: Client, request: Request) -> str:
    response = client.get(f"/admin/dsar/request/{request.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


@time_machine.travel(BUILT + dt.timedelta(days=1), tick=False)
def test_an_officer_downloads_the_archive_from_the_request_page_and_the_timeline_says_who(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    request, export = built_archive(django_capture_on_commit_callbacks)
    officer = console(PRIVACY_OFFICER)
    download = f"/admin/dsar/request/{request.pk}/exports/{export.pk}/download/"

    assert download in request_page(officer, request)
    response = officer.get(download)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip" and "no-store" in response["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "data.json" in archive.namelist()
    event = request.events.get(kind=RequestEvent.Kind.EXPORT, message__contains="downloaded from the console")
    assert event.actor == "privacy-officer"
    assert not export.downloads.exists()  # the person's downloads stay the person's count


@time_machine.travel(BUILT + dt.timedelta(days=1), tick=False)
def test_an_auditor_neither_sees_nor_follows_the_download(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    request, export = built_archive(django_capture_on_commit_callbacks)
    auditor = console(AUDITOR)

    assert "/download/" not in request_page(auditor, request)
    assert auditor.get(f"/admin/dsar/request/{request.pk}/exports/{export.pk}/download/").status_code == 403
    assert not request.events.filter(message__contains="downloaded from the console").exists()


@time_machine.travel(BUILT + dt.timedelta(days=2), tick=False)
def test_the_link_is_emailed_again_only_once_confirmed_and_it_works(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    request, export = built_archive(django_capture_on_commit_callbacks, email="signe@example.org")
    officer = console(PRIVACY_OFFICER)
    button = {"_request_action": "resend_export"}
    assert 'value="resend_export"' in request_page(officer, request)

    asked = officer.post(f"/admin/dsar/request/{request.pk}/change/", button)
    assert asked.status_code == 200 and 'name="post" value="yes"' in asked.content.decode()
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        officer.post(f"/admin/dsar/request/{request.pk}/change/", {**button, "post": "yes"})

    assert [message.to for message in mail.outbox] == [["signe@example.org"]]
    link = re.search(r"https://privacy\.example\.com(\S+)", mail.outbox[0].body).group(1)
    assert Client().get(link).status_code == 200
    event = request.events.get(message__contains="link emailed again")
    assert event.actor == "privacy-officer" and "2026-06-08 08:00" in event.message
    assert Export.objects.filter(request=request).count() == 1  # nothing was built again


@time_machine.travel(BUILT + dt.timedelta(days=8), tick=False)
def test_an_expired_archive_offers_neither_click_and_says_to_build_a_new_one(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    request, export = built_archive(django_capture_on_commit_callbacks)
    officer = console(PRIVACY_OFFICER)

    page = request_page(officer, request)
    assert "This link has expired: build a new archive to send one." in page
    assert 'value="resend_export"' not in page
    assert f"/exports/{export.pk}/download/" not in page

    followed = officer.get(f"/admin/dsar/request/{request.pk}/exports/{export.pk}/download/", follow=True)
    assert "Archive: This link has expired." in followed.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        officer.post(f"/admin/dsar/request/{request.pk}/change/", {"_request_action": "resend_export", "post": "yes"})
    assert mail.outbox == []


@time_machine.travel(BUILT + dt.timedelta(days=1), tick=False)
def test_no_link_is_offered_to_a_person_without_an_email(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    request, _ = built_archive(django_capture_on_commit_callbacks)
    request.person.email = ""
    request.person.save(update_fields=["email"])

    page = request_page(console(PRIVACY_OFFICER), request)

    assert "The person has no email on record: the link cannot be sent." in page
    assert 'value="resend_export"' not in page


@time_machine.travel(BUILT + dt.timedelta(days=1), tick=False)
def test_the_archives_progress_reads_its_size_in_words(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    request, export = built_archive(django_capture_on_commit_callbacks)

    status = console(PRIVACY_OFFICER).get(f"/admin/dsar/request/{request.pk}/exports/{export.pk}/status/").json()

    assert re.search(r"Ready: [\d.]+\xa0(bytes|KB)", status["text"])
