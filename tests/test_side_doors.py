"""No side doors: data leaves by email or by link only through a door that checks the caller may read it, and
only to a known recipient.

:data:`SENDERS` is every function of the product that sends mail or signs a download link, as its source says
(tests/callgraph.py reads it); :data:`DOORS` is every way in from which one of them can be reached (an API view,
an admin page, action or display, a command), with the routes it serves, what it sends to whom, and, for the API
and the console, proofs of what it needs. The first tests fail when a function that mails or signs appears, or
when a new door reaches one, until it is listed here with what it needs. The proofs then show, door by door, that
a caller holding everything but any one of those (the read scope or view permission of what it sends among them)
is refused and nothing leaves, and that a caller holding everything does send: the refusal is the door's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.management import get_commands
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from core.roles import scopes as all_scopes
from core.services import api_key_create
from dsar import services as dsar_services
from dsar.exports import export_build, export_create
from dsar.models import Export, Jurisdiction, Request
from recordings import services as recordings_services
from recordings.api.lists import CallListApi, MonitoringListApi
from recordings.api.views import ExportCreateApi
from recordings.models import HistoryExport
from residency.models import Account
from tests.callgraph import APPS, MAIL_NAMES, CallGraph
from tests.dsar.factories import CaptureOnCommit, make_request, staff
from tests.factories import AccountFactory, PersonFactory, UserFactory
from tests.recordings.factories import CallFactory, MonitoringEntryFactory, PhoneLineFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=dt_timezone.utc)

#: What sends: Django's mail functions and classes, and signing (``signing.dumps``, a signer's ``sign``).
PRIMITIVES = {
    *(f"django.core.mail:{name}" for name in MAIL_NAMES),
    "django.core.mail:get_connection",
    "django.core.signing:dumps",
    "django.core.signing:sign",
}

#: Functions that sign something other than a link, with what they sign: they send no data anywhere.
NOT_LINKS = {
    "core.checkpoints:audit_checkpoint_write": "an audit checkpoint's Ed25519 signature, written to the witness",
}

#: Every function that mails or signs a link, and what it sends to whom.
SENDERS = {
    "recordings.history_exports:history_export_run": "a call- or monitoring-history CSV's link, to the export's recipient",
    "recordings.history_exports:export_download_token": "the signed token of a history export's link",
    "dsar.exports:export_token": "the signed token of a portability archive's link",
    "dsar.letters:send_letter": "a letter to the person (code, extension, rejection, the data held, the archive's link, "
    "the erasure), to the address on record or the one the erasure started with",
    "residency.notices:change_notices_send": "a notice of new sub-processors or transfers, to the account's privacy contact",
    "dsar.management.commands.dsar_due:Command.handle": "the digest of requests due, to PRIVACY_TEAM_EMAILS",
    "dsar.submissions:_mail": "a submission's one-time link and code, its acknowledgement, or its status link, to the "
    "address the submission gave (the person's, or their authorized agent's)",
}

Ctx = dict[str, Any]


@dataclass(frozen=True)
class Proof:
    """One door tried: ``attempt`` as a caller holding everything (every scope of a key of ``ctx["account"]``, or
    every permission of a console login) but at most one thing; ``sent`` says whether data left."""

    name: str
    needs: tuple[str, ...]  # every scope (API) or permission (console) the door needs here
    reads: tuple[str, ...]  # among them, what reads the data it sends; () only where it sends no account data
    setup: Callable[[], Ctx]
    attempt: Callable[[Client, Ctx], Any]
    sent: Callable[[Ctx, Any], bool]


@dataclass(frozen=True)
class Door:
    way: str  # "api", "admin", "command", or "public" (the privacy center's pages and DRP: no login)
    routes: tuple[str, ...]  # URL names, or the command's name
    sends: str
    proofs: tuple[Proof, ...] = field(default=())


# --- scenarios --------------------------------------------------------------------------------------------


def mailed(fragment: str) -> Callable[[Ctx, Any], bool]:
    return lambda ctx, response: any(fragment in message.subject for message in mail.outbox)


def with_calls() -> Ctx:
    account = AccountFactory(plan=Account.Plan.ENTERPRISE)
    call = CallFactory(line=PhoneLineFactory(account=account), from_number="+46705550123", started=NOW)
    MonitoringEntryFactory(call=call)
    return {"account": account}


def finished_export() -> Ctx:
    ctx = with_calls()
    export = recordings_services.history_export_request(
        account=ctx["account"], kind="call_history", recipient=UserFactory(username="reader").email
    )
    return {**ctx, "export": recordings_services.history_export_run(export_id=export.pk)}


def a_request(type: str = Request.Type.ERASURE, verified: bool = True) -> Callable[[], Ctx]:
    def setup() -> Ctx:
        request = make_request(PersonFactory(email="ulla@example.net"), type=type, verified=verified)
        return {"request": request, "account": request.account}

    return setup


def an_archived_request() -> Ctx:
    """A portability request whose archive is built (its first email is of the scene's making)."""
    ctx = a_request(Request.Type.PORTABILITY)()
    export = export_create(request=ctx["request"], actor=staff())
    export_build(export_id=export.pk)
    return ctx


def an_erasure_waiting_on_a_scan_hit() -> Ctx:
    """An erasure whose scan found the person's address as the account's privacy contact: redacting it completes it."""
    ctx = a_request()()
    Account.objects.filter(pk=ctx["account"].pk).update(privacy_contact_email="ulla@example.net")
    dsar_services.request_execute(request=ctx["request"], actor=staff())
    ctx["request"].refresh_from_db()
    assert ctx["request"].status == Request.Status.WAITING
    return ctx


def a_person() -> Ctx:
    person = PersonFactory(email="ulla@example.net")
    return {"person": person, "account": person.account}


def api_post(path: str, **data: Any) -> Callable[[Client, Ctx], Any]:
    return lambda client, ctx: client.post(path.format(**ctx), data, content_type="application/json")


def action(changelist: str, name: str, key: str, **data: Any) -> Callable[[Client, Ctx], Any]:
    return lambda client, ctx: client.post(
        changelist, {"action": name, ACTION_CHECKBOX_NAME: [ctx[key].pk], "post": "yes", **data}
    )


def on_the_request_page(name: str, **data: Any) -> Callable[[Client, Ctx], Any]:
    def post(client: Client, ctx: Ctx) -> Any:
        return client.post(f"/admin/dsar/request/{ctx['request'].pk}/change/", {"_request_action": name, "post": "yes", **data})

    return post


def rectify(client: Client, ctx: Ctx) -> Any:
    person = ctx["request"].person
    data = {"kind": person.kind, "name": "Ulla Berg-Lind", "email": person.email, "phone": person.phone}
    return client.post(f"/admin/dsar/request/{ctx['request'].pk}/rectify/", {**data, "send_to_person": "on"})


def start_request(client: Client, ctx: Ctx) -> Any:
    law = Jurisdiction.objects.get(code="gdpr")
    return action("/admin/dsar/person/", "start_request", "person", request_type="access", jurisdiction=law.pk)(client, ctx)


REQUESTS = "/admin/dsar/request/"
REQUEST_API = "/api/v1/dsar/requests/{request.pk}/"
READ_EXPORT = ("recordings.download_export", "recordings.view_call")
CODE_ONLY = "a one-time code and the request's number, to the address the requester gave: no account data"
#: What a public door (no login: the privacy center, DRP) may send: to the identifier being proven, nothing but a
#: one-time link and code; and the status link only once that identifier is proven, to it (and to the agent the
#: person's authorization names).
PUBLIC_ONLY = (
    "a one-time link and code to the email or phone the submission gave; once proven, the status link to it "
    "(and to the authorized agent): no account data"
)
#: The status page, opened only by the status link a verification gives: the person's own archive's signed link.
STATUS_PAGE = "the signed link to the person's own archive, on the status page that only their verified status link opens"
#: The rejection's letter holds the request's number and type and the reason the acting staff member gives:
#: nothing read from the account, like the code's (GDPR Art. 12(4) has the person told why).
REJECTION_ONLY = "the request's number and type and the reason staff give, to the person's address on record: no account data"

#: Every way in to the senders: the API's views, the console's pages, actions and displays, the commands.
DOORS: dict[str, Door] = {
    # --- API (needs: a key's scopes) ---
    "recordings.api.views:ExportCreateApi.post": Door(
        "api",
        ("recordings-export-create",),
        "a history export's link, to an active staff login allowed to read it (default: the key's owner)",
        (
            Proof("call history", ("exports:create", "history:read"), ("history:read",), with_calls,
                  api_post("/api/v1/exports/", kind="call_history"), mailed("call history export is ready")),
            Proof("monitoring history", ("exports:create", "history:read"), ("history:read",), with_calls,
                  api_post("/api/v1/exports/", kind="monitoring_history"), mailed("monitoring history export is ready")),
        ),
    ),
    "dsar.api.views:RequestListCreate.post": Door(
        "api",
        ("dsar-request-list",),
        CODE_ONLY,
        (
            Proof("intake", ("requests:create",), (), lambda: {"account": AccountFactory()},
                  api_post("/api/v1/dsar/requests/", type="access", jurisdiction="gdpr", email="new@example.org"),
                  mailed("verification code")),
        ),
    ),
    "dsar.api.views:RequestExtend.post": Door(
        "api",
        ("dsar-request-extend",),
        "the extension's letter (the request's type, new deadline and reason), to the person's address on record",
        (
            Proof("extend", ("requests:manage", "requests:read"), ("requests:read",), a_request(),
                  api_post(REQUEST_API + "extend/", reason="Many systems to search"), mailed("we need more time")),
        ),
    ),
    "dsar.api.views:RequestReject.post": Door(
        "api",
        ("dsar-request-reject",),
        REJECTION_ONLY,
        (
            Proof("reject", ("requests:manage",), (), a_request(),
                  api_post(REQUEST_API + "reject/", denial_reason="too_many_requests", reason="Repeats last week's"),
                  mailed("cannot act on")),
        ),
    ),
    "dsar.api.views:RequestExecute.post": Door(
        "api",
        ("dsar-request-execute",),
        "the erasure's letter, or a portability archive's link, to the person's address on record",
        (
            Proof("execute an erasure", ("requests:execute", "requests:read"), ("requests:read",), a_request(),
                  api_post(REQUEST_API + "execute/"), mailed("your personal data has been erased")),
            Proof("execute a portability request", ("requests:execute", "requests:read", "requests:report"),
                  ("requests:read", "requests:report"), a_request(Request.Type.PORTABILITY),
                  api_post(REQUEST_API + "execute/"), mailed("your personal data")),
        ),
    ),
    "dsar.api.views:RequestScanHits.post": Door(
        "api",
        ("dsar-request-scan-hits",),
        "the erasure's letter once a clean scan completes it, to the person's address",
        (
            Proof("redact a scan hit", ("requests:execute", "requests:read"), ("requests:read",),
                  an_erasure_waiting_on_a_scan_hit,
                  api_post(REQUEST_API + "scan-hits/", table="residency_account", column="privacy_contact_email", action="redact"),
                  mailed("your personal data has been erased")),
        ),
    ),
    # --- console (needs: a login's permissions) ---
    "recordings.admin:HistoryExportAdmin.save_model": Door(
        "admin",
        ("admin:recordings_historyexport_add",),
        "a history export's link, to an active staff login allowed to read it (default: the one asking)",
        (
            Proof("call history", ("recordings.add_historyexport", "recordings.view_call"), ("recordings.view_call",),
                  with_calls,
                  lambda client, ctx: client.post(
                      "/admin/recordings/historyexport/add/", {"account": ctx["account"].pk, "kind": "call_history"}
                  ),
                  mailed("call history export is ready")),
            Proof("monitoring history", ("recordings.add_historyexport", "recordings.view_monitoringentry"),
                  ("recordings.view_monitoringentry",), with_calls,
                  lambda client, ctx: client.post(
                      "/admin/recordings/historyexport/add/", {"account": ctx["account"].pk, "kind": "monitoring_history"}
                  ),
                  mailed("monitoring history export is ready")),
        ),
    ),
    "recordings.admin:HistoryExportAdmin.download": Door(
        "admin",
        ("admin:recordings_historyexport_change",),
        "a finished export's link, on its page",
        (
            Proof("the export's page", READ_EXPORT, READ_EXPORT, finished_export,
                  lambda client, ctx: client.get(f"/admin/recordings/historyexport/{ctx['export'].pk}/change/"),
                  lambda ctx, response: b"/api/v1/exports/download/" in response.content),
        ),
    ),
    "recordings.admin:HistoryExportAdmin.status_view": Door(
        "admin",
        ("admin:recordings_historyexport_status",),
        "a finished export's link, in its progress",
        (
            Proof("the export's progress", READ_EXPORT, READ_EXPORT, finished_export,
                  lambda client, ctx: client.get(f"/admin/recordings/historyexport/{ctx['export'].pk}/status/"),
                  lambda ctx, response: response.status_code == 200 and response.json()["link"] is not None),
        ),
    ),
    "dsar.admin:RequestAdmin.send_code": Door(
        "admin",
        ("admin:dsar_request_changelist", "admin:dsar_request_change"),
        CODE_ONLY,
        (
            Proof("send a code", ("dsar.change_request",), (), a_request(verified=False),
                  action(REQUESTS, "send_code", "request"), mailed("verification code")),
        ),
    ),
    "dsar.admin:RequestAdmin.reject": Door(
        "admin",
        ("admin:dsar_request_changelist", "admin:dsar_request_change"),
        REJECTION_ONLY,
        (
            Proof("reject", ("dsar.change_request",), (), a_request(),
                  action(REQUESTS, "reject", "request", text="Repeats last week's request", denial_reason="too_many_requests"),
                  mailed("cannot act on")),
        ),
    ),
    "dsar.admin:RequestAdmin.extend": Door(
        "admin",
        ("admin:dsar_request_changelist", "admin:dsar_request_change"),
        "the extension's letter, to the person's address on record",
        (
            Proof("extend", ("dsar.change_request", "dsar.view_request"), ("dsar.view_request",), a_request(),
                  action(REQUESTS, "extend", "request", text="Many systems"), mailed("we need more time")),
            Proof("extend from the request's page", ("dsar.change_request", "dsar.view_request"),
                  ("dsar.view_request",), a_request(), on_the_request_page("extend", text="Many systems"),
                  mailed("we need more time")),
        ),
    ),
    "dsar.admin:RequestAdmin.execute": Door(
        "admin",
        ("admin:dsar_request_changelist", "admin:dsar_request_change"),
        "the erasure's letter, or a portability archive's link, to the person's address on record",
        (
            Proof("execute an erasure", ("dsar.execute_erasure", "dsar.view_request"), ("dsar.view_request",),
                  a_request(), on_the_request_page("execute"), mailed("your personal data has been erased")),
            Proof("execute a portability request", ("dsar.execute_request", "dsar.view_request", "dsar.download_export"),
                  ("dsar.view_request", "dsar.download_export"), a_request(Request.Type.PORTABILITY),
                  action(REQUESTS, "execute", "request"), mailed("your personal data")),
        ),
    ),
    "dsar.admin:RequestAdmin.generate_export": Door(
        "admin",
        ("admin:dsar_request_changelist", "admin:dsar_request_change"),
        "a portability archive's link, to the person's address on record",
        (
            Proof("generate an archive", ("dsar.execute_request", "dsar.view_request", "dsar.download_export"),
                  ("dsar.view_request", "dsar.download_export"), a_request(Request.Type.PORTABILITY),
                  action(REQUESTS, "generate_export", "request"), mailed("your personal data")),
        ),
    ),
    "dsar.admin:RequestAdmin.resend_export": Door(
        "admin",
        ("admin:dsar_request_changelist", "admin:dsar_request_change"),
        "the link to an archive already built, again, to the person's address on record",
        (
            Proof("email an archive's link again", ("dsar.execute_request", "dsar.view_request", "dsar.download_export"),
                  ("dsar.view_request", "dsar.download_export"), an_archived_request,
                  on_the_request_page("resend_export"), mailed("your personal data")),
        ),
    ),
    "dsar.admin:RequestAdmin.scan_hits_view": Door(
        "admin",
        ("admin:dsar_request_scan_hits",),
        "the erasure's letter once a clean scan completes it, to the person's address",
        (
            Proof("redact a scan hit", ("dsar.execute_erasure", "dsar.view_request"), ("dsar.view_request",),
                  an_erasure_waiting_on_a_scan_hit,
                  lambda client, ctx: client.post(
                      f"/admin/dsar/request/{ctx['request'].pk}/scan-hits/",
                      {"table": "residency_account", "column": "privacy_contact_email", "action": "redact", "post": "yes"},
                  ),
                  mailed("your personal data has been erased")),
        ),
    ),
    "dsar.admin:RequestAdmin.rectify_view": Door(
        "admin",
        ("admin:dsar_request_rectify",),
        "the person's corrected identifiers, to their address on record",
        (
            Proof("correct and send", ("dsar.change_request", "dsar.change_person", "dsar.view_request", "dsar.view_person"),
                  ("dsar.view_request", "dsar.view_person"), a_request(Request.Type.RECTIFICATION), rectify,
                  mailed("the data we hold about you")),
        ),
    ),
    "dsar.admin:PersonAdmin.start_request": Door(
        "admin",
        ("admin:dsar_person_changelist",),
        CODE_ONLY,
        (Proof("start a request", ("dsar.add_request",), (), a_person, start_request, mailed("verification code")),),
    ),
    # --- commands: run by an operator on the server, who could read the database itself ---
    "recordings.management.commands.export_history:Command.handle": Door(
        "command", ("export_history",), "a history export's link, to --recipient: a staff login allowed to read it"
    ),
    "dsar.management.commands.dsar_execute:Command.handle": Door(
        "command", ("dsar_execute",), "the erasure's letter or the archive's link, to the person's address on record"
    ),
    "dsar.management.commands.dsar_verify_erasure:Command.handle": Door(
        "command", ("dsar_verify_erasure",), "the erasure's letter, to the person's address"
    ),
    "dsar.management.commands.resume_erasures:Command.handle": Door(
        "command", ("resume_erasures",), "the erasure's letter, to the person's address"
    ),
    "dsar.management.commands.dsar_due:Command.handle": Door(
        "command", ("dsar_due",), "the digest of requests due (no personal data), to PRIVACY_TEAM_EMAILS"
    ),
    "dsar.management.commands.expire_submissions:Command.handle": Door(
        "command", ("expire_submissions",), "a reminder with a new one-time link and code, to the submission's address"
    ),
    # --- the privacy center (no login: the one-time link, the code or the status link is the credential) ---
    "dsar.center.views:center_view": Door("public", ("privacy:center",), PUBLIC_ONLY),
    "dsar.center.views:agent_view": Door("public", ("privacy:agent",), PUBLIC_ONLY),
    "dsar.center.views:confirm_view": Door("public", ("privacy:confirm",), PUBLIC_ONLY),
    "dsar.center.views:verify_view": Door("public", ("privacy:verify",), PUBLIC_ONLY),
    "dsar.center.views:status_view": Door("public", ("privacy:status",), STATUS_PAGE),
    # --- the Data Rights Protocol (the agent's bearer token and signature are the credential) ---
    # A DRP agent's signed request: the person it names is sent the one-time link and code (the agent gets nothing).
    "dsar.drp_views:request_create": Door("public", ("drp-request-create",), PUBLIC_ONLY),
    "recordings.management.commands.load_demo:Command.handle": Door(
        "command", ("load_demo",), "the demo's codes, letters and links, to the demo's made-up people"
    ),
    "residency.management.commands.load_catalog:Command.handle": Door(
        "command", ("load_catalog",), "notices of new sub-processors or transfers, to each account's privacy contact"
    ),
    "residency.management.commands.apply_scheduled_catalogs:Command.handle": Door(
        "command", ("apply_scheduled_catalogs",), "notices to accounts a scheduled change reaches unnotified, to their privacy contact"
    ),
    "residency.management.commands.send_change_notices:Command.handle": Door(
        "command", ("send_change_notices",), "notices not yet sent, to each account's privacy contact"
    ),
}

PROOFS = [(function, proof) for function, door in DOORS.items() for proof in door.proofs]


# --- the doors are all listed -----------------------------------------------------------------------------


def routes() -> Iterator[tuple[str, Any]]:
    """Every named URL (namespaced as ``admin:…``) with its view."""

    def walk(patterns: list[Any], namespace: str) -> Iterator[tuple[str, Any]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield namespace + pattern.name, pattern.callback

    return walk(get_resolver().url_patterns, "")


def product_methods(cls: type) -> set[str]:
    """The methods ``cls`` has from the product's own classes, named as tests/callgraph.py names them."""
    return {
        f"{klass.__module__}:{klass.__qualname__}.{name}"
        for klass in cls.__mro__
        if klass.__module__.split(".")[0] in APPS
        for name, value in vars(klass).items()
        if callable(value) or isinstance(value, (staticmethod, classmethod))
    }


def framework_entry_points() -> set[str]:
    """What Django and DRF call by themselves: the routed views, the admin's classes, the commands' ``handle``."""
    entries: set[str] = set()
    for _, callback in routes():
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if view is not None:
            entries |= product_methods(view)
        elif callback.__module__.split(".")[0] in APPS:
            entries.add(f"{callback.__module__}:{callback.__qualname__}")
    for model_admin in admin.site._registry.values():
        entries |= product_methods(type(model_admin))
        for inline in model_admin.inlines:
            entries |= product_methods(inline)
    for name, app in get_commands().items():
        if app.split(".")[0] in APPS:
            entries.add(f"{app}.management.commands.{name}:Command.handle")
    return entries


@pytest.fixture(scope="module")
def graph() -> CallGraph:
    return CallGraph()


def test_the_functions_that_mail_or_sign_a_link_are_the_known_ones(graph: CallGraph) -> None:
    found = graph.using(PRIMITIVES) - set(NOT_LINKS)

    assert found == set(SENDERS), (
        "A function now mails or signs a link without being listed in SENDERS (or a listed one no longer does): "
        f"new {sorted(found - set(SENDERS))}, gone {sorted(set(SENDERS) - found)}"
    )


def test_every_door_to_them_is_listed_with_what_it_needs(graph: CallGraph) -> None:
    doors = graph.doors(set(SENDERS), stop=framework_entry_points())

    assert set(doors) == set(DOORS), (
        "A way in reaches a function that mails or signs a link without being listed in DOORS with what it "
        f"needs and a proof: new {sorted(set(doors) - set(DOORS))}, gone {sorted(set(DOORS) - set(doors))}"
    )


def test_each_listed_route_exists_and_is_served_by_its_door() -> None:
    served = dict(routes())
    commands = get_commands()
    for function, door in DOORS.items():
        module, _, qualname = function.partition(":")
        for route in door.routes:
            if door.way == "command":
                assert route in commands and function.startswith(f"{commands[route]}.management.commands.{route}:")
                continue
            if door.way == "public":
                assert route in served, route
                continue
            assert route in served, route
            view = getattr(served[route], "cls", None) or getattr(served[route], "view_class", None)
            if door.way == "api":
                assert (view.__module__, view.__qualname__) == (module, qualname.rsplit(".", 1)[0]), route
            else:
                assert route.startswith("admin:"), route
        if door.way == "public":
            assert door.sends in (PUBLIC_ONLY, STATUS_PAGE), f"{function} is a public door that sends more than a proof of identity"
        elif door.way != "command":
            assert door.proofs, f"{function} is a door of the {door.way} without a proof of what it needs"


def test_every_proof_needs_the_read_scope_or_view_permission_of_what_it_sends() -> None:
    for function, proof in PROOFS:
        way = DOORS[function].way
        assert set(proof.reads) <= set(proof.needs), proof.name
        if not proof.reads:
            assert DOORS[function].sends in (CODE_ONLY, REJECTION_ONLY), f"{function}: {proof.name} sends data but needs no read"
        for read in proof.reads:
            if way == "api":
                assert read in all_scopes() and read.split(":")[1] in ("read", "report"), read
            else:
                assert read.split(".")[1].startswith(("view_", "download_")), read


def test_a_history_export_needs_what_its_list_needs() -> None:
    for kind, listing in ((HistoryExport.Kind.CALL_HISTORY, CallListApi), (HistoryExport.Kind.MONITORING_HISTORY, MonitoringListApi)):
        assert ExportCreateApi.read_access[kind] == listing.access["GET"]
        assert HistoryExport.read_permission(kind) == listing.access["GET"].perm


# --- each door, proved -------------------------------------------------------------------------------------


@pytest.fixture
def background(settings: Any, tmp_path: Any, time_machine: Any) -> None:
    """Background work runs at once (a queued export or archive is built and mailed within the request)."""
    time_machine.move_to(NOW, tick=False)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.RECORDINGS_EXPORT_DIR = tmp_path / "exports"
    settings.DSAR_EXPORT_ROOT = tmp_path / "dsar-exports"


def caller(way: str, ctx: Ctx, lacking: str | None) -> Client:
    """A key of the account with every scope, or a console login with every permission, but ``lacking``."""
    if way == "api":
        owner = UserFactory(username="key-owner")  # may read and receive every export
        scopes = [scope for scope in all_scopes() if scope != lacking]
        _, raw = api_key_create(account=ctx["account"], name="door", scopes=scopes, created_by=owner)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    user = UserFactory(username="console", is_superuser=False)
    permissions = Permission.objects.all()
    if lacking:
        app_label, codename = lacking.split(".")
        permissions = permissions.exclude(content_type__app_label=app_label, codename=codename)
    user.user_permissions.set(permissions)
    client = Client()
    client.force_login(user)
    return client


def queued() -> tuple[int, int]:
    """How many history exports and portability archives exist (each is mailed once built)."""
    return HistoryExport.objects.count(), Export.objects.count()


def attempt(proof: Proof, way: str, lacking: str | None, capture: CaptureOnCommit) -> tuple[Ctx, Any]:
    """Set the scene, then try the door as :func:`caller` (mail of the scene's own making is cleared first)."""
    ctx = proof.setup()
    mail.outbox.clear()
    ctx["queued before"] = queued()
    client = caller(way, ctx, lacking)
    with capture(execute=True):
        response = proof.attempt(client, ctx)
    return ctx, response


@pytest.mark.django_db
@pytest.mark.usefixtures("background")
@pytest.mark.parametrize(
    ("function", "proof", "lacking"),
    [
        pytest.param(function, proof, lacking, id=f"{function} · {proof.name} · without {lacking}")
        for function, proof in PROOFS
        for lacking in proof.needs
    ],
)
def test_a_door_refuses_a_caller_lacking_any_one_of_what_it_needs_and_nothing_leaves(
    function: str, proof: Proof, lacking: str, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    way = DOORS[function].way

    ctx, response = attempt(proof, way, lacking, django_capture_on_commit_callbacks)

    assert not proof.sent(ctx, response)
    assert mail.outbox == []
    assert queued() == ctx["queued before"]  # nothing waits to be mailed later either
    if way == "api":
        assert response.status_code == 403
        assert lacking in response.json()["errors"][0]["detail"]


@pytest.mark.django_db
@pytest.mark.usefixtures("background")
@pytest.mark.parametrize(("function", "proof"), [pytest.param(f, p, id=f"{f} · {p.name}") for f, p in PROOFS])
def test_a_door_sends_for_a_caller_holding_everything(
    function: str, proof: Proof, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    ctx, response = attempt(proof, DOORS[function].way, None, django_capture_on_commit_callbacks)

    assert response.status_code < 400, getattr(response, "content", b"")[:500]
    assert proof.sent(ctx, response)
