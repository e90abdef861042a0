"""The proof the product owes: on a database filled by load_demo, erasing one person leaves none of their
identifiers anywhere the verification scan looks (every text column of every table, history, the admin log
and request timelines included), apart from what is declared kept, and the request closes by itself."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from dsar import services
from dsar.models import Person, Request
from dsar.scan import scan_for_subject
from dsar.workflow import subject_of
from recordings.models import Call
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("kind", "role"), [(Person.Kind.END_USER, "end_user"), (Person.Kind.AGENT, "agent")])
def test_erasing_one_demo_person_leaves_no_undeclared_hit_in_any_table(kind: str, role: str, settings: object) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}  # type: ignore[attr-defined]
    call_command("load_demo", stdout=StringIO())
    # The demo's busiest person of this kind: the one with the most calls.
    busiest = Call.objects.values(role).annotate(calls=Count("pk")).order_by("-calls", role).first()
    person = Person.objects.get(pk=busiest[role], kind=kind)
    name = person.name
    staff = UserFactory(username="dpo")
    rectification = services.request_create(
        account=person.account, type=Request.Type.RECTIFICATION, jurisdiction="gdpr", person=person, send_code=False
    )
    services.request_verify_manually(request=rectification, note=f"{name} called from {person.phone}.", actor=staff)
    services.person_rectify(request=rectification, changes={"email": f"new.{person.email}"}, actor=staff)
    call = Call.objects.filter(account=person.account).involving(person_id=person.pk, phones=[person.phone]).first()
    LogEntry.objects.create(
        user=staff, content_type=ContentType.objects.get_for_model(Call), object_id=str(call.pk), object_repr=str(call),
        action_flag=CHANGE, change_message="",
    )
    person.refresh_from_db()
    before = scan_for_subject(subject_of(person))
    erasure = services.request_create(
        account=person.account, type=Request.Type.ERASURE, jurisdiction="gdpr", email=person.email,
        name=person.name, received_at=timezone.now(), send_code=False,
    )
    services.request_verify_manually(request=erasure, note=f"{name} confirmed by phone.", actor=staff)

    services.request_execute(request=erasure, actor=staff)

    erasure.refresh_from_db()
    assert before.undeclared >= 10  # before, the demo holds the person in many places
    undeclared = [(hit["table"], hit["column"], hit["identifier"]) for hit in erasure.scan["hits"] if not hit["declared"]]
    assert undeclared == []
    assert erasure.status == Request.Status.COMPLETED
    assert erasure.scan["tables"] >= 40
