"""The suite's two database logins on PostgreSQL, as in production: the tables' owner migrates, the runtime
login (DATABASE_RUNTIME_ROLE, which owns no table) runs the tests. `scripts/with-postgres.sh` creates both,
trusted on 127.0.0.1, so only the user name changes between them.

A test marked ``owner_login`` runs as the owner instead: what someone with the owner's credentials could do
(rewrite audit rows once past the triggers), for the tests of what the audit chain's verification catches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.test import TransactionTestCase

_owner: list[str] = []
# Whether the test about to start is marked owner_login (set by tests/conftest.py before its fixtures run).
owner_wanted = [False]


def runtime_role() -> str:
    """The runtime login the suite runs as, or ``""`` (SQLite, or PostgreSQL without one)."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return ""
    return settings.DATABASE_RUNTIME_ROLE


def owner() -> str:
    """The login that owns the tables (the one DATABASE_URL names)."""
    return _owner[0] if _owner else settings.DATABASES["default"]["USER"]


def _log_in(user: str) -> None:
    # Every connection, in any thread, is made from this one settings dict; this thread's reconnects.
    connection = connections["default"]
    connection.close()
    connection.settings_dict["USER"] = user


@contextmanager
def as_owner() -> Iterator[None]:
    """Run the block logged in as the tables' owner. It reconnects, so no transaction may be open."""
    role = runtime_role()
    if not role or connections["default"].settings_dict["USER"] != role:
        yield
        return
    _log_in(owner())
    try:
        yield
    finally:
        _log_in(role)


@contextmanager
def as_runtime_login() -> Iterator[None]:
    """Run the block (the tests) as the runtime login. The test setup alone switches to the owner: to empty
    the database between transactional tests (TRUNCATE) and reset sequences, and for owner_login tests."""
    role = runtime_role()
    if not role:
        yield
        return
    _owner.append(connections["default"].settings_dict["USER"])
    pre_setup = TransactionTestCase.__dict__["_pre_setup"].__func__
    post_teardown, flush, reset = (
        TransactionTestCase._post_teardown,
        TransactionTestCase._fixture_teardown,
        TransactionTestCase._reset_sequences,
    )

    def _pre_setup(cls: Any) -> None:
        # Before the test's transaction opens: a login cannot change inside one.
        if owner_wanted[0]:
            _log_in(owner())
        pre_setup(cls)

    def _post_teardown(self: TransactionTestCase) -> None:
        try:
            post_teardown(self)
        finally:
            if connections["default"].settings_dict["USER"] != role:
                _log_in(role)

    def _fixture_teardown(self: TransactionTestCase) -> None:
        with as_owner():
            flush(self)

    def _reset_sequences(db_name: str) -> None:
        with as_owner():
            reset(db_name)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_pre_setup", classmethod(_pre_setup))
        patch.setattr(TransactionTestCase, "_post_teardown", _post_teardown)
        patch.setattr(TransactionTestCase, "_fixture_teardown", _fixture_teardown)
        patch.setattr(TransactionTestCase, "_reset_sequences", staticmethod(_reset_sequences))
        _log_in(role)
        try:
            yield
        finally:
            _log_in(_owner.pop())
