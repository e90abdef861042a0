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


