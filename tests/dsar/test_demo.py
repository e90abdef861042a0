from __future__ import annotations

import pytest

from dsar.demo import load_demo
from dsar.models import Person, PrivacyCenter, Request
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_demo_data_gives_each_account_people_and_requests_and_is_idempotent() -> None:
    account = AccountFactory(name="Nordlys Support AB")
    load_demo(account_names=["Nordlys Support AB", "No Such Account"])
    load_demo(account_names=["Nordlys Support AB"])
    assert Person.objects.filter(account=account).count() == 4
    requests = Request.objects.filter(account=account)
    assert requests.count() == 7
    assert set(requests.values_list("status", flat=True)) >= {"in_progress", "completed", "received", "rejected"}
    assert Person.objects.filter(account=account, objected_to_marketing_at__isnull=False).count() == 1


def test_demo_data_gives_each_account_an_open_privacy_center() -> None:
    account = AccountFactory(name="Nordlys Support AB")
    load_demo(account_names=["Nordlys Support AB"])
    load_demo(account_names=["Nordlys Support AB"])

    center = PrivacyCenter.objects.get(account=account)
    assert (center.slug, center.is_open, center.erasure_grace_days) == ("nordlys-support-ab", True, 3)
    assert center.default_jurisdiction.code == "gdpr"
