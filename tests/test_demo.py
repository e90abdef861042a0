from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from dsar.models import Person
from recordings.models import Call
from residency.models import Account

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_demo_data_loads_once() -> None:
    run("load_demo")
    count = Account.objects.count()

    run("load_demo")

    assert Account.objects.count() == count >= 4
    assert {a.home_region.code for a in Account.objects.all()} >= {"US", "EEA", "IND", "AU"}
    assert Person.objects.exists() and Call.objects.exists()
    people, calls = Person.objects.count(), Call.objects.count()
    run("load_demo")
    assert (Person.objects.count(), Call.objects.count()) == (people, calls)




def test_the_demo_accounts_say_where_they_are() -> None:
    run("load_demo")

    places = {a.name: (a.country, a.time_zone, a.zone().key) for a in Account.objects.all()}

    assert places["Nordlys Support AB"] == ("SE", "Europe/Stockholm", "Europe/Stockholm")
    assert places["Maison Lumière SAS"] == ("FR", "Europe/Paris", "Europe/Paris")
    assert places["Acme Help Inc."] == ("US", "", "America/New_York")
    assert places["Chennai Care Pvt Ltd"] == ("IN", "", "Asia/Kolkata")
    assert places["Harbour Desk Pty Ltd"] == ("AU", "", "Australia/Sydney")
