"""The API against its own published OpenAPI schema, fuzzed by schemathesis: no server errors, and every
status code and body as the schema says. Once with an account API key holding every scope, once with a
staff login. Bounded: a few examples per operation."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dsar import services as dsar_services
from tests.factories import AccountFactory, PersonFactory, api_key_for
from tests.recordings.factories import CallFactory, RecordingFactory, TicketFactory

pytestmark = pytest.mark.django_db

# The schema as /api/schema/ serves it (rendered by the same renderer), without an HTTP round trip.
SCHEMA = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
)
SCHEMA.app = get_wsgi_application()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CSRF = "k" * 32


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Any:
    """Requests go through the real WSGI handler, which closes the database connection after each one (as
    a server should); the test's transaction lives on that connection, so keep it, as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(settings: Any, tmp_path: Any) -> dict[str, Any]:
    """Objects for the operations to find, and room for the requests the fuzzer makes."""
    settings.API_THROTTLE_RATES = {"api_key": "100000/minute", "user": "100000/minute", "intake": "100000/hour"}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.RECORDINGS_EXPORT_DIR = tmp_path / "exports"
    settings.DSAR_EXPORT_ROOT = tmp_path / "dsar-exports"
    account = AccountFactory(products=["freshdesk", "freshdesk-contact-center"])
    person = PersonFactory(account=account)
    dsar_services.request_create(account=account, person=person, type="erasure", jurisdiction="gdpr")
    ticket = TicketFactory(account=account, requester=person)
    RecordingFactory(call=CallFactory(line__account=account, ticket=ticket))
    client = Client()
    client.force_login(get_user_model().objects.create(username="fuzzing-staff", is_staff=True, is_superuser=True))
    session = client.cookies["sessionid"].value
    return {
        "key": {"Authorization": f"Bearer {api_key_for(account)}"},
        "staff": {"Cookie": f"sessionid={session}; csrftoken={CSRF}", "X-CSRFToken": CSRF},
    }


@pytest.mark.parametrize("way", ["key", "staff"])
@SCHEMA.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_answers_as_its_schema_says(case: Any, way: str, world: dict[str, Any]) -> None:
    case.call_and_validate(headers=world[way], checks=CHECKS)
