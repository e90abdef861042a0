"""People: changing one from the console, and what a legal hold freezes of them.

Holds are placed by the apps that keep records (the telephony app's holds on a person, a ticket they requested
or their whole account). dsar learns of them through its data-source registry (:func:`dsar.sources.holds_on`),
never by importing those apps. The rule is here, once, for every path that changes or deletes a person: the
console, rectification, the erasure and the removal of requesters after the retention period.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from dsar.models import Person
from dsar.sources import Subject, holds_on
from dsar.workflow import User


class PersonHeld(PermissionDenied):
    """A change or deletion of a person refused because a legal hold freezes them; the message names the hold
    (and the fields), ``holds`` and ``fields`` say the same to code."""

    def __init__(self, message: str, *, holds: list[str], fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.holds = holds
        self.fields = fields


def person_holds(person: Person) -> list[str]:
    """The holds that freeze ``person`` as the data sources name them ("legal hold #4 on person 12 (…), placed
    by …"); empty when none does."""
    return holds_on([Subject(person_id=person.pk, account_id=person.account_id)]).get(person.pk, [])


def people_held(person_ids: Iterable[int]) -> set[int]:
    """Of ``person_ids``, those a hold freezes (a fixed number of queries, however many)."""
    people = Person.objects.filter(pk__in=list(person_ids)).values_list("pk", "account_id")
    return set(holds_on([Subject(person_id=pk, account_id=account_id) for pk, account_id in people]))


def person_hold_notice(holds: list[str]) -> str:
    """What a held person's page and every refusal say: which holds, and what to do about them."""
    return f"Under {'; '.join(holds)} — release the hold first"


def person_check_change(person: Person, fields: Iterable[str]) -> None:
    """Raise :class:`PersonHeld`, naming the holds and the fields, when ``fields`` (those a change would write)
    include any of ``Person.HELD_FIELDS`` and a hold freezes ``person`` as stored."""
    asked = set(fields)
    frozen = tuple(name for name in Person.HELD_FIELDS if name in asked)
    if not frozen:
        return
    holds = person_holds(Person.objects.get(pk=person.pk))
    if holds:
        raise PersonHeld(
            f"Person {person.pk}: {', '.join(frozen)} cannot be changed. {person_hold_notice(holds)}.",
            holds=holds,
            fields=frozen,
        )


def person_check_delete(person: Person) -> None:
    """Raise :class:`PersonHeld`, naming the holds, when a hold freezes ``person``: they are deleted by no path."""
    holds = person_holds(person)
    if holds:
        raise PersonHeld(f"Person {person.pk} cannot be deleted. {person_hold_notice(holds)}.", holds=holds)


@transaction.atomic
def person_update(*, person_id: int, changes: dict[str, Any], actor: User = None) -> Person:
    """Change a person's fields from the console (``changes``: field name → new value) and return them; writes
    nothing when nothing changes. Raises :class:`PersonHeld` when a hold freezes a field it would change, and
    ``ValidationError`` naming the field for a value the model refuses."""
    person = Person.objects.select_for_update().get(pk=person_id)
    changed = {name: value for name, value in changes.items() if getattr(person, name) != value}
    if not changed:
        return person
    person_check_change(person, changed)
    person_validate_change(person, changed)
    if actor is not None and actor.is_authenticated:
        person._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            person.save(update_fields=list(changed))
    except IntegrityError as exc:
        # A row written meanwhile by someone else: the same refusal the check gives, not a server error.
        raise ValidationError({_constraint_field(changed): _DUPLICATE_EXTERNAL_ID}) from exc
    return person


_DUPLICATE_EXTERNAL_ID = "Another person of that account already has this person's external id."


def _constraint_field(changed: dict[str, Any]) -> str:
    """The field a change refused by the (account, external id) constraint is about: the one the change wrote."""
    return "account" if "account" in changed or "account_id" in changed else "external_id"


def person_validate_change(person: Person, changed: dict[str, Any]) -> None:
    """Apply ``changed`` to ``person`` (unsaved) and raise ``ValidationError`` naming the field for a value the
    model or its constraints refuse: moving a person to an account where their external id is taken names
    ``account``, not the whole form."""
    for name, value in changed.items():
        setattr(person, name, value)
    try:
        person.full_clean()
    except ValidationError as exc:
        errors = exc.message_dict
        general = errors.pop(NON_FIELD_ERRORS, [])
        if general:
            errors.setdefault(_constraint_field(changed), []).append(_DUPLICATE_EXTERNAL_ID)
        raise ValidationError(errors) from exc
