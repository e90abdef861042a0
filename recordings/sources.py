"""The telephony guide's erasure rules, as the ``recordings`` data source dsar drives.

1. TICKETS: the person's name, email and phone are redacted from the subject and description of the
   account's tickets (theirs, and any other that names them), and the recordings on their tickets are deleted.
2. RECORDS: their phone number leaves the call, monitoring and text history (their rows are unlinked
   from them), their recordings and voicemails are deleted (here and at the provider) and so are their
   analytics rows, except rows of calls an IVR option routed to an external number or that were
   transferred to an external number: those keep the number, linked to no one.
3. HISTORY: the same identifiers are scrubbed from this app's history tables.

Every step only touches rows that still hold the person's data, so running it again changes nothing
and returns zero counts. Held data is never deleted: a hold covering the person blocks the erasure.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import models, transaction
from django.db.models import Q

from dsar.sources import ErasureStep, Retention, Subject
from recordings import services
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
from residency.history import write_history

REDACTED = "[redacted]"
# Names shorter than this match inside ordinary words, as dsar's verification scan also assumes.
MIN_NAME_LENGTH = 3
ERASURE_ACTOR = "data subject erasure"


def _needles(subject: Subject) -> list[str]:
    """What identifies the person in free text: email, phone, full name, and each part of the name."""
    # Earlier emails, phones and full names too (a rectified address still in an old ticket is theirs).
    values = [*subject.identifiers("email"), *subject.identifiers("phone")]
    values += [former for former in subject.former_names if len(former) >= MIN_NAME_LENGTH]
    name = subject.name.strip()
    if len(name) >= MIN_NAME_LENGTH:
        values.append(name)
        # "Reach Jane at …" names the person too; parts are matched as whole words only (see _redact).
        values.extend(part for part in name.split() if len(part) >= MIN_NAME_LENGTH and part != name)
    return [value for value in values if value]


def _redact(text: str, needles: list[str]) -> str:
    for needle in needles:  # longest identifiers first: the full name before its parts
        pattern = re.escape(needle)
        if needle[:1].isalnum() and needle[-1:].isalnum():
            pattern = rf"\b{pattern}\b"
        text = re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)
    return text


def _mentions(needles: list[str], *fields: str) -> Q:
    q = Q(pk__in=[])
    for needle in needles:
        for name in fields:
            q |= Q(**{f"{name}__icontains": needle})
    return q


def _external_call_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}ivr_external": True}) | Q(**{f"{prefix}transferred_external": True})


class RecordingsSource:
    key = "recordings"
    label = "Telephony records (calls, recordings, voicemails, monitoring, texts, analytics)"
    # The hosting catalog knows call data, conversations and reports; these records are kinds of them.
    catalog_categories = {"monitoring-history": "call-data", "text-history": "conversations", "call-analytics": "report"}

    # Reads ---------------------------------------------------------------------------------------

    def _calls(self, subject: Subject) -> Any:
        return Call.objects.filter(account_id=subject.account_id).involving(person_id=subject.person_id, phone=subject.phone)

    def _recordings(self, subject: Subject) -> Any:
        return Recording.objects.filter(account_id=subject.account_id).of_person(
            person_id=subject.person_id, phone=subject.phone
        )

    def _monitoring(self, subject: Subject) -> Any:
        q = Q(supervisor_id=subject.person_id)
        if subject.phone:
            q |= Q(caller_number=subject.phone)
        return MonitoringEntry.objects.filter(Q(account_id=subject.account_id) & q)

    def _texts(self, subject: Subject) -> Any:
        q = Q(person_id=subject.person_id)
        if subject.phone:
            q |= Q(from_number=subject.phone) | Q(to_number=subject.phone)
        return TextMessage.objects.filter(Q(account_id=subject.account_id) & q)

    def _analytics(self, subject: Subject) -> Any:
        q = Q(person_id=subject.person_id)
        if subject.phone:
            q |= Q(phone_number=subject.phone)
        return AnalyticsRow.objects.filter(Q(account_id=subject.account_id) & q)

    def _tickets(self, subject: Subject) -> Any:
        needles = _needles(subject)
        return Ticket.objects.filter(account_id=subject.account_id).filter(
            Q(requester_id=subject.person_id) | _mentions(needles, "subject", "description")
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

    def export(self, subject: Subject) -> dict[str, list[dict[str, Any]]]:
        return {
            "ticket": list(self._tickets(subject).values("id", "subject", "description", "status", "created_at")),
            "call-data": list(
                self._calls(subject).values(
                    "id", "direction", "from_number", "to_number", "started", "ended", "duration_seconds"
                )
            ),
            "call-recording": list(
                self._recordings(subject).values("id", "kind", "provider_sid", "duration_seconds", "created_at", "ticket_id")
            ),
            "monitoring-history": list(self._monitoring(subject).values("id", "call_id", "mode", "started", "ended")),
            "text-history": list(self._texts(subject).values("id", "direction", "from_number", "to_number", "body", "sent_at")),
            "call-analytics": list(self._analytics(subject).values("id", "phone_number", "started", "wait_seconds", "talk_seconds")),
        }

    def retained(self, subject: Subject) -> list[Retention]:
        kept = AnalyticsRow.objects.filter(account_id=subject.account_id, phone_number=subject.phone).filter(
            _external_call_q()
        ) if subject.phone else AnalyticsRow.objects.none()
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
        needles = _needles(subject)
        changed: list[Ticket] = []
        if needles:
            for ticket in self._tickets(subject).filter(_mentions(needles, "subject", "description")):
                subject_text = _redact(ticket.subject, needles)[:300]
                description = _redact(ticket.description, needles)
                # icontains also finds "Janet" for "Jane": only rows whose text really changed count.
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
        phone = subject.phone
        pid = subject.person_id
        # Recordings first: finding them needs the calls still linked to the person.
        deleted = services.recordings_delete_for_erasure(
            recordings=self._recordings(subject),
            username=ERASURE_ACTOR,
            detail=f"Erasure of person {pid}: their call recording or voicemail",
        )
        calls = self._unlink(
            Call, Q(account_id=subject.account_id), {"end_user_id": pid, "agent_id": pid}, {"from_number": phone, "to_number": phone}
        )
        monitoring = self._unlink(
            MonitoringEntry, Q(account_id=subject.account_id), {"supervisor_id": pid}, {"caller_number": phone}
        )
        texts = self._unlink(
            TextMessage,
            Q(account_id=subject.account_id),
            {"person_id": pid},
            {"from_number": phone, "to_number": phone},
            clear_also=("body",),
        )
        analytics = self._analytics(subject)
        # The guide's exception: numbers of calls routed or transferred to an external number stay, unlinked.
        kept = list(analytics.filter(_external_call_q(), person_id=pid))
        for row in kept:
            row.person_id = None
        AnalyticsRow.objects.bulk_update(kept, ["person"], batch_size=500)
        write_history(kept, history_type="~", username=ERASURE_ACTOR, reason="erasure: unlinked, number kept")
        doomed = list(analytics.exclude(_external_call_q()))
        write_history(doomed, history_type="-", username=ERASURE_ACTOR, reason="erasure")
        # History is written above in one insert; delete() would add one more row per object via signals.
        gone = AnalyticsRow.objects.filter(pk__in=[row.pk for row in doomed])
        gone._raw_delete(gone.db)
        return {
            "call-recording": len(deleted),
            "call-data": calls,
            "monitoring-history": monitoring,
            "text-history": texts,
            "call-analytics": len(doomed) + len(kept),
        }

    def _unlink(
        self,
        model: type[models.Model],
        scope: Q,
        person_fields: dict[str, int],
        number_fields: dict[str, str],
        clear_also: tuple[str, ...] = (),
    ) -> int:
        """Clear the person's links and number from ``model``'s rows; returns how many rows changed."""
        match = Q(pk__in=[])
        for name, value in person_fields.items():
            match |= Q(**{name: value})
        for name, value in number_fields.items():
            if value:
                match |= Q(**{name: value})
        rows = list(model.objects.filter(scope & match))
        for row in rows:
            person_match = any(getattr(row, name) == value for name, value in person_fields.items())
            for name, value in person_fields.items():
                if getattr(row, name) == value:
                    setattr(row, name, None)
            for name, value in number_fields.items():
                if value and getattr(row, name) == value:
                    setattr(row, name, "")
                    person_match = True
            if person_match:
                for name in clear_also:
                    setattr(row, name, "")
        fields = [name.removesuffix("_id") for name in person_fields] + list(number_fields) + list(clear_also)
        model.objects.bulk_update(rows, fields, batch_size=500)
        write_history(rows, history_type="~", username=ERASURE_ACTOR, reason="erasure: unlinked from the person")
        return len(rows)

    def _erase_history(self, subject: Subject) -> dict[str, int]:
        needles = _needles(subject)
        pid = subject.person_id
        phone = subject.phone
        counts: dict[str, int] = {}
        scrubs: list[tuple[type[models.Model], list[str], list[str], list[str]]] = [
            # (model, person id fields to null, number fields to blank, free-text fields to redact)
            (Ticket, ["requester_id"], [], ["subject", "description"]),
            (Call, ["end_user_id", "agent_id"], ["from_number", "to_number"], []),
            (MonitoringEntry, ["supervisor_id"], ["caller_number"], []),
            (TextMessage, ["person_id"], ["from_number", "to_number"], ["body"]),
            (AnalyticsRow, ["person_id"], [], []),
            (LegalHold, ["person_id"], [], []),
            (PhoneLine, [], [], ["name"]),
        ]
        for model, id_fields, number_fields, text_fields in scrubs:
            history = model.history.model.objects.filter(account_id=subject.account_id)
            match = Q(pk__in=[])
            for name in id_fields:
                match |= Q(**{name: pid})
            if phone:
                for name in number_fields:
                    match |= Q(**{name: phone})
            match |= _mentions(needles, *text_fields)
            rows = []
            for row in history.filter(match):
                before = [getattr(row, name) for name in id_fields + number_fields + text_fields]
                for name in id_fields:
                    if getattr(row, name) == pid:
                        setattr(row, name, None)
                for name in number_fields:
                    if phone and getattr(row, name) == phone:
                        setattr(row, name, "")
                for name in text_fields:
                    setattr(row, name, _redact(getattr(row, name), needles))
                if [getattr(row, name) for name in id_fields + number_fields + text_fields] != before:
                    rows.append(row)
            if rows:
                model.history.model.objects.bulk_update(rows, id_fields + number_fields + text_fields, batch_size=500)
            counts[model._meta.model_name] = len(rows)
        # Analytics history of the kept external-call rows keeps the number (declared in retained()); the
        # history of deleted analytics rows loses it.
        deleted_analytics = AnalyticsRow.history.model.objects.filter(
            account_id=subject.account_id, phone_number=phone
        ).exclude(_external_call_q()) if phone else AnalyticsRow.history.model.objects.none()
        counts["analyticsrow"] = counts.get("analyticsrow", 0) + deleted_analytics.update(phone_number="")
        return {f"history:{name}": count for name, count in counts.items() if count}


def register_source() -> None:
    from dsar.sources import register

    register(RecordingsSource())
