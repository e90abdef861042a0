from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from dsar import services
from dsar.models import Request, RequestEvent
from tests.dsar.factories import CaptureOnCommit, PersonFactory, make_request, staff

pytestmark = pytest.mark.django_db


def test_corrections_are_in_history_linked_to_the_request() -> None:
    person = PersonFactory(name="Jon Smiht", phone="+46705550001")
    request = make_request(person, type=Request.Type.RECTIFICATION)
    changed = services.person_rectify(
        request=request, changes={"name": "Jon Smith", "phone": "+46705550002", "email": person.email}, actor=staff()
    )
    assert changed == ["name", "phone"]
    person.refresh_from_db()
    assert (person.name, person.phone) == ("Jon Smith", "+46705550002")
    latest = person.history.first()
    assert latest.history_change_reason == f"rectification, request {request.pk}"
    assert latest.history_user.username == "dpo"
    event = request.events.get(kind=RequestEvent.Kind.RECTIFIED)
    assert event.message == "Corrected: name, phone."  # field names only, never the values


def test_an_invalid_correction_names_the_field_and_changes_nothing() -> None:
    person = PersonFactory(phone="+46705550001")
    request = make_request(person, type=Request.Type.RECTIFICATION)
    with pytest.raises(ValidationError) as error:
        services.person_rectify(request=request, changes={"phone": "0705550002"})
    assert "phone" in error.value.message_dict
    person.refresh_from_db()
    assert person.phone == "+46705550001"


def test_the_corrected_data_can_be_sent_to_the_person(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    person = PersonFactory(email="corrected@example.org")
    request = make_request(person, type=Request.Type.RECTIFICATION)
    services.person_rectify(request=request, changes={"name": "Maja Korrekt"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.person_send_data(request=request)
    assert mail.outbox[0].to == ["corrected@example.org"]
    assert "Maja Korrekt" in mail.outbox[0].body
    assert request.events.filter(kind=RequestEvent.Kind.DATA_SENT).exists()


def test_only_a_rectification_request_corrects_data() -> None:
    request = make_request(type=Request.Type.ACCESS)
    with pytest.raises(ValidationError) as error:
        services.person_rectify(request=request, changes={"name": "X"})
    assert "type" in error.value.message_dict
