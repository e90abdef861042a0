"""Exports of call and monitoring history: CSV for a date range, written in the background, delivered by
a signed, expiring link."""

from __future__ import annotations

import calendar
import csv
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from core.csv_safety import IsoDateTime, chunk_converter, yes_no
from core.history import Origin, actor_name, history_context, write_history
from core.models import ApiKey
from core.queueing import enqueue_when_committed
from recordings.models import (
    Call,
    HistoryExport,
    MonitoringEntry,
)
from residency.models import Account

# --------------------------------------------------------------------------------------------------
# Exports of call and monitoring history

EXPORT_SIGNING_SALT = "recordings.history-export"


def month_bounds(today: date) -> tuple[date, date]:
    """The first and last day of ``today``'s month."""
    return today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1])


#: The days an export may cover: its window runs to the midnight after its last day, and converting the
#: window to UTC must stay within the calendar's range.
EARLIEST_EXPORT_DAY = date.min + timedelta(days=1)
LATEST_EXPORT_DAY = date.max - timedelta(days=1)


def _one_year_after(day: date) -> date:
    if day.year >= date.max.year:
        return date.max
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def history_export_range(
    *, account: Account, kind: str, start: date | None, end: date | None, today: date | None = None
) -> tuple[date, date]:
    """The export's (start, end), the current month by default; raises naming the field, or
    ``PermissionDenied`` for monitoring history below the Professional plan."""
    if kind not in HistoryExport.Kind.values:
        raise ValidationError({"kind": f"Choose one of {', '.join(HistoryExport.Kind.values)}."})
    if kind == HistoryExport.Kind.MONITORING_HISTORY and not account.has_plan_at_least(Account.Plan.PROFESSIONAL):
        raise PermissionDenied(
            f"Monitoring-history exports are available on the Professional and Enterprise plans only; "
            f"account {account.name} is on the {account.get_plan_display()} plan."
        )
    default_start, default_end = month_bounds(today or timezone.localdate())
    start = start or default_start
    end = end or default_end
    for name, day in (("start", start), ("end", end)):
        if not EARLIEST_EXPORT_DAY <= day <= LATEST_EXPORT_DAY:
            raise ValidationError(
                {name: f"Give a day from {EARLIEST_EXPORT_DAY.isoformat()} to {LATEST_EXPORT_DAY.isoformat()}."}
            )
    if start > end:
        raise ValidationError({"start": f"The start ({start}) is after the end ({end})."})
    if end > _one_year_after(start):
        raise ValidationError({"end": "The range may span at most one year; export longer periods in parts."})
    return start, end


#: Who may receive an export's link besides reading its history: the link is the download's only credential.
DOWNLOAD_PERMISSION = "recordings.download_export"


def export_recipient_login(*, kind: str, address: str) -> Any:
    """The active staff login with the email ``address`` (in any case) that may read this ``kind`` of history and
    download exports (a superuser may), or ``None``. Logins are the console's users; the people in an account's
    records never are."""
    address = (address or "").strip()
    if not address:
        return None
    needed = [HistoryExport.read_permission(kind), DOWNLOAD_PERMISSION]
    logins = get_user_model().objects.filter(email__iexact=address, is_active=True, is_staff=True).order_by("pk")
    return next((login for login in logins if login.has_perms(needed)), None)


def history_export_recipient(*, kind: str, recipient: str = "", requester: Any = None, api_key: ApiKey | None = None) -> str:
    """The address an export's link goes to, or ``ValidationError`` naming ``recipient``.

    An export carries people's names and numbers, so its link goes only to a known recipient: the address of an
    active staff login that may read this history and download exports (:func:`export_recipient_login`), returned
    as the login spells it. Logins are not tied to accounts (staff see every account), so "the account's staff" is
    every such login. Without a ``recipient`` it is the one who asks: the staff ``requester`` in the console or the
    API, or the owner of the ``api_key`` (the staff user who created it), who must be allowed too.
    """
    kind_name = HistoryExport.Kind(kind).label.lower()
    rule = (
        f"the address of an active staff login allowed to read {kind_name} "
        f"({HistoryExport.read_permission(kind)}) and to download exports ({DOWNLOAD_PERMISSION})"
    )
    address = (recipient or "").strip()
    if not address:
        if requester is not None and getattr(requester, "is_authenticated", False):
            owner, whose = requester, "your login"
        elif api_key is not None:
            owner, whose = api_key.created_by, "the API key's owner"
        else:  # a command: nobody asks
            raise ValidationError({"recipient": f"Give the recipient: {rule}."})
        address = (getattr(owner, "email", "") or "").strip()
        if not address:
            raise ValidationError({"recipient": f"Give the recipient: {rule}; {whose} has no email address."})
        if export_recipient_login(kind=kind, address=address) is None:
            raise ValidationError({"recipient": f"The link would go to {whose} ({address}), which is not {rule}."})
        return address
    login = export_recipient_login(kind=kind, address=address)
    if login is None:
        raise ValidationError({"recipient": f"{address} is not {rule}; the link goes to no other address."})
    return login.email


@transaction.atomic
def history_export_request(
    *,
    account: Account,
    kind: str,
    start: date | None = None,
    end: date | None = None,
    user: Any = None,
    api_key: ApiKey | None = None,
    recipient: str = "",
    today: date | None = None,
) -> HistoryExport:
    """Queue a CSV export of the account's call or monitoring history; the link is emailed when it is ready, to
    ``recipient`` or by default to the one who asks (see :func:`history_export_recipient`).

    Monitoring history is for Professional and Enterprise plans (the guide: "Professional and above").
    The range defaults to the current month; it may not start after it ends nor span more than a year.
    Whether the caller may read the history is the caller's door to check (the API's scopes, the console's
    permissions); the recipient is checked here, for every door.
    """
    start, end = history_export_range(account=account, kind=kind, start=start, end=end, today=today)
    email = history_export_recipient(kind=kind, recipient=recipient, requester=user, api_key=api_key)
    export = HistoryExport(
        account=account,
        kind=kind,
        start=start,
        end=end,
        requested_by=user if user is not None and user.is_authenticated else None,
        requested_by_name=actor_name(user),
        email=email,
    )
    export.full_clean()
    export.save()
    enqueue_when_committed(run_history_export, export_id=export.pk)
    return export


CALL_HISTORY_HEADER = [
    "call_id", "line", "line_number", "direction", "from_number", "to_number", "started", "ended",
    "duration_seconds", "ticket_id", "end_user", "agent", "ivr_external", "transferred_external",
]
MONITORING_HISTORY_HEADER = ["entry_id", "call_id", "line", "supervisor", "mode", "caller_number", "started", "ended"]


def _export_window(export: HistoryExport) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(export.start, time.min, tzinfo=zone)
    end = datetime.combine(export.end + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


#: The columns of each export: (lookup, kind of cell), in the order of its header.
CALL_HISTORY_COLUMNS = [
    ("pk", "int"), ("line__name", "text"), ("line__number", "text"), ("direction", "text"), ("from_number", "text"),
    ("to_number", "text"), ("started", "datetime"), ("ended", "datetime"), ("duration_seconds", "int"),
    ("ticket_id", "int"), ("end_user__name", "text"), ("agent__name", "text"), ("ivr_external", "bool"),
    ("transferred_external", "bool"),
]
MONITORING_HISTORY_COLUMNS = [
    ("pk", "int"), ("call_id", "int"), ("call__line__name", "text"), ("supervisor__name", "text"), ("mode", "text"),
    ("caller_number", "text"), ("started", "datetime"), ("ended", "datetime"),
]


def export_cell(lookup: str, kind: str) -> str | Any:
    """What the export's query selects for a column: times and booleans already as their cell text (the
    database writes them faster than Python converts them, row after row), anything else as stored."""
    if kind == "datetime":
        return IsoDateTime(lookup)
    if kind == "bool":
        return yes_no(lookup)
    return lookup


def history_export_rows(export: HistoryExport, *, chunk_size: int = 5000) -> Iterator[Sequence[Any]]:
    """The CSV rows (header first) of an export; see :func:`history_export_chunks`."""
    for chunk in history_export_chunks(export, chunk_size=chunk_size):
        yield from chunk


def history_export_chunks(export: HistoryExport, *, chunk_size: int = 5000) -> Iterator[list[Sequence[Any]]]:
    """The CSV rows of an export in chunks (the header alone first), for ``csv.writer``.

    Read from the database driver (a server-side cursor on PostgreSQL), so memory stays flat however many rows:
    no model instances, times and booleans written as text by the query, and the free text (names, numbers)
    made safe for spreadsheets column by column (:func:`core.csv_safety.chunk_converter`). What is left per
    row is the driver's, which keeps the export near the speed of dumping the same query.
    """
    start, end = _export_window(export)
    if export.kind == HistoryExport.Kind.CALL_HISTORY:
        yield [CALL_HISTORY_HEADER]
        columns = CALL_HISTORY_COLUMNS
        rows = Call.objects.for_account(export.account).started_between(start, end)
    else:
        yield [MONITORING_HISTORY_HEADER]
        columns = MONITORING_HISTORY_COLUMNS
        rows = MonitoringEntry.objects.filter(account=export.account, started__gte=start, started__lt=end)
    select = rows.order_by("started", "pk").values_list(*(export_cell(lookup, kind) for lookup, kind in columns))
    sql, params = select.query.sql_with_params()
    connection = connections[select.db]
    convert = chunk_converter("text" if kind == "text" else "as_is" for _, kind in columns)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(chunk_size):
            yield convert(chunk)


def export_path(export: HistoryExport) -> Path:
    return Path(settings.RECORDINGS_EXPORT_DIR) / export.file_name


def export_download_token(export: HistoryExport) -> str:
    return signing.dumps({"export": export.pk}, salt=EXPORT_SIGNING_SALT)


def export_from_token(token: str) -> HistoryExport:
    """The finished export a download link names; ``signing.BadSignature`` (or ``SignatureExpired``) otherwise."""
    payload = signing.loads(
        token, salt=EXPORT_SIGNING_SALT, max_age=timedelta(days=settings.RECORDINGS_EXPORT_LINK_DAYS)
    )
    return HistoryExport.objects.get(pk=payload["export"], status=HistoryExport.Status.DONE)


def export_download_url(export: HistoryExport) -> str:
    return settings.SITE_URL + reverse("recordings-export-download", kwargs={"token": export_download_token(export)})


def history_export_run(*, export_id: int) -> HistoryExport:
    """Write the export's CSV, then email the signed link. Safe to run twice: only a queued export is run. An
    export whose recipient is no longer allowed to have it fails without a file or a mail.

    Not one transaction: the file is streamed row by row; the status changes are each a guarded update.
    """
    now = timezone.now()
    if not HistoryExport.objects.filter(pk=export_id, status=HistoryExport.Status.QUEUED).update(
        status=HistoryExport.Status.RUNNING
    ):
        return HistoryExport.objects.get(pk=export_id)
    export = HistoryExport.objects.select_related("account").get(pk=export_id)
    if export_recipient_login(kind=export.kind, address=export.email) is None:
        # Checked again when the link would go: the login may have been deactivated or lost its role since.
        HistoryExport.objects.filter(pk=export.pk, status=HistoryExport.Status.RUNNING).update(
            status=HistoryExport.Status.FAILED,
            error=f"Not sent: {export.email} is no longer an active staff login allowed to read this history.",
            finished_at=timezone.now(),
        )
        write_history(HistoryExport.objects.filter(pk=export.pk), history_type="~")
        return HistoryExport.objects.get(pk=export.pk)
    export.file_name = f"{export.kind}-{export.account_id}-{export.start:%Y%m%d}-{export.end:%Y%m%d}-{uuid.uuid4().hex}.csv"
    path = export_path(export)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = -1  # the header is not a row
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            for chunk in history_export_chunks(export):
                writer.writerows(chunk)
                rows += len(chunk)
    except Exception as exc:
        path.unlink(missing_ok=True)
        HistoryExport.objects.filter(pk=export.pk).update(
            status=HistoryExport.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        write_history(HistoryExport.objects.filter(pk=export.pk), history_type="~")
        raise
    with transaction.atomic():
        finished = HistoryExport.objects.filter(pk=export.pk, status=HistoryExport.Status.RUNNING).update(
            status=HistoryExport.Status.DONE, row_count=rows, file_name=export.file_name, finished_at=timezone.now()
        )
        if finished:
            write_history(HistoryExport.objects.filter(pk=export.pk), history_type="~")
    if not finished:
        # Cancelled while it ran (its recipient was erased): the file goes, and no mail is sent.
        path.unlink(missing_ok=True)
        return HistoryExport.objects.get(pk=export.pk)
    export.refresh_from_db()
    days = settings.RECORDINGS_EXPORT_LINK_DAYS
    send_mail(
        subject=f"Your {export.get_kind_display().lower()} export is ready",
        message=(
            f"The {export.get_kind_display().lower()} of {export.account.name} from {export.start} to {export.end} "
            f"({rows} rows) is ready.\n\nDownload it within {days} days (the link expires on "
            f"{(now + timedelta(days=days)):%Y-%m-%d}):\n{export_download_url(export)}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[export.email],
    )
    return export


@transaction.atomic
def history_exports_expire(*, now: datetime) -> int:
    """Remove the files of exports whose link has expired (they hold call data); returns how many."""
    cutoff = now - timedelta(days=settings.RECORDINGS_EXPORT_LINK_DAYS)
    expired = list(HistoryExport.objects.filter(status=HistoryExport.Status.DONE, finished_at__lt=cutoff))
    for export in expired:
        export_path(export).unlink(missing_ok=True)
    changed = HistoryExport.objects.filter(pk__in=[e.pk for e in expired], status=HistoryExport.Status.DONE).update(
        status=HistoryExport.Status.EXPIRED, file_name=""
    )
    write_history(HistoryExport.objects.filter(pk__in=[e.pk for e in expired]), history_type="~")
    return changed


def history_exports_redact(*, account_id: int, redact: Callable[[str], str]) -> int:
    """Rewrite the account's export files already written, every cell through ``redact`` (an erasure's:
    the person's number leaves files already sent as links); returns how many files changed. Each file is
    streamed to a sibling and swapped in whole, so a download never reads half a file."""
    changed = 0
    for export in HistoryExport.objects.filter(account_id=account_id, status=HistoryExport.Status.DONE).exclude(file_name=""):
        path = export_path(export)
        if not path.exists():
            continue
        redacted_path = path.with_suffix(".redacting")
        differs = False
        with path.open(newline="", encoding="utf-8") as source, redacted_path.open("w", newline="", encoding="utf-8") as target:
            writer = csv.writer(target)
            for row in csv.reader(source):
                cells = [redact(cell) for cell in row]
                differs = differs or cells != row
                writer.writerow(cells)
        if differs:
            os.replace(redacted_path, path)
            changed += 1
        else:
            redacted_path.unlink()
    return changed


def history_exports_cancel(*, account_id: int, is_recipient: Callable[[str], bool], reason: str) -> int:
    """Cancel the account's exports not yet mailed whose recipient ``is_recipient`` says is an erased person's
    address: no link reaches an erased address. Returns how many were cancelled."""
    waiting = HistoryExport.objects.filter(
        account_id=account_id, status__in=[HistoryExport.Status.QUEUED, HistoryExport.Status.RUNNING]
    )
    doomed = [pk for pk, email in waiting.values_list("pk", "email") if is_recipient(email)]
    if not doomed:
        return 0
    cancelled = HistoryExport.objects.filter(
        pk__in=doomed, status__in=[HistoryExport.Status.QUEUED, HistoryExport.Status.RUNNING]
    ).update(status=HistoryExport.Status.CANCELLED, error=reason[:2000], finished_at=timezone.now())
    write_history(HistoryExport.objects.filter(pk__in=doomed), history_type="~", reason=reason)
    return cancelled


@task()
def run_history_export(*, export_id: int) -> int:
    """Background task: write one queued history export and email its link; returns the number of rows."""
    with history_context(origin=Origin.TASK, actor="history export"):
        return history_export_run(export_id=export_id).row_count
