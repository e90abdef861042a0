from __future__ import annotations

import pytest

from recordings.demo import load_demo
from recordings.models import Call, PhoneLine, Recording, Ticket
from tests.recordings.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_the_demo_creates_records_for_the_named_accounts_once() -> None:
    account = AccountFactory(name="Demo Telco")
    untouched = AccountFactory(name="Not in the demo")

    load_demo(account_names=["Demo Telco"])
    counts = (PhoneLine.objects.count(), Call.objects.count(), Recording.objects.count())
    load_demo(account_names=["Demo Telco"])

    assert (PhoneLine.objects.count(), Call.objects.count(), Recording.objects.count()) == counts
    assert PhoneLine.objects.filter(account=account).count() == 3
    assert Recording.objects.filter(account=account).exists()
    assert Ticket.objects.soft_deleted().filter(account=account).count() == 1
    assert not PhoneLine.objects.filter(account=untouched).exists()
