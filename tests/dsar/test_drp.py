"""The Data Rights Protocol, driven by a small agent written from the specification (data-rights-protocol.md,
0.9.4/1.0): it discovers, registers, files, polls and revokes through the test client, and the person confirms
as they would from the privacy center. Its requests land in the one workflow, and what it sends wrong is refused
in the protocol's error shape with nothing written."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core import mail
from django.test import Client
from django.utils import timezone

from dsar import services
from dsar.drp import token_digest
from dsar.models import DrpAgent, Jurisdiction, PrivacyCenter, Request, RequestEvent, Submission
from dsar.submissions import submissions_expire
from tests.dsar.factories import CaptureOnCommit, staff
from tests.factories import AccountFactory, PersonFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class Agent:
    """An authorized agent as the specification has it: an Ed25519 key pair whose public half the network's
    directory lists (section 3.05.1), every message signed in libsodium's combined form (the 64-byte signature,
    then the JSON) and base64-encoded, sent as text/plain (3.07.1), a bearer token from pair-wise key setup (2.05)."""

    def __init__(self, client: Client, agent_id: str, business_id: str) -> None:
        self.client = client
        self.agent_id = agent_id
        self.business_id = business_id
        self.key = Ed25519PrivateKey.generate()
        self.token = ""
        self.api_base = ""

    @property
    def verify_key(self) -> str:
        return base64.b64encode(self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()

    def listed(self, name: str = "Consumer Agent") -> DrpAgent:
        """The agent as staff enter it from the directory."""
        return DrpAgent.objects.create(agent_id=self.agent_id, name=name, verify_key=self.verify_key)

    def sign(self, message: dict[str, Any] | bytes) -> str:
        raw = message if isinstance(message, bytes) else json.dumps(message).encode()
        return base64.b64encode(self.key.sign(raw) + raw).decode()

    def envelope(self, lifetime: dt.timedelta = dt.timedelta(minutes=10), **claims: Any) -> dict[str, Any]:
        now = timezone.now()
        return {
            "agent-id": self.agent_id,
            "business-id": self.business_id,
            "issued-at": now.isoformat(),
            "expires-at": (now + lifetime).isoformat(),
            "drp.version": "1.0",
            **claims,
        }

    def discover(self) -> dict[str, Any]:
        document = self.client.get("/.well-known/data-rights.json").json()
        self.api_base = urlsplit(document["api_base"]).path
        return document

    def post(self, path: str, body: str, **headers: Any) -> Any:
        return self.client.post(self.api_base + path, body, content_type="text/plain", **self.auth(), **headers)

    def auth(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def register(self) -> Any:
        response = self.post(f"v1/agent/{self.agent_id}", self.sign(self.envelope()))
        if response.status_code == 200:
            self.token = response.json()["token"]
        return response

    def exercise(self, exercise: str, *, regime: str = "ccpa", **identity: Any) -> Any:
        claims = self.envelope(exercise=exercise, regime=regime, relationships=[], **identity)
        return self.post("v1/data-rights-request", self.sign(claims))

    def status(self, request_id: str) -> Any:
        return self.client.get(f"{self.api_base}v1/data-rights-request/{request_id}", **self.auth())

    def revoke(self, request_id: str, reason: str = "I changed my mind") -> Any:
        return self.client.delete(
            f"{self.api_base}v1/data-rights-request/{request_id}",
            self.sign({"reason": reason}),
            content_type="text/plain",
            **self.auth(),
        )


@pytest.fixture
def center() -> PrivacyCenter:
    account = AccountFactory(name="Fjord Help")
    return PrivacyCenter.objects.create(
        account=account, slug="fjord-help", default_jurisdiction=Jurisdiction.objects.get(code="gdpr")
    )


@pytest.fixture
def agent(center: PrivacyCenter, time_machine: Any) -> Agent:
    """A listed agent that discovered the API and registered."""
    time_machine.move_to(NOW, tick=False)
    agent = Agent(Client(), "CONSUMER_AGENT", center.slug)
    agent.listed()
    agent.discover()
    assert agent.register().status_code == 200
    return agent


def rows() -> tuple[int, int]:
    return Submission.objects.count(), Request.objects.count()


def file(agent: Agent, capture: CaptureOnCommit, exercise: str, **identity: Any) -> dict[str, Any]:
    """The agent files a request; the mail the person gets is sent."""
    identity = identity or {"email": "ulla@example.net", "name": "Ulla Berg"}
    with capture(execute=True):
        response = agent.exercise(exercise, **identity)
    assert response.status_code == 200, response.content
    return response.json()


def confirm_by_code(request_id: str, capture: CaptureOnCommit) -> Request:
    """The person opens the page the message names and types the code it gives, as from the privacy center."""
    body = mail.outbox[-1].body
    page = urlsplit(re.search(r"https://\S+/confirm/[0-9a-f-]+/", body).group(0)).path
    code = re.search(r"\b(\d{6})\b", body).group(1)
    with capture(execute=True):
        response = Client().post(page, {"code": code})
    assert response.status_code == 302 and "/status/" in response["Location"]
    return Submission.objects.get(public_id=request_id).request


def confirm_by_link(request_id: str, capture: CaptureOnCommit) -> Request:
    """The person follows the link in the message and presses Confirm (its GET alone uses nothing)."""
    link = urlsplit(re.search(r"https://\S+/verify/\S+/", mail.outbox[-1].body).group(0)).path
    person = Client()
    assert person.get(link).status_code == 200
    assert Submission.objects.get(public_id=request_id).status == Submission.Status.PENDING
    with capture(execute=True):
        response = person.post(link)
    assert response.status_code == 302 and "/status/" in response["Location"]
    return Submission.objects.get(public_id=request_id).request


def error(response: Any) -> tuple[int, str]:
    body = response.json()
    assert body["code"] == str(response.status_code)
    return response.status_code, body["message"]


# --- discovery and registration ------------------------------------------------------------------


def test_the_discovery_document_says_where_the_api_is_and_which_actions_it_takes(settings: Any) -> None:
    response = Client().get("/.well-known/data-rights.json")

    assert response.status_code == 200
    document = response.json()
    assert document["api_base"] == "https://privacy.example.com/drp/"
    assert {"access", "deletion", "sale:opt-out"} <= set(document["actions"])
    assert set(document) == {"version", "api_base", "actions", "user_relationships"}


def test_a_listed_agent_registers_for_a_token_kept_only_as_a_keyed_digest(center: PrivacyCenter) -> None:
    agent = Agent(Client(), "CONSUMER_AGENT", center.slug)
    listed = agent.listed()
    agent.discover()

    response = agent.register()

    assert response.status_code == 200
    assert response.json()["agent-id"] == "CONSUMER_AGENT"
    listed.refresh_from_db()
    assert listed.token_digest == token_digest(agent.token) and agent.token not in listed.token_digest
    assert listed.token_issued_at is not None
    assert listed.history.first().history_username == "drp:CONSUMER_AGENT"
    assert agent.client.get(f"/drp/v1/agent/{agent.agent_id}", **agent.auth()).json() == {}


def test_registering_again_replaces_the_token(agent: Agent) -> None:
    first = agent.token

    agent.register()

    assert agent.token != first
    stale = agent.client.get(f"/drp/v1/agent/{agent.agent_id}", HTTP_AUTHORIZATION=f"Bearer {first}")
    assert error(stale)[0] == 403


@pytest.mark.parametrize(
    "case", ["unknown agent", "another key", "another agent-id", "another business", "expired", "inactive"]
)
def test_a_registration_that_fails_any_check_answers_403_without_a_body(center: PrivacyCenter, case: str) -> None:
    agent = Agent(Client(), "CONSUMER_AGENT", center.slug)
    if case != "unknown agent":
        listed = agent.listed()
        DrpAgent.objects.filter(pk=listed.pk).update(is_active=case != "inactive")
    claims = agent.envelope()
    if case == "another key":
        agent.key = Ed25519PrivateKey.generate()
    if case == "another agent-id":
        claims["agent-id"] = "SOMEONE_ELSE"
    if case == "another business":
        claims["business-id"] = "elsewhere"
    if case == "expired":
        claims["expires-at"] = (timezone.now() - dt.timedelta(seconds=1)).isoformat()

    response = agent.client.post(f"/drp/v1/agent/{agent.agent_id}", agent.sign(claims), content_type="text/plain")

    assert response.status_code == 403 and response.content == b""
    assert not DrpAgent.objects.exclude(token_digest="").exists()


def test_the_agent_information_endpoint_refuses_another_agents_token(agent: Agent, center: PrivacyCenter) -> None:
    other = Agent(Client(), "OTHER_AGENT", center.slug)
    other.listed("Other")
    other.api_base = agent.api_base
    other.register()

    response = agent.client.get("/drp/v1/agent/OTHER_AGENT", **agent.auth())

    assert error(response)[0] == 403


# --- the workflow -------------------------------------------------------------------------------


def test_a_deletion_is_open_until_the_person_confirms_then_in_progress_then_fulfilled(
    agent: Agent, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    capture = django_capture_on_commit_callbacks
    PersonFactory(account=PrivacyCenter.objects.get().account, email="ulla@example.net")

    filed = file(agent, capture, "deletion", email="ulla@example.net", name="Ulla Berg")

    assert filed["status"] == "open"
    assert filed["received_at"] == NOW.isoformat()
    assert filed["expected_by"] == "2026-04-16"  # CCPA: 45 days from receipt
    submission = Submission.objects.get(public_id=filed["request_id"])
    assert (submission.via, submission.drp_agent.agent_id, submission.type) == ("drp", "CONSUMER_AGENT", "erasure")
    assert submission.jurisdiction.code == "ccpa" and submission.drp_regime == "ccpa"
    assert not Request.objects.exists()  # nothing until the person confirms
    assert mail.outbox[-1].to == ["ulla@example.net"]
    assert "CONSUMER_AGENT" in submission.trail[0]["message"]
    created = submission.history.earliest()
    assert (created.history_username, created.history_origin) == ("drp:CONSUMER_AGENT", "api")
    assert agent.status(filed["request_id"]).json()["status"] == "open"

    request = confirm_by_code(filed["request_id"], capture)

    assert request.channel == Request.Channel.DRP and request.type == Request.Type.ERASURE
    polled = agent.status(filed["request_id"]).json()
    assert polled["status"] == "in_progress" and polled["expected_by"] == request.due_at.isoformat()

    with capture(execute=True):
        services.request_execute(request=request, actor=staff())
    request.refresh_from_db()
    if request.status != Request.Status.COMPLETED:
        services.request_complete(request=request, actor=staff())

    polled = agent.status(filed["request_id"]).json()
    assert polled["status"] == "fulfilled" and "expected_by" not in polled
    actors = set(RequestEvent.objects.filter(request=request).values_list("actor", flat=True))
    assert "drp:CONSUMER_AGENT" in actors


def test_an_access_request_confirmed_by_link_is_answered_under_the_centers_law_when_voluntary(
    agent: Agent, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    capture = django_capture_on_commit_callbacks
    PersonFactory(account=PrivacyCenter.objects.get().account, email="ulla@example.net")

    filed = file(agent, capture, "access:categories", regime="voluntary", email="ulla@example.net",
                 **{"agent-request-id": "cr-42"})
    request = confirm_by_link(filed["request_id"], capture)

    assert filed["agent_request_id"] == "cr-42"
    assert request.type == Request.Type.ACCESS and request.jurisdiction.code == "gdpr"
    with capture(execute=True):
        services.request_execute(request=request, actor=staff())
        services.request_complete(request=Request.objects.get(pk=request.pk), actor=staff())
    polled = agent.status(filed["request_id"]).json()
    assert polled["status"] == "fulfilled" and polled["agent_request_id"] == "cr-42"


def test_a_sale_opt_out_is_an_objection(agent: Agent, django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    filed = file(agent, django_capture_on_commit_callbacks, "sale:opt-out")

    assert Submission.objects.get(public_id=filed["request_id"]).type == Request.Type.OBJECTION


def test_a_request_revoked_before_the_person_confirms_is_cancelled(
    agent: Agent, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    filed = file(agent, django_capture_on_commit_callbacks, "deletion")

    response = agent.revoke(filed["request_id"])

    assert response.status_code == 200 and response.json()["status"] == "revoked"
    cancelled = Submission.objects.get(public_id=filed["request_id"])
    assert cancelled.status == Submission.Status.CANCELLED and cancelled.trail[-1]["kind"] == "cancelled"
    assert cancelled.trail[-1]["message"].endswith("Their reason: I changed my mind")
    assert cancelled.history.first().history_username == "drp:CONSUMER_AGENT"
    assert not Request.objects.exists()
    assert agent.revoke(filed["request_id"]).json()["status"] == "revoked"  # again: as it is


def test_a_request_revoked_after_the_person_confirmed_is_withdrawn_by_the_agent(
    agent: Agent, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    capture = django_capture_on_commit_callbacks
    filed = file(agent, capture, "access")
    request = confirm_by_code(filed["request_id"], capture)

    with capture(execute=True):
        response = agent.revoke(filed["request_id"])

    assert response.status_code == 200 and response.json()["status"] == "revoked"
    request.refresh_from_db()
    assert request.status == Request.Status.WITHDRAWN
    withdrawn = request.events.get(kind=RequestEvent.Kind.WITHDRAWN)
    assert withdrawn.actor == "drp:CONSUMER_AGENT" and withdrawn.message.endswith("Their reason: I changed my mind")


def test_a_request_closed_otherwise_cannot_be_revoked(
    agent: Agent, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    capture = django_capture_on_commit_callbacks
    filed = file(agent, capture, "access")
    request = confirm_by_code(filed["request_id"], capture)
    services.request_reject(request=request, reason="Repeats last week's request.", denial_reason="too_many_requests",
                            actor=staff())

    assert error(agent.revoke(filed["request_id"]))[0] == 409
    assert Request.objects.get(pk=request.pk).status == Request.Status.REJECTED


def test_a_rejected_request_is_denied_with_its_reason(
    agent: Agent, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    capture = django_capture_on_commit_callbacks
    filed = file(agent, capture, "deletion")
    request = confirm_by_code(filed["request_id"], capture)

    services.request_reject(request=request, reason="No account holds this address.", denial_reason="no_match",
                            actor=staff())

    polled = agent.status(filed["request_id"]).json()
    assert (polled["status"], polled["reason"]) == ("denied", "no_match")
    assert polled["processing_details"] == "No account holds this address."


def test_an_unconfirmed_request_expires(
    agent: Agent, django_capture_on_commit_callbacks: CaptureOnCommit, settings: Any, time_machine: Any
) -> None:
    filed = file(agent, django_capture_on_commit_callbacks, "deletion")

    time_machine.move_to(NOW + dt.timedelta(days=settings.DSAR_SUBMISSION_TTL_DAYS, hours=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        submissions_expire(now=timezone.now())

    polled = agent.status(filed["request_id"]).json()
    assert (polled["status"], polled["reason"]) == ("expired", "insuf_verification")


def test_an_agent_filing_too_often_for_one_person_is_told_to_retry_later(
    agent: Agent, django_capture_on_commit_callbacks: CaptureOnCommit, settings: Any
) -> None:
    settings.PRIVACY_CENTER_RATES = {"address": "100/hour", "identity": "1/hour"}
    file(agent, django_capture_on_commit_callbacks, "deletion")
    before = rows()

    response = agent.exercise("access", email="ulla@example.net")

    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert error(response)[0] == 429
    assert rows() == before


# --- what the agent sends wrong -------------------------------------------------------------------


def test_another_agents_request_is_forbidden_and_an_unknown_one_not_found(
    agent: Agent, center: PrivacyCenter, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    filed = file(agent, django_capture_on_commit_callbacks, "deletion")
    other = Agent(Client(), "OTHER_AGENT", center.slug)
    other.listed("Other")
    other.api_base = agent.api_base
    other.register()

    assert error(other.status(filed["request_id"]))[0] == 403
    assert error(other.revoke(filed["request_id"]))[0] == 403
    assert Submission.objects.get(public_id=filed["request_id"]).status == Submission.Status.PENDING
    assert error(agent.status("c789ff35-7644-4ceb-9981-4b35c264aac3"))[0] == 404
    assert error(agent.status("not-an-id"))[0] == 404


def signed_wrong(agent: Agent, case: str) -> tuple[str, dict[str, str]]:
    """A request body (and headers) wrong in one way."""
    claims = agent.envelope(exercise="deletion", regime="ccpa", email="ulla@example.net")
    auth = agent.auth()
    if case == "bad signature":
        signed = bytearray(base64.b64decode(agent.sign(claims)))
        signed[70] ^= 1
        return base64.b64encode(bytes(signed)).decode(), auth
    if case == "expired":
        claims["expires-at"] = (timezone.now() - dt.timedelta(seconds=1)).isoformat()
    if case == "issued in the future":
        claims["issued-at"] = (timezone.now() + dt.timedelta(hours=1)).isoformat()
        claims["expires-at"] = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    if case == "wrong audience":
        claims["business-id"] = "another-business"
    if case == "another agent-id":
        claims["agent-id"] = "OTHER_AGENT"
    if case == "unknown token":
        auth = {"HTTP_AUTHORIZATION": "Bearer not-a-token"}
    if case == "no token":
        auth = {}
    if case == "unsupported action":
        claims["exercise"] = "sale:opt-in"
    if case == "unsupported regime":
        claims["regime"] = "gdpr"
    if case == "no identity":
        del claims["email"]
    if case == "bad email":
        claims["email"] = "not an address"
    if case == "missing claim":
        del claims["expires-at"]
    if case == "malformed JSON":
        return agent.sign(b'{"agent-id": "CONSUMER_AGENT", '), auth
    if case == "not base64":
        return "%%% not base64 %%%", auth
    return agent.sign(claims), auth


@pytest.mark.parametrize(
    ("case", "status", "names"),
    [
        ("bad signature", 403, "signature"),
        ("expired", 403, "expires-at"),
        ("issued in the future", 403, "issued-at"),
        ("wrong audience", 403, "business-id"),
        ("another agent-id", 403, "agent-id"),
        ("unknown token", 403, "token"),
        ("no token", 403, "Bearer"),
        ("unsupported action", 400, "Unsupported rights actions"),
        ("unsupported regime", 400, "regime"),
        ("no identity", 400, "email"),
        ("bad email", 400, "email"),
        ("missing claim", 400, "expires-at"),
        ("malformed JSON", 400, "JSON"),
        ("not base64", 400, "base64"),
    ],
)
def test_a_request_wrong_in_any_way_is_refused_in_the_protocols_shape_and_nothing_is_written(
    agent: Agent, case: str, status: int, names: str
) -> None:
    body, auth = signed_wrong(agent, case)
    before = rows()

    response = agent.client.post("/drp/v1/data-rights-request", body, content_type="text/plain", **auth)

    code, message = error(response)
    assert code == status and names in message, message
    assert rows() == before
    assert mail.outbox == []


def test_an_expired_message_is_fatal(agent: Agent) -> None:
    body, auth = signed_wrong(agent, "expired")

    response = agent.client.post("/drp/v1/data-rights-request", body, content_type="text/plain", **auth)

    assert response.json()["fatal"] is True


def test_a_closed_privacy_center_takes_no_request(agent: Agent, center: PrivacyCenter) -> None:
    PrivacyCenter.objects.filter(pk=center.pk).update(is_open=False)

    response = agent.exercise("deletion", email="ulla@example.net")

    assert error(response)[0] == 403 and rows() == (0, 0)


def test_a_deactivated_agents_token_stops_working(agent: Agent) -> None:
    DrpAgent.objects.update(is_active=False)

    assert error(agent.exercise("deletion", email="ulla@example.net"))[0] == 403


@time_machine.travel(NOW, tick=False)
def test_the_console_checks_an_agents_id_and_key_and_keeps_its_token_out_of_reach(officer: Client) -> None:
    agent = Agent(Client(), "CONSUMER_AGENT", "fjord-help")

    refused = officer.post("/admin/dsar/drpagent/add/", {"agent_id": "no/slash", "name": "A", "verify_key": "abc"})
    assert refused.status_code == 200 and not DrpAgent.objects.exists()
    assert set(refused.context["adminform"].form.errors) == {"agent_id", "verify_key"}

    response = officer.post(
        "/admin/dsar/drpagent/add/",
        {"agent_id": "CONSUMER_AGENT", "name": "Consumer Agent", "verify_key": agent.verify_key, "is_active": "on"},
    )
    assert response.status_code == 302
    listed = DrpAgent.objects.get()
    page = officer.get(f"/admin/dsar/drpagent/{listed.pk}/change/")
    assert page.status_code == 200 and 'name="token_digest"' not in page.content.decode()
    assert officer.get(f"/admin/dsar/drpagent/{listed.pk}/history/").status_code == 200
