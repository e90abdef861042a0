"""The telephony guide's erasure rules, as the ``recordings`` data source dsar drives.

1. TICKETS: the person's identifiers are redacted from the subject and description of the account's
   tickets: in their own tickets their names too, in any other ticket only their full name, email and phone
   (see :mod:`dsar.matching`); the recordings on their tickets are deleted.
2. RECORDS: their phone numbers leave the call, monitoring and text history (their rows are unlinked
   from them), a text that mentions them has it redacted, their recordings and voicemails are deleted
   (here and at the provider) and so are their analytics rows, except rows of calls an IVR option routed
   to an external number or that were transferred to an external number: those keep the number, linked
   to no one.
3. HISTORY: the same identifiers are scrubbed from this app's history tables.

"Their" means every identifier the person has had: current, rectified and received with the request.

Every step only touches rows that still hold the person's data, so running it again changes nothing
and returns zero counts. Held data is never deleted: a hold covering the person blocks the erasure.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.append_only import scrub
from core.history import current_actor, write_history, write_history_from
from dsar.matching import Matcher, redact_rows
from dsar.sources import ErasureStep, Retention, Subject
from recordings.models import (
    AnalyticsRow,
    Call,
    HistoryExport,
    LegalHold,
    MonitoringEntry,
    PhoneLine,
    Recording,
    TextMessage,
    Ticket,
)

#: Who an erasure's changes are attributed to when it runs outside the erasure service's context (which names the
#: person who ran it and the request).
ERASURE_ACTOR = "data subject erasure"


def erasure_actor() -> str:
    """Who runs the erasure under way: the one the erasure service names (see dsar/erasure.py), else the default."""
    return current_actor() or ERASURE_ACTOR


def _erasure_of(found: Found) -> str:
    """How a deletion names the erasure it is part of: its request, and the person."""
    request = f"request #{found.subject.request_id}" if found.subject.request_id else "a request"
    return f"Erasure {request} (person {found.person_id})"


#: Every column of this app that holds a phone number as the telephony product wrote it (any format).
PHONE_COLUMNS: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (Call, ("from_number", "to_number")),
    (MonitoringEntry, ("caller_number",)),
    (TextMessage, ("from_number", "to_number")),
    (AnalyticsRow, ("phone_number",)),
)


def _phones(subject: Subject) -> list[str]:
    """The subject's numbers exactly as this app's tables (and their history) store them, whatever the format
    (``00442079460018``, ``020 7946 0018``…): compared by their parsed number, so that every later filter is a
    plain set-based ``IN``. One query per table and one per its history."""
    matcher = Matcher(subject)
    forms: set[str] = set()
    for model, fields in PHONE_COLUMNS:
        for rows in (model.objects.all(), model.history.model.objects.all()):
            forms.update(matcher.stored_phones(rows.filter(account_id=subject.account_id), *fields))
    return sorted(forms)


def _external_call_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}ivr_external": True}) | Q(**{f"{prefix}transferred_external": True})


def _covers(hold: LegalHold, row: dict[str, Any], people: tuple[str, ...]) -> bool:
    """Whether ``hold`` covers the recording or call ``row`` (its ticket, or one of its ``people`` columns)."""
    if hold.scope == LegalHold.Scope.TICKET:
        return hold.ticket_id == row["ticket_id"]
    return hold.person_id in {row[name] for name in people}


_RECORDING_PEOPLE = ("ticket__requester_id", "call__end_user_id", "call__agent_id")
_CALL_PEOPLE = ("ticket__requester_id", "end_user_id", "agent_id")


@dataclass
class Held:
    """What one legal hold keeps of the subject's data: recordings with their calls, calls it holds themselves (a
    held agent's), and tickets naming them."""

    hold: LegalHold
    recordings: set[int] = field(default_factory=set)
    calls: set[int] = field(default_factory=set)
    tickets: set[int] = field(default_factory=set)
    #: Calls the hold covers without a held recording on them: call-history rows kept as they are.
    history: set[int] = field(default_factory=set)

    def retention(self) -> Retention:
        what = []
        if self.recordings:
            what.append(f"{len(self.recordings)} call recording(s) or voicemail(s) with their call(s)")
        bare = self.history - self.calls
        if bare:
            what.append(f"{len(bare)} call(s) of the call history")
        if self.tickets:
            what.append(f"{len(self.tickets)} ticket(s) that name the person")
        held_calls = sorted(self.calls | self.history)
        calls, tickets = Q(id__in=held_calls), Q(id__in=sorted(self.tickets))
        category = "call-recording" if self.recordings else "call-data" if bare else "ticket"
        return Retention(
            data_category=category,
            description=f"{' and '.join(what).capitalize()}, kept under hold #{self.hold.pk} until it is released; "
            "they are erased then.",
            reason=f"Legal hold #{self.hold.pk} on {self.hold.target_label}: {self.hold.reason}",
            count=len(self.recordings) + len(bare) + len(self.tickets),
            locations=(
                "recordings_call", "recordings_historicalcall", "recordings_ticket", "recordings_historicalticket",
            ),
            rows={
                "recordings_call": calls,
                "recordings_historicalcall": calls,
                "recordings_ticket": tickets,
                "recordings_historicalticket": tickets,
            },
            hold=self.hold.pk,
            ids={"recordings": sorted(self.recordings), "calls": held_calls, "tickets": sorted(self.tickets)},
        )


@dataclass(frozen=True)
class Frozen:
    """The rows a hold keeps as they are during an erasure."""

    calls: set[int]
    tickets: set[int]


@dataclass
class Found:
    """What the subject's data is found by in this app: their person id and their numbers as stored."""

    subject: Subject
    phones: list[str]

    @property
    def person_id(self) -> int:
        return self.subject.person_id

    @property
    def account_id(self) -> int:
        return self.subject.account_id


class RecordingsSource:
    key = "recordings"
    label = "Telephony records (calls, recordings, voicemails, monitoring, texts, analytics)"
    # The hosting catalog knows call data, conversations and reports; these records are kinds of them.
    catalog_categories = {"monitoring-history": "call-data", "text-history": "conversations", "call-analytics": "report"}
    #: What the person reads for this source's own kinds of record (the catalog names the others).
    category_labels = {
        "monitoring-history": _("Call monitoring history"),
        "text-history": _("Text messages"),
        "call-analytics": _("Call analytics"),
    }
    #: The history rows an erasure scrubs, by the kind of record they are earlier versions of.
    copies_of = {
        "history:ticket": "ticket",
        "history:call": "call-data",
        "history:recording": "call-recording",
        "history:monitoringentry": "monitoring-history",
        "history:textmessage": "text-history",
        "history:analyticsrow": "call-analytics",
    }
    #: What the person reads for each field of their records (access report, archive).
    field_labels = {
        "id": _("Reference"),
        "subject": _("Subject"),
        "description": _("Description"),
        "status": _("Status"),
        "created_at": _("Created"),
        "direction": _("Direction"),
        "from_number": _("From number"),
        "to_number": _("To number"),
        "started": _("Started"),
        "ended": _("Ended"),
        "duration_seconds": _("Duration (seconds)"),
        "kind": _("Kind"),
        "provider_sid": _("Reference at the telephony provider"),
        "ticket_id": _("Ticket reference"),
        "call_id": _("Call reference"),
        "mode": _("Monitoring mode"),
        "body": _("Message"),
        "sent_at": _("Sent"),
        "phone_number": _("Phone number"),
        "wait_seconds": _("Waiting time (seconds)"),
        "talk_seconds": _("Talking time (seconds)"),
    }
    #: The person's words for the codes their records hold.
    value_labels = {
        "status": {"open": _("Open"), "pending": _("Pending"), "resolved": _("Resolved"), "closed": _("Closed")},
        "direction": {"inbound": _("Incoming"), "outbound": _("Outgoing")},
        "kind": {"call": _("Call recording"), "voicemail": _("Voicemail")},
        "mode": {"listen": _("Listening"), "whisper": _("Whispering to the agent"), "barge": _("Joining the call")},
    }

    # Reads ---------------------------------------------------------------------------------------

    def _found(self, subject: Subject) -> Found:
        return Found(subject, _phones(subject))

    def _calls(self, found: Found) -> Any:
        return Call.objects.filter(account_id=found.account_id).involving(person_id=found.person_id, phones=found.phones)

    def _recordings(self, found: Found) -> Any:
        return Recording.objects.filter(account_id=found.account_id).of_person(
            person_id=found.person_id, phones=found.phones
        )

    def _monitoring(self, found: Found) -> Any:
        q = Q(supervisor_id=found.person_id) | Q(caller_number__in=found.phones)
        return MonitoringEntry.objects.filter(Q(account_id=found.account_id) & q)

    def _linked_texts_q(self, found: Found) -> Q:
        return Q(person_id=found.person_id) | Q(from_number__in=found.phones) | Q(to_number__in=found.phones)

    def _texts(self, found: Found) -> Any:
        """Texts to, from or about the person (a body that names them)."""
        return TextMessage.objects.filter(account_id=found.account_id).filter(
            self._linked_texts_q(found) | Matcher(found.subject).q("body")
        )

    def _analytics(self, found: Found) -> Any:
        q = Q(person_id=found.person_id) | Q(phone_number__in=found.phones)
        return AnalyticsRow.objects.filter(Q(account_id=found.account_id) & q)

    def _tickets(self, found: Found) -> Any:
        """The person's tickets, and any other ticket of the account that names them."""
        return Ticket.objects.filter(account_id=found.account_id).filter(
            Q(requester_id=found.person_id) | Matcher(found.subject).q("subject", "description")
        )

    def _held(self, found: Found) -> list[Held]:
        """The subject's recordings (with their calls), their calls and the tickets naming them that someone else's
        legal hold keeps: a hold on another person's ticket, or on another person (the agent who took the call).
        Holds on the person, their own tickets or the whole account block the erasure instead (:meth:`blockers`)."""
        mine = Recording.objects.filter(account_id=found.account_id).filter(
            Q(pk__in=self._recordings(found).values("pk")) | Q(ticket__requester_id=found.person_id)
        )
        recordings = list(mine.held().values("pk", "call_id", "ticket_id", *_RECORDING_PEOPLE))
        calls = list(self._calls(found).held().values("pk", "ticket_id", *_CALL_PEOPLE))
        tickets = list(
            self._tickets(found).held().exclude(requester_id=found.person_id).values("pk", "requester_id")
        )
        ticket_ids = {row["ticket_id"] for row in recordings + calls} | {row["pk"] for row in tickets}
        others = Q(scope=LegalHold.Scope.TICKET, ticket_id__in=ticket_ids - {None})
        people = {row[key] for row in recordings for key in _RECORDING_PEOPLE}
        people |= {row[key] for row in calls for key in _CALL_PEOPLE}
        people |= {row["requester_id"] for row in tickets}
        others |= Q(scope=LegalHold.Scope.PERSON, person_id__in=people - {None, found.person_id})
        holds = list(LegalHold.objects.active().filter(account_id=found.account_id).filter(others).order_by("pk"))
        held: dict[int, Held] = {}
        for row in recordings:
            hold = next((hold for hold in holds if _covers(hold, row, _RECORDING_PEOPLE)), None)
            if hold is not None:
                item = held.setdefault(hold.pk, Held(hold))
                item.recordings.add(row["pk"])
                item.calls.add(row["call_id"])
        for row in calls:
            hold = next((hold for hold in holds if _covers(hold, row, _CALL_PEOPLE)), None)
            if hold is not None:
                held.setdefault(hold.pk, Held(hold)).history.add(row["pk"])
        for row in tickets:
            hold = next(
                (hold for hold in holds if hold.ticket_id == row["pk"] or (hold.person_id and hold.person_id == row["requester_id"])),
                None,
            )
            if hold is not None:
                held.setdefault(hold.pk, Held(hold)).tickets.add(row["pk"])
        return [held[pk] for pk in sorted(held)]

    def locate(self, subject: Subject) -> dict[str, int]:
        found = self._found(subject)
        matcher = Matcher(subject)
        counts = {
            # The database's pattern is a superset (``jimzoe@`` passes it): the matcher decides what names them.
            "ticket": sum(
                1
                for requester, *texts in self._tickets(found).values_list("requester_id", "subject", "description")
                if requester == subject.person_id or any(matcher.mentions(text) for text in texts)
            ),
            "call-data": self._calls(found).count(),
            "call-recording": self._recordings(found).count(),
            "monitoring-history": self._monitoring(found).count(),
            "text-history": self._texts(found).filter(self._linked_texts_q(found)).count()
            + sum(
                1
                for body in self._texts(found).exclude(self._linked_texts_q(found)).values_list("body", flat=True)
                if matcher.mentions(body)
            ),
            "call-analytics": self._analytics(found).count(),
        }
        return {category: count for category, count in counts.items() if count}

    def export(self, subject: Subject) -> dict[str, Iterable[dict[str, Any]]]:
        found = self._found(subject)
        columns = {
            "ticket": (self._tickets, ("id", "subject", "description", "status", "created_at")),
            "call-data": (
                self._calls, ("id", "direction", "from_number", "to_number", "started", "ended", "duration_seconds")
            ),
            "call-recording": (
                self._recordings, ("id", "kind", "provider_sid", "duration_seconds", "created_at", "ticket_id")
            ),
            "monitoring-history": (self._monitoring, ("id", "call_id", "mode", "started", "ended")),
            "text-history": (self._texts, ("id", "direction", "from_number", "to_number", "body", "sent_at")),
            "call-analytics": (self._analytics, ("id", "phone_number", "started", "wait_seconds", "talk_seconds")),
        }
        # Read lazily, in chunks, when the archive is written: a person with a million calls stays in budget.
        return {
            category: rows(found).values(*fields).iterator(chunk_size=2000)
            for category, (rows, fields) in columns.items()
        }

    def retained(self, subject: Subject) -> list[Retention]:
        found = self._found(subject)
        kept = AnalyticsRow.objects.filter(account_id=subject.account_id, phone_number__in=found.phones).filter(
            _external_call_q()
        )
        retained = [
            Retention(
                data_category="call-analytics",
                # Marked for translation: the person's letter words them in their language.
                description=gettext_noop(
                    "Phone numbers in the analytics of calls routed to an external number by an IVR option "
                    "or transferred to an external number, linked to no person."
                ),
                reason=gettext_noop(
                    "The telephony guide keeps these numbers in analytics, unlinked from the end user's profile."
                ),
                count=kept.count(),
                locations=("recordings_analyticsrow.phone_number", "recordings_historicalanalyticsrow.phone_number"),
                rows={
                    "recordings_analyticsrow": _external_call_q(),
                    "recordings_historicalanalyticsrow": _external_call_q(),
                },
            )
        ]
        return retained + [item.retention() for item in self._held(found)]

    def blockers(self, subject: Subject) -> list[str]:
        found = self._found(subject)
        reasons = []
        live = self._calls(found).in_progress().count()
        # A supervisor listening, whispering or barging in is on the call too.
        live += MonitoringEntry.objects.filter(
            account_id=subject.account_id, supervisor_id=subject.person_id, ended__isnull=True, call__ended__isnull=True
        ).exclude(call__in=self._calls(found).in_progress()).count()
        if live:
            reasons.append(
                f"The person is on a call right now ({live} call{'s' if live > 1 else ''} in progress): "
                "wait until every call has ended, or some personal data would not be deleted."
            )
        for hold in self.holds_on([subject]).get(subject.person_id, []):
            reasons.append(f"Telephony records are under {hold}.")
        return reasons

    def holds_on(self, subjects: Collection[Subject]) -> dict[int, list[str]]:
        """The active holds on each subject, their account, or a ticket they requested (one query): a hold on
        them or their records freezes them too. Holds on someone else that keep some of their data (a colleague's
        ticket, an agent) do not: those rows are kept as they are instead (:meth:`_held`)."""
        people = {subject.person_id: subject.account_id for subject in subjects}
        holds = (
            LegalHold.objects.active()
            .covering_people(person_ids=people, account_ids=people.values())
            .select_related("ticket")
            .order_by("pk")
        )
        of_account: dict[int, list[int]] = {}
        for person_id, account_id in people.items():
            of_account.setdefault(account_id, []).append(person_id)
        # The services (and what they import: the purge, the provider's outbox) are imported where used: this
        # module loads with the apps, to register the source, and commands that never erase need none of them.
        from recordings import services

        held: dict[int, list[str]] = {}
        for hold in holds:
            if hold.scope == LegalHold.Scope.PERSON:
                covered = [hold.person_id]
            elif hold.scope == LegalHold.Scope.TICKET:
                covered = [hold.ticket.requester_id]
            else:
                covered = of_account.get(hold.account_id, [])
            for person_id in covered:
                if person_id in people:
                    held.setdefault(person_id, []).append(services.hold_message(hold))
        return held

    # Erasure -------------------------------------------------------------------------------------

    @transaction.atomic
    def erase(self, subject: Subject, step: ErasureStep) -> dict[str, int]:
        found = self._found(subject)
        # What someone else's hold keeps is frozen: not redacted, not deleted, not unlinked, until released.
        held = self._held(found)
        frozen = Frozen(
            calls={pk for item in held for pk in item.calls | item.history},
            tickets={pk for item in held for pk in item.tickets},
        )
        if step == ErasureStep.TICKETS:
            return self._erase_tickets(found, frozen)
        if step == ErasureStep.RECORDS:
            return self._erase_records(found, frozen)
        if step == ErasureStep.HISTORY:
            return self._erase_history(found, frozen)
        return {}

    def _erase_tickets(self, found: Found, frozen: Frozen) -> dict[str, int]:
        from recordings import services

        theirs, anyone = Matcher(found.subject, linked=True), Matcher(found.subject)
        changed: list[Ticket] = []
        tickets = self._tickets(found).filter(theirs.q("subject", "description")).exclude(pk__in=frozen.tickets)
        for ticket in tickets:
            matcher = theirs if ticket.requester_id == found.person_id else anyone
            subject_text = matcher.redact(ticket.subject)[:300]
            description = matcher.redact(ticket.description)
            # The database's pattern is wider than redaction: only rows whose text really changed count.
            if (subject_text, description) != (ticket.subject, ticket.description):
                ticket.subject, ticket.description = subject_text, description
                changed.append(ticket)
        Ticket.objects.bulk_update(changed, ["subject", "description"], batch_size=500)
        write_history(changed, history_type="~", username=erasure_actor(), reason="erasure: personal data redacted")
        deleted = services.recordings_delete_for_erasure(
            recordings=Recording.objects.filter(account_id=found.account_id, ticket__requester_id=found.person_id),
            username=erasure_actor(),
            detail=f"{_erasure_of(found)}: recording on one of their tickets",
        )
        return {"ticket": len(changed), "call-recording": len(deleted)}

    def _erase_records(self, found: Found, frozen: Frozen) -> dict[str, int]:
        from recordings import services
        from recordings.history_exports import history_exports_cancel, history_exports_redact

        pid = found.person_id
        # Recordings first: finding them needs the calls still linked to the person.
        deleted = services.recordings_delete_for_erasure(
            recordings=self._recordings(found),
            username=erasure_actor(),
            detail=f"{_erasure_of(found)}: their call recording or voicemail",
        )
        scope = Q(account_id=found.account_id)
        # A held recording's call keeps its number and links, so the recording can still be found and erased
        # when the hold ends.
        calls = self._unlink(Call, scope & ~Q(pk__in=frozen.calls), found, ["end_user_id", "agent_id"], ["from_number", "to_number"])
        monitoring = self._unlink(MonitoringEntry, scope, found, ["supervisor_id"], ["caller_number"])
        # A text to or from the person loses its body; any other text that names them has it redacted.
        texts = self._unlink(
            TextMessage, scope, found, ["person_id"], ["from_number", "to_number"], clear=("body",), redact=("body",)
        )
        # Call-history CSVs already written hold their number too: rewritten, as their links may still be used.
        matcher = Matcher(found.subject)
        files = history_exports_redact(account_id=found.account_id, redact=matcher.redact)
        # No link goes to an erased address: exports not yet mailed to it are cancelled, and the address
        # leaves every export record.
        cancelled = history_exports_cancel(
            account_id=found.account_id,
            is_recipient=matcher.mentions,
            reason="Cancelled: its recipient is a data subject whose data was erased.",
        )
        addressed = redact_rows(HistoryExport.objects.filter(account_id=found.account_id), ("email",), matcher)
        HistoryExport.objects.bulk_update(addressed, ["email"], batch_size=500)
        write_history(addressed, history_type="~", username=erasure_actor(), reason="erasure: recipient redacted")
        analytics = self._analytics(found)
        # The guide's exception: numbers of calls routed or transferred to an external number stay, unlinked.
        kept = analytics.filter(_external_call_q(), person_id=pid)
        unlinked = {"person_id": Value(None, output_field=models.BigIntegerField())}
        kept_count = write_history_from(
            kept, history_type="~", username=erasure_actor(), reason="erasure: unlinked, number kept", extra=unlinked
        )
        kept.update(person=None)
        doomed = analytics.exclude(_external_call_q())
        doomed_count = write_history_from(doomed, history_type="-", username=erasure_actor(), reason="erasure")
        # History is written above in one insert; delete() would add one more row per object via signals.
        doomed._raw_delete(doomed.db)
        return {
            "call-recording": len(deleted),
            "call-data": calls,
            "monitoring-history": monitoring,
            "text-history": texts,
            "call-analytics": doomed_count + kept_count,
            "history-export-files": files,
            "history-exports-cancelled": cancelled,
        }

    def _unlinking(
        self, found: Found, person_fields: list[str], number_fields: list[str], clear: tuple[str, ...]
    ) -> tuple[Q, dict[str, Any]]:
        """Which rows hold the person (one of ``person_fields`` is them, one of ``number_fields`` one of their
        numbers, as stored) and, as SQL over such a row, its values once they are taken out: their links null,
        their numbers blank, ``clear`` emptied."""
        match = Q(pk__in=[])
        for name in person_fields:
            match |= Q(**{name: found.person_id})
        for name in number_fields:
            match |= Q(**{f"{name}__in": found.phones})
        changes: dict[str, Any] = {
            name: Case(When(**{name: found.person_id}, then=Value(None)), default=F(name), output_field=models.BigIntegerField())
            for name in person_fields
        }
        for name in number_fields:
            changes[name] = Case(When(**{f"{name}__in": found.phones}, then=Value("")), default=F(name), output_field=models.CharField())
        for name in clear:
            changes[name] = Value("", output_field=models.TextField())
        return match, changes

    def _taken_out(
        self, found: Found, person_fields: list[str], number_fields: list[str], clear: tuple[str, ...], row: dict[str, Any]
    ) -> dict[str, Any]:
        """What :meth:`_unlinking`'s SQL changes in ``row`` (a row holding the person), as values: the links to
        them null, their numbers blank, ``clear`` emptied; the fields that stay as they are left out."""
        phones = set(found.phones)
        values: dict[str, Any] = {name: None for name in person_fields if row[name] == found.person_id}
        values.update({name: "" for name in number_fields if row[name] in phones})
        values.update({name: "" for name in clear})
        return values

    def _unlink(
        self,
        model: type[models.Model],
        scope: Q,
        found: Found,
        person_fields: list[str],
        number_fields: list[str],
        clear: tuple[str, ...] = (),
        redact: tuple[str, ...] = (),
    ) -> int:
        """Take the person out of ``model``'s rows, with history: set-based for the rows linked to them (one
        ``INSERT … SELECT`` of history, one ``UPDATE``, whatever their number), then ``redact`` in the rows
        that only mention them. Returns how many rows changed."""
        match, changes = self._unlinking(found, person_fields, number_fields, clear)
        linked = model.objects.filter(scope & match)
        count = write_history_from(
            linked, history_type="~", username=erasure_actor(), reason="erasure: unlinked from the person", extra=changes
        )
        linked.update(**changes)
        if redact:
            mentioning = redact_rows(model.objects.filter(scope), redact, Matcher(found.subject))
            model.objects.bulk_update(mentioning, list(redact), batch_size=500)
            write_history(mentioning, history_type="~", username=erasure_actor(), reason="erasure: personal data redacted")
            count += len(mentioning)
        return count

    def _erase_history(self, found: Found, frozen: Frozen) -> dict[str, int]:
        counts: dict[str, int] = {}
        scrubs: list[tuple[type[models.Model], list[str], list[str], tuple[str, ...], tuple[str, ...], set[int]]] = [
            # (model, person id fields to null, number fields to blank, fields cleared where linked, fields
            # redacted, rows frozen by a hold)
            (Ticket, ["requester_id"], [], (), ("subject", "description"), frozen.tickets),
            (Call, ["end_user_id", "agent_id"], ["from_number", "to_number"], (), (), frozen.calls),
            (MonitoringEntry, ["supervisor_id"], ["caller_number"], (), (), set()),
            (TextMessage, ["person_id"], ["from_number", "to_number"], ("body",), ("body",), set()),
            (AnalyticsRow, ["person_id"], [], (), (), set()),
            (LegalHold, ["person_id"], [], (), (), set()),
            (PhoneLine, [], [], (), ("name",), set()),
            (HistoryExport, [], [], (), ("email",), set()),
        ]
        subject = found.subject
        request_id = subject.request_id
        for model, id_fields, number_fields, clear, redact, held in scrubs:
            history_model = model.history.model
            history = history_model.objects.filter(account_id=found.account_id).exclude(id__in=held)
            changed = 0
            match, changes = self._unlinking(found, id_fields, number_fields, clear)
            if redact and clear:
                # Linked rows are emptied below: only the others are read for mentions.
                rows = redact_rows(history.exclude(match), redact, Matcher(subject))
            elif redact:
                # Old versions of the person's own rows lose their names too; any other, their full identifiers.
                own = history.filter(**{id_fields[0]: found.person_id}) if id_fields else history.none()
                rows = redact_rows(own, redact, Matcher(subject, linked=True))
                rows += redact_rows(history.exclude(pk__in=own.values("pk")), redact, Matcher(subject))
            # History is append-only (core/append_only.py) except for an erasure's scrubbing, which seals the rows
            # of a sealed table again (core/sealing.py).
            if redact:
                redacted = {row.pk: {name: getattr(row, name) for name in redact} for row in rows}
                changed += scrub(history_model, redacted, reason="erasure: personal data redacted", request_id=request_id)
            if changes:
                linked = history.filter(match).values("pk", *id_fields, *number_fields)
                unlinked = {row["pk"]: self._taken_out(found, id_fields, number_fields, clear, row) for row in linked}
                changed += scrub(history_model, unlinked, reason="erasure: unlinked from the person", request_id=request_id)
            counts[model._meta.model_name] = changed
        # Analytics history of the kept external-call rows keeps the number (declared in retained()); the
        # history of deleted analytics rows loses it.
        deleted_analytics = AnalyticsRow.history.model.objects.filter(
            account_id=found.account_id, phone_number__in=found.phones
        ).exclude(_external_call_q())
        blanked = {pk: {"phone_number": ""} for pk in deleted_analytics.values_list("pk", flat=True)}
        counts["analyticsrow"] = counts.get("analyticsrow", 0) + scrub(
            AnalyticsRow.history.model, blanked, reason="erasure: number removed", request_id=request_id
        )
        return {f"history:{name}": count for name, count in counts.items() if count}


def register_source() -> None:
    from dsar.sources import register

    register(RecordingsSource())
