"""Requester identity data after closure: kept ``DSAR_IDENTITY_RETENTION_DAYS`` (default 730) after a request
closes, as proof of who asked and how they were identified, then removed. What stays is the proof without
personal data: the request, its dates, its timeline's kinds and system messages, its certificate and counts.

Removed, for each request closed longer ago:
- what it was received with (name, email, phone typed at intake);
- staff notes: the manual verification note, the extension and rejection reasons (in the timeline, the
  request, their history and the audit chain);
- the person intake created for it, when nothing else refers to them: no other request still within its
  period, no record in any other app, no objection to remember.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from simple_history.models import HistoricalChanges

from core.append_only import scrub
from core.audit import audit_forget
from dsar.models import Person, Request, RequestEvent
from dsar.people import people_held

#: Timeline lines that hold a staff member's words (kind, how the message starts), and what replaces them.
NOTES = {
    (RequestEvent.Kind.VERIFIED, "Identity verified manually:"): "Identity verified manually; the note was removed after the retention period.",
    (RequestEvent.Kind.EXTENDED, "Deadline extended"): "Deadline extended; the reason was removed after the retention period.",
    (RequestEvent.Kind.REJECTED, "Rejected:"): "Rejected; the reason was removed after the retention period.",
}


def _notes_q() -> Q:
    q = Q(pk__in=[])
    for (kind, start), replacement in NOTES.items():
        q |= Q(kind=kind, message__startswith=start) & ~Q(message=replacement)
    return q
FORGOTTEN = "identity retention"


@dataclass
class Forgotten:
    requests: int = 0
    notes: int = 0
    people: int = 0


def _forgettable(cutoff: dt.datetime) -> Q:
    """Closed before ``cutoff`` and still holding identity data."""
    holding = Q(received_with__isnull=False) | ~Q(status_reason="") | ~Q(extension_reason="")
    holding |= Q(pk__in=RequestEvent.objects.filter(_notes_q()).values("request_id"))
    return Q(status__in=Request.CLOSED, completed_at__lt=cutoff) & holding


def _people_with_nothing_else(person_ids: set[int], cutoff: dt.datetime) -> list[int]:
    """Of intake-created ``person_ids``, those no other record refers to (history aside)."""
    people = Person.objects.filter(pk__in=person_ids, created_by_intake=True, objected_to_marketing_at__isnull=True)
    people = people.exclude(requests__in=Request.objects.exclude(status__in=Request.CLOSED, completed_at__lt=cutoff))
    for relation in Person._meta.get_fields(include_hidden=True):
        if not (relation.is_relation and relation.auto_created and not relation.concrete):
            continue
        if issubclass(relation.related_model, HistoricalChanges) or relation.related_model is Request:
            continue
        referring = relation.related_model._base_manager.filter(**{f"{relation.field.name}__isnull": False})
        people = people.exclude(pk__in=referring.values(relation.field.attname))
    return list(people.values_list("pk", flat=True))


def requesters_forget(*, now: dt.datetime, dry_run: bool = False) -> Forgotten:
    """Remove the identity data of requests closed more than the retention period before ``now``; returns
    counts. One transaction per request, so a run stopped anywhere resumes where it stopped."""
    cutoff = now - dt.timedelta(days=settings.DSAR_IDENTITY_RETENTION_DAYS)
    outcome = Forgotten()
    ids = list(Request.objects.filter(_forgettable(cutoff)).values_list("pk", flat=True).distinct().order_by("pk"))
    # People an earlier run kept (a legal hold froze them) are looked at again: their requests' identity data is
    # gone already, so those requests are not among ``ids``.
    people: set[int] = set(
        Request.objects.filter(status__in=Request.CLOSED, completed_at__lt=cutoff, person__created_by_intake=True)
        .values_list("person_id", flat=True)
        .distinct()
    )
    for pk in ids:
        with transaction.atomic():
            request = Request.objects.select_for_update().get(pk=pk)
            outcome.requests += 1
            if request.person_id:
                people.add(request.person_id)
            people.update(
                Request.history.filter(id=pk, person_id__isnull=False).values_list("person_id", flat=True).distinct()
            )
            if dry_run:
                outcome.notes += request.events.filter(_notes_q()).count()
                continue
            Request.objects.filter(pk=pk).update(received_with=None, subject=None, status_reason="", extension_reason="")
            # The history and the timeline are append-only and sealed, but for this scrubbing, which seals the
            # rows it changes again.
            blank = {"status_reason": "", "extension_reason": ""}
            holding = Request.history.filter(id=pk).exclude(**blank).values_list("pk", flat=True)
            scrub(Request.history.model, dict.fromkeys(holding, blank), reason=FORGOTTEN, request_id=pk)
            notes = 0
            for (kind, start), replacement in NOTES.items():
                note = {"message": replacement}
                noted = Q(kind=kind, message__startswith=start) & ~Q(message=replacement)
                lines = request.events.filter(noted).values_list("pk", flat=True)
                versions = RequestEvent.history.filter(noted, request_id=pk).values_list("pk", flat=True)
                notes += scrub(RequestEvent, dict.fromkeys(lines, note), reason=FORGOTTEN, request_id=pk)
                scrub(RequestEvent.history.model, dict.fromkeys(versions, note), reason=FORGOTTEN, request_id=pk)
            audit_forget(
                object_type="dsar.request", object_id=pk, fields=["note"], account_id=request.account_id, reason=FORGOTTEN
            )
            outcome.notes += notes
    # A person a legal hold freezes (a hold on their whole account) stays until it is released.
    candidates = _people_with_nothing_else(people, cutoff)
    held = people_held(candidates)
    doomed = [pk for pk in candidates if pk not in held]
    outcome.people = len(doomed)
    if doomed and not dry_run:
        with transaction.atomic():
            Person.objects.filter(pk__in=doomed).delete()
            blank = {"name": "", "email": "", "phone": "", "external_id": ""}
            holding = Person.history.filter(id__in=doomed).exclude(**blank).values_list("pk", flat=True)
            scrub(Person.history.model, dict.fromkeys(holding, blank), reason=FORGOTTEN)
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Person), object_id__in=[str(pk) for pk in doomed]
            ).update(object_repr="(person removed after the retention period)", change_message="")
    return outcome
