"""API rate counters are shared by every process of a deployment: two server processes count one key's calls
against one rate, with the default cache (files on the host) and with Redis; a cache in one process's memory
would let each allow the whole rate, and `check --deploy` says so (tests/test_settings.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT

REDIS_URL = os.environ.get("REDIS_URL", "")

# One process of the server: a logged-in user's two calls through the API's throttle, allowed or refused.
TWO_CALLS = """
from types import SimpleNamespace
from core.api.throttling import UserRateThrottle
caller = SimpleNamespace(auth=None, user=SimpleNamespace(is_authenticated=True, pk={user}))
print(*(UserRateThrottle().allow_request(caller, None) for _ in range(2)))
"""


def calls_in_a_process_of_its_own(cache_url: str, user: int) -> str:
    """Two calls by ``user`` in a new server process, at 3 calls a minute: what the throttle answered."""
    env = {
        **{key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}},
        "DJANGO_READ_DOT_ENV": "false",
        "DEBUG": "true",
        "TELEPHONY_PROVIDER_BACKEND": "local",
        "DATABASE_URL": "sqlite:///:memory:",
        "API_THROTTLE_USER_RATE": "3/minute",
        **({"CACHE_URL": cache_url} if cache_url else {}),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", TWO_CALLS.format(user=user)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_two_processes_count_against_one_rate_in_the_default_file_cache(tmp_path: Path) -> None:
    cache_url = f"filecache://{tmp_path / 'cache'}"

    first = calls_in_a_process_of_its_own(cache_url, user=7)
    second = calls_in_a_process_of_its_own(cache_url, user=7)

    assert (first, second) == ("True True", "True False")


def test_a_cache_in_one_process_memory_lets_each_process_allow_the_whole_rate() -> None:
    first = calls_in_a_process_of_its_own("locmemcache://", user=7)
    second = calls_in_a_process_of_its_own("locmemcache://", user=7)

    assert (first, second) == ("True True", "True True")


@pytest.mark.skipif(not REDIS_URL and not os.environ.get("CI"), reason="needs a Redis server: run through scripts/with-redis.sh")
def test_two_processes_count_against_one_rate_in_redis() -> None:
    assert REDIS_URL, "CI runs this test: start it through scripts/with-redis.sh (make test does)"
    user = 10**9 + os.getpid()  # a counter of this test process's own in a server the test processes share

    first = calls_in_a_process_of_its_own(REDIS_URL, user=user)
    second = calls_in_a_process_of_its_own(REDIS_URL, user=user)

    assert (first, second) == ("True True", "True False")


def test_the_default_cache_is_a_directory_under_var_shared_by_the_processes_of_this_host() -> None:
    script = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'])"
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**env, "DJANGO_READ_DOT_ENV": "false", "DEBUG": "true", "TELEPHONY_PROVIDER_BACKEND": "local"},
    )

    assert result.stdout.split() == ["django.core.cache.backends.filebased.FileBasedCache", str(ROOT / "var" / "cache")]
