"""Factories and fakes for dsar's tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

from django.utils import timezone

from dsar import services
from dsar.models import Person, Request
from dsar.sources import ErasureStep, Retention, Subject
from tests.factories import AccountFactory, PersonFactory, UserFactory, role_console  # noqa: F401 (re-exported)

#: The ``use_sources`` fixture: registers fake sources next to dsar's own for one test.
UseSources = Callable[..., None]
#: pytest-django's ``django_capture_on_commit_callbacks`` fixture.
CaptureOnCommit = Callable[..., Any]


def make_request(
    person: Person | None = None,
    *,
    type: str = Request.Type.ERASURE,
    jurisdiction: str = "gdpr",
    received_at: dt.datetime | None = None,
    verified: bool = True,
    language: str = "",
) -> Request:
    """A request opened through the intake service, verified manually by staff unless told otherwise."""
    person = person or PersonFactory()
    request = services.request_create(
        account=person.account,
        person=person,
        type=type,
        jurisdiction=jurisdiction,
        received_at=received_at or timezone.now(),
        channel=Request.Channel.EMAIL,
        language=language,
    )
    if verified:
        services.request_verify_manually(
            request=request, note="Checked against the support product's profile.", actor=staff()
        )
        request.refresh_from_db()
    return request


def staff(username: str = "dpo") -> Any:
    return UserFactory(username=username)


class FakeSource:
    """A data source holding counts per erasure step in memory; erases them once, logs every call."""

    def __init__(
        self,
        key: str,
        *,
        log: list[tuple[str, int]] | None = None,
        held: dict[int, dict[str, int]] | None = None,
        blockers: list[str] | None = None,
        fail_on: int | None = None,
        retained: list[Retention] | None = None,
        rows: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.key = key
        self.label = f"Fake {key}"
        self.log = log if log is not None else []
        self.held = held if held is not None else {1: {"ticket": 2}, 2: {"call-data": 3}, 3: {}}
        self.current_blockers = blockers or []
        self.fail_on = fail_on
        self.kept = retained or []
        self.rows = rows or {"ticket": [{"subject": "Where is my parcel?", "tags": ["delivery"]}]}

    def locate(self, subject: Subject) -> dict[str, int]:
        totals: dict[str, int] = {}
        for counts in self.held.values():
            for category, count in counts.items():
                totals[category] = totals.get(category, 0) + count
        return totals

    def export(self, subject: Subject) -> dict[str, list[dict[str, Any]]]:
        return self.rows

    def erase(self, subject: Subject, step: ErasureStep) -> dict[str, int]:
        self.log.append((self.key, int(step)))
        if self.fail_on == int(step):
            self.fail_on = None  # fails once, like a crash
            raise RuntimeError(f"{self.key} crashed in step {int(step)}")
        erased, self.held[int(step)] = self.held.get(int(step), {}), {}
        return erased

    def retained(self, subject: Subject) -> list[Retention]:
        return self.kept

    def blockers(self, subject: Subject) -> list[str]:
        return self.current_blockers

    def holds_on(self, subjects: Collection[Subject]) -> dict[int, list[str]]:
        return {}
