"""Portability: a ZIP of the person's data (a JSON file and one CSV per data category), built in the
background and delivered by a signed link that expires."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from core.csv_safety import safe_cell
from core.history import Origin, history_context
from core.queueing import enqueue_when_committed
from dsar.letters import category_named, field_label, moment, send_letter, speaking_to
from dsar.models import Export, ExportDownload, Request, RequestEvent
from dsar.sources import DataSource, registered_sources
from dsar.workflow import (
    User,
    add_event,
    record_history,
    request_subject,
)

SIGNING_SALT = "dsar.export-link"


class LinkRefused(Exception):
    """The link is tampered with, expired, or its file is gone; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def export_storage() -> FileSystemStorage:
    # Outside MEDIA_ROOT: the files are personal data, reachable only through a signed link.
    return FileSystemStorage(location=settings.DSAR_EXPORT_ROOT)


def export_create_blockers(request: Request) -> dict[str, str]:
    """Why no archive can be built for ``request`` now (field → why); empty when one can."""
    if request.type not in (Request.Type.PORTABILITY, Request.Type.ACCESS):
        return {"type": "Only portability and access requests produce an export."}
    if not request.is_verified:
        return {"status": "The requester's identity is not verified yet."}
    if request.status in Request.CLOSED:
        return {"status": f"The request is {request.get_status_display().lower()}."}
    if request.person is None:
        return {"person": "The person has been erased; there is nothing to export."}
    return {}


@transaction.atomic
def export_create(*, request: Request, actor: User = None) -> Export:
    """Queue the building of a portability archive; the worker builds it and emails the link."""
    for field, why in export_create_blockers(request).items():
        raise ValidationError({field: why})
    export = Export.objects.create(request=request)
    add_event(request, RequestEvent.Kind.EXPORT, f"Export {export.pk} queued.", actor=actor)
    enqueue_when_committed(build_export, export_id=export.pk)
    return export


def write_archive(
    target: BinaryIO,
    rows_by_category: dict[str, Iterable[Iterable[dict[str, Any]]]],
    *,
    meta: dict[str, Any],
    header: Callable[[str, str], str] | None = None,
    readme: Callable[[dict[str, int]], str] | None = None,
) -> dict[str, int]:
    """Write to ``target`` a ZIP holding ``data.json`` (everything, keyed as the sources key it: for programs)
    and ``<category>.csv`` per category with rows (columns: every key seen, in order, headed by
    ``header(category, key)``: for people, in their words); then ``README.txt``, ``readme(counts)``, when given.
    Returns the number of rows by category.

    Each category's rows come from one or more iterables (a source's rows, read in chunks) and are read once:
    written to ``data.json`` as they come, and to a temporary file holding the CSV's body, which goes into
    the ZIP after it with its header (known only once every row is seen). Memory stays flat however many rows.
    """
    counts: dict[str, int] = {}
    bodies: dict[str, tuple[Any, list[str]]] = {}
    with ExitStack() as stack, zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("data.json", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as data:
            data.write(json.dumps({**meta, "categories": {}}, ensure_ascii=False, default=str)[:-2])  # open the categories
            for category in sorted(rows_by_category):
                body = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", newline=""))
                writer, columns, known, count = csv.writer(body), [], set(), 0
                for row in (row for rows in rows_by_category[category] for row in rows):
                    if not known.issuperset(row):
                        columns.extend(key for key in row if key not in known)
                        known.update(row)
                    # Rows before a new column end short: a CSV reader fills their missing cells with nothing.
                    writer.writerow([_cell(row.get(key)) for key in columns])
                    if not count:  # the category's first row opens its list
                        data.write((", " if counts else "") + json.dumps(category) + ": [")
                    data.write(("," if count else "") + "\n  " + json.dumps(row, ensure_ascii=False, default=str))
                    count += 1
                if count:  # a category the person has nothing in gets no empty file
                    data.write("\n]")
                    counts[category] = count
                    bodies[category] = (body, columns)
            data.write("}}\n")
        for category, (body, columns) in bodies.items():
            with archive.open(f"{category}.csv", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as out:
                csv.writer(out).writerow([header(category, key) if header else key for key in columns])
                body.seek(0)
                shutil.copyfileobj(body, out)
        if readme is not None:
            archive.writestr("README.txt", readme(counts))
    return counts


def _cell(value: Any) -> str:
    """A portability CSV cell: nested values as JSON text, and nothing a spreadsheet would run as a formula."""
    return safe_cell(json.dumps(value, default=str, ensure_ascii=False) if isinstance(value, (dict, list)) else value)


def export_build(*, export_id: int) -> Export:
    """Build the archive, store it, and email the person the link (what the background task runs).

    Safe to run twice: an export that is no longer pending is left as it is.
    """
    export = Export.objects.select_related("request__person").get(pk=export_id)
    if export.status != Export.Status.PENDING:
        return export
    request = export.request
    subject = request_subject(request)
    if subject is None:
        Export.objects.filter(pk=export.pk).update(status=Export.Status.FAILED, error="The person has been erased.")
        record_history(export, reason="nothing to export")
        return export
    rows: dict[str, list[Iterable[dict[str, Any]]]] = {}
    owners: dict[str, list[DataSource]] = {}
    for source in registered_sources():
        for category, category_rows in source.export(subject).items():
            rows.setdefault(category, []).append(category_rows)
            owners.setdefault(category, []).append(source)
    now = timezone.now()

    def header(category: str, key: str) -> str:
        with speaking_to(request):
            return field_label(owners[category], key)

    def readme(counts: dict[str, int]) -> str:
        with speaking_to(request):
            files = []
            for category in sorted(counts):
                named = category_named(category, owners[category][0])
                files.append({"file": f"{category}.csv", "name": named.name, "purposes": named.purposes, "count": counts[category]})
            return render_to_string(
                "dsar/letters/archive_readme.txt",
                {"company": request.account.name, "number": str(request.pk), "made_at": now, "files": files},
            )

    with tempfile.TemporaryFile() as archive:
        counts = write_archive(
            archive,
            rows,
            meta={"request": request.pk, "generated_at": now.isoformat()},
            header=header,
            readme=readme,
        )
        size = archive.tell()
        archive.seek(0)
        name = export_storage().save(f"request-{request.pk}/export-{export.pk}.zip", File(archive))
    expires_at = now + dt.timedelta(days=settings.DSAR_EXPORT_TTL_DAYS)
    with transaction.atomic():
        changed = Export.objects.filter(pk=export.pk, status=Export.Status.PENDING).update(
            status=Export.Status.READY,
            ready_at=now,
            expires_at=expires_at,
            file_name=name,
            size=size,
            counts=counts,
        )
        if not changed:
            export.refresh_from_db()
            return export
        record_history(export, reason="archive built")
        link = export_link(export)
        add_event(
            request,
            RequestEvent.Kind.EXPORT,
            f"Export {export.pk} ready ({size} bytes); link emailed, valid until {expires_at:%Y-%m-%d %H:%M} UTC.",
        )
        person = request.person
        if person is not None and person.email:
            with speaking_to(request):
                send_letter(request, "portability", to=person.email, link=link, until=moment(expires_at))
    return export


def export_token(export: Export) -> str:
    return signing.TimestampSigner(salt=SIGNING_SALT).sign(str(export.pk))


def export_link(export: Export) -> str:
    return settings.SITE_URL + reverse("dsar-export-download", kwargs={"token": export_token(export)})


def export_unavailable(export: Export | None) -> str:
    """Why this archive cannot be fetched now (gone, expired, its file missing); empty when it can."""
    if export is None or export.status != Export.Status.READY or not export.file_name:
        return "This export is no longer available."
    if export.expires_at is None or export.expires_at <= timezone.now():
        return "This link has expired."
    if not export_storage().exists(export.file_name):
        return "This export is no longer available."
    return ""


@transaction.atomic
def export_download(*, token: str) -> tuple[Export, IO[bytes]]:
    """The archive behind a link, with the download recorded; refuses tampered and expired links."""
    max_age = dt.timedelta(days=settings.DSAR_EXPORT_TTL_DAYS)
    try:
        export_id = int(signing.TimestampSigner(salt=SIGNING_SALT).unsign(token, max_age=max_age))
    except signing.SignatureExpired as exc:
        raise LinkRefused("This link has expired.", status=410) from exc
    except (signing.BadSignature, ValueError) as exc:
        raise LinkRefused("This link is not valid.", status=404) from exc
    export = Export.objects.filter(pk=export_id).select_related("request").first()
    if why := export_unavailable(export):
        raise LinkRefused(why, status=410)
    ExportDownload.objects.create(export=export)
    add_event(export.request, RequestEvent.Kind.EXPORT, f"Export {export.pk} downloaded through its link.")
    return export, export_storage().open(export.file_name, "rb")


def latest_archive(request: Request) -> Export | None:
    """The request's newest archive that was built (ready, expired or deleted since), or None."""
    return request.exports.exclude(status__in=[Export.Status.PENDING, Export.Status.FAILED]).first()


def export_resend_blockers(request: Request, export: Export | None = None) -> dict[str, str]:
    """Why the link to the request's archive cannot be emailed again now (field → why); empty when it can.
    ``export``: its :func:`latest_archive`, when the caller has read it already."""
    export = export or latest_archive(request)
    if export is None:
        return {"archive": "No archive has been built for this request yet."}
    if why := export_unavailable(export):
        return {"archive": f"{why.rstrip('.')}: build a new archive to send one."}
    person = request.person
    if person is None or not person.email:
        return {"person": "The person has no email on record: the link cannot be sent."}
    return {}


@transaction.atomic
def export_resend(*, request: Request, actor: User = None) -> Export:
    """Email the person a new link to the request's archive (the one they had may be lost); it expires with the
    archive. Recorded on the timeline with who sent it."""
    for field, why in export_resend_blockers(request).items():
        raise ValidationError({field: why})
    export = latest_archive(request)
    assert export is not None and export.expires_at is not None
    with speaking_to(request):
        send_letter(request, "portability", to=request.person.email, link=export_link(export), until=moment(export.expires_at))
    add_event(
        request,
        RequestEvent.Kind.EXPORT,
        f"Export {export.pk}: link emailed again, valid until {export.expires_at:%Y-%m-%d %H:%M} UTC.",
        actor=actor,
    )
    return export


@transaction.atomic
def export_open(*, request: Request, export_id: int, actor: User) -> tuple[Export, IO[bytes]]:
    """The archive for a member of staff to read (the person's data: the caller checks they may), recorded on the
    request's timeline with their name; refused (``ValidationError`` on ``archive``) when it is gone or expired."""
    export = request.exports.filter(pk=export_id).first()
    if why := export_unavailable(export):
        raise ValidationError({"archive": why})
    add_event(request, RequestEvent.Kind.EXPORT, f"Export {export.pk} downloaded from the console.", actor=actor)
    return export, export_storage().open(export.file_name, "rb")


def exports_delete_files(*, person_id: int) -> int:
    """Delete the stored archives of a person's requests (an erasure removes them too); returns how many."""
    storage = export_storage()
    exports = list(Export.objects.filter(request__person_id=person_id).exclude(file_name=""))
    for export in exports:
        if storage.exists(export.file_name):
            storage.delete(export.file_name)
        export.file_name, export.status = "", Export.Status.DELETED
        export.save(update_fields=["file_name", "status"])
    return len(exports)


@task()
def build_export(export_id: int) -> None:
    """Background task: build a portability archive and email its link (see :func:`export_build`)."""
    with history_context(origin=Origin.TASK, actor="dsar export worker"):
        export_build(export_id=export_id)
