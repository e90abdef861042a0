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

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When

from dsar.matching import Matcher, redact_rows
from dsar.sources import ErasureStep, Retention, Subject
from recordings import services
from recordings.history_exports import history_exports_redact
from recordings.models import (
    AnalyticsRow,
    Call,
    LegalHold,
    MonitoringEntry,
    PhoneLine,
    Recording,
    TextMessage,
    Ticket,
)
from residency.append_only import sanctioned_write
from residency.history import write_history, write_history_from

ERASURE_ACTOR = "data subject erasure"


def _phones(subject: Subject) -> list[str]:
    return subject.identifiers("phone")


def _external_call_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}ivr_external": True}) | Q(**{f"{prefix}transferred_external": True})


class RecordingsSource:
    key = "recordings"
    label = "Telephony records (calls, recordings, voicemails, monitoring, texts, analytics)"
    # The hosting catalog knows call data, conversations and reports; these records are kinds of them.
    catalog_categories = {"monitoring-history": "call-data", "text-history": "conversations", "call-analytics": "report"}

    # Reads ---------------------------------------------------------------------------------------

    def _calls(self, subject: Subject) -> Any:
        return Call.objects.filter(account_id=subject.account_id).involving(person_id=subject.person_id, phones=_phones(subject))

    def _recordings(self, subject: Subject) -> Any:
        return Recording.objects.filter(account_id=subject.account_id).of_person(
            person_id=subject.person_id, phones=_phones(subject)
        )

    def _monitoring(self, subject: Subject) -> Any:
        q = Q(supervisor_id=subject.person_id) | Q(caller_number__in=_phones(subject))
        return MonitoringEntry.objects.filter(Q(account_id=subject.account_id) & q)

    def _linked_texts_q(self, subject: Subject) -> Q:
        phones = _phones(subject)
        return Q(person_id=subject.person_id) | Q(from_number__in=phones) | Q(to_number__in=phones)

    def _texts(self, subject: Subject) -> Any:
        """Texts to, from or about the person (a body that names them)."""
        return TextMessage.objects.filter(account_id=subject.account_id).filter(
            self._linked_texts_q(subject) | Matcher(subject).q("body")
        )

    def _analytics(self, subject: Subject) -> Any:
        q = Q(person_id=subject.person_id) | Q(phone_number__in=_phones(subject))
        return AnalyticsRow.objects.filter(Q(account_id=subject.account_id) & q)

    def _tickets(self, subject: Subject) -> Any:
        """The person's tickets, and any other ticket of the account that names them."""
        return Ticket.objects.filter(account_id=subject.account_id).filter(
            Q(requester_id=subject.person_id) | Matcher(subject).q("subject", "description")
        )

    def locate(self, subject: Subject) -> dict[str, int]:
        counts = {
            "ticket": self._tickets(subject).count(),
            "call-data": self._calls(subject).count(),
            "call-recording": self._recordings(subject).count(),
            "monitoring-history": self._monitoring(subject).count(),
            "text-history": self._texts(subject).count(),
            "call-analytics": self._analytics(subject).count(),
        }
        return {category: count for category, count in counts.items() if count}

    def export(self, subject: Subject) -> dict[str, Iterable[dict[str, Any]]]:
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
            category: rows(subject).values(*fields).iterator(chunk_size=2000)
            for category, (rows, fields) in columns.items()
        }

    def retained(self, subject: Subject) -> list[Retention]:
        kept = AnalyticsRow.objects.filter(account_id=subject.account_id, phone_number__in=_phones(subject)).filter(
            _external_call_q()
        )
        return [
            Retention(
                data_category="call-analytics",
                description="Phone numbers in the analytics of calls routed to an external number by an IVR option "
                "or transferred to an external number, linked to no person.",
                reason="The telephony guide keeps these numbers in analytics, unlinked from the end user's profile.",
                count=kept.count(),
                locations=("recordings_analyticsrow.phone_number", "recordings_historicalanalyticsrow.phone_number"),
            )
        ]

    def blockers(self, subject: Subject) -> list[str]:
        reasons = []
        live = self._calls(subject).in_progress().count()
        if live:
            reasons.append(
                f"The person is on a call right now ({live} call{'s' if live > 1 else ''} in progress): "
                "wait until every call has ended, or some personal data would not be deleted."
            )
        holds = LegalHold.objects.active().filter(
            Q(scope=LegalHold.Scope.PERSON, person_id=subject.person_id)
            | Q(scope=LegalHold.Scope.ACCOUNT, account_id=subject.account_id)
            | Q(scope=LegalHold.Scope.TICKET, ticket__requester_id=subject.person_id)
        )
        for hold in holds.order_by("pk"):
            reasons.append(f"Telephony records are under {services.hold_message(hold)}.")
        return reasons

    # Erasure -------------------------------------------------------------------------------------

    @transaction.atomic
    def erase(self, subject: Subject, step: ErasureStep) -> dict[str, int]:
        if step == ErasureStep.TICKETS:
            return self._erase_tickets(subject)
        if step == ErasureStep.RECORDS:
            return self._erase_records(subject)
        if step == ErasureStep.HISTORY:
            # History is append-only (residency/append_only.py) except for an erasure's scrubbing.
            with sanctioned_write():
                return self._erase_history(subject)
        return {}

    def _erase_tickets(self, subject: Subject) -> dict[str, int]:
        theirs, anyone = Matcher(subject, linked=True), Matcher(subject)
        changed: list[Ticket] = []
        for ticket in self._tickets(subject).filter(theirs.q("subject", "description")):
            matcher = theirs if ticket.requester_id == subject.person_id else anyone
            subject_text = matcher.redact(ticket.subject)[:300]
            description = matcher.redact(ticket.description)
            # The database's pattern is wider than redaction: only rows whose text really changed count.
            if (subject_text, description) != (ticket.subject, ticket.description):
                ticket.subject, ticket.description = subject_text, description
                changed.append(ticket)
        Ticket.objects.bulk_update(changed, ["subject", "description"], batch_size=500)
        write_history(changed, history_type="~", username=ERASURE_ACTOR, reason="erasure: personal data redacted")
        deleted = services.recordings_delete_for_erasure(
            recordings=Recording.objects.filter(account_id=subject.account_id, ticket__requester_id=subject.person_id),
            username=ERASURE_ACTOR,
            detail=f"Erasure of person {subject.person_id}: recording on one of their tickets",
        )
        return {"ticket": len(changed), "call-recording": len(deleted)}

    def _erase_records(self, subject: Subject) -> dict[str, int]:
        pid = subject.person_id
        # Recordings first: finding them needs the calls still linked to the person.
        deleted = services.recordings_delete_for_erasure(
            recordings=self._recordings(subject),
            username=ERASURE_ACTOR,
            detail=f"Erasure of person {pid}: their call recording or voicemail",
        )
        scope = Q(account_id=subject.account_id)
        calls = self._unlink(Call, scope, subject, ["end_user_id", "agent_id"], ["from_number", "to_number"])
        monitoring = self._unlink(MonitoringEntry, scope, subject, ["supervisor_id"], ["caller_number"])
        # A text to or from the person loses its body; any other text that names them has it redacted.
        texts = self._unlink(
            TextMessage, scope, subject, ["person_id"], ["from_number", "to_number"], clear=("body",), redact=("body",)
        )
        # Call-history CSVs already written hold their number too: rewritten, as their links may still be used.
        files = history_exports_redact(account_id=subject.account_id, redact=Matcher(subject).redact)
        analytics = self._analytics(subject)
        # The guide's exception: numbers of calls routed or transferred to an external number stay, unlinked.
        kept = analytics.filter(_external_call_q(), person_id=pid)
        unlinked = {"person_id": Value(None, output_field=models.BigIntegerField())}
        kept_count = write_history_from(
            kept, history_type="~", username=ERASURE_ACTOR, reason="erasure: unlinked, number kept", extra=unlinked
        )
        kept.update(person=None)
        doomed = analytics.exclude(_external_call_q())
        doomed_count = write_history_from(doomed, history_type="-", username=ERASURE_ACTOR, reason="erasure")
        # History is written above in one insert; delete() would add one more row per object via signals.
        doomed._raw_delete(doomed.db)
        return {
            "call-recording": len(deleted),
            "call-data": calls,
            "monitoring-history": monitoring,
            "text-history": texts,
            "call-analytics": doomed_count + kept_count,
            "history-export-files": files,
        }

    def _unlinking(
        self, subject: Subject, person_fields: list[str], number_fields: list[str], clear: tuple[str, ...]
    ) -> tuple[Q, dict[str, Any]]:
        """Which rows hold the person (one of ``person_fields`` is them, one of ``number_fields`` one of their
        numbers) and, as SQL over such a row, its values once they are taken out: their links null, their
        numbers blank, ``clear`` emptied."""
        phones = _phones(subject)
        match = Q(pk__in=[])
        for name in person_fields:
            match |= Q(**{name: subject.person_id})
        for name in number_fields:
            match |= Q(**{f"{name}__in": phones})
        changes: dict[str, Any] = {
            name: Case(When(**{name: subject.person_id}, then=Value(None)), default=F(name), output_field=models.BigIntegerField())
            for name in person_fields
        }
        for name in number_fields:
            changes[name] = Case(When(**{f"{name}__in": phones}, then=Value("")), default=F(name), output_field=models.CharField())
        for name in clear:
            changes[name] = Value("", output_field=models.TextField())
        return match, changes

    def _unlink(
        self,
        model: type[models.Model],
        scope: Q,
        subject: Subject,
        person_fields: list[str],
        number_fields: list[str],
        clear: tuple[str, ...] = (),
        redact: tuple[str, ...] = (),
    ) -> int:
        """Take the person out of ``model``'s rows, with history: set-based for the rows linked to them (one
        ``INSERT … SELECT`` of history, one ``UPDATE``, whatever their number), then ``redact`` in the rows
        that only mention them. Returns how many rows changed."""
        match, changes = self._unlinking(subject, person_fields, number_fields, clear)
        linked = model.objects.filter(scope & match)
        count = write_history_from(
            linked, history_type="~", username=ERASURE_ACTOR, reason="erasure: unlinked from the person", extra=changes
        )
        linked.update(**changes)
        if redact:
            mentioning = redact_rows(model.objects.filter(scope), redact, Matcher(subject))
            model.objects.bulk_update(mentioning, list(redact), batch_size=500)
            write_history(mentioning, history_type="~", username=ERASURE_ACTOR, reason="erasure: personal data redacted")
            count += len(mentioning)
        return count

    def _erase_history(self, subject: Subject) -> dict[str, int]:
        counts: dict[str, int] = {}
        scrubs: list[tuple[type[models.Model], list[str], list[str], tuple[str, ...], tuple[str, ...]]] = [
            # (model, person id fields to null, number fields to blank, fields cleared where linked, fields redacted)
            (Ticket, ["requester_id"], [], (), ("subject", "description")),
            (Call, ["end_user_id", "agent_id"], ["from_number", "to_number"], (), ()),
            (MonitoringEntry, ["supervisor_id"], ["caller_number"], (), ()),
            (TextMessage, ["person_id"], ["from_number", "to_number"], ("body",), ("body",)),
            (AnalyticsRow, ["person_id"], [], (), ()),
            (LegalHold, ["person_id"], [], (), ()),
            (PhoneLine, [], [], (), ("name",)),
        ]
        for model, id_fields, number_fields, clear, redact in scrubs:
            history_model = model.history.model
            history = history_model.objects.filter(account_id=subject.account_id)
            changed = 0
            match, changes = self._unlinking(subject, id_fields, number_fields, clear)
            if redact and clear:
                # Linked rows are emptied below: only the others are read for mentions.
                rows = redact_rows(history.exclude(match), redact, Matcher(subject))
            elif redact:
                # Old versions of the person's own rows lose their names too; any other, their full identifiers.
                own = history.filter(**{id_fields[0]: subject.person_id}) if id_fields else history.none()
                rows = redact_rows(own, redact, Matcher(subject, linked=True))
                rows += redact_rows(history.exclude(pk__in=own.values("pk")), redact, Matcher(subject))
            if redact:
                history_model.objects.bulk_update(rows, list(redact), batch_size=500)
                changed += len(rows)
            if changes:
                changed += history.filter(match).update(**changes)
            counts[model._meta.model_name] = changed
        # Analytics history of the kept external-call rows keeps the number (declared in retained()); the
        # history of deleted analytics rows loses it.
        deleted_analytics = AnalyticsRow.history.model.objects.filter(
            account_id=subject.account_id, phone_number__in=_phones(subject)
        ).exclude(_external_call_q())
        counts["analyticsrow"] = counts.get("analyticsrow", 0) + deleted_analytics.update(phone_number="")
        return {f"history:{name}": count for name, count in counts.items() if count}


def register_source() -> None:
    from dsar.sources import register

    register(RecordingsSource())
