"""The role matrix: for each role × operation × way in (admin console, API), allowed or refused.

Generated from one table, :data:`OPERATIONS`. "Allowed" means the operation's effect happened; "refused"
means it did not, and the caller was told so: a 403 for pages and API calls, the action not offered (and a
posted one ignored) for admin actions. A staff login with no role is refused everything.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiKey
from core.roles import AUDITOR, PRIVACY_OFFICER, SUPPORT_ADMIN, expand, roles
from core.services import api_key_create
from dsar.models import DrpAgent, Request, RequestEvent
from recordings.models import HistoryExport, LegalHold, ProviderDeletion, Recording
from residency.models import Account
from tests.dsar.factories import make_request
from tests.factories import AccountFactory, PersonFactory, UserFactory
from tests.recordings.factories import (
    CallFactory,
    LegalHoldFactory,
    RecordingFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

NO_ROLE = "Staff without a role"
EVERYONE = frozenset({PRIVACY_OFFICER, SUPPORT_ADMIN, AUDITOR})

Ctx = dict[str, Any]


@dataclass(frozen=True)
class Operation:
    name: str
    allowed: frozenset[str]
    setup: Callable[[], Ctx]
    done: Callable[[Ctx, Any], bool]
    admin: Callable[[Client, Ctx], Any] | None = None
    #: (changelist URL, action name) when the admin way in is an action of a change list.
    admin_action: tuple[str, str] | None = None
    api: Callable[[APIClient, Ctx], Any] | None = None


def action(url: str, name: str, pk_key: str, **data: Any) -> Callable[[Client, Ctx], Any]:
    def post(client: Client, ctx: Ctx) -> Any:
        # Confirmed, as the confirmation page posts it (tests/test_confirmations.py shows the page comes first).
        return client.post(url, {"action": name, ACTION_CHECKBOX_NAME: [ctx[pk_key].pk], "post": "yes", **data})

    return post


def ok(ctx: Ctx, response: Any) -> bool:
    return response.status_code == 200


def request_of(type: str = Request.Type.ERASURE, verified: bool = True) -> Callable[[], Ctx]:
    return lambda: {"request": make_request(type=type, verified=verified)}


def an_account() -> Ctx:
    return {"account": AccountFactory(name="Fjord Help", products=["freshteam"])}


def TODAY() -> str:  # noqa: N802 - read as a constant in the table
    return timezone.localdate().isoformat()


def refreshed(obj: Any) -> Any:
    obj.refresh_from_db()
    return obj


def recording() -> Ctx:
    ticket = TicketFactory()
    return {"recording": RecordingFactory(call=CallFactory(line__account=ticket.account, ticket=ticket))}


REQUESTS = "/admin/dsar/request/"
RECORDINGS = "/admin/recordings/recording/"

OPERATIONS = [
    Operation(
        "list requests",
        frozenset({PRIVACY_OFFICER, AUDITOR}),
        request_of(),
        ok,
        admin=lambda c, ctx: c.get(REQUESTS),
        api=lambda c, ctx: c.get("/api/v1/dsar/requests/"),
    ),
    Operation(
        "verify identity manually",
        frozenset({PRIVACY_OFFICER}),
        request_of(verified=False),
        lambda ctx, r: refreshed(ctx["request"]).verified_at is not None,
        admin=action(REQUESTS, "verify", "request", text="Passport checked in person"),
        admin_action=(REQUESTS, "verify"),
        api=lambda c, ctx: c.post(
            f"/api/v1/dsar/requests/{ctx['request'].pk}/verify/", {"method": "manual", "note": "Passport checked"}
        ),
    ),
    Operation(
        "extend a deadline",
        frozenset({PRIVACY_OFFICER}),
        request_of(),
        lambda ctx, r: refreshed(ctx["request"]).extended_at is not None,
        admin=action(REQUESTS, "extend", "request", text="Many systems to search"),
        admin_action=(REQUESTS, "extend"),
        api=lambda c, ctx: c.post(f"/api/v1/dsar/requests/{ctx['request'].pk}/extend/", {"reason": "Many systems"}),
    ),
    Operation(
        "reject a request",
        frozenset({PRIVACY_OFFICER}),
        request_of(Request.Type.ACCESS),
        lambda ctx, r: refreshed(ctx["request"]).status == Request.Status.REJECTED,
        admin=action(REQUESTS, "reject", "request", text="Repeats last week's", denial_reason="too_many_requests"),
        admin_action=(REQUESTS, "reject"),
        api=lambda c, ctx: c.post(
            f"/api/v1/dsar/requests/{ctx['request'].pk}/reject/", {"denial_reason": "no_match", "reason": "Not ours"}
        ),
    ),
    Operation(
        "read the yearly request metrics",
        frozenset({PRIVACY_OFFICER, AUDITOR}),
        request_of(),
        ok,
        admin=lambda c, ctx: c.get(f"{REQUESTS}metrics/", {"year": timezone.localdate().year}),
        api=lambda c, ctx: c.get("/api/v1/dsar/metrics/", {"year": timezone.localdate().year}),
    ),
    Operation(
        "preview an erasure",
        frozenset({PRIVACY_OFFICER}),
        request_of(),
        lambda ctx, r: ctx["request"].events.filter(kind=RequestEvent.Kind.PREVIEWED).exists(),
        admin=action(REQUESTS, "preview_erasure", "request"),
        admin_action=(REQUESTS, "preview_erasure"),
        api=lambda c, ctx: c.get(f"/api/v1/dsar/requests/{ctx['request'].pk}/erasure-preview/"),
    ),
    Operation(
        "execute an erasure",
        frozenset({PRIVACY_OFFICER}),
        request_of(),
        lambda ctx, r: refreshed(ctx["request"]).executed_at is not None,
        # An erasure runs from its preview's button (the request page's action, confirmed), never from the list.
        admin=lambda c, ctx: c.post(f"{REQUESTS}{ctx['request'].pk}/change/", {"_request_action": "execute", "post": "yes"}),
        admin_action=(REQUESTS, "execute"),
        api=lambda c, ctx: c.post(f"/api/v1/dsar/requests/{ctx['request'].pk}/execute/"),
    ),
    Operation(
        "read an access report",
        frozenset({PRIVACY_OFFICER}),
        request_of(Request.Type.ACCESS),
        ok,
        admin=lambda c, ctx: c.get(f"{REQUESTS}{ctx['request'].pk}/report/"),
        api=lambda c, ctx: c.get(f"/api/v1/dsar/requests/{ctx['request'].pk}/report/"),
    ),
    Operation(
        "rectify a person",
        frozenset({PRIVACY_OFFICER}),
        request_of(Request.Type.RECTIFICATION),
        lambda ctx, r: refreshed(ctx["request"].person).name == "Corrected Name",
        admin=lambda c, ctx: c.post(
            f"{REQUESTS}{ctx['request'].pk}/rectify/",
            {"kind": "end_user", "name": "Corrected Name", "email": ctx["request"].person.email},
        ),
    ),
    Operation(
        "open a request",
        frozenset({PRIVACY_OFFICER}),
        lambda: {"person": PersonFactory()},
        lambda ctx, r: Request.objects.filter(account=ctx["person"].account).exists(),
        admin=lambda c, ctx: c.post(
            "/admin/dsar/person/",
            {
                "action": "start_request",
                ACTION_CHECKBOX_NAME: [ctx["person"].pk],
                "request_type": "access",
                "jurisdiction": 1,
                "channel": "admin",
                "post": "yes",
            },
        ),
        admin_action=("/admin/dsar/person/", "start_request"),
        api=lambda c, ctx: c.post(
            "/api/v1/dsar/requests/",
            {"type": "access", "jurisdiction": "gdpr", "email": ctx["person"].email, "account": ctx["person"].account_id},
        ),
    ),
    Operation(
        "list a Data Rights Protocol agent",
        frozenset({PRIVACY_OFFICER}),
        lambda: {},
        lambda ctx, r: DrpAgent.objects.filter(agent_id="CONSUMER_AGENT").exists(),
        admin=lambda c, ctx: c.post(
            "/admin/dsar/drpagent/add/",
            {"agent_id": "CONSUMER_AGENT", "name": "Consumer Agent", "verify_key": base64.b64encode(bytes(32)).decode()},
        ),
    ),
    Operation(
        "delete a recording by hand",
        frozenset({SUPPORT_ADMIN}),
        recording,
        lambda ctx, r: not Recording.objects.filter(pk=ctx["recording"].pk).exists(),
        admin=action(RECORDINGS, "delete_permanently", "recording", post="yes", reason="Recorded by mistake"),
        admin_action=(RECORDINGS, "delete_permanently"),
        api=lambda c, ctx: c.delete(f"/api/v1/recordings/{ctx['recording'].pk}/"),
    ),
    Operation(
        "delete a recording from its ticket's page",
        frozenset({SUPPORT_ADMIN}),
        recording,
        lambda ctx, r: not Recording.objects.filter(pk=ctx["recording"].pk).exists(),
        admin=lambda c, ctx: c.post(
            f"{RECORDINGS}{ctx['recording'].pk}/delete-permanently/", {"post": "yes", "reason": "Recorded by mistake"}
        ),
    ),
    Operation(
        "delete a ticket",
        frozenset({SUPPORT_ADMIN}),
        lambda: {"ticket": TicketFactory()},
        lambda ctx, r: refreshed(ctx["ticket"]).deleted_at is not None,
        admin=action("/admin/recordings/ticket/", "soft_delete", "ticket", post="yes", reason="Spam"),
        admin_action=("/admin/recordings/ticket/", "soft_delete"),
        api=lambda c, ctx: c.delete(f"/api/v1/tickets/{ctx['ticket'].pk}/"),
    ),
    Operation(
        "place a legal hold",
        frozenset({PRIVACY_OFFICER}),
        lambda: {"account": AccountFactory()},
        lambda ctx, r: LegalHold.objects.filter(account=ctx["account"]).exists(),
        admin=lambda c, ctx: c.post(
            "/admin/recordings/legalhold/add/", {"account": ctx["account"].pk, "scope": "account", "reason": "Inquiry"}
        ),
    ),
    Operation(
        "release a legal hold",
        frozenset({PRIVACY_OFFICER}),
        lambda: {"hold": LegalHoldFactory()},
        lambda ctx, r: refreshed(ctx["hold"]).released_at is not None,
        admin=action("/admin/recordings/legalhold/", "release", "hold", post="yes", reason="Case closed"),
        admin_action=("/admin/recordings/legalhold/", "release"),
    ),
    Operation(
        "create an API key",
        frozenset({PRIVACY_OFFICER}),
        lambda: {"account": AccountFactory()},
        lambda ctx, r: ApiKey.objects.filter(account=ctx["account"]).exists(),
        admin=lambda c, ctx: c.post(
            "/admin/core/apikey/add/", {"account": ctx["account"].pk, "name": "intake", "scopes": ["requests:create"]}
        ),
    ),
    Operation(
        "revoke an API key",
        frozenset({PRIVACY_OFFICER}),
        lambda: {"key": api_key_create(account=AccountFactory(), name="intake form")[0]},
        lambda ctx, r: refreshed(ctx["key"]).revoked_at is not None,
        admin=action("/admin/core/apikey/", "revoke", "key"),
        admin_action=("/admin/core/apikey/", "revoke"),
    ),
    Operation(
        "request a call-history export",
        frozenset({PRIVACY_OFFICER, SUPPORT_ADMIN}),
        lambda: {"account": AccountFactory()},
        lambda ctx, r: HistoryExport.objects.filter(account=ctx["account"]).exists(),
        admin=lambda c, ctx: c.post(
            "/admin/recordings/historyexport/add/",
            {"account": ctx["account"].pk, "kind": "call_history"},  # the link goes to the login's own address
        ),
        api=lambda c, ctx: c.post("/api/v1/exports/", {"kind": "call_history", "account": ctx["account"].pk}),
    ),
    Operation(
        "create an account",
        frozenset({PRIVACY_OFFICER}),
        dict,
        lambda ctx, r: Account.objects.filter(name="Fjord Help AS").exists(),
        admin=lambda c, ctx: c.post(
            "/admin/residency/account/add/",
            {
                "name": "Fjord Help AS",
                "home_region": 2,
                "plan": "team",
                "api_keys-TOTAL_FORMS": 0,
                "api_keys-INITIAL_FORMS": 0,
            },
        ),
        api=lambda c, ctx: c.post("/api/v1/accounts/", {"name": "Fjord Help AS", "home_region": "EEA"}),
    ),
    Operation(
        "read an account's residency",
        EVERYONE,
        lambda: {"account": AccountFactory()},
        ok,
        admin=lambda c, ctx: c.get(f"/admin/residency/account/{ctx['account'].pk}/residency/"),
        api=lambda c, ctx: c.get(f"/api/v1/accounts/{ctx['account'].pk}/residency/"),
    ),
    Operation(
        "read the hosting matrix",
        EVERYONE,
        dict,
        ok,
        admin=lambda c, ctx: c.get("/admin/residency/hostingoffer/matrix/"),
        api=lambda c, ctx: c.get("/api/v1/hosting-offers/"),
    ),
    Operation(
        "read the recording-deletion audit log",
        EVERYONE,
        dict,
        ok,
        admin=lambda c, ctx: c.get("/admin/recordings/recordingdeletion/"),
    ),
    Operation(
        "export the audit log as CSV",
        EVERYONE,
        dict,
        ok,
        admin=lambda c, ctx: c.get("/admin/recordings/recordingdeletion/export.csv"),
    ),
    Operation(
        "retry a provider deletion now",
        frozenset({SUPPORT_ADMIN}),
        lambda: {
            "deletion": ProviderDeletion.objects.create(
                account=AccountFactory(),
                provider_sid="RE-retry",
                recording_id=1,
                next_attempt_at=timezone.now() + timedelta(hours=1),
            )
        },
        lambda ctx, r: refreshed(ctx["deletion"]).next_attempt_at <= timezone.now(),
        admin=action("/admin/recordings/providerdeletion/", "retry_now", "deletion"),
        admin_action=("/admin/recordings/providerdeletion/", "retry_now"),
    ),
    Operation(
        "read an account's record of processing",
        EVERYONE,
        an_account,
        lambda ctx, r: r.status_code == 200 and b"Fjord Help" in r.content and b"missing" in r.content,
        admin=lambda c, ctx: c.get(f"/admin/residency/account/{ctx['account'].pk}/processing-record/"),
        api=lambda c, ctx: c.get(f"/api/v1/accounts/{ctx['account'].pk}/processing-record/"),
    ),
    Operation(
        "download every account's record of processing",
        EVERYONE,
        an_account,
        lambda ctx, r: r.status_code == 200 and ctx["account"].name.encode() in r.content,
        admin=lambda c, ctx: c.get("/admin/residency/account/processing-records.csv"),
    ),
    Operation(
        "read an account's residency report as of a date",
        EVERYONE,
        an_account,
        lambda ctx, r: r.status_code == 200,
        admin=lambda c, ctx: c.get(f"/admin/residency/account/{ctx['account'].pk}/residency/", {"as_of": TODAY()}),
        api=lambda c, ctx: c.get(f"/api/v1/accounts/{ctx['account'].pk}/residency/", {"as_of": TODAY()}),
    ),
    Operation(
        "read the notices of new sub-processors",
        EVERYONE,
        an_account,
        ok,
        admin=lambda c, ctx: c.get("/admin/residency/changenotice/"),
        api=lambda c, ctx: c.get(f"/api/v1/accounts/{ctx['account'].pk}/notices/"),
    ),
    Operation(
        "record an account's privacy contact",
        frozenset({PRIVACY_OFFICER}),
        an_account,
        lambda ctx, r: refreshed(ctx["account"]).privacy_contact_email == "privacy@fjord.example",
        admin=lambda c, ctx: c.post(
            f"/admin/residency/account/{ctx['account'].pk}/change/",
            {
                "name": ctx["account"].name,
                "home_region": ctx["account"].home_region_id,
                "plan": ctx["account"].plan,
                "products": list(ctx["account"].products.values_list("pk", flat=True)),
                "privacy_contact_email": "privacy@fjord.example",
                "api_keys-TOTAL_FORMS": "0",
                "api_keys-INITIAL_FORMS": "0",
            },
        ),
    ),
]

ROLE_NAMES = [PRIVACY_OFFICER, SUPPORT_ADMIN, AUDITOR, NO_ROLE]
CASES = [
    pytest.param(operation, role, way, id=f"{operation.name} · {role} · {way}")
    for operation in OPERATIONS
    for role in ROLE_NAMES
    for way in ("admin", "api")
    if getattr(operation, way) is not None
]


@pytest.fixture(autouse=True)
def background(settings: Any, tmp_path: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.RECORDINGS_EXPORT_DIR = tmp_path / "exports"
    settings.DSAR_EXPORT_ROOT = tmp_path / "dsar-exports"


def user_with(role: str) -> Any:
    user = UserFactory(username=f"user-{role.lower().replace(' ', '-')}", is_superuser=False)
    if role != NO_ROLE:
        user.groups.add(Group.objects.get(name=role))
    return user


def offered_actions(client: Client, changelist: str) -> set[str]:
    response = client.get(changelist)
    if response.status_code != 200 or response.context["action_form"] is None:
        return set()
    return {name for name, _ in response.context["action_form"].fields["action"].choices}


@pytest.mark.parametrize(("operation", "role", "way"), CASES)
def test_each_role_may_do_exactly_what_its_permissions_allow(operation: Operation, role: str, way: str) -> None:
    ctx = operation.setup()
    user = user_with(role)
    allowed = role in operation.allowed

    if way == "admin":
        client = Client()
        client.force_login(user)
        if operation.admin_action is not None:
            changelist, name = operation.admin_action
            assert (name in offered_actions(client, changelist)) == allowed
        response = operation.admin(client, ctx)
    else:
        client = APIClient()
        client.force_authenticate(user)
        response = operation.api(client, ctx)

    if allowed:
        assert response.status_code < 400, getattr(response, "content", b"")[:500]
        assert operation.done(ctx, response)
    else:
        assert not operation.done(ctx, response)
        if operation.admin_action is None or way == "api":
            assert response.status_code == 403


def test_the_roles_in_the_database_hold_exactly_the_permissions_of_the_table() -> None:
    from django.contrib.auth.models import Permission

    available = set(Permission.objects.values_list("content_type__app_label", "codename"))
    for name, entries in roles().items():
        granted = set(Group.objects.get(name=name).permissions.values_list("content_type__app_label", "codename"))
        assert granted == expand(entries, available), name


def test_the_auditor_can_view_everything_and_change_nothing() -> None:
    group = Group.objects.get(name=AUDITOR)
    codenames = set(group.permissions.values_list("codename", flat=True))

    # Verifying the audit chain reads it and writes nothing.
    assert all(code.startswith("view_") or code == "verify_audit_chain" for code in codenames)
    assert {"view_request", "view_recordingdeletion", "view_historicalrequest", "view_apikey"} <= codenames
    assert "download_export" not in codenames


@pytest.mark.parametrize(("role", "shown"), [(SUPPORT_ADMIN, True), (AUDITOR, False)])
def test_a_tickets_page_offers_deleting_a_recording_only_to_those_who_may(role: str, shown: bool) -> None:
    ticket = TicketFactory()
    RecordingFactory(call=CallFactory(line__account=ticket.account, ticket=ticket))
    client = Client()
    client.force_login(user_with(role))

    page = client.get(f"/admin/recordings/ticket/{ticket.pk}/change/").content.decode()

    assert ("Delete permanently…" in page) == shown
