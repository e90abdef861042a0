"""The erasure and the scan against every data source the installed apps register (the contract, end to end)."""

from __future__ import annotations

import pytest

from dsar import services
from dsar.models import ErasureProgress, Person, Request
from dsar.sources import ErasureStep, registered_sources
from tests.dsar.factories import PersonFactory, make_request

pytestmark = [pytest.mark.django_db, pytest.mark.every_source]


def test_every_registered_source_implements_the_contract_and_the_person_source_comes_last() -> None:
    keys = [source.key for source in registered_sources()]
    assert keys[-1] == "dsar.person"
    person = PersonFactory()
    subject = services.subject_of(person)
    for source in registered_sources():
        assert isinstance(source.locate(subject), dict)
        assert isinstance(source.export(subject), dict)
        assert isinstance(source.blockers(subject), list)
        assert isinstance(source.retained(subject), list)


def test_a_person_erased_through_every_source_leaves_no_undeclared_trace() -> None:
    person = PersonFactory(name="Gudrun Oxenstierna", email="gudrun@example.org", phone="+46705550642")
    request = make_request(person, type=Request.Type.ERASURE)
    outcome = services.request_execute(request=request)
    assert not outcome.blocked
    assert ErasureProgress.objects.filter(request=request).count() == len(ErasureStep) * len(registered_sources())
    assert not Person.objects.filter(pk=person.pk).exists()
    assert outcome.scan.undeclared == 0, [hit for hit in outcome.scan.hits if not hit.declared]
