"""Portability: a ZIP of the person's data (a JSON file and one CSV per data category), built in the
background and delivered by a signed link that expires."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from dsar.models import Export, ExportDownload, Request, RequestEvent
from dsar.sources import registered_sources
from dsar.workflow import (
    User,
    add_event,
    record_history,
    request_subject,
    require_open,
    require_verified,
)
from residency.csv_safety import safe_cell
from residency.history import Origin, history_context
from residency.queueing import enqueue_when_committed

SIGNING_SALT = "dsar.export-link"


class LinkRefused(Exception):
    """The link is tampered with, expired, or its file is gone; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def export_storage() -> FileSystemStorage:
    # Outside MEDIA_ROOT: the files are personal data, reachable only through a signed link.
    return FileSystemStorage(location=settings.DSAR_EXPORT_ROOT)


@transaction.atomic
def export_create(*, request: Request, actor: User = None) -> Export:
    """Queue the building of a portability archive; the worker builds it and emails the link."""
    if request.type not in (Request.Type.PORTABILITY, Request.Type.ACCESS):
        raise ValidationError({"type": "Only portability and access requests produce an export."})
    require_verified(request)
    require_open(request)
    if request.person is None:
        raise ValidationError({"person": "The person has been erased; there is nothing to export."})
    export = Export.objects.create(request=request)
    add_event(request, RequestEvent.Kind.EXPORT, f"Export {export.pk} queued.", actor=actor)
    enqueue_when_committed(build_export, export_id=export.pk)
    return export


def build_archive(rows_by_category: dict[str, list[dict[str, Any]]], *, meta: dict[str, Any]) -> bytes:
    """A ZIP holding ``data.json`` (everything) and ``<category>.csv`` per category (columns: every key seen)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json", json.dumps({**meta, "categories": rows_by_category}, indent=2, default=str, ensure_ascii=False)
        )
        for category, rows in sorted(rows_by_category.items()):
            columns: list[str] = []
            for row in rows:
                columns.extend(key for key in row if key not in columns)
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow({key: _cell(value) for key, value in row.items()})
            archive.writestr(f"{category}.csv", text.getvalue())
    return buffer.getvalue()


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
    rows: dict[str, list[dict[str, Any]]] = {}
    for source in registered_sources():
        for category, category_rows in source.export(subject).items():
            if category_rows:  # a category the person has nothing in gets no empty file
                rows.setdefault(category, []).extend(category_rows)
    now = timezone.now()
    content = build_archive(rows, meta={"request": request.pk, "generated_at": now.isoformat()})
    name = export_storage().save(f"request-{request.pk}/export-{export.pk}.zip", ContentFile(content))
    expires_at = now + dt.timedelta(days=settings.DSAR_EXPORT_TTL_DAYS)
    with transaction.atomic():
        changed = Export.objects.filter(pk=export.pk, status=Export.Status.PENDING).update(
            status=Export.Status.READY,
            ready_at=now,
            expires_at=expires_at,
            file_name=name,
            size=len(content),
            counts={category: len(category_rows) for category, category_rows in rows.items()},
        )
        if not changed:
            export.refresh_from_db()
            return export
        record_history(export, reason="archive built")
        link = export_link(export)
        add_event(
            request,
            RequestEvent.Kind.EXPORT,
            f"Export {export.pk} ready ({len(content)} bytes); link emailed, valid until {expires_at:%Y-%m-%d %H:%M} UTC.",
        )
        person = request.person
        if person is not None and person.email:
            transaction.on_commit(
                lambda: send_mail(
                    f"Your request {request.pk}: your data",
                    f"Download your data (a ZIP with JSON and CSV files) here:\n\n{link}\n\n"
                    f"The link works for {settings.DSAR_EXPORT_TTL_DAYS} days.",
                    settings.DEFAULT_FROM_EMAIL,
                    [person.email],
                )
            )
    return export


def export_token(export: Export) -> str:
    return signing.TimestampSigner(salt=SIGNING_SALT).sign(str(export.pk))


def export_link(export: Export) -> str:
    return settings.SITE_URL + reverse("dsar-export-download", kwargs={"token": export_token(export)})


@transaction.atomic
def export_download(*, token: str) -> tuple[Export, bytes]:
    """The archive behind a link, with the download recorded; refuses tampered and expired links."""
    max_age = dt.timedelta(days=settings.DSAR_EXPORT_TTL_DAYS)
    try:
        export_id = int(signing.TimestampSigner(salt=SIGNING_SALT).unsign(token, max_age=max_age))
    except signing.SignatureExpired as exc:
        raise LinkRefused("This link has expired.", status=410) from exc
    except (signing.BadSignature, ValueError) as exc:
        raise LinkRefused("This link is not valid.", status=404) from exc
    export = Export.objects.filter(pk=export_id, status=Export.Status.READY).select_related("request").first()
    if export is None or not export.file_name:
        raise LinkRefused("This export is no longer available.", status=410)
    if export.expires_at is None or export.expires_at <= timezone.now():
        raise LinkRefused("This link has expired.", status=410)
    storage = export_storage()
    if not storage.exists(export.file_name):
        raise LinkRefused("This export is no longer available.", status=410)
    with storage.open(export.file_name, "rb") as handle:
        content = handle.read()
    ExportDownload.objects.create(export=export)
    add_event(export.request, RequestEvent.Kind.EXPORT, f"Export {export.pk} downloaded through its link.")
    return export, content


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
