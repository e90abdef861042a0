"""Console logins lock out after repeated failures for that username and address, and admins see it."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.test import Client

from core.roles import AUDITOR, PRIVACY_OFFICER
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def limit(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3


def log_in(client: Client, username: str, password: str) -> Any:
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_the_right_password_logs_in() -> None:
    UserFactory(username="dpo")

    response = log_in(Client(), "dpo", PASSWORD)

    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_repeated_failures_lock_the_login_even_for_the_right_password() -> None:
    UserFactory(username="dpo")
    client = Client()

    failures = [log_in(client, "dpo", "guess").status_code for _ in range(3)]
    locked = log_in(client, "dpo", PASSWORD)

    assert failures[:2] == [200, 200]
    assert locked.status_code == 429
    assert "Login locked" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_another_address_is_not_locked_out_by_an_attacker() -> None:
    UserFactory(username="dpo")
    for _ in range(3):
        log_in(Client(REMOTE_ADDR="203.0.113.9"), "dpo", "guess")

    response = log_in(Client(REMOTE_ADDR="198.51.100.4"), "dpo", PASSWORD)

    assert response.status_code == 302


@pytest.mark.parametrize(("role", "may_lift"), [(PRIVACY_OFFICER, True), (AUDITOR, False)])
def test_lockouts_are_listed_for_privacy_officers_and_auditors_and_only_officers_lift_them(
    role: str, may_lift: bool
) -> None:
    UserFactory(username="dpo")
    for _ in range(3):
        log_in(Client(), "dpo", "guess")
    viewer = UserFactory(username="viewer", is_superuser=False)
    viewer.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(viewer)

    listing = client.get("/admin/axes/accessattempt/")
    attempt = AccessAttempt.objects.get(username="dpo")
    lift = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200 and "dpo" in listing.content.decode()
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists() != may_lift
    assert lift.status_code == (302 if may_lift else 403)
