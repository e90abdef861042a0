from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import override_settings

from tests.logins import as_runtime_login, owner_wanted

# The apps' admin modules load with the URLs (config/apps.py): tests that walk the admin's registry see every
# ModelAdmin, whether or not a test has requested a page yet.
admin.autodiscover()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Every test database starts with the real catalog loaded: it is reference data, like migrations.

    The owner migrated it (granting the runtime login its privileges); on PostgreSQL with a runtime login
    the tests then run as that login, and the owner drops the database afterwards."""
    with django_db_blocker.unblock():
        call_command("load_catalog", verbosity=0)
    with as_runtime_login():
        yield


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Read when the test's transaction opens, before any of its fixtures (see tests/logins.py).
    owner_wanted[0] = item.get_closest_marker("owner_login") is not None


@pytest.fixture(scope="session", autouse=True)
def own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The default cache (files, as a deployment on one host has them) in a directory of this test process's
    own: parallel test processes, and a server running from this checkout, keep their counters apart."""
    backend = "django.core.cache.backends.filebased.FileBasedCache"
    with override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": str(tmp_path_factory.mktemp("cache"))}}):
        yield


@pytest.fixture(autouse=True)
def fresh_rate_counters() -> None:
    """API rate counters live in the cache; each test starts with none (ids and frozen clocks repeat across tests)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def audit_witness(settings: Any, tmp_path_factory: Any) -> Any:
    """Each test's audit checkpoints go to a witness directory of its own."""
    settings.AUDIT_WITNESS_DIR = tmp_path_factory.mktemp("witness")
    return settings.AUDIT_WITNESS_DIR
