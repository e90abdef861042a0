"""dsar's own data source: the ``Person`` rows (and their history), registered last so it deletes the person
after every other source has used the row to find theirs."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.append_only import scrub
from dsar.models import Person
from dsar.people import person_check_delete
from dsar.sources import ErasureStep, Retention, Subject

#: The catalog's data categories a person row belongs to, by kind.
CATEGORY_BY_KIND = {Person.Kind.END_USER: "requester", Person.Kind.AGENT: "agent-user"}
PERSONAL_FIELDS = ("name", "email", "phone", "external_id")
#: What the person reads for each field of their export (access report, archive README, letters).
FIELD_LABELS = {
    "kind": _("Role"),
    "name": _("Name"),
    "email": _("Email address"),
    "phone": _("Phone number"),
    "external_id": _("Your ID in the support product"),
    "created_at": _("Recorded since"),
    "objected_to_marketing_at": _("Objected to marketing on"),
}
VALUE_LABELS = {"kind": {Person.Kind.END_USER: _("Customer (end user)"), Person.Kind.AGENT: _("Agent")}}
ERASED_REPR = "(erased person)"


class PersonSource:
    key = "dsar.person"
    label = "People (end users and agents)"
    field_labels = FIELD_LABELS
    value_labels = VALUE_LABELS
    category_labels = {"request": _("The record of your request")}

    def _people(self, subject: Subject) -> Any:
        return Person.objects.filter(pk=subject.person_id, account_id=subject.account_id)

    def locate(self, subject: Subject) -> dict[str, int]:
        counts: dict[str, int] = {}
        for kind in self._people(subject).values_list("kind", flat=True):
            category = CATEGORY_BY_KIND[kind]
            counts[category] = counts.get(category, 0) + 1
        return counts

    def export(self, subject: Subject) -> dict[str, list[dict[str, Any]]]:
        rows: dict[str, list[dict[str, Any]]] = {}
        for person in self._people(subject):
            rows.setdefault(CATEGORY_BY_KIND[person.kind], []).append(
                {
                    "kind": person.kind,
                    "name": person.name,
                    "email": person.email,
                    "phone": person.phone,
                    "external_id": person.external_id,
                    "created_at": person.created_at.isoformat(),
                    "objected_to_marketing_at": (
                        person.objected_to_marketing_at.isoformat() if person.objected_to_marketing_at else None
                    ),
                }
            )
        return rows

    def erase(self, subject: Subject, step: ErasureStep) -> dict[str, int]:
        if step == ErasureStep.RECORDS:
            return self._delete_person(subject)
        if step == ErasureStep.HISTORY:
            return self._scrub_history(subject)
        return {}

    def _delete_person(self, subject: Subject) -> dict[str, int]:
        from dsar.exports import exports_delete_files

        counts = self.locate(subject)
        exported = exports_delete_files(person_id=subject.person_id)
        if exported:
            counts["export-archives"] = exported
        # The erasure waits while a hold freezes the person (their blockers); this catches one placed since.
        for person in self._people(subject):
            person_check_delete(person)
        # Queryset delete still sends post_delete, so the deletion itself is in history (scrubbed in step 3).
        self._people(subject).delete()
        return counts

    def _scrub_history(self, subject: Subject) -> dict[str, int]:
        blank = {field: "" for field in PERSONAL_FIELDS}
        holding = Person.history.filter(id=subject.person_id, account_id=subject.account_id).exclude(**blank)
        # History is append-only but for an erasure's scrubbing, which seals the rows again.
        scrubbed = scrub(
            Person.history.model,
            {pk: blank for pk in holding.values_list("pk", flat=True)},
            reason="erasure: personal data removed from history",
            request_id=subject.request_id,
        )
        # The admin's change log names the object by its str(), which is the person's name or email.
        log_rows = (
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Person), object_id=str(subject.person_id)
            )
            .exclude(object_repr=ERASED_REPR)
            .update(object_repr=ERASED_REPR, change_message="")
        )
        counts = {}
        if scrubbed:
            counts["history"] = scrubbed
        if log_rows:
            counts["admin-log"] = log_rows
        return counts

    def retained(self, subject: Subject) -> list[Retention]:
        return [
            Retention(
                data_category="request",
                # Marked for translation: the person's letter words them in their language.
                description=gettext_noop("The request, its timeline and its erasure certificate, which hold no personal data."),
                reason=gettext_noop("Proof that the request was answered in time (GDPR Art. 5(2), accountability)."),
                count=0,
            )
        ]

    def blockers(self, subject: Subject) -> list[str]:
        return []

    def holds_on(self, subjects: Collection[Subject]) -> dict[int, list[str]]:
        return {}
