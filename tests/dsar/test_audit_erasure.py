"""An erasure scrubs the person out of the audit chain's entries, and the chain still verifies."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from core.audit import Action
from core.models import AuditEntry
from dsar import services
from tests.dsar.factories import PersonFactory, staff

pytestmark = [pytest.mark.django_db, pytest.mark.every_source]


def test_after_a_real_erasure_the_chain_verifies_and_names_the_redacting_request() -> None:
    person = PersonFactory(name="Bill Hansen", email="bill.hansen@example.net", phone="+46705550142")
    request = services.request_create(
        account=person.account, person=person, type="erasure", jurisdiction="gdpr", send_code=False
    )
    services.request_verify_manually(request=request, note="Bill Hansen showed his passport at the desk", actor=staff())

    outcome = services.request_execute(request=request, actor=staff())

    verified = AuditEntry.objects.get(action=Action.IDENTITY_VERIFIED, object_id=str(request.pk))
    assert verified.data["note"] is None and verified.data["method"] == "manual"
    assert verified.redactions["note"]["request"] == request.pk
    assert AuditEntry.objects.filter(action=Action.ERASURE_STEP, object_id=str(request.pk)).count() == len(outcome.ran)
    assert not any("Bill Hansen" in str(entry.data) for entry in AuditEntry.objects.all())
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    assert f"1 redacted by erasure (request {request.pk}: 1)" in out.getvalue()
