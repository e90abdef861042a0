from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from dsar import services
from dsar.models import ErasureProgress, Person, Request, RequestEvent
from dsar.sources import Retention
from tests.dsar.factories import (
    FakeSource,
    PersonFactory,
    UseSources,
    make_request,
    staff,
)

pytestmark = pytest.mark.django_db


def progress_of(request: Request) -> list[tuple[int, str]]:
    return list(ErasureProgress.objects.filter(request=request).order_by("pk").values_list("step", "source"))


def test_erasure_runs_every_source_step_by_step_and_deletes_the_person_last(use_sources: UseSources) -> None:
    log: list[tuple[str, int]] = []
    use_sources(FakeSource("recordings", log=log), FakeSource("helpdesk", log=log))
    request = make_request()
    person_id = request.person_id
    outcome = services.request_execute(request=request, actor=staff())
    assert log == [
        ("recordings", 1),
        ("helpdesk", 1),
        ("recordings", 2),
        ("helpdesk", 2),
        ("recordings", 3),
        ("helpdesk", 3),
    ]
    assert progress_of(request) == [
        (1, "recordings"),
        (1, "helpdesk"),
        (1, "dsar.requests"),
        (1, "dsar.person"),
        (2, "recordings"),
        (2, "helpdesk"),
        (2, "dsar.requests"),
        (2, "dsar.person"),
        (3, "recordings"),
        (3, "helpdesk"),
        (3, "dsar.requests"),
        (3, "dsar.person"),
    ]
    assert not Person.objects.filter(pk=person_id).exists()
    # Each fake: 2 tickets, 3 calls; the person; their two history rows (created, deleted) scrubbed.
    assert outcome.erased == 2 * (2 + 3) + 1 + 2
    request.refresh_from_db()
    assert request.executed_at is not None
    assert request.person is None
    assert request.certificate["totals"]["ticket"] == 4
    assert request.certificate["totals"]["requester"] == 1


def test_an_erasure_interrupted_between_steps_resumes_where_it_stopped(use_sources: UseSources) -> None:
    log: list[tuple[str, int]] = []
    use_sources(FakeSource("recordings", log=log, fail_on=2), FakeSource("helpdesk", log=log))
    request = make_request()
    with pytest.raises(RuntimeError):
        services.request_execute(request=request)
    assert progress_of(request) == [(1, "recordings"), (1, "helpdesk"), (1, "dsar.requests"), (1, "dsar.person")]
    assert Person.objects.filter(pk=request.person_id).exists()
    request.refresh_from_db()
    log.clear()
    outcome = services.request_execute(request=request)
    assert log == [("recordings", 2), ("helpdesk", 2), ("recordings", 3), ("helpdesk", 3)]
    assert outcome.skipped == 4
    assert [row[0] for row in progress_of(request)] == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
    request.refresh_from_db()
    assert request.executed_at is not None and request.scan["undeclared"] == 0


def test_running_a_finished_erasure_again_changes_nothing(use_sources: UseSources) -> None:
    log: list[tuple[str, int]] = []
    use_sources(FakeSource("recordings", log=log))
    request = make_request()
    services.request_execute(request=request)
    request.refresh_from_db()
    certificate, progress = request.certificate, progress_of(request)
    history_rows = Person.history.count()
    log.clear()
    outcome = services.request_execute(request=request)
    assert outcome.ran == [] and outcome.skipped == 9
    assert log == []
    assert progress_of(request) == progress
    assert Person.history.count() == history_rows
    request.refresh_from_db()
    assert request.certificate["totals"] == certificate["totals"]
    assert request.events.filter(kind=RequestEvent.Kind.EXECUTED).count() == 1


def test_a_blocker_refuses_the_erasure_and_the_request_waits_with_its_message(use_sources: UseSources) -> None:
    log: list[tuple[str, int]] = []
    source = FakeSource("recordings", log=log, blockers=["The person is on an active call (call 314)."])
    use_sources(source)
    request = make_request()
    outcome = services.request_execute(request=request)
    assert outcome.blocked == ["The person is on an active call (call 314)."]
    assert log == []
    request.refresh_from_db()
    assert request.status == Request.Status.WAITING
    assert request.status_reason == "The person is on an active call (call 314)."
    assert request.events.filter(kind=RequestEvent.Kind.BLOCKED, message__contains="active call").exists()
    assert Person.objects.filter(pk=request.person_id).exists()

    source.current_blockers = []  # the call ended
    services.request_execute(request=request)
    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED  # a clean scan closes it
    assert request.executed_at is not None


def test_the_preview_shows_counts_retentions_and_blockers_and_changes_nothing(use_sources: UseSources) -> None:
    kept = Retention(
        data_category="call-data",
        description="Numbers of IVR-routed calls, unlinked.",
        reason="Telephony guide: kept unlinked.",
        count=2,
    )
    use_sources(FakeSource("recordings", retained=[kept], blockers=["On a call."]))
    request = make_request()
    preview = services.request_erasure_preview(request=request)
    by_key = {source.key: source for source in preview.sources}
    assert by_key["recordings"].counts == {"ticket": 2, "call-data": 3}
    assert by_key["dsar.person"].counts == {"requester": 1}
    assert by_key["recordings"].retained[0]["reason"] == "Telephony guide: kept unlinked."
    assert preview.blockers == ["On a call."]
    assert preview.totals == {"ticket": 2, "call-data": 3, "requester": 1}
    assert ErasureProgress.objects.count() == 0
    assert Person.objects.filter(pk=request.person_id).exists()


def test_erasure_scrubs_the_person_from_history_and_the_admin_log() -> None:
    person = PersonFactory(name="Henrietta Quarrington", email="henrietta@example.org", phone="+46705550199")
    person.name = "Henrietta Q. Quarrington"
    person.save()
    LogEntry.objects.log_actions(
        user_id=staff().pk, queryset=[person], action_flag=CHANGE, change_message="Changed name.", single_object=True
    )
    request = make_request(person)
    services.request_execute(request=request)
    assert not Person.history.filter(id=person.pk).exclude(name="", email="", phone="").exists()
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Person), object_id=str(person.pk))
    assert "Henrietta" not in entry.object_repr
    request.refresh_from_db()
    assert request.scan["undeclared"] == 0


def test_the_certificate_holds_no_personal_data_and_completion_drops_the_identifiers(settings: Any) -> None:
    settings.DSAR_ERASURE_FINALIZATION = "manual"
    person = PersonFactory(name="Ottilie Brannstrom", email="ottilie@example.org", phone="+46705550123")
    request = make_request(person)
    services.request_execute(request=request, actor=staff())
    request.refresh_from_db()
    services.request_complete(request=request, actor=staff())
    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED
    assert request.subject is None
    kept = json.dumps([request.certificate, request.scan, list(request.events.values_list("message", flat=True))])
    for value in ("Ottilie", "ottilie@example.org", "+46705550123"):
        assert value not in kept
    assert request.certificate["executed_by"] == ["dpo"]
    assert request.certificate["scan"]["undeclared"] == 0


def test_an_erasure_cannot_complete_before_it_is_executed() -> None:
    request = make_request()
    with pytest.raises(ValidationError):
        services.request_complete(request=request)
    request.refresh_from_db()
    assert request.status == Request.Status.IN_PROGRESS
