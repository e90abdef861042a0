from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from dsar import services
from dsar.models import Export, ExportDownload, Person, Request, RequestEvent
from tests.dsar.factories import (
    CaptureOnCommit,
    FakeSource,
    PersonFactory,
    UseSources,
    make_request,
)

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db


def export_for(person: Person, django_capture_on_commit_callbacks: CaptureOnCommit) -> tuple[Request, Export, str]:
    request = make_request(person, type=Request.Type.PORTABILITY)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_execute(request=request)
    export = Export.objects.get(request=request)
    link = re.search(r"https://privacy\.example\.com\S+", mail.outbox[-1].body).group(0)
    return request, export, link


def downloaded(link: str) -> zipfile.ZipFile:
    response = Client().get(link.removeprefix("https://privacy.example.com"))
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_export_is_a_zip_with_json_and_one_csv_per_category(
    use_sources: UseSources, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    use_sources(
        FakeSource(
            "helpdesk",
            rows={
                "ticket": [
                    {"subject": "Broken headset", "tags": ["hardware", "urgent"]},
                    {"subject": "Refund", "priority": "high"},
                ]
            },
        )
    )
    person = PersonFactory(name="Signe Lindqvist", email="signe@example.org", phone="+46705550321")
    with time_machine.travel(dt.datetime(2026, 6, 1, 8, tzinfo=UTC), tick=False):
        request, export, link = export_for(person, django_capture_on_commit_callbacks)
    assert export.status == Export.Status.READY
    assert export.expires_at == dt.datetime(2026, 6, 8, 8, tzinfo=UTC)
    assert export.counts == {"ticket": 2, "requester": 1}
    assert mail.outbox[-1].to == ["signe@example.org"]
    assert export.history.filter(history_origin="task").exists()

    with time_machine.travel(dt.datetime(2026, 6, 2, 8, tzinfo=UTC), tick=False):
        response = Client().get(link.removeprefix("https://privacy.example.com"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["README.txt", "data.json", "requester.csv", "ticket.csv"]
    data = json.loads(archive.read("data.json"))
    assert data["request"] == request.pk
    assert data["categories"]["requester"][0]["email"] == "signe@example.org"
    tickets = list(csv.DictReader(io.StringIO(archive.read("ticket.csv").decode())))
    # The CSV files are for people: their columns carry the sources' labels (the JSON keeps the keys).
    assert [row["Subject"] for row in tickets] == ["Broken headset", "Refund"]
    assert tickets[0]["Tags"] == '["hardware", "urgent"]' and tickets[1]["Priority"] == "high"
    people = list(csv.DictReader(io.StringIO(archive.read("requester.csv").decode())))
    assert people[0]["Phone number"] == "+46705550321"
    readme = archive.read("README.txt").decode()
    assert "requester.csv: Requester and contact data (1 record)" in readme
    assert "Identifying and contacting the requester" in readme


def test_downloads_are_recorded(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    request, export, link = export_for(PersonFactory(), django_capture_on_commit_callbacks)
    path = link.removeprefix("https://privacy.example.com")
    first = Client().get(path)
    assert first.status_code == 200 and "no-store" in first["Cache-Control"]
    assert Client().get(path).status_code == 200
    assert ExportDownload.objects.filter(export=export).count() == 2
    assert request.events.filter(kind=RequestEvent.Kind.EXPORT, message__contains="downloaded").count() == 2


def test_an_expired_link_is_refused(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    with time_machine.travel(dt.datetime(2026, 6, 1, 8, tzinfo=UTC), tick=False):
        _, export, link = export_for(PersonFactory(), django_capture_on_commit_callbacks)
    with time_machine.travel(dt.datetime(2026, 6, 8, 8, 1, tzinfo=UTC), tick=False):
        response = Client().get(link.removeprefix("https://privacy.example.com"))
    assert response.status_code == 410
    assert not ExportDownload.objects.exists()


def test_a_tampered_link_is_refused(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    _, export, link = export_for(PersonFactory(), django_capture_on_commit_callbacks)
    path = link.removeprefix("https://privacy.example.com")
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = path.replace(token, f"{export.pk + 1}:" + token.split(":", 1)[1])
    assert Client().get(forged).status_code == 404
    assert Client().get(path.replace(token, token[:-2] + "xx")).status_code == 404
    assert not ExportDownload.objects.exists()


def test_building_an_export_twice_changes_nothing(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    from dsar.exports import export_build

    _, export, _ = export_for(PersonFactory(), django_capture_on_commit_callbacks)
    ready_at = export.ready_at
    export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.ready_at == ready_at


def test_an_erasure_deletes_the_persons_export_archives(
    django_capture_on_commit_callbacks: CaptureOnCommit, settings: Any
) -> None:
    person = PersonFactory()
    _, export, link = export_for(person, django_capture_on_commit_callbacks)
    assert (settings.DSAR_EXPORT_ROOT / export.file_name).exists()
    services.request_execute(request=make_request(person, type=Request.Type.ERASURE))
    assert not (settings.DSAR_EXPORT_ROOT / export.file_name).exists()
    assert Client().get(link.removeprefix("https://privacy.example.com")).status_code == 410


def test_a_category_without_records_gets_no_file(
    use_sources: UseSources, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    use_sources(FakeSource("helpdesk", rows={"ticket": []}))
    _, export, link = export_for(PersonFactory(), django_capture_on_commit_callbacks)
    archive = downloaded(link)
    assert sorted(archive.namelist()) == ["README.txt", "data.json", "requester.csv"]
    assert export.counts == {"requester": 1}


def test_a_formula_in_the_persons_data_reaches_the_csv_neutralised_and_the_json_as_it_is(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    person = PersonFactory(name='=HYPERLINK("http://evil.example","claim")', phone="+46705550999")
    _, _, link = export_for(person, django_capture_on_commit_callbacks)

    archive = downloaded(link)
    people = list(csv.DictReader(io.StringIO(archive.read("requester.csv").decode())))

    assert people[0]["Name"] == '\'=HYPERLINK("http://evil.example","claim")'
    assert people[0]["Phone number"] == "+46705550999"
    assert json.loads(archive.read("data.json"))["categories"]["requester"][0]["name"] == person.name
