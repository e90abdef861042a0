from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from dsar.models import Request
from dsar.report import request_access_report
from tests.dsar.factories import FakeSource, PersonFactory, UseSources, make_request
from tests.factories import AccountFactory, region

pytestmark = pytest.mark.django_db


def test_the_report_lists_records_by_category_with_where_they_are_stored_and_why(use_sources: UseSources) -> None:
    use_sources(FakeSource("recordings", rows={"call-recording": [{"call": 7, "duration_seconds": 95}]}))
    account = AccountFactory(home_region=region("EEA"), products=["freshdesk", "freshdesk-contact-center"])
    request = make_request(PersonFactory(account=account), type=Request.Type.ACCESS)
    report = request_access_report(request=request)
    categories = {category["slug"]: category for category in report["categories"]}
    assert set(categories) == {"requester", "call-recording"}
    assert report["total"] == 2
    assert report["home_region"] == "EEA"
    requester = categories["requester"]
    assert requester["records"][0]["email"] == request.person.email
    assert requester["sources"] == {"dsar.person": 1}
    assert {where["stored_in"] for where in requester["where"]} == {"EEA"}
    assert all(where["backups"] and where["logs"] for where in requester["where"])
    recording = categories["call-recording"]
    assert recording["records"] == [{"call": 7, "duration_seconds": 95}]
    # Generated in the US, held there for 10 minutes, then stored in the EEA.
    contact_center = next(where for where in recording["where"] if where["product"] == "Freshdesk Contact Center")
    assert contact_center["stored_in"] == "EEA"
    assert contact_center["passes_through"] == [{"region": "US", "minutes": 10, "days": None}]
    assert contact_center["transfer"] is True


def test_a_sources_finer_category_is_reported_where_its_catalog_category_is_stored(use_sources: UseSources) -> None:
    source = FakeSource("recordings", rows={"monitoring-history": [{"call": 7, "mode": "listen"}]})
    source.catalog_categories = {"monitoring-history": "call-data"}
    use_sources(source)
    account = AccountFactory(home_region=region("EEA"), products=["freshdesk-contact-center"])
    request = make_request(PersonFactory(account=account), type=Request.Type.ACCESS)

    report = request_access_report(request=request)

    (monitoring,) = [category for category in report["categories"] if category["slug"] == "monitoring-history"]
    assert monitoring["name"] == "Call data: monitoring history"
    assert monitoring["catalog_category"] == "call-data"
    assert [(where["product"], where["stored_in"]) for where in monitoring["where"]] == [("Freshdesk Contact Center", "EEA")]
    assert monitoring["purposes"]


def test_the_report_needs_a_verified_requester() -> None:
    request = make_request(type=Request.Type.ACCESS, verified=False)
    with pytest.raises(ValidationError):
        request_access_report(request=request)


def test_an_access_request_completes_once_its_report_was_produced() -> None:
    from dsar import services
    from dsar.models import RequestEvent

    request = make_request(type=Request.Type.ACCESS)
    with pytest.raises(ValidationError):
        services.request_complete(request=request)
    services.request_execute(request=request)
    request.refresh_from_db()
    assert request.events.filter(kind=RequestEvent.Kind.REPORT, message__contains="1 record(s)").exists()
    services.request_complete(request=request)
    request.refresh_from_db()
    assert request.status == Request.Status.COMPLETED
