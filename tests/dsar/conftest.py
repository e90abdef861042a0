from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from django.test import Client

from core import sms
from dsar import sources
from tests.dsar.factories import staff


@pytest.fixture(autouse=True)
def dsar_settings(settings: Any, tmp_path: Path) -> None:
    settings.DSAR_EXPORT_ROOT = tmp_path / "dsar-exports"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.PRIVACY_TEAM_EMAILS = ["dpo@example.com", "analyst@example.com"]
    settings.SITE_URL = "https://privacy.example.com"
    settings.DSAR_AGENT_PROOF_ROOT = tmp_path / "agent-proofs"
    settings.TELEPHONY_PROVIDER_BACKEND = "local"
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def use_sources(request: pytest.FixtureRequest) -> Iterator[Callable[..., None]]:
    """dsar's tests run against dsar's own sources only (people, request records), plus the fakes a test registers;
    other apps' sources are theirs to test. The registry is restored afterwards."""
    saved = dict(sources._registry)
    if "every_source" not in request.keywords:
        sources._registry.clear()
        sources._registry.update({key: source for key, source in saved.items() if key.startswith("dsar.")})

    def use(*extra: Any) -> None:
        for source in extra:
            sources.register(source)

    yield use
    sources._registry.clear()
    sources._registry.update(saved)


@pytest.fixture
def officer() -> Client:
    """The console as a superuser login named "officer" (a role's own limits are tested with ``role_console``)."""
    client = Client()
    client.force_login(staff("officer"))
    return client


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "every_source: run with every registered data source, not dsar's own only")
