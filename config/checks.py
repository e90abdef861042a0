"""System checks of the deployment's configuration (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning

#: Cache backends whose entries live in one process's memory (or nowhere): API rate counters kept there are
#: counted by each server process alone, so N processes allow N times every rate.
PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.caches, deploy=True)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend not in PROCESS_LOCAL_CACHES:
        return []
    return [
        CheckWarning(
            f"CACHE_URL: the cache ({backend.rsplit('.', 1)[-1]}) is not shared by the server's processes: each "
            "counts API request rates on its own, and together they allow several times every rate.",
            hint="Leave CACHE_URL unset (files under var/cache, shared on one host) or set CACHE_URL=redis://HOST:6379/1.",
            id="config.W001",
        )
    ]
