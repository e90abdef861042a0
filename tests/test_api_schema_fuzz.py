"""The API against its own published OpenAPI schema, fuzzed by schemathesis: no server errors, and every
status code and body as the schema says (the 400s, 403s, 404s and 429s included), every answer marked
``Cache-Control: no-store``. Once with an account API key holding every scope, once with a staff login.
Half of the generated path ids name objects that exist (of the key's account, and of another), so the
operations are fuzzed past their 404. Bounded: a few examples per operation, and it stops by itself."""

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
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dsar import services as dsar_services
from recordings import services as recording_services
from recordings.history_exports import export_download_token
from tests.factories import AccountFactory, PersonFactory, api_key_for
from tests.recordings.factories import CallFactory, RecordingFactory, TicketFactory

pytestmark = pytest.mark.django_db

# The schema as /api/schema/ serves it (rendered by the same renderer), without an HTTP round trip.
SCHEMA = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
)
SCHEMA.app = get_wsgi_application()
CSRF = "k" * 32


def no_store(ctx: Any, response: Any, case: Any) -> None:
    """Every answer may carry personal data (or says whether some exists): no cache keeps it."""
    cache_control = ", ".join(response.headers.get("cache-control", []))
    assert "no-store" in cache_control, f"Cache-Control is {cache_control!r}, without no-store"


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, no_store]

#: Ids and tokens of the objects `world` made, by what a path parameter names; read while cases are generated.
KNOWN: dict[str, list[Any]] = {}


def known_kind(path: str, parameter: str) -> str:
    """What a path's parameter names: ``id`` is an account's under /accounts/ and a request's under /dsar/."""
    if parameter == "id":
        return "request" if "/dsar/" in path else "account"
    return parameter.removesuffix("_id")


@SCHEMA.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any]) -> Any:
    """The generated path parameters, or (as often) the same with the ids of objects that exist."""
    if not path_parameters:
        return st.just(path_parameters)
    known = {
        name: st.sampled_from(KNOWN[kind])
        for name in path_parameters
        if KNOWN.get(kind := known_kind(context.operation.path, name))
    }
    if not known:
        return st.just(path_parameters)
    existing = st.fixed_dictionaries({**{name: st.just(value) for name, value in path_parameters.items()}, **known})
    return st.one_of(st.just(path_parameters), existing)


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
def world(settings: Any, tmp_path: Any) -> Any:
    """Objects for the operations to find, in every state that answers differently (a request waiting for its
    identity check, a verified one, another account's), and room for the requests the fuzzer makes."""
    settings.API_THROTTLE_RATES = {"api_key": "100000/minute", "user": "100000/minute", "intake": "100000/hour"}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.RECORDINGS_EXPORT_DIR = tmp_path / "exports"
    settings.DSAR_EXPORT_ROOT = tmp_path / "dsar-exports"
    staff = get_user_model().objects.create(
        username="fuzzing-staff", email="dpo@example.com", is_staff=True, is_superuser=True
    )
    account, other = AccountFactory(products=["freshdesk", "freshdesk-contact-center"]), AccountFactory()
    person = PersonFactory(account=account)
    waiting = dsar_services.request_create(account=account, person=person, type="erasure", jurisdiction="gdpr")
    verified = dsar_services.request_create(account=account, person=PersonFactory(account=account), type="access", jurisdiction="gdpr")
    dsar_services.request_verify_manually(request=verified, note="Checked in the help desk.", actor=staff)
    elsewhere = dsar_services.request_create(account=other, person=PersonFactory(account=other), type="access", jurisdiction="gdpr")
    ticket = TicketFactory(account=account, requester=person)
    recording = RecordingFactory(call=CallFactory(line__account=account, ticket=ticket))
    export = recording_services.history_export_request(account=account, kind="call_history", user=staff)
    KNOWN.clear()
    KNOWN.update(
        account=[account.pk, other.pk],
        request=[waiting.pk, verified.pk, elsewhere.pk],
        recording=[recording.pk, RecordingFactory(call=CallFactory(line__account=other)).pk],
        ticket=[ticket.pk, TicketFactory(account=other).pk],
        export=[export.pk],
        token=[export_download_token(export)],
    )
    client = Client()
    client.force_login(staff)
    session = client.cookies["sessionid"].value
    yield {
        "key": {"Authorization": f"Bearer {api_key_for(account)}"},
        "staff": {"Cookie": f"sessionid={session}; csrftoken={CSRF}", "X-CSRFToken": CSRF},
    }
    KNOWN.clear()


@pytest.mark.parametrize("way", ["key", "staff"])
@SCHEMA.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_the_api_answers_as_its_schema_says(case: Any, way: str, world: dict[str, Any]) -> None:
    case.call_and_validate(headers=world[way], checks=CHECKS)
