"""Demo people and requests for the console, on existing accounts."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from core.history import Origin, history_context
from dsar import services
from dsar.models import Jurisdiction, Person, PrivacyCenter, Request
from residency.models import Account

# external id, kind, name, email, phone
DEMO_PEOPLE = [
    ("dsar-demo-1", Person.Kind.END_USER, "Astrid Lindgren-Demo", "astrid.demo@example.org", "+46701234501"),
    ("dsar-demo-2", Person.Kind.END_USER, "Pierre Dupont-Demo", "pierre.demo@example.org", "+33612345602"),
    ("dsar-demo-3", Person.Kind.AGENT, "Maria Silva-Demo", "maria.demo@example.org", "+5511912345603"),
    ("dsar-demo-4", Person.Kind.END_USER, "John Carter-Demo", "", "+14155550104"),
]
# person's external id, type, law, received days ago, verified, then: "execute", "extend", "reject" or ""
DEMO_REQUESTS = [
    ("dsar-demo-1", Request.Type.ACCESS, "gdpr", 3, True, ""),
    ("dsar-demo-1", Request.Type.OBJECTION, "gdpr", 10, True, "execute"),
    ("dsar-demo-2", Request.Type.ERASURE, "gdpr", 40, True, ""),  # overdue
    ("dsar-demo-2", Request.Type.PORTABILITY, "uk-gdpr", 25, True, "extend"),
    ("dsar-demo-3", Request.Type.RECTIFICATION, "lgpd", 12, False, ""),  # due within a few days
    ("dsar-demo-4", Request.Type.ACCESS, "ccpa", 2, False, ""),
    ("dsar-demo-4", Request.Type.ERASURE, "pipeda", 5, False, "reject"),
]
DEMO_NOTE = "Demo data: identity checked against the support product's profile."
#: The demo privacy centers' law for people who live where none of the product's laws applies, by the account's
#: country (else the GDPR), and the days an erasure waits for the person to change their mind, by account.
DEMO_CENTER_LAWS = {"US": "ccpa"}
DEMO_GRACE_DAYS = {"Nordlys Support AB": 3}


@transaction.atomic
def load_demo(*, account_names: list[str]) -> None:
    """Give each named account (that exists) the demo people and their requests. Idempotent: a person
    already there (by external id) keeps their requests as they are."""
    with history_context(origin=Origin.COMMAND, actor="demo data"):
        for account in Account.objects.filter(name__in=account_names).select_related("home_region"):
            _demo_account(account)
            _demo_center(account)


def _demo_center(account: Account) -> PrivacyCenter:
    """The account's privacy center, at /privacy/<the account's name as a slug>/, open."""
    law = Jurisdiction.objects.get(code=DEMO_CENTER_LAWS.get(account.country_code(), "gdpr"))
    center, _ = PrivacyCenter.objects.get_or_create(
        account=account,
        defaults={
            "slug": slugify(account.name),
            "default_jurisdiction": law,
            "erasure_grace_days": DEMO_GRACE_DAYS.get(account.name, 0),
        },
    )
    return center


def _demo_account(account: Account) -> None:
    for external_id, kind, name, email, phone in DEMO_PEOPLE:
        if Person.objects.filter(account=account, external_id=external_id).exists():
            continue
        person = Person.objects.create(
            account=account, external_id=external_id, kind=kind, name=name, email=email, phone=phone
        )
        for owner, type, law, days_ago, verified, then in DEMO_REQUESTS:
            if owner == external_id:
                _demo_request(
                    person,
                    type=type,
                    law=law,
                    received_at=timezone.now() - dt.timedelta(days=days_ago),
                    verified=verified,
                    then=then,
                )


def _demo_request(person: Person, *, type: str, law: str, received_at: dt.datetime, verified: bool, then: str) -> None:
    request = services.request_create(
        account=person.account,
        person=person,
        type=type,
        jurisdiction=law,
        received_at=received_at,
        channel=Request.Channel.WEB_FORM,
        send_code=False,
    )
    if verified:
        # No staff login exists yet when `make run` loads demo data, so the verification is attributed to
        # "demo data" instead of going through the staff-only service.
        services.mark_verified(
            request, method="manual", message=f"Identity verified manually: {DEMO_NOTE}", actor=None
        )
    if then == "execute":
        services.request_execute(request=request)
    elif then == "extend" and request.account.local_date(timezone.now()) <= request.first_due_at:
        services.request_extend(request=request, reason="Demo data: several products to search.")
    elif then == "reject":
        services.request_reject(
            request=request,
            reason="Demo data: the requester could not prove their identity.",
            denial_reason=Request.DenialReason.INSUF_VERIFICATION,
        )
