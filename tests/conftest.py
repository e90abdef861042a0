from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """Every test database starts with the real catalog loaded: it is reference data, like migrations."""
    with django_db_blocker.unblock():
        call_command("load_catalog", verbosity=0)


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
