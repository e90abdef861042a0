"""A held person (a hold on them, on a ticket they requested, or on their whole account) keeps who they are and is
deleted by no path: the console, rectification, the erasure (console, API, command) and the removal of requesters
after the retention period. dsar learns of the telephony app's holds through its data-source registry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from core.roles import PRIVACY_OFFICER
from dsar import services
from dsar.models import Person, Request
from dsar.person_source import PersonSource
from dsar.sources import ErasureStep, Subject, holds_on
from recordings import holds
from recordings.models import LegalHold
from tests.dsar.factories import CaptureOnCommit, make_request
from tests.factories import api_key_for
from tests.recordings.factories import AccountFactory, PersonFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db
PEOPLE = "/admin/dsar/person/"
SCOPES = ["person", "ticket", "account"]


def officer() -> Client:
    user = UserFactory(username="olga", is_superuser=False)
    user.groups.add(Group.objects.get(name=PRIVACY_OFFICER))
    client = Client()
    client.force_login(user)
    return client


def hold_on(person: Person, scope: str) -> LegalHold:
    """A hold on the person, on a ticket they requested, or on their whole account."""
    target = {
        "person": {"person": person},
        "ticket": {"ticket": TicketFactory(account=person.account, requester=person)},
        "account": {},
    }[scope]
    return holds.legal_hold_place(account=person.account, scope=scope, reason="HR case 3", **target)


def as_stored(person: Person) -> tuple[Any, ...]:
    return tuple(Person.objects.filter(pk=person.pk).values_list("account_id", "kind", "name", "email", "phone").first() or ())


def form_data(person: Person, **changes: Any) -> dict[str, Any]:
    """What a person's change form posts (the account, the only field it offers) and its requests' inline."""
    inline = {"requests-TOTAL_FORMS": "0", "requests-INITIAL_FORMS": "0", "requests-MIN_NUM_FORMS": "0", "requests-MAX_NUM_FORMS": "1000"}
    return {"account": person.account_id, **inline, **changes}


@pytest.mark.parametrize("scope", SCOPES)
def test_the_registry_tells_dsar_which_people_the_telephony_holds_freeze(scope: str) -> None:
    agent = PersonFactory(kind=Person.Kind.AGENT)
    other = PersonFactory()
    hold = hold_on(agent, scope)

    held = holds_on([Subject(person_id=agent.pk, account_id=agent.account_id), Subject(person_id=other.pk, account_id=other.account_id)])

    assert list(held) == [agent.pk]
    assert held[agent.pk] == [holds.hold_message(hold)]


@pytest.mark.parametrize("scope", SCOPES)
def test_a_held_persons_page_shows_their_account_read_only_and_a_posted_move_is_refused(scope: str) -> None:
    person = PersonFactory()
    hold = hold_on(person, scope)
    before = as_stored(person)
    console = officer()

    page = console.get(f"{PEOPLE}{person.pk}/change/").content.decode()
    response = console.post(f"{PEOPLE}{person.pk}/change/", form_data(person, account=AccountFactory().pk))

    assert f"Under legal hold #{hold.pk}" in page and "release the hold first" in page
    assert 'name="account"' not in page
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert f"Person {person.pk}: account cannot be changed" in errors and f"legal hold #{hold.pk}" in errors
    assert as_stored(person) == before


def test_a_person_no_hold_covers_still_moves_and_one_released_moves_again() -> None:
    person = PersonFactory()
    hold = hold_on(person, "person")
    console = officer()
    target = AccountFactory()
    console.post(f"{PEOPLE}{person.pk}/change/", form_data(person, account=target.pk))
    assert Person.objects.get(pk=person.pk).account_id == person.account_id

    holds.legal_hold_release(hold_id=hold.pk)
    response = console.post(f"{PEOPLE}{person.pk}/change/", form_data(person, account=target.pk))

    assert response.status_code == 302
    moved = Person.objects.get(pk=person.pk)
    assert moved.account_id == target.pk
    assert moved.history.first().history_username == "olga"


def test_the_console_deletes_no_held_person() -> None:
    person = PersonFactory()
    hold_on(person, "person")

    response = officer().post(f"{PEOPLE}{person.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()


@pytest.mark.parametrize("scope", SCOPES)
def test_rectifying_a_held_person_is_refused_naming_the_hold_and_done_once_it_is_released(scope: str) -> None:
    person = PersonFactory(name="Wrong Name")
    hold = hold_on(person, scope)
    request = make_request(person, type=Request.Type.RECTIFICATION)
    url = f"/admin/dsar/request/{request.pk}/rectify/"
    posted = {"kind": "end_user", "name": "Right Name", "email": person.email, "phone": person.phone, "external_id": ""}
    console = officer()

    refused = console.post(url, posted)

    assert refused.status_code == 200
    errors = " ".join(refused.context["form"].non_field_errors())
    assert "name cannot be changed" in errors and f"legal hold #{hold.pk}" in errors
    assert Person.objects.get(pk=person.pk).name == "Wrong Name"

    holds.legal_hold_release(hold_id=hold.pk)
    assert console.post(url, posted).status_code == 302
    assert Person.objects.get(pk=person.pk).name == "Right Name"


@pytest.mark.parametrize("scope", SCOPES)
def test_erasing_a_held_person_through_the_api_waits_naming_the_hold_and_deletes_nothing(
    scope: str, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    person = PersonFactory()
    hold = hold_on(person, scope)
    request = make_request(person)
    client = APIClient()
    key = api_key_for(person.account, scopes=["requests:read", "requests:execute"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/dsar/requests/{request.pk}/execute/")

    assert response.status_code == 409
    assert any(f"legal hold #{hold.pk}" in blocker for blocker in response.json()["blockers"])
    assert Request.objects.get(pk=request.pk).status == Request.Status.WAITING
    assert Person.objects.filter(pk=person.pk).exists()


def test_the_erasure_does_not_delete_a_person_put_under_a_hold_after_its_check() -> None:
    person = PersonFactory()
    hold_on(person, "account")
    subject = Subject(person_id=person.pk, account_id=person.account_id)

    with pytest.raises(services.PersonHeld, match="cannot be deleted"):
        PersonSource().erase(subject, ErasureStep.RECORDS)

    assert Person.objects.filter(pk=person.pk).exists()


def test_forget_requesters_keeps_an_intake_person_under_an_account_hold_until_it_is_released() -> None:
    closed_on = dt.datetime(2024, 3, 1, 9, tzinfo=dt.timezone.utc)
    with time_machine.travel(closed_on, tick=False):
        request = services.request_create(
            account=AccountFactory(), type=Request.Type.ACCESS, jurisdiction="gdpr", email="asa@example.net", send_code=False
        )
        services.request_reject(request=request, reason="Withdrawn.", denial_reason="other", actor=UserFactory(username="dpo"))
    request.refresh_from_db()
    person = request.person
    hold = holds.legal_hold_place(account=person.account, scope="account", reason="Regulator inquiry")

    with time_machine.travel(closed_on + dt.timedelta(days=731), tick=False):
        call_command("forget_requesters", verbosity=0)
        kept = Person.objects.filter(pk=person.pk).exists()
        holds.legal_hold_release(hold_id=hold.pk)
        call_command("forget_requesters", verbosity=0)

    assert kept
    assert not Person.objects.filter(pk=person.pk).exists()
