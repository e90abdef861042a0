"""Console logins lock out after repeated failures for that username and address, and admins see it."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth.models import Group
from django.test import Client

from core.roles import AUDITOR, PRIVACY_OFFICER
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LIMIT = 5
PROXY = "10.0.0.5"
ATTACKER = "203.0.113.9"
USER_ADDRESS = "198.51.100.4"


@pytest.fixture(autouse=True)
def limit(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.TRUSTED_PROXIES = [ipaddress.ip_network(PROXY)]


def log_in(client: Client, username: str, password: str) -> Any:
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_the_right_password_logs_in() -> None:
    UserFactory(username="dpo")

    response = log_in(Client(), "dpo", PASSWORD)

    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_repeated_failures_lock_the_login_even_for_the_right_password() -> None:
    UserFactory(username="dpo")
    client = Client()

    failures = [log_in(client, "dpo", "guess").status_code for _ in range(LIMIT)]
    locked = log_in(client, "dpo", PASSWORD)

    assert failures[:-1] == [200] * (LIMIT - 1)
    assert locked.status_code == 429
    assert "Login locked" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_five_failures_lock_that_address_and_user_only() -> None:
    UserFactory(username="dpo")
    UserFactory(username="analyst")
    for _ in range(LIMIT):
        log_in(Client(REMOTE_ADDR=ATTACKER), "dpo", "guess")

    locked = log_in(Client(REMOTE_ADDR=ATTACKER), "dpo", PASSWORD)
    other_user = log_in(Client(REMOTE_ADDR=ATTACKER), "analyst", PASSWORD)
    real_user = log_in(Client(REMOTE_ADDR=USER_ADDRESS), "dpo", PASSWORD)

    assert locked.status_code == 429
    assert other_user.status_code == 302
    assert real_user.status_code == 302


def test_a_forged_forwarded_for_from_an_untrusted_peer_cannot_lock_a_user_out() -> None:
    UserFactory(username="dpo")
    for _ in range(LIMIT):
        log_in(Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=USER_ADDRESS), "dpo", "guess")

    direct = log_in(Client(REMOTE_ADDR=USER_ADDRESS), "dpo", PASSWORD)

    assert direct.status_code == 302
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [ATTACKER]


def test_a_forged_address_passed_on_by_the_trusted_proxy_cannot_lock_a_user_out() -> None:
    UserFactory(username="dpo")
    # The attacker writes the user's address into the header; the proxy appends the attacker's own.
    for _ in range(LIMIT):
        log_in(Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{USER_ADDRESS}, {ATTACKER}"), "dpo", "guess")

    through_proxy = log_in(Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=USER_ADDRESS), "dpo", PASSWORD)

    assert through_proxy.status_code == 302
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [ATTACKER]


def test_behind_a_trusted_proxy_the_real_client_address_is_recorded() -> None:
    UserFactory(username="dpo")
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=USER_ADDRESS)

    log_in(client, "dpo", "guess")
    attempt = AccessAttempt.objects.get(username="dpo")
    log_in(client, "dpo", PASSWORD)

    assert attempt.ip_address == USER_ADDRESS
    assert AccessLog.objects.get(username="dpo").ip_address == USER_ADDRESS


@pytest.mark.parametrize(("role", "may_lift"), [(PRIVACY_OFFICER, True), (AUDITOR, False)])
def test_lockouts_are_listed_for_privacy_officers_and_auditors_and_only_officers_lift_them(
    role: str, may_lift: bool
) -> None:
    UserFactory(username="dpo")
    for _ in range(LIMIT):
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
