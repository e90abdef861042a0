"""The audit log's verdict as ``verify_audit_log`` gives it, and the tampering it must catch.

Tampering is what someone holding the tables' owner's credentials could do: on PostgreSQL they get past the
append-only triggers (the owner could drop them). The login the product runs as cannot at all
(tests/core/test_database_logins.py), so a test that tampers runs as the owner: mark it :data:`owner_login`.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core.append_only import sanctioned_write
from core.audit import Action, Record, audit_append_many
from core.models import AuditEntry
from tests.factories import AccountFactory

#: Run the test logged in as the tables' owner (PostgreSQL with a runtime login; elsewhere nothing changes).
owner_login = pytest.mark.owner_login


def verify(*args: str) -> str:
    """What ``verify_audit_log`` prints when it finds the log intact."""
    out = StringIO()
    call_command("verify_audit_log", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> str:
    """What ``verify_audit_log`` reports, failing, when it does not."""
    with pytest.raises(CommandError) as error:
        verify(*args)
    return str(error.value)


def tamper(sql: str, *params: Any) -> None:
    """Run ``sql`` on the audit tables as someone holding the owner's login could."""
    with sanctioned_write(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def chain_of(count: int) -> list[AuditEntry]:
    """``count`` entries appended to the chain, for one account."""
    account = AccountFactory()
    return audit_append_many(
        Record(action=Action.HOLD_PLACED, object_type="test", object_id=n, account_id=account.pk, data={"n": n})
        for n in range(count)
    )
