"""The product's own stores as a data source: request timelines and staff notes (and their history), the
reasons staff typed on requests, and the console's change log (Django's ``LogEntry``, whose ``object_repr``
is an object's ``str()``, such as "call 44 +46701234567 → …").

In the person's own requests their names count too (a verification note "Called Bill, he confirmed");
everywhere else only their full name, email and phone do (see :mod:`dsar.matching`). What the request was
received with stays, declared, until ``forget_requesters`` removes it after the retention period.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import models, transaction

from core.append_only import scrub
from core.history import write_history
from dsar.matching import Matcher, redact_rows
from dsar.models import Request, RequestEvent, Submission
from dsar.scope import log_entries_of_account
from dsar.sources import ErasureStep, Retention, Subject


class RequestRecordsSource:
    key = "dsar.requests"
    label = "Request timelines, staff notes and the console's change log"
    catalog_categories: dict[str, str] = {}

    def _their_requests(self, subject: Subject) -> set[int]:
        """Every request that has ever been about the person (their history keeps the link after erasure)."""
        return set(Request.history.filter(person_id=subject.person_id).values_list("id", flat=True))

    def _changes(self, subject: Subject, *, history: bool) -> dict[str, tuple[type[models.Model], list[models.Model], tuple[str, ...]]]:
        theirs, anyone = Matcher(subject, linked=True), Matcher(subject)
        if not anyone:
            return {}
        requests = self._their_requests(subject)
        event_model = RequestEvent.history.model if history else RequestEvent
        request_model = Request.history.model if history else Request
        events = event_model.objects.filter(request_id__in=Request.objects.filter(account_id=subject.account_id).values("pk"))
        changes = {
            "request-events": (
                event_model,
                redact_rows(events, ("message",), anyone, theirs=theirs, is_theirs=lambda row: row.request_id in requests),
                ("message",),
            ),
            "request-notes": (
                request_model,
                redact_rows(
                    request_model.objects.filter(account_id=subject.account_id),
                    ("status_reason", "extension_reason"),
                    anyone,
                    theirs=theirs,
                    is_theirs=lambda row: row.id in requests,
                ),
                ("status_reason", "extension_reason"),
            ),
        }
        if not history:
            # The change log names no account: an entry is the account's when the object it names is; only
            # identifiers that single the person out are looked for.
            fields = ("object_repr", "change_message")
            entries = log_entries_of_account(LogEntry.objects.filter(anyone.q(*fields)), subject.account_id)
            changes["admin-log"] = (
                LogEntry,
                redact_rows(LogEntry.objects.filter(pk__in=[entry.pk for entry in entries]), fields, anyone),
                fields,
            )
        return changes

    def _submissions(self, subject: Subject) -> models.QuerySet[Submission]:
        """The account's submissions that still hold one of the person's emails or phones: those nobody has
        verified yet (a verified or expired one keeps no identifier)."""
        found = models.Q(email__in=subject.identifiers("email")) | models.Q(phone__in=subject.identifiers("phone"))
        return Submission.objects.filter(account_id=subject.account_id).exclude(email="", phone="").filter(found)

    def locate(self, subject: Subject) -> dict[str, int]:
        counts = {key: len(rows) for key, (_, rows, _) in self._changes(subject, history=False).items()}
        counts["submissions"] = self._submissions(subject).count()
        return {key: count for key, count in counts.items() if count}

    def export(self, subject: Subject) -> dict[str, list[dict[str, Any]]]:
        return {}  # the timeline is about the request, not the person's own data

    @transaction.atomic
    def erase(self, subject: Subject, step: ErasureStep) -> dict[str, int]:
        if step == ErasureStep.TICKETS:
            return {}
        history = step == ErasureStep.HISTORY
        counts = {}
        if step == ErasureStep.RECORDS:
            # A submission not yet verified is cancelled with its identifiers: nothing of the person is left to
            # link, and whoever made it may submit again.
            found = list(self._submissions(subject).values_list("pk", flat=True))
            cleared = Submission.objects.filter(pk__in=found).update(
                status=models.Case(
                    models.When(status=Submission.Status.PENDING, then=models.Value(Submission.Status.CANCELLED)),
                    default=models.F("status"),
                ),
                name="",
                email="",
                phone="",
                details="",
            )
            if cleared:
                write_history(Submission.objects.filter(pk__in=found), history_type="~", reason="erasure")
                counts["submissions"] = cleared
        for key, (model, rows, fields) in self._changes(subject, history=history).items():
            # The timeline and history are append-only and sealed (core/append_only.py, core/sealing.py) but
            # for an erasure's scrubbing, which seals the rows again.
            changed = scrub(
                model,
                {row.pk: {name: getattr(row, name) for name in fields} for row in rows},
                reason=f"erasure: personal data redacted ({key})",
                request_id=subject.request_id,
            )
            if changed:
                counts[f"history:{key}" if history else key] = changed
        return counts

    def retained(self, subject: Subject) -> list[Retention]:
        days = settings.DSAR_IDENTITY_RETENTION_DAYS
        received = Request.objects.filter(pk__in=self._their_requests(subject), received_with__isnull=False).count()
        return [
            Retention(
                data_category="request",
                description="The name, email and phone each of the person's requests was received with.",
                reason=f"Proof of who asked and what was answered (GDPR Art. 5(2)); removed {days} days after "
                "the request is closed.",
                count=received,
                locations=("dsar_request.received_with",),
            )
        ]

    def blockers(self, subject: Subject) -> list[str]:
        return []

    def holds_on(self, subjects: Collection[Subject]) -> dict[int, list[str]]:
        return {}
